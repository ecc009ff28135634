import { AgentError } from '../../errors.ts';
import { VMID_MAX, VMID_MIN } from './config.ts';
import { manifestRowSchema as rowSchema } from './schema.ts';

/*
 * packer-manifest.json, written by Packer's `manifest` post-processor
 * (hashicorp/packer post-processor/manifest/{artifact.go,post-processor.go}). The file is
 * appended to: each build of each run adds a
 * row; rows whose `packer_run_uuid` equals `last_run_uuid` are the latest run. Pure: it
 * returns a value or throws PackerManifestError, nothing else (manifest.test.ts checks that
 * with fast-check).
 */

export class PackerManifestError extends AgentError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('packer_manifest_invalid', `packer manifest ${file}: ${reason}`, options);
    this.file = file;
  }
}

export interface ManifestBuild {
  /** Position in `builds[]`: the order rows were appended in. */
  index: number;
  /** HCL2: the source name (`source "proxmox-iso" "ubuntu"` → "ubuntu"); JSON templates: the builder name. */
  name: string;
  builderType: string;
  buildTime?: number;
  artifactId?: string;
  runUuid?: string;
  customData: Record<string, string>;
}

export interface PackerManifest {
  file: string;
  builds: ManifestBuild[];
  lastRunUuid?: string;
  /** Rows that did not parse; the caller turns them into warnings. */
  dropped: Array<{ index: number; why: string }>;
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

export function parseManifest(text: string, file: string): PackerManifest {
  try {
    return parse(text, file);
  } catch (err) {
    if (err instanceof PackerManifestError) throw err;
    // Nothing else may escape a parser, whatever the input (RangeError on absurd nesting…).
    throw new PackerManifestError(file, `cannot be read (${(err as Error).message})`, { cause: err });
  }
}

function parse(text: string, file: string): PackerManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new PackerManifestError(file, `is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new PackerManifestError(file, `expected an object with "builds" and "last_run_uuid", got ${describe(raw)}`);
  const top = raw as { builds?: unknown; last_run_uuid?: unknown };
  if (!Array.isArray(top.builds)) throw new PackerManifestError(file, `"builds" must be a list, got ${describe(top.builds)}`);
  const out: PackerManifest = { file, builds: [], dropped: [] };
  if (typeof top.last_run_uuid === 'string' && top.last_run_uuid !== '') out.lastRunUuid = top.last_run_uuid;
  top.builds.forEach((row, index) => {
    const p = rowSchema.safeParse(row);
    if (!p.success) {
      out.dropped.push({
        index,
        why: p.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || 'row'}: ${i.message}`)
          .join('; '),
      });
      return;
    }
    const r = p.data;
    out.builds.push({
      index,
      name: r.name,
      builderType: r.builder_type,
      ...(r.build_time !== undefined && { buildTime: r.build_time }),
      ...(r.artifact_id !== undefined && r.artifact_id !== '' && { artifactId: r.artifact_id }),
      ...(r.packer_run_uuid !== undefined && { runUuid: r.packer_run_uuid }),
      customData: r.custom_data,
    });
  });
  return out;
}

/** A Proxmox artifact id as a VMID, or undefined when it is not one. */
export function artifactVmid(artifactId: string | undefined): number | undefined {
  if (artifactId === undefined || !/^\d{3,9}$/.test(artifactId.trim())) return undefined;
  const n = Number(artifactId.trim());
  return n >= VMID_MIN && n <= VMID_MAX ? n : undefined;
}

/** Proxmox builds only: `builder_type` proxmox-iso / proxmox-clone (hashicorp/packer-plugin-proxmox main.go RegisterBuilder). */
export function isProxmoxBuilder(builderType: string | undefined): boolean {
  return builderType !== undefined && /^proxmox(?:-|$)/.test(builderType);
}
