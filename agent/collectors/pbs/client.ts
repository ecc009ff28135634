import { z } from 'zod';
import type { TargetRequest } from '../types.ts';
import { HttpBodyError, HttpStatusError, targetSettings, type HttpTarget } from '../../http/client.ts';
import type { PbsConfig } from './config.ts';
import {
  datastoreConfigSchema, datastoreUsageSchema, envelope, gcJobSchema, jobSchema, lenientList, namespaceSchema,
  networkRowSchema, nodeStatusSchema, PbsResponseError, snapshotSchema, summarizeIssues, versionSchema,
  type DatastoreConfig, type DatastoreUsage, type GcJobItem, type JobItem, type NamespaceItem, type PbsNodeStatus,
  type PbsVersion, type SnapshotItem,
} from './schema.ts';
import type { NodeNetworkRow } from '../../../mappers/common/node-network.ts';

/*
 * One function per PBS endpoint the collector calls (reference/proxmox-apis.md §2, §6).
 * Each returns the parsed `data`; HTTP failures surface as HttpStatusError (whose reason
 * is PBS's plain-text body) / HttpConnectError, a body of the wrong shape as
 * PbsResponseError. Paths are relative to /api2/json.
 */

export interface PbsApi {
  target: HttpTarget;
  /** A list item that did not match its schema and was dropped. */
  onDrop(path: string, index: number, why: string): void;
}

/**
 * `PBSAPIToken=USER@REALM!TOKEN:SECRET`: PBS and PDM put `:` before the secret where PVE
 * puts `=` (proxmox-auth-api src/api/mod.rs extract_auth_data; reference/proxmox-apis.md §0).
 */
export function authorizationHeader(tokenId: string, secret: string): string {
  return `PBSAPIToken=${tokenId}:${secret}`;
}

/** `host:port` with IPv6 literals bracketed, for URLs and messages. */
export function hostPort(host: string, port: number): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${bracketed}:${port}`;
}

export function pbsTargetRequest(c: PbsConfig): TargetRequest {
  return {
    baseUrl: `https://${hostPort(c.PBS_HOST, c.PBS_PORT)}/api2/json`,
    headers: { authorization: authorizationHeader(c.PBS_TOKEN_ID, c.PBS_TOKEN_SECRET) },
    tls: { verify: c.PBS_SSL_VERIFY, caFile: c.PBS_CA_FILE, fingerprint: c.PBS_FINGERPRINT },
    timeoutMs: c.PBS_API_TIMEOUT * 1000,
    maxResponseBytes: c.PBS_API_MAX_RESPONSE_BYTES,
    settings: targetSettings('PBS'),
  };
}

async function get<T extends z.ZodType>(api: PbsApi, path: string, schema: T, query?: Record<string, string>): Promise<z.output<T>> {
  let body: unknown;
  try {
    body = await api.target.getJson(path, query);
  } catch (err) {
    // A 2xx body that is not JSON is an answer of the wrong shape: it costs that list only.
    throw err instanceof HttpBodyError ? new PbsResponseError(path, err.detail, { cause: err }) : err;
  }
  const env = envelope.safeParse(body);
  if (!env.success) throw new PbsResponseError(path, summarizeIssues(env.error), { cause: env.error });
  const parsed = schema.safeParse(env.data.data);
  if (!parsed.success) throw new PbsResponseError(path, `data: ${summarizeIssues(parsed.error)}`, { cause: parsed.error });
  return parsed.data as z.output<T>;
}

function list<T extends z.ZodType>(api: PbsApi, path: string, item: T) {
  return lenientList(item, (index, why) => api.onDrop(path, index, why));
}

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

export function getVersion(api: PbsApi): Promise<PbsVersion> {
  return get(api, '/version', versionSchema);
}

/** The node of a PBS is always `localhost` (reference/proxmox-apis.md §2). */
export function getNodeStatus(api: PbsApi): Promise<PbsNodeStatus> {
  return get(api, '/nodes/localhost/status', nodeStatusSchema);
}

export function getNetwork(api: PbsApi): Promise<NodeNetworkRow[]> {
  const path = '/nodes/localhost/network';
  return get(api, path, list(api, path, networkRowSchema));
}

export function getDatastoreUsage(api: PbsApi): Promise<DatastoreUsage[]> {
  const path = '/status/datastore-usage';
  return get(api, path, list(api, path, datastoreUsageSchema));
}

export function getDatastoreConfigs(api: PbsApi): Promise<DatastoreConfig[]> {
  const path = '/config/datastore';
  return get(api, path, list(api, path, datastoreConfigSchema));
}

/** Every namespace of the store, recursively, the root ("") included. */
export function getNamespaces(api: PbsApi, store: string): Promise<NamespaceItem[]> {
  const path = `/admin/datastore/${seg(store)}/namespace`;
  return get(api, path, list(api, path, namespaceSchema));
}

/**
 * The snapshots of one namespace (not recursive). The root namespace is asked for without
 * `ns`, which PBS releases before namespaces (< 2.2) also understand.
 */
export function getSnapshots(api: PbsApi, store: string, ns: string): Promise<SnapshotItem[]> {
  const path = `/admin/datastore/${seg(store)}/snapshots`;
  return get(api, path, list(api, path, snapshotSchema), ns === '' ? undefined : { ns });
}

/** GC status of every store (PBS ≥ 3.2, proxmox-backup src/api2/admin/gc.rs list_all_gc_jobs). */
export function getGcJobs(api: PbsApi): Promise<GcJobItem[]> {
  const path = '/admin/gc';
  return get(api, path, list(api, path, gcJobSchema));
}

export function getVerifyJobs(api: PbsApi): Promise<JobItem[]> {
  const path = '/admin/verify';
  return get(api, path, list(api, path, jobSchema));
}

export function getPruneJobs(api: PbsApi): Promise<JobItem[]> {
  const path = '/admin/prune';
  return get(api, path, list(api, path, jobSchema));
}

/**
 * Sync jobs of both directions. Without `sync-direction` PBS lists pull jobs only; releases
 * before push sync (PBS < 3.3) reject the parameter with a 400, and are asked again without
 * it (reference/proxmox-apis.md §2, /admin/sync).
 */
export async function getSyncJobs(api: PbsApi): Promise<JobItem[]> {
  const path = '/admin/sync';
  try {
    return await get(api, path, list(api, path, jobSchema), { 'sync-direction': 'all' });
  } catch (err) {
    if (!(err instanceof HttpStatusError) || err.status !== 400) throw err;
    return get(api, path, list(api, path, jobSchema));
  }
}

export function getTapeBackupJobs(api: PbsApi): Promise<JobItem[]> {
  const path = '/tape/backup';
  return get(api, path, list(api, path, jobSchema));
}
