import type { TargetRequest } from '../types.ts';
import { HttpConnectError, HttpStatusError } from '../../http/client.ts';
import { apiTargetRequest, apiTokenHeader, ProxmoxApi, type ApiService, type ApiSession } from '../../http/proxmox.ts';
import type { PbsConfig } from './config.ts';
import {
  datastoreConfigSchema,
  datastoreUsageSchema,
  gcJobSchema,
  jobSchema,
  namespaceSchema,
  networkRowSchema,
  nodeStatusSchema,
  snapshotSchema,
  versionSchema,
  type DatastoreConfig,
  type DatastoreUsage,
  type GcJobItem,
  type JobItem,
  type NamespaceItem,
  type PbsNodeStatus,
  type PbsVersion,
  type SnapshotItem,
} from './schema.ts';
import type { NodeNetworkRow } from '../snapshot.ts';

/*
 * One function per PBS endpoint the collector calls, over the shared Proxmox API layer
 * (agent/http/proxmox.ts). Each returns the parsed `data`; HTTP failures surface as
 * HttpStatusError (whose reason is PBS's plain-text body) / HttpConnectError, a body of the
 * wrong shape as ApiResponseError. Paths are relative to /api2/json.
 */

/** `PBSAPIToken=USER@REALM!TOKEN:SECRET` (agent/http/proxmox.ts apiTokenHeader). */
export function authorizationHeader(tokenId: string, secret: string): string {
  return apiTokenHeader('PBSAPIToken', tokenId, secret);
}

export function pbsTargetRequest(c: PbsConfig): TargetRequest {
  return apiTargetRequest({
    host: c.PBS_HOST,
    port: c.PBS_PORT,
    authorization: authorizationHeader(c.PBS_TOKEN_ID, c.PBS_TOKEN_SECRET),
    tls: { verify: c.PBS_SSL_VERIFY, caFile: c.PBS_CA_FILE, fingerprint: c.PBS_FINGERPRINT },
    timeoutS: c.PBS_API_TIMEOUT,
    maxResponseBytes: c.PBS_API_MAX_RESPONSE_BYTES,
    settingsPrefix: 'PBS',
  });
}

/**
 * "Cannot be reached": no answer at all (refused, reset, timed out) or a gateway error that
 * outlived the retries. Like any other failure of /version it fails the run; it only
 * changes the hint. (A certificate that fails its pin or its verification is not
 * unreachability: the message names the setting to fix.)
 */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof HttpConnectError) return err.errorCode !== 'TLS_PIN' && err.errorCode !== 'TLS_VERIFY';
  return err instanceof HttpStatusError && (err.status === 502 || err.status === 503 || err.status === 504);
}

/** Proxmox Backup Server, for error codes (`pbs_bad_response`, `pbs_unreachable`) and messages. */
export const PBS_SERVICE: ApiService = {
  id: 'pbs',
  product: 'Proxmox Backup Server',
  hint: (err) => {
    if (isUnreachable(err)) return ' (check PBS_HOST and PBS_PORT; nothing was sent, so NetBox keeps the server as it was)';
    if (err instanceof HttpStatusError && err.status === 401) return ' (check PBS_TOKEN_ID and PBS_TOKEN_SECRET)';
    if (err instanceof HttpStatusError && err.status === 403)
      return ' (the token needs the Audit role on /; with privilege separation the token itself needs the ACL)';
    return '';
  },
};

const PBS = new ProxmoxApi(PBS_SERVICE);

const seg = encodeURIComponent;

/*
 * Privileges, for a 403: PBS answers "permission check failed" and names none
 * (proxmox-rest-server), so the message names what the endpoint's `access` asks for. Lists
 * that current releases filter by privilege (`Permission::Anybody`, items left out silently)
 * name the privilege they filter by, which older releases checked on the whole list.
 */
export const PBS_PRIVILEGES = {
  /** proxmox-backup src/api2/node/status.rs get_status. */
  nodeStatus: 'Sys.Audit on /system/status',
  /** src/api2/node/network.rs list_network_devices. */
  network: 'Sys.Audit on /system/network/interfaces',
  /** src/api2/status.rs datastore_status and src/api2/config/datastore.rs list_datastores filter by it per store. */
  datastores: 'Datastore.Audit on /datastore',
  /** src/api2/admin/namespace.rs list_namespaces. */
  namespaces: (store: string) => `Datastore.Audit on /datastore/${store}`,
  /** src/api2/admin/datastore.rs list_snapshots: Datastore.Audit, or Datastore.Backup for the groups the token owns. */
  snapshots: (store: string, ns: string) => `Datastore.Audit on /datastore/${store}${ns === '' ? '' : `/${ns}`}`,
  /** src/api2/admin/{gc,verify,prune,sync}.rs filter the jobs by the store's privileges. */
  jobs: 'Datastore.Audit on /datastore',
  /** src/api2/tape/backup.rs list_tape_backup_jobs filters by Tape.Audit on /tape/job/{id}. */
  tape: 'Tape.Audit on /tape/job',
} as const;

export function getVersion(api: ApiSession): Promise<PbsVersion> {
  return PBS.get(api, '/version', versionSchema);
}

/** The node of a PBS is always `localhost` (pbs-api-types NODE_SCHEMA: "Node name (or 'localhost')"). */
export function getNodeStatus(api: ApiSession): Promise<PbsNodeStatus> {
  return PBS.get(api, '/nodes/localhost/status', nodeStatusSchema);
}

export function getNetwork(api: ApiSession): Promise<NodeNetworkRow[]> {
  const path = '/nodes/localhost/network';
  return PBS.list(api, path, networkRowSchema);
}

export function getDatastoreUsage(api: ApiSession): Promise<DatastoreUsage[]> {
  const path = '/status/datastore-usage';
  return PBS.list(api, path, datastoreUsageSchema);
}

export function getDatastoreConfigs(api: ApiSession): Promise<DatastoreConfig[]> {
  const path = '/config/datastore';
  return PBS.list(api, path, datastoreConfigSchema);
}

/** Every namespace of the store, recursively, the root ("") included. */
export function getNamespaces(api: ApiSession, store: string): Promise<NamespaceItem[]> {
  const path = `/admin/datastore/${seg(store)}/namespace`;
  return PBS.list(api, path, namespaceSchema);
}

/**
 * The snapshots of one namespace (not recursive). The root namespace is asked for without
 * `ns`, which PBS releases before namespaces (< 2.2) also understand.
 */
export function getSnapshots(api: ApiSession, store: string, ns: string): Promise<SnapshotItem[]> {
  const path = `/admin/datastore/${seg(store)}/snapshots`;
  return PBS.list(api, path, snapshotSchema, ns === '' ? undefined : { ns });
}

/** GC status of every store (PBS ≥ 3.2, proxmox-backup src/api2/admin/gc.rs list_all_gc_jobs). */
export function getGcJobs(api: ApiSession): Promise<GcJobItem[]> {
  const path = '/admin/gc';
  return PBS.list(api, path, gcJobSchema);
}

export function getVerifyJobs(api: ApiSession): Promise<JobItem[]> {
  const path = '/admin/verify';
  return PBS.list(api, path, jobSchema);
}

export function getPruneJobs(api: ApiSession): Promise<JobItem[]> {
  const path = '/admin/prune';
  return PBS.list(api, path, jobSchema);
}

/**
 * Sync jobs of both directions. Without `sync-direction` PBS lists pull jobs only; releases
 * before push sync (PBS < 3.3) reject the parameter with a 400, and are asked again without
 * it (proxmox-backup src/api2/admin/sync.rs list_config_sync_jobs: `sync_direction.unwrap_or_default()`
 * is pull).
 */
export async function getSyncJobs(api: ApiSession): Promise<JobItem[]> {
  const path = '/admin/sync';
  try {
    return await PBS.list(api, path, jobSchema, { 'sync-direction': 'all' });
  } catch (err) {
    if (!(err instanceof HttpStatusError) || err.status !== 400) throw err;
    return PBS.list(api, path, jobSchema);
  }
}

export function getTapeBackupJobs(api: ApiSession): Promise<JobItem[]> {
  const path = '/tape/backup';
  return PBS.list(api, path, jobSchema);
}
