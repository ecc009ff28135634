import { z } from 'zod';
import type { TargetRequest } from '../types.ts';
import { HttpBodyError, HttpStatusError, targetSettings, type HttpTarget } from '../../http/client.ts';
import { hostPort } from '../pbs/client.ts';
import { lenientList, summarizeIssues } from '../../http/loose.ts';
import { envelope } from '../pbs/schema.ts';
import type { PdmConfig } from './config.ts';
import {
  clusterStatusRowSchema, isSubdirListing, pbsRemoteStatusSchema, PdmResponseError, remoteResourcesSchema, remoteSchema,
  versionSchema, type ClusterStatusRow, type PdmVersion, type RemoteItem, type RemoteResourcesItem,
} from './schema.ts';
import type { PdmGeneration } from './snapshot.ts';

/*
 * One function per PDM endpoint the collector calls (reference/proxmox-apis.md §3, §6).
 * Each returns the parsed `data`; HTTP failures surface as HttpStatusError (reason = PDM's
 * plain-text body) / HttpConnectError, a body of the wrong shape as PdmResponseError.
 */

export interface PdmApi {
  target: HttpTarget;
  onDrop(path: string, index: number, why: string): void;
}

/** `PDMAPIToken=USER@REALM!TOKEN:SECRET` (pdm server/src/auth/mod.rs; reference/proxmox-apis.md §0). */
export function authorizationHeader(tokenId: string, secret: string): string {
  return `PDMAPIToken=${tokenId}:${secret}`;
}

export function pdmTargetRequest(c: PdmConfig): TargetRequest {
  return {
    baseUrl: `https://${hostPort(c.PDM_HOST, c.PDM_PORT)}/api2/json`,
    headers: { authorization: authorizationHeader(c.PDM_TOKEN_ID, c.PDM_TOKEN_SECRET) },
    tls: { verify: c.PDM_SSL_VERIFY, caFile: c.PDM_CA_FILE, fingerprint: c.PDM_FINGERPRINT },
    timeoutMs: c.PDM_API_TIMEOUT * 1000,
    maxResponseBytes: c.PDM_API_MAX_RESPONSE_BYTES,
    settings: targetSettings('PDM'),
  };
}

async function getData(api: PdmApi, path: string, query?: Record<string, string>): Promise<unknown> {
  let body: unknown;
  try {
    body = await api.target.getJson(path, query);
  } catch (err) {
    // A 2xx body that is not JSON is an answer of the wrong shape: it costs that remote only.
    throw err instanceof HttpBodyError ? new PdmResponseError(path, err.detail, { cause: err }) : err;
  }
  const env = envelope.safeParse(body);
  if (!env.success) throw new PdmResponseError(path, summarizeIssues(env.error), { cause: env.error });
  return env.data.data;
}

async function get<T extends z.ZodType>(api: PdmApi, path: string, schema: T, query?: Record<string, string>): Promise<z.output<T>> {
  const data = await getData(api, path, query);
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new PdmResponseError(path, `data: ${summarizeIssues(parsed.error)}`, { cause: parsed.error });
  return parsed.data as z.output<T>;
}

function list<T extends z.ZodType>(api: PdmApi, path: string, item: T) {
  return lenientList(item, (index, why) => api.onDrop(path, index, why));
}

const seg = encodeURIComponent;

/**
 * What a per-remote call needs, for a 403 (PDM answers "permission check failed" and names
 * none): `Permission::Privilege(&["resource", "{remote}"], PRIV_RESOURCE_AUDIT, false)` on
 * the remote's version, its PVE cluster status and its PBS status
 * (proxmox-datacenter-manager server/src/api/{remotes,pve,pbs}).
 */
export const remotePrivilege = (remote: string): string => `Resource.Audit on /resource/${remote}`;

export function getVersion(api: PdmApi): Promise<PdmVersion> {
  return get(api, '/version', versionSchema);
}

/** Where a generation keeps its remotes: the list, and `{base}/{id}/version`. */
export function remotesBase(generation: PdmGeneration): string {
  return generation === 'new' ? '/remotes/remote' : '/remotes';
}

/**
 * The configured remotes. PDM ≥ 1.0 lists them at /remotes/remote; the 0.x betas at
 * /remotes (moved in proxmox-datacenter-manager 7a2ec84, 2025-12-02). A beta answers the
 * new path either with 404 or with the subdirectory listing of a remote called "remote",
 * and both send the collector to the old path.
 */
export async function getRemotes(api: PdmApi): Promise<{ generation: PdmGeneration; remotes: RemoteItem[] }> {
  const newPath = remotesBase('new');
  let data: unknown;
  try {
    data = await getData(api, newPath);
  } catch (err) {
    if (!(err instanceof HttpStatusError) || err.status !== 404) throw err;
  }
  if (data !== undefined && !isSubdirListing(data)) {
    const parsed = list(api, newPath, remoteSchema).safeParse(data);
    if (!parsed.success) throw new PdmResponseError(newPath, `data: ${summarizeIssues(parsed.error)}`, { cause: parsed.error });
    return { generation: 'new', remotes: parsed.data };
  }
  const oldPath = remotesBase('old');
  return { generation: 'old', remotes: await get(api, oldPath, list(api, oldPath, remoteSchema)) };
}

export function getRemoteVersion(api: PdmApi, generation: PdmGeneration, remote: string): Promise<PdmVersion> {
  return get(api, `${remotesBase(generation)}/${seg(remote)}/version`, versionSchema);
}

export function getPveClusterStatus(api: PdmApi, remote: string): Promise<ClusterStatusRow[]> {
  const path = `/pve/remotes/${seg(remote)}/cluster-status`;
  return get(api, path, list(api, path, clusterStatusRowSchema));
}

export async function getPbsStatus(api: PdmApi, remote: string): Promise<void> {
  await get(api, `/pbs/remotes/${seg(remote)}/status`, pbsRemoteStatusSchema);
}

export function getResources(api: PdmApi): Promise<RemoteResourcesItem[]> {
  const path = '/resources/list';
  return get(api, path, list(api, path, remoteResourcesSchema));
}
