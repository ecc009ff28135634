import { AgentError } from '../../errors.ts';
import { HttpStatusError } from '../../http/client.ts';
import type { CollectContext } from '../types.ts';
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
  PBS_PRIVILEGES,
  PBS_SERVICE,
  pbsTargetRequest,
} from './client.ts';
import { ApiUnreachableError, describeError as describe, hostPort, type ApiSession } from '../../http/proxmox.ts';
import type { PbsConfig } from './config.ts';
import type { DatastoreConfig, DatastoreUsage, JobItem, SnapshotItem } from './schema.ts';
import type { PbsBackupGroup, PbsDatastore, PbsJob, PbsJobType, PbsSnapshot } from './snapshot.ts';

/**
 * /version failed: the server could not be read (alias of the shared class; code
 * `pbs_unreachable`, `pbs_unreadable` before the shared layer).
 */

/** Numeric ids compare as numbers, like pbs-api-types' `impl Ord for BackupGroup`. */
export function compareIds(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One summary per (type, id) of a namespace's snapshot list; the newest snapshot speaks for the group. */
export function summarizeGroups(namespace: string, snapshots: readonly SnapshotItem[]): PbsBackupGroup[] {
  const byGroup = new Map<string, { newest: SnapshotItem; count: number; protectedCount: number; owner?: string }>();
  for (const s of snapshots) {
    const key = `${s['backup-type']}/${s['backup-id']}`;
    const g = byGroup.get(key);
    if (!g) {
      byGroup.set(key, { newest: s, count: 1, protectedCount: s.protected ? 1 : 0, ...(s.owner !== undefined && { owner: s.owner }) });
      continue;
    }
    g.count++;
    if (s.protected) g.protectedCount++;
    if (s['backup-time'] > g.newest['backup-time']) g.newest = s;
    // The owner is the group's, repeated on each snapshot; keep the first one given.
    if (g.owner === undefined && s.owner !== undefined) g.owner = s.owner;
  }
  const out: PbsBackupGroup[] = [];
  for (const g of byGroup.values()) {
    const n = g.newest;
    out.push({
      namespace,
      type: n['backup-type'],
      id: n['backup-id'],
      count: g.count,
      lastBackupTime: n['backup-time'],
      ...(n.size !== undefined && { lastSizeBytes: n.size }),
      ...(g.owner !== undefined && { owner: g.owner }),
      protectedCount: g.protectedCount,
      ...(n.verification !== undefined && { lastVerification: n.verification.state }),
      ...(n.comment !== undefined && { comment: n.comment }),
    });
  }
  return out.sort(compareGroups);
}

export function compareGroups(a: PbsBackupGroup, b: PbsBackupGroup): number {
  return compareText(a.namespace, b.namespace) || compareText(a.type, b.type) || compareIds(a.id, b.id);
}

function toJob(type: PbsJobType, j: JobItem): PbsJob {
  return {
    type,
    id: j.id,
    ...(j.store !== undefined && { store: j.store }),
    ...(j.schedule !== undefined && { schedule: j.schedule }),
    ...(j.comment !== undefined && { comment: j.comment }),
    disabled: j.disable ?? false,
    ...(j['last-run-state'] !== undefined && { lastRunState: j['last-run-state'] }),
    ...(j['last-run-upid'] !== undefined && { lastRunUpid: j['last-run-upid'] }),
    ...(j['last-run-endtime'] !== undefined && { lastRunEndtime: j['last-run-endtime'] }),
  };
}

/**
 * Reads one Proxmox Backup Server into a PbsSnapshot.
 *
 * /version comes first: when it fails the whole target is lost and so is the run, as for
 * PVE: nothing is sent, NetBox keeps what it had, and the run's error (in /status, the
 * metrics and the logs) says why. Reporting the server offline instead would let a typo in
 * PBS_HOST mark a production server offline, or create a new Device under the typo.
 * Everything after /version is optional: a list that fails (a missing tape subsystem, an
 * unreadable namespace, a token without a privilege) becomes a warning naming what is
 * left out, and the rest goes on.
 */
export async function collectPbs(ctx: CollectContext<PbsConfig>): Promise<PbsSnapshot> {
  const c = ctx.config;
  const endpoint = hostPort(c.PBS_HOST, c.PBS_PORT);
  const api: ApiSession = {
    target: ctx.target(pbsTargetRequest(c)),
    onDrop: (path, index, why) => ctx.warn({ code: 'pbs_item_invalid', subject: `GET ${path} item ${index}`, message: `item dropped: ${why}` }),
  };

  let version;
  try {
    version = await getVersion(api);
  } catch (err) {
    if (err instanceof AgentError) throw new ApiUnreachableError(PBS_SERVICE, endpoint, err);
    throw err;
  }

  /**
   * Runs an optional call; an API failure becomes a warning, `code` with what is `lost`, or
   * `pbs_permission_denied` naming the privilege on a 403, and undefined. Anything else is thrown.
   */
  async function optional<T>(
    p: Promise<T>,
    w: { code: string; subject: string; lost: string; privilege: string; lostWhenDenied?: string },
  ): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      if (err instanceof HttpStatusError && err.status === 403) {
        ctx.warn({
          code: 'pbs_permission_denied',
          subject: w.subject,
          message: `${describe(err)}; the token lacks ${w.privilege}; ${w.lostWhenDenied ?? w.lost}`,
        });
      } else {
        ctx.warn({ code: w.code, subject: w.subject, message: `${describe(err)}; ${w.lost}` });
      }
      return undefined;
    }
  }

  const jobList = (type: Exclude<PbsJobType, 'gc'>, p: Promise<JobItem[]>) =>
    optional(
      p,
      type === 'tape'
        ? {
            code: 'pbs_tape_unavailable',
            subject: 'tape backup jobs',
            lost: 'no tape subsystem, no tape jobs reported',
            privilege: PBS_PRIVILEGES.tape,
            lostWhenDenied: 'no tape jobs reported',
          }
        : { code: 'pbs_jobs_unreadable', subject: `${type} jobs`, lost: `${type} jobs are left out of pbs_jobs`, privilege: PBS_PRIVILEGES.jobs },
    ).then((rows) => (rows ?? []).map((j) => toJob(type, j)));

  const [status, network, usage, configs, gcRows, verify, prune, sync, tape] = await Promise.all([
    optional(getNodeStatus(api), {
      code: 'pbs_node_status_unreadable',
      subject: 'node localhost',
      lost: 'no certificate fingerprint',
      privilege: PBS_PRIVILEGES.nodeStatus,
    }),
    optional(getNetwork(api), {
      code: 'pbs_network_unreadable',
      subject: 'node localhost',
      lost: 'no interfaces or IP addresses',
      privilege: PBS_PRIVILEGES.network,
    }),
    optional(getDatastoreUsage(api), {
      code: 'pbs_datastores_unreadable',
      subject: 'datastores',
      lost: 'datastores without usage',
      privilege: PBS_PRIVILEGES.datastores,
    }),
    optional(getDatastoreConfigs(api), {
      code: 'pbs_datastore_config_unreadable',
      subject: 'datastores',
      lost: 'datastores without path',
      privilege: PBS_PRIVILEGES.datastores,
    }),
    optional(getGcJobs(api), { code: 'pbs_jobs_unreadable', subject: 'gc jobs', lost: 'no GC status', privilege: PBS_PRIVILEGES.jobs }),
    jobList('verify', getVerifyJobs(api)),
    jobList('prune', getPruneJobs(api)),
    jobList('sync', getSyncJobs(api)),
    jobList('tape', getTapeBackupJobs(api)),
  ]);

  const gcJobs: PbsJob[] = (gcRows ?? []).map((g) => ({
    type: 'gc',
    id: g.store,
    store: g.store,
    ...(g.schedule !== undefined && { schedule: g.schedule }),
    disabled: false,
    ...(g['last-run-state'] !== undefined && { lastRunState: g['last-run-state'] }),
    // A GC in progress shows its UPID in the flattened GarbageCollectionStatus.
    ...((g['last-run-upid'] ?? g.upid) !== undefined && { lastRunUpid: g['last-run-upid'] ?? g.upid }),
    ...(g['last-run-endtime'] !== undefined && { lastRunEndtime: g['last-run-endtime'] }),
  }));
  const jobs = [...gcJobs, ...verify, ...prune, ...sync, ...tape].sort((a, b) => compareText(a.type, b.type) || compareText(a.id, b.id));

  // The stores to report: datastore-usage lists them with sizes; the config list stands in when it failed.
  const configByName = new Map<string, DatastoreConfig>((configs ?? []).map((d) => [d.name, d]));
  const rows: DatastoreUsage[] = usage ?? (configs ?? []).map((d) => ({ store: d.name }));
  const unique = [...new Map(rows.map((r) => [r.store, r])).values()].sort((a, b) => compareText(a.store, b.store));

  let done = 0;
  ctx.progress(0, unique.length);
  const datastores = await Promise.all(
    unique.map(async (row) => {
      try {
        return await readDatastore(row, configByName.get(row.store));
      } finally {
        ctx.progress(++done, unique.length);
      }
    }),
  );

  return {
    version: version.version,
    ...(version.release !== undefined && { release: version.release }),
    ...(status?.info?.fingerprint !== undefined && { fingerprint: status.info.fingerprint }),
    ...(network !== undefined && { network }),
    datastores,
    jobs,
  };

  async function readDatastore(row: DatastoreUsage, config: DatastoreConfig | undefined): Promise<PbsDatastore> {
    const name = row.store;
    const ds: PbsDatastore = {
      name,
      ...(config?.path !== undefined && { path: config.path }),
      ...(config?.comment !== undefined && { comment: config.comment }),
      ...(row.total !== undefined && row.total >= 0 && { totalBytes: row.total }),
      ...(row.used !== undefined && row.used >= 0 && { usedBytes: row.used }),
      // datastore-usage documents `avail` as -1 on error.
      ...(row.avail !== undefined && row.avail >= 0 && { availBytes: row.avail }),
      ...(row['mount-status'] !== undefined && { mountStatus: row['mount-status'] }),
      ...(row.error !== undefined && { error: row.error }),
    };
    if (row.error !== undefined) {
      ctx.warn({ code: 'pbs_datastore_error', subject: `datastore ${name}`, message: `${row.error}; its backup groups are not read` });
      return ds;
    }
    // A removable store that is not plugged in has no snapshots to list; that is its normal state.
    if (row['mount-status'] === 'notmounted') return ds;

    const listed = await optional(getNamespaces(api, name), {
      code: 'pbs_namespaces_unreadable',
      subject: `datastore ${name}`,
      lost: 'only the root namespace is read',
      privilege: PBS_PRIVILEGES.namespaces(name),
    });
    const namespaces = [...new Set(['', ...(listed ?? []).map((n) => n.ns)])].sort(compareText);
    const perNs = await Promise.all(
      namespaces.map((ns) =>
        optional(getSnapshots(api, name, ns), {
          code: 'pbs_namespace_unreadable',
          subject: `namespace ${ns === '' ? '(root)' : ns} of datastore ${name}`,
          lost: 'its backup groups are left out of pbs_backup_groups',
          privilege: PBS_PRIVILEGES.snapshots(name, ns),
        }).then((snaps) => (snaps === undefined ? undefined : summarizeGroups(ns, snaps))),
      ),
    );
    const read = perNs.filter((g): g is PbsBackupGroup[] => g !== undefined);
    if (read.length > 0) ds.groups = read.flat().sort(compareGroups);
    return ds;
  }
}
