import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { defineCollector } from '../types.ts';
import { PACKER_WARNINGS } from './warnings.ts';
import { count } from '../../preflight/run.ts';
import type { PreflightContext } from '../../preflight/types.ts';
import { pveTargetRequest } from '../proxmox-config.ts';
import { mapPacker, planTemplates } from './map/index.ts';
import { packerConfigSchema, type PackerConfig } from './config.ts';
import { getClusterGuests } from './client.ts';
import { collectPacker, expandPaths } from './collect.ts';
import type { PackerSnapshot } from './snapshot.ts';
import { errorCode } from '../../errors.ts';

export type { PackerConfig } from './config.ts';
export type { PackerSnapshot } from './snapshot.ts';

/** Why a file the policy names cannot be read, or undefined when it can. */
async function unreadable(file: string): Promise<string | undefined> {
  try {
    if (!(await stat(file)).isFile()) return 'is not a file';
    await access(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = errorCode(err);
    return code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? (err as Error).message})`;
  }
}

/*
 * Preflight probes: the files collectPacker reads (a missing or unreadable one fails its
 * run; a glob that matches nothing is only a warning) and, with PROXMOX_HOST, its one PVE
 * call: GET /cluster/resources?type=vm, which checks no privilege but lists only the guests
 * the token has VM.Audit on (pve-manager PVE/API2/Cluster.pm resources).
 */
async function packerProbes(ctx: PreflightContext<PackerConfig>): Promise<void> {
  const c = ctx.config;
  for (const [what, patterns] of [
    ['manifest', c.PACKER_MANIFESTS],
    ['log', c.PACKER_LOGS],
  ] as const) {
    const empty: string[] = [];
    const files = await expandPaths(patterns, `${what} file`, (w) => empty.push(w.subject));
    for (const p of empty)
      ctx.record({
        endpoint: `${what} ${p}`,
        ok: false,
        skipped: true,
        message: `no file matches yet (relative to ${process.cwd()}); runs warn packer_glob_empty until one does`,
      });
    for (const f of files) {
      const why = await unreadable(f);
      ctx.record(
        why === undefined
          ? { endpoint: `${what} ${f}`, ok: true, message: 'readable' }
          : { endpoint: `${what} ${f}`, ok: false, message: `${why}; the run fails on it` },
      );
    }
  }
  if (c.PROXMOX_HOST === undefined) {
    ctx.skip('GET /cluster/resources?type=vm', 'no PROXMOX_HOST: template names come from the build records');
    return;
  }
  const api = { target: ctx.target(pveTargetRequest(c)), onDrop: () => {} };
  await ctx.probe(
    {
      endpoint: 'GET /cluster/resources?type=vm',
      check: (rows: ReadonlyArray<{ type: string; template?: boolean }>) => {
        const guests = rows.filter((r) => r.type === 'qemu' || r.type === 'lxc');
        if (guests.length > 0)
          return { ok: true, message: `${count(guests.length, 'guest')} visible, ${count(guests.filter((g) => g.template).length, 'template')}` };
        return {
          ok: false,
          privilege: 'VM.Audit on /vms',
          message:
            'no guest visible: PVE lists only the guests the token has VM.Audit on (/vms/{vmid}), so the token likely lacks VM.Audit on /vms and no template would be found',
        };
      },
    },
    () => getClusterGuests(api),
  );
}

/** Packer image definitions (policy), build records (manifests, machine-readable logs), optional PVE lookup. */
export const packerCollector = defineCollector<PackerConfig, PackerSnapshot>({
  id: 'packer',
  secretKeys: ['PROXMOX_TOKEN_VALUE'],
  warnings: PACKER_WARNINGS,
  configSchema: packerConfigSchema,
  /*
   * Which definition becomes which template VM, and which cannot (no cluster, or a name
   * another definition takes in that cluster: a VM is one per name and cluster in NetBox),
   * is the mapper's rule (planTemplates); the definition reports its conflicts as the run's
   * warnings, so the collector never calls the mapper.
   */
  collect: async (ctx) => {
    const snapshot = await collectPacker(ctx);
    for (const conflict of planTemplates(snapshot, ctx.config).conflicts) {
      ctx.warn({ code: conflict.code, subject: `definition "${conflict.definition}"`, message: conflict.message });
    }
    return snapshot;
  },
  map: mapPacker,
  preflight: { credentials: () => 'PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE', probes: packerProbes },
});
