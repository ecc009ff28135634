import { glob, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AgentError, errorCode } from '../../errors.ts';
import type { CollectContext } from '../types.ts';
import { lookupGuests, type PveGuestRef } from './client.ts';
import { definitionBuildNames, definitionSlug, type PackerConfig, type PackerDefinition } from './config.ts';
import { parseMachineReadableLog, type LogBuild } from './machine-readable.ts';
import { artifactVmid, isProxmoxBuilder, parseManifest, type ManifestBuild, type PackerManifest } from './manifest.ts';
import type { PackerBuild, PackerSnapshot } from './snapshot.ts';

/*
 * Reads the manifests and logs the policy names, turns their Proxmox rows into build
 * records of the declared definitions, merges a log's view of a build into the manifest
 * row of the same build, and optionally asks PVE what lives under each template's VMID.
 * A manifest or log that is missing or unreadable fails the run with an error naming the
 * file: carrying on without it would report its templates as gone.
 */

export class PackerSourceError extends AgentError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('packer_source_unreadable', reason, options);
    this.file = file;
  }
}

const GLOB = /[*?[\]{}]/;

/** Oldest first: by completion (else start) time, then by discovery order (the snapshot's build order). */
function chronological(a: PackerBuild, b: PackerBuild): number {
  const when = (x: PackerBuild) => x.completedAt ?? x.startedAt ?? Number.NEGATIVE_INFINITY;
  return when(a) - when(b) || a.seq - b.seq;
}

/**
 * Paths and globs, relative to the agent's working directory (fs.promises.glob,
 * Node ≥ 22). A literal path is kept even if missing (reading it reports that); a glob
 * that matches nothing is a warning, since a pipeline may not have built yet.
 */
export async function expandPaths(patterns: readonly string[], what: string, warn: CollectContext<unknown>['warn']): Promise<string[]> {
  const out = new Set<string>();
  for (const p of patterns) {
    if (!GLOB.test(p)) {
      out.add(resolve(p));
      continue;
    }
    const found: string[] = [];
    for await (const f of glob(p)) found.push(resolve(f));
    if (found.length === 0) warn({ code: 'packer_glob_empty', subject: p, message: `no ${what} matches this pattern (relative to ${process.cwd()})` });
    for (const f of found.sort()) out.add(f);
  }
  return [...out];
}

async function readSource(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    const reason =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot be read (${code ?? (err as Error).message})`;
    throw new PackerSourceError(file, `packer ${what} ${file}: ${reason}`, { cause: err });
  }
}

/** The definition a build belongs to: custom_data `definition` when the template sets it, else by build name. */
function matcher(defs: readonly PackerDefinition[]) {
  const byName = new Map<string, PackerDefinition>();
  for (const d of defs) for (const n of definitionBuildNames(d)) if (!byName.has(n)) byName.set(n, d);
  const byId = new Map<string, PackerDefinition>();
  for (const d of defs) {
    byId.set(d.name, d);
    byId.set(definitionSlug(d), d);
  }
  return (names: readonly string[], explicit?: string): PackerDefinition | undefined => {
    if (explicit !== undefined) return byId.get(explicit);
    for (const n of names) {
      const d = byName.get(n);
      if (d) return d;
    }
    return undefined;
  };
}

function manifestBuild(row: ManifestBuild, m: PackerManifest, def: PackerDefinition, seq: number): PackerBuild {
  const cd = row.customData;
  const vmid = artifactVmid(row.artifactId);
  const imageVersion = cd.image_version ?? cd.version;
  const targetNode = cd.target_node ?? cd.proxmox_node ?? cd.node;
  return {
    id: row.runUuid !== undefined ? `${row.runUuid}:${row.name}` : `${row.name}@${row.buildTime ?? `row${row.index}`}`,
    definition: def.name,
    buildName: row.name,
    builderType: row.builderType,
    // The manifest post-processor only runs after a build succeeded.
    status: 'completed',
    source: 'manifest',
    ...(row.runUuid !== undefined && { runUuid: row.runUuid }),
    ...(m.lastRunUuid !== undefined && { latestRun: row.runUuid === m.lastRunUuid }),
    ...(row.buildTime !== undefined && { completedAt: row.buildTime }),
    ...(vmid !== undefined && { outputVmid: vmid }),
    ...(cd.template_name !== undefined && { outputName: cd.template_name, templateName: cd.template_name }),
    ...(imageVersion !== undefined && { imageVersion }),
    ...(targetNode !== undefined && { targetNode }),
    seq,
  };
}

function logBuild(b: LogBuild, def: PackerDefinition, seq: number): PackerBuild {
  const vmid = artifactVmid(b.artifactId);
  return {
    id: `${b.name}@${b.startedAt ?? 0}`,
    definition: def.name,
    buildName: b.name,
    ...(b.builderType !== undefined && { builderType: b.builderType }),
    status: b.status,
    source: 'log',
    ...(b.startedAt !== undefined && { startedAt: b.startedAt }),
    ...(b.completedAt !== undefined && { completedAt: b.completedAt }),
    ...(vmid !== undefined && { outputVmid: vmid }),
    ...(b.artifactString !== undefined && { outputName: b.artifactString }),
    ...(b.error !== undefined && { error: b.error }),
    seq,
  };
}

/**
 * A completed log build and a manifest row are the same build when they name the same
 * definition and VMID and the row's build_time falls within the build (the manifest
 * post-processor runs inside it); VMIDs are reused by `-force` rebuilds, so the VMID alone
 * is not enough.
 */
function sameBuild(m: PackerBuild, l: PackerBuild): boolean {
  if (m.definition !== l.definition || m.outputVmid === undefined || m.outputVmid !== l.outputVmid) return false;
  if (m.completedAt === undefined) return true;
  return (l.startedAt ?? Number.NEGATIVE_INFINITY) - 60 <= m.completedAt && m.completedAt <= (l.completedAt ?? Number.POSITIVE_INFINITY) + 60;
}

export async function collectPacker(ctx: CollectContext<PackerConfig>): Promise<PackerSnapshot> {
  const c = ctx.config;
  const defs = c.PACKER_DEFINITIONS;
  const match = matcher(defs);
  const manifestFiles = await expandPaths(c.PACKER_MANIFESTS, 'manifest', ctx.warn);
  const logFiles = await expandPaths(c.PACKER_LOGS, 'log', ctx.warn);
  const total = manifestFiles.length + logFiles.length;
  let seq = 0;
  let done = 0;
  const unmatched = new Set<string>();
  const noMatch = (file: string, name: string) => {
    if (unmatched.has(`${file}\u0000${name}`)) return;
    unmatched.add(`${file}\u0000${name}`);
    ctx.warn({
      code: 'packer_build_unmatched',
      subject: `build "${name}"`,
      message: `${file}: no definition in PACKER_DEFINITIONS matches this build; set build_name on the definition that produces it`,
    });
  };

  const fromManifests: PackerBuild[] = [];
  for (const file of manifestFiles) {
    const m = parseManifest(await readSource(file, 'manifest'), file);
    for (const d of m.dropped) ctx.warn({ code: 'packer_manifest_row_dropped', subject: `${file} builds[${d.index}]`, message: d.why });
    for (const row of m.builds) {
      if (!isProxmoxBuilder(row.builderType)) continue;
      const def = match([row.name], row.customData.definition);
      if (!def) {
        noMatch(file, row.name);
        continue;
      }
      if (row.artifactId !== undefined && artifactVmid(row.artifactId) === undefined) {
        ctx.warn({
          code: 'packer_artifact_not_vmid',
          subject: `${file} builds[${row.index}]`,
          message: `artifact_id "${row.artifactId}" is not a Proxmox VMID; the output VMID is left out`,
        });
      }
      fromManifests.push(manifestBuild(row, m, def, seq++));
    }
    ctx.progress(++done, total);
  }

  const fromLogs: PackerBuild[] = [];
  for (const file of logFiles) {
    const log = parseMachineReadableLog(await readSource(file, 'log'), file);
    for (const b of log.builds) {
      if (b.builderType !== undefined && !isProxmoxBuilder(b.builderType)) continue;
      const def = match([b.sourceName, b.name]);
      if (!def) {
        noMatch(file, b.name);
        continue;
      }
      fromLogs.push(logBuild(b, def, seq++));
    }
    ctx.progress(++done, total);
  }

  // Fold each log build that a manifest row also recorded into that row.
  const builds = [...fromManifests];
  for (const l of fromLogs) {
    const twin = l.status === 'completed' ? builds.find((m) => m.source === 'manifest' && sameBuild(m, l)) : undefined;
    if (!twin) {
      builds.push(l);
      continue;
    }
    twin.source = 'manifest+log';
    if (l.startedAt !== undefined) twin.startedAt = l.startedAt;
    twin.completedAt ??= l.completedAt;
    twin.outputName ??= l.outputName;
  }

  if (c.PROXMOX_HOST !== undefined) await resolveTemplates(ctx, builds);

  return { definitions: defs.map((d) => ({ ...d, slug: definitionSlug(d) })), builds: builds.sort(chronological) };
}

/** Names and nodes of the templates the latest completed build of each definition made. */
async function resolveTemplates(ctx: CollectContext<PackerConfig>, builds: PackerBuild[]): Promise<void> {
  let guests: Map<number, PveGuestRef>;
  try {
    guests = await lookupGuests(ctx);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    // The files are the record; PVE only adds names. Without it the run goes on.
    ctx.warn({
      code: 'packer_pve_unavailable',
      subject: `PVE ${ctx.config.PROXMOX_HOST ?? ''}`,
      message: `${(err as Error).message}; template names and nodes come from the build records`,
    });
    return;
  }
  const latest = new Map<string, PackerBuild>();
  for (const b of [...builds].sort(chronological)) if (b.status === 'completed' && b.outputVmid !== undefined) latest.set(b.definition, b);
  for (const b of latest.values()) {
    const vmid = b.outputVmid ?? 0;
    const g = guests.get(vmid);
    if (!g) {
      ctx.warn({
        code: 'packer_template_missing',
        subject: `VMID ${vmid}`,
        message: `PVE has no guest ${vmid} (the latest build of "${b.definition}"); it may have been deleted`,
      });
      continue;
    }
    if (!g.isTemplate)
      ctx.warn({
        code: 'packer_not_a_template',
        subject: `VMID ${vmid}`,
        message: `guest ${vmid} "${g.name}" on ${g.node} is not a template (skip_convert_to_template?)`,
      });
    b.template = { name: g.name, node: g.node, isTemplate: g.isTemplate };
    b.targetNode = g.node;
  }
}
