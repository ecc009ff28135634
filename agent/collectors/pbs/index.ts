import { defineCollector } from '../types.ts';
import { PBS_WARNINGS } from './warnings.ts';
import { count } from '../../preflight/run.ts';
import type { PreflightContext, PrivilegeCheck, ProbeSpec } from '../../preflight/types.ts';
import { mapPbs } from './map/index.ts';
import {
  getDatastoreConfigs,
  getDatastoreUsage,
  getGcJobs,
  getNamespaces,
  getNetwork,
  getNodeStatus,
  getPruneJobs,
  getSnapshots,
  getSyncJobs,
  getTapeBackupJobs,
  getVerifyJobs,
  getVersion,
  pbsTargetRequest,
} from './client.ts';
import { collectPbs } from './collect.ts';
import { pbsConfigSchema, type PbsConfig } from './config.ts';
import type { ApiSession } from '../../http/proxmox.ts';

/*
 * Preflight probes: each endpoint collectPbs calls, once. PBS answers a missing privilege
 * with a 403 "permission check failed" that names none, so each probe names what the
 * method's `access` asks for (proxmox-backup src/api2):
 * - node/status.rs get_status: `Permission::Privilege(&["system", "status"], PRIV_SYS_AUDIT, false)`;
 * - node/network.rs list_network_devices: Sys.Audit on /system/network/interfaces;
 * - status.rs datastore_status: `Permission::Anybody`, a store is listed only with
 *   Datastore.Audit or Datastore.Backup on /datastore/{store}, else left out silently: an
 *   empty list is how a token without Datastore.Audit shows;
 * - config/datastore.rs list_datastores: Anybody, filtered by Datastore.Audit per store;
 * - admin/{gc,verify,prune,sync}.rs, tape/backup.rs: Anybody, the jobs filtered by the store's
 *   Datastore privileges (Tape.Audit for tape jobs);
 * - admin/namespace.rs list_namespaces: Datastore.Audit or Datastore.Backup on /datastore/{store};
 * - admin/datastore.rs list_snapshots: check_ns_privs_full, Datastore.Audit (or Datastore.Backup
 *   and owning the group) on /datastore/{store}[/{ns}].
 */

async function pbsProbes(ctx: PreflightContext<PbsConfig>): Promise<void> {
  const c = ctx.config;
  const api: ApiSession = { target: ctx.target(pbsTargetRequest(c)), onDrop: () => {} };
  const grant = (p: PrivilegeCheck): string =>
    `grant it (the Audit role has it): proxmox-backup-manager acl update ${p.on} Audit --auth-id '${c.PBS_TOKEN_ID}'; an API token has ACLs of its own, so its user's are not enough`;
  const spec = <T>(endpoint: string, privilege?: PrivilegeCheck, extra: Partial<ProbeSpec<T>> = {}): ProbeSpec<T> => ({
    endpoint,
    ...(privilege && { privilege, hint: grant(privilege) }),
    ...extra,
  });
  const datastoreAudit: PrivilegeCheck = { name: 'Datastore.Audit', on: '/datastore' };
  const storeList = (what: string) => (rows: readonly unknown[]) =>
    rows.length > 0
      ? { ok: true as const, message: `${count(rows.length, 'datastore')} visible` }
      : {
          ok: false as const,
          privilege: 'Datastore.Audit on /datastore',
          message: `no datastore visible: PBS lists only the stores the token has ${what} on (/datastore/{store}), so the token likely lacks Datastore.Audit on /datastore (expected only when the server has no datastore); ${grant(datastoreAudit)}`,
        };
  const jobs = (rows: readonly unknown[]) => ({
    ok: true as const,
    message: `${count(rows.length, 'job')} visible (PBS lists only the jobs the token may see)`,
  });

  await ctx.probe(
    spec('GET /version', undefined, {
      check: (v: { version: string; release?: string }) => ({
        ok: true,
        message: `Proxmox Backup Server ${v.version}${v.release !== undefined ? `-${v.release}` : ''}`,
      }),
    }),
    () => getVersion(api),
  );
  await ctx.probe(spec('GET /nodes/localhost/status', { name: 'Sys.Audit', on: '/system/status' }), () => getNodeStatus(api));
  await ctx.probe(spec('GET /nodes/localhost/network', { name: 'Sys.Audit', on: '/system/network/interfaces' }), () => getNetwork(api));
  const usage = await ctx.probe(spec('GET /status/datastore-usage', undefined, { check: storeList('Datastore.Audit or Datastore.Backup') }), () =>
    getDatastoreUsage(api),
  );
  const configs = await ctx.probe(spec('GET /config/datastore', undefined, { check: storeList('Datastore.Audit') }), () => getDatastoreConfigs(api));
  await ctx.probe(spec('GET /admin/gc', undefined, { check: jobs }), () => getGcJobs(api));
  await ctx.probe(spec('GET /admin/verify', undefined, { check: jobs }), () => getVerifyJobs(api));
  await ctx.probe(spec('GET /admin/prune', undefined, { check: jobs }), () => getPruneJobs(api));
  await ctx.probe(spec('GET /admin/sync', undefined, { check: jobs }), () => getSyncJobs(api));
  await ctx.probe(
    spec('GET /tape/backup', undefined, {
      check: jobs,
      // The collector's pbs_tape_unavailable: a server without the tape subsystem has no /tape.
      accept: (err) => (err.status === 404 ? `no tape subsystem (HTTP 404 ${err.reason}); the policy reports no tape jobs` : undefined),
    }),
    () => getTapeBackupJobs(api),
  );

  // One store the collector would read: listed without an error and not an unplugged removable one.
  const store = (usage ?? []).find((r) => r.error === undefined && r['mount-status'] !== 'notmounted')?.store ?? configs?.[0]?.name;
  if (store === undefined) {
    const why = usage === undefined && configs === undefined ? 'the datastore lists failed' : 'no readable datastore visible';
    ctx.skip('GET /admin/datastore/{store}/namespace', `not called: ${why}`);
    ctx.skip('GET /admin/datastore/{store}/snapshots', `not called: ${why}`);
    return;
  }
  await ctx.probe(spec(`GET /admin/datastore/${store}/namespace`, { name: 'Datastore.Audit or Datastore.Backup', on: `/datastore/${store}` }), () =>
    getNamespaces(api, store),
  );
  await ctx.probe(spec(`GET /admin/datastore/${store}/snapshots`, { name: 'Datastore.Audit', on: `/datastore/${store}` }), () => getSnapshots(api, store, ''));
}

export const pbsCollector = defineCollector({
  id: 'pbs',
  secretKeys: ['PBS_TOKEN_SECRET'],
  warnings: PBS_WARNINGS,
  configSchema: pbsConfigSchema,
  collect: collectPbs,
  map: mapPbs,
  preflight: { credentials: () => 'PBS_TOKEN_ID and PBS_TOKEN_SECRET', probes: pbsProbes },
});
