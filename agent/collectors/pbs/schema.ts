import { z } from 'zod';
import { looseBool, looseInt, looseNumber, text } from '../../http/loose.ts';
import type { NodeNetworkRow } from '../snapshot.ts';

/*
 * zod schemas of the PBS answers the collector reads, naming only the fields it uses.
 * PBS is Rust (proxmox-rest-server): kebab-case keys, optional fields omitted rather than
 * null, real JSON booleans and numbers. The loose number/boolean decoders also accept the
 * Perl-style forms (0/1, numeric strings): that costs nothing and keeps one oddly typed
 * field from costing a whole list. The envelope and the list handling are the shared
 * Proxmox API layer's (agent/http/proxmox.ts).
 */

/** An answer whose shape is not what the schema expects (alias of the shared class; code `pbs_bad_response`). */

// GET /version: `version` is MAJOR.MINOR and `release` the patch number (proxmox-backup
// pbs-buildcfg/src/lib.rs, src/api2/version.rs), so PBS 3.2-7 answers {version:"3.2", release:"7"}.
export const versionSchema = z.object({ version: z.string().trim().min(1), release: text.optional() });
export type PbsVersion = z.output<typeof versionSchema>;

// GET /nodes/localhost/status: the certificate fingerprint is `info.fingerprint`
// (pbs-api-types src/node.rs NodeStatus); uptime, load and memory are not read on purpose.
export const nodeStatusSchema = z.object({ info: z.object({ fingerprint: text.optional() }).optional() });
export type PbsNodeStatus = z.output<typeof nodeStatusSchema>;

/*
 * GET /nodes/localhost/network. PBS serializes proxmox-network-api's `Interface`, which
 * names the interface `name` (PVE says `iface`), sends `vlan-id` and `mtu` as numbers and
 * has no address/netmask pair, only `cidr`/`cidr6`
 * (proxmox-rs proxmox-network-api/src/api_types.rs `struct Interface`).
 */
export const networkRowSchema = z
  .object({
    name: text.optional(),
    iface: text.optional(),
    type: z.string().default('unknown'),
    method: z.string().optional(),
    cidr: text.optional(),
    cidr6: text.optional(),
    'vlan-id': looseInt.optional(),
    mtu: looseInt.optional(),
  })
  .refine((r) => r.name !== undefined || r.iface !== undefined, { message: 'no interface name', path: ['name'] })
  .transform(
    (r): NodeNetworkRow => ({
      iface: r.name ?? r.iface ?? '',
      type: r.type,
      ...(r.method !== undefined && { method: r.method }),
      ...(r.cidr !== undefined && { cidr: r.cidr }),
      ...(r.cidr6 !== undefined && { cidr6: r.cidr6 }),
      ...(r['vlan-id'] !== undefined && { vlanId: r['vlan-id'] }),
      ...(r.mtu !== undefined && { mtu: r.mtu }),
    }),
  );

/*
 * GET /status/datastore-usage (pbs-api-types DataStoreStatusListItem): sizes are omitted
 * for a store that cannot be looked up, which then carries `error`; `mount-status` exists
 * since PBS 3.3 (removable datastores) and defaults to "nonremovable".
 */
export const datastoreUsageSchema = z.object({
  store: z.string().min(1),
  total: looseNumber.optional(),
  used: looseNumber.optional(),
  avail: looseNumber.optional(),
  'mount-status': z.string().optional(),
  error: text.optional(),
});
export type DatastoreUsage = z.output<typeof datastoreUsageSchema>;

// GET /config/datastore (pbs-api-types DataStoreConfig): the only place the path is listed.
export const datastoreConfigSchema = z.object({ name: z.string().min(1), path: text.optional(), comment: text.optional() });
export type DatastoreConfig = z.output<typeof datastoreConfigSchema>;

// GET /admin/datastore/{store}/namespace (NamespaceListItem): the root namespace is "".
export const namespaceSchema = z.object({ ns: z.string(), comment: text.optional() });
export type NamespaceItem = z.output<typeof namespaceSchema>;

// GET /admin/datastore/{store}/snapshots?ns= (pbs-api-types SnapshotListItem).
export const snapshotSchema = z.object({
  'backup-type': z.string().min(1),
  'backup-id': z.string().min(1),
  'backup-time': looseInt,
  comment: text.optional(),
  verification: z.object({ state: z.string() }).optional(),
  size: looseNumber.optional(),
  owner: text.optional(),
  protected: looseBool.optional(),
});
export type SnapshotItem = z.output<typeof snapshotSchema>;

/*
 * The job-state part every job list flattens into its rows (pbs-api-types JobScheduleStatus):
 * `last-run-state` is "OK", "WARNINGS: n", an error text or "unknown"; a job that is running
 * has `last-run-upid` but no state yet (proxmox-backup src/server/jobstate.rs
 * compute_schedule_status).
 */
const runState = { schedule: text.optional(), 'last-run-state': text.optional(), 'last-run-upid': text.optional(), 'last-run-endtime': looseInt.optional() };

// GET /admin/gc (PBS ≥ 3.2, GarbageCollectionJobStatus): one row per datastore; the running
// job's UPID is the flattened `upid` of GarbageCollectionStatus.
export const gcJobSchema = z.object({ store: z.string().min(1), upid: text.optional(), ...runState });
export type GcJobItem = z.output<typeof gcJobSchema>;

// GET /admin/verify, /admin/prune, /admin/sync, /tape/backup: job config and state flattened.
export const jobSchema = z.object({ id: z.string().min(1), store: text.optional(), comment: text.optional(), disable: looseBool.optional(), ...runState });
export type JobItem = z.output<typeof jobSchema>;
