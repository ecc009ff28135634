import type { CustomFieldValue, Device, InventoryItem, Tag } from '../../../../proto/diode/v1/types.ts';
import type { PbsBackupGroup, PbsConfig, PbsDatastore, PbsJob, PbsSnapshot } from '../snapshot.ts';
import { mapNodeNetwork } from '../../../../mappers/common/node-network.ts';
import {
  cf,
  customFieldEntities,
  inventoryItemRoleRef,
  platformRef,
  siteRef,
  tagEntity,
  tagRef,
  type CustomFieldDef,
} from '../../../../mappers/common/refs.ts';
import { DISCOVERED_TAG, formatPbsVersion, hostLabel, pbsDeviceRef, pbsPlatformName } from '../../../../mappers/common/vocabulary.ts';
import { orderEntities } from '../../../../mappers/order.ts';
import { entity, type AnyEntity, type MapContext } from '../../../../mappers/types.ts';

/*
 * PbsSnapshot → Diode entities (agent/collectors/pbs/README.md "What lands in NetBox"): the server is a Device with its NICs,
 * IPs, platform and the `pbs-api` Service; each datastore an InventoryItem on it; backup
 * groups and jobs are JSON custom fields. Every field of the netbox-pbs models lands here or
 * is listed in agent/collectors/pbs/README.md. Pure: no clock, no I/O, sorted output.
 */

export const PBS_TAG = { name: 'proxmox-backup', color: '2196f3' } as const;
export const PBS_DATASTORE_ROLE = 'PBS Datastore';
export const PBS_SERVICE_NAME = 'pbs-api';
export const PBS_CUSTOM_FIELD_GROUP = 'Proxmox Backup Server';

/** PBS_NAME, else the host's name as the policy gives it (the issue). */
export function pbsDeviceName(config: Pick<PbsConfig, 'PBS_NAME' | 'PBS_HOST'>): string {
  return config.PBS_NAME ?? hostLabel(config.PBS_HOST);
}

const DEVICE = 'dcim.device';
const ITEM = 'dcim.inventoryitem';

export const PBS_CUSTOM_FIELDS = [
  { name: 'pbs_host', label: 'PBS Host', type: 'text', object_types: [DEVICE], description: 'Host name or address the PBS API is read at' },
  { name: 'pbs_port', label: 'PBS API Port', type: 'integer', object_types: [DEVICE], description: 'TCP port of the PBS API (default 8007)' },
  {
    name: 'pbs_fingerprint',
    label: 'PBS Fingerprint',
    type: 'text',
    object_types: [DEVICE],
    description: 'SHA-256 fingerprint of the PBS API certificate, as PBS shows it',
  },
  {
    name: 'pbs_version',
    label: 'PBS Version',
    type: 'text',
    object_types: [DEVICE],
    description: 'Proxmox Backup Server version reported by the API (version-release)',
  },
  {
    name: 'pbs_status',
    label: 'PBS Status',
    type: 'text',
    object_types: [DEVICE],
    description: 'reachable: the API answered the run that sent this (a run that cannot read it fails and sends nothing)',
  },
  {
    name: 'pbs_jobs',
    label: 'PBS Jobs',
    type: 'json',
    object_types: [DEVICE],
    description: 'GC, verify, prune, sync and tape jobs: type, id, store, schedule, comment, disabled, last run state, end time and message',
  },
  {
    name: 'pbs_jobs_failed',
    label: 'PBS Failed Jobs',
    type: 'integer',
    object_types: [DEVICE],
    description: 'Number of jobs whose last run ended in an error',
  },
  { name: 'pbs_datastore_path', label: 'Datastore Path', type: 'text', object_types: [ITEM], description: 'Filesystem path of the datastore on the PBS host' },
  {
    name: 'pbs_datastore_total_bytes',
    label: 'Datastore Total (bytes)',
    type: 'integer',
    object_types: [ITEM],
    description: 'Total capacity of the datastore, in bytes',
  },
  {
    name: 'pbs_datastore_used_bytes',
    label: 'Datastore Used (bytes)',
    type: 'integer',
    object_types: [ITEM],
    description: 'Used capacity of the datastore, in bytes',
  },
  {
    name: 'pbs_datastore_avail_bytes',
    label: 'Datastore Available (bytes)',
    type: 'integer',
    object_types: [ITEM],
    description: 'Available capacity of the datastore, in bytes',
  },
  {
    name: 'pbs_gc_status',
    label: 'Datastore GC Status',
    type: 'text',
    object_types: [ITEM],
    description: 'Garbage collection state: ok, running, error, pending or unknown',
  },
  {
    name: 'pbs_backup_groups',
    label: 'Backup Groups',
    type: 'json',
    object_types: [ITEM],
    description:
      'One summary per backup group: namespace, type, id, snapshot count, last backup time and size, owner, protected count, last verification, comment',
  },
] as const satisfies readonly CustomFieldDef[];

// ---------------------------------------------------------------------------
// State vocabularies of the netbox-pbs models (agent/collectors/pbs/README.md "Where every netbox-pbs field lands").

export type GcStatus = 'ok' | 'running' | 'error' | 'pending' | 'unknown';
export type JobRunState = 'ok' | 'error' | 'warning' | 'running' | 'unknown';

/*
 * `last-run-state` is TaskState's Display: "OK", "WARNINGS: n", the error message, or
 * "unknown"; absent while the job runs (then only `last-run-upid` is set) and before its
 * first run (proxmox-rest-server worker_task.rs `impl Display for TaskState`,
 * proxmox-backup src/server/jobstate.rs compute_schedule_status).
 */
export function jobRunState(job: Pick<PbsJob, 'lastRunState' | 'lastRunUpid'>): JobRunState {
  const s = job.lastRunState?.trim();
  if (s === undefined || s === '') return job.lastRunUpid !== undefined ? 'running' : 'unknown';
  if (/^ok$/i.test(s)) return 'ok';
  if (/^warnings?:/i.test(s)) return 'warning';
  if (/^unknown$/i.test(s)) return 'unknown';
  return 'error';
}

/**
 * The datastore's GC job → the PBSDatastore gc_status choices. GC warnings (chunks that
 * could not be read) count as an error: the choices have no "warning" and the job list
 * keeps the detail. "pending" is a scheduled GC that has not run yet.
 */
export function gcStatus(job: PbsJob | undefined): GcStatus {
  if (job === undefined) return 'unknown';
  const s = jobRunState(job);
  if (s === 'warning') return 'error';
  if (s === 'unknown' && job.lastRunState === undefined && job.schedule !== undefined) return 'pending';
  return s;
}

/** UNIX seconds → RFC 3339 UTC without fractions, as PBS prints times. */
export function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const MESSAGE_MAX = 200;

export function jobJson(j: PbsJob): Record<string, unknown> {
  const state = jobRunState(j);
  return {
    type: j.type,
    id: j.id,
    store: j.store ?? null,
    schedule: j.schedule ?? null,
    comment: j.comment ?? null,
    disabled: j.disabled,
    last_run_state: state,
    last_run_endtime: j.lastRunEndtime !== undefined ? isoTime(j.lastRunEndtime) : null,
    // The error text is the only place that says why a job failed.
    last_run_message: state === 'error' || state === 'warning' ? (j.lastRunState ?? '').trim().slice(0, MESSAGE_MAX) : null,
  };
}

export function groupJson(g: PbsBackupGroup): Record<string, unknown> {
  return {
    namespace: g.namespace,
    type: g.type,
    id: g.id,
    count: g.count,
    last_backup: isoTime(g.lastBackupTime),
    last_size_bytes: g.lastSizeBytes ?? null,
    owner: g.owner ?? null,
    protected_count: g.protectedCount,
    last_verification: g.lastVerification ?? null,
    comment: g.comment ?? null,
  };
}

function datastoreStatus(ds: PbsDatastore): NonNullable<InventoryItem['status']> {
  if (ds.error !== undefined) return 'failed';
  if (ds.mountStatus === 'notmounted') return 'offline';
  return 'active';
}

export function mapPbs(snapshot: PbsSnapshot, ctx: MapContext<PbsConfig>): AnyEntity[] {
  const c = ctx.config;
  const site = c.SITE_NAME;
  const name = pbsDeviceName(c);
  const stub = pbsDeviceRef(name, site);
  const tags: Tag[] = [tagRef(PBS_TAG.name), tagRef(DISCOVERED_TAG.name)];
  const out: AnyEntity[] = [
    tagEntity(PBS_TAG.name, PBS_TAG.color),
    tagEntity(DISCOVERED_TAG.name, DISCOVERED_TAG.color),
    ...customFieldEntities(PBS_CUSTOM_FIELDS, PBS_CUSTOM_FIELD_GROUP, { hidden: true }),
  ];
  const fields: Record<string, CustomFieldValue> = {
    pbs_host: cf.text(c.PBS_HOST),
    pbs_port: cf.integer(c.PBS_PORT),
    // Always reachable: an unreachable server fails the run (collectPbs). Still sent, so a
    // value "unreachable" left by an earlier version of the agent is replaced.
    pbs_status: cf.text('reachable'),
  };
  const device: Device = { ...stub, status: 'active', tags, custom_fields: fields };
  if (snapshot.version !== undefined) fields.pbs_version = cf.text(formatPbsVersion(snapshot.version, snapshot.release));
  if (snapshot.fingerprint !== undefined) fields.pbs_fingerprint = cf.text(snapshot.fingerprint);
  fields.pbs_jobs = cf.json(snapshot.jobs.map(jobJson));
  fields.pbs_jobs_failed = cf.integer(snapshot.jobs.filter((j) => jobRunState(j) === 'error').length);

  const platform = pbsPlatformName(snapshot.version);
  if (platform !== undefined) {
    out.push(entity('platform', { ...platformRef(platform), tags }));
    device.platform = platformRef(platform);
  }

  // NICs and IPs like a PVE node; prefixes and VLANs are the PVE collector's (README).
  if (snapshot.network !== undefined) {
    // The primary IPs are set by their own IPAddress entities (mappers/common/node-network.ts).
    const net = mapNodeNetwork(stub, siteRef(site), snapshot.network, tags);
    out.push(...net.interfaces, ...net.ipAddresses);
  }
  out.push(entity('device', device));

  const gcByStore = new Map(snapshot.jobs.filter((j) => j.type === 'gc').map((j) => [j.store ?? j.id, j]));
  for (const ds of snapshot.datastores) {
    const dsFields: Record<string, CustomFieldValue> = { pbs_gc_status: cf.text(gcStatus(gcByStore.get(ds.name))) };
    if (ds.path !== undefined) dsFields.pbs_datastore_path = cf.text(ds.path);
    if (ds.totalBytes !== undefined) dsFields.pbs_datastore_total_bytes = cf.integer(ds.totalBytes);
    if (ds.usedBytes !== undefined) dsFields.pbs_datastore_used_bytes = cf.integer(ds.usedBytes);
    if (ds.availBytes !== undefined) dsFields.pbs_datastore_avail_bytes = cf.integer(ds.availBytes);
    if (ds.groups !== undefined) dsFields.pbs_backup_groups = cf.json(ds.groups.map(groupJson));
    out.push(
      entity('inventory_item', {
        device: stub,
        name: ds.name,
        role: inventoryItemRoleRef(PBS_DATASTORE_ROLE),
        status: datastoreStatus(ds),
        discovered: true,
        ...(ds.comment !== undefined && { description: ds.comment.slice(0, 200) }),
        tags,
        custom_fields: dsFields,
      }),
    );
  }

  out.push(
    entity('service', {
      name: PBS_SERVICE_NAME,
      protocol: 'tcp',
      ports: [c.PBS_PORT],
      parent_object_device: stub,
      description: 'Proxmox Backup Server REST API',
      tags,
    }),
  );
  return orderEntities(out);
}
