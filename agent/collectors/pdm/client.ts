import type { TargetRequest } from '../types.ts';
import { HttpStatusError } from '../../http/client.ts';
import { apiTargetRequest, apiTokenHeader, ProxmoxApi, type ApiService, type ApiSession } from '../../http/proxmox.ts';
import type { PdmConfig } from './config.ts';
import {
  clusterStatusRowSchema,
  isSubdirListing,
  pbsRemoteStatusSchema,
  remoteResourcesSchema,
  remoteSchema,
  versionSchema,
  type ClusterStatusRow,
  type PdmVersion,
  type RemoteItem,
  type RemoteResourcesItem,
} from './schema.ts';
import type { PdmGeneration } from './snapshot.ts';

/*
 * One function per PDM endpoint the collector calls, over the shared Proxmox API layer
 * (agent/http/proxmox.ts). Each returns the parsed `data`; HTTP failures surface as
 * HttpStatusError (reason = PDM's plain-text body) / HttpConnectError, a body of the wrong
 * shape as ApiResponseError.
 */

/** `PDMAPIToken=USER@REALM!TOKEN:SECRET` (agent/http/proxmox.ts apiTokenHeader). */
export function authorizationHeader(tokenId: string, secret: string): string {
  return apiTokenHeader('PDMAPIToken', tokenId, secret);
}

export function pdmTargetRequest(c: PdmConfig): TargetRequest {
  return apiTargetRequest({
    host: c.PDM_HOST,
    port: c.PDM_PORT,
    authorization: authorizationHeader(c.PDM_TOKEN_ID, c.PDM_TOKEN_SECRET),
    tls: { verify: c.PDM_SSL_VERIFY, caFile: c.PDM_CA_FILE, fingerprint: c.PDM_FINGERPRINT },
    timeoutS: c.PDM_API_TIMEOUT,
    maxResponseBytes: c.PDM_API_MAX_RESPONSE_BYTES,
    settingsPrefix: 'PDM',
  });
}

/** Proxmox Datacenter Manager, for error codes (`pdm_bad_response`, `pdm_unreachable`) and messages. */
export const PDM_SERVICE: ApiService = {
  id: 'pdm',
  product: 'Proxmox Datacenter Manager',
  hint: (err) => {
    if (err instanceof HttpStatusError && err.status === 401) return ' (check PDM_TOKEN_ID and PDM_TOKEN_SECRET)';
    if (err instanceof HttpStatusError && err.status === 403) return ' (the token needs Resource.Audit on /resource)';
    return '';
  },
};

const PDM = new ProxmoxApi(PDM_SERVICE);

const seg = encodeURIComponent;

/**
 * What a per-remote call needs, for a 403 (PDM answers "permission check failed" and names
 * none): `Permission::Privilege(&["resource", "{remote}"], PRIV_RESOURCE_AUDIT, false)` on
 * the remote's version, its PVE cluster status and its PBS status
 * (proxmox-datacenter-manager server/src/api/{remotes,pve,pbs}).
 */
export const remotePrivilege = (remote: string): string => `Resource.Audit on /resource/${remote}`;

export function getVersion(api: ApiSession): Promise<PdmVersion> {
  return PDM.get(api, '/version', versionSchema);
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
export async function getRemotes(api: ApiSession): Promise<{ generation: PdmGeneration; remotes: RemoteItem[] }> {
  const newPath = remotesBase('new');
  let data: unknown;
  try {
    data = await PDM.data(api, newPath);
  } catch (err) {
    if (!(err instanceof HttpStatusError) || err.status !== 404) throw err;
  }
  if (data !== undefined && !isSubdirListing(data)) {
    return { generation: 'new', remotes: PDM.items(api, newPath, remoteSchema, data, 'data') };
  }
  const oldPath = remotesBase('old');
  return { generation: 'old', remotes: await PDM.list(api, oldPath, remoteSchema) };
}

export function getRemoteVersion(api: ApiSession, generation: PdmGeneration, remote: string): Promise<PdmVersion> {
  return PDM.get(api, `${remotesBase(generation)}/${seg(remote)}/version`, versionSchema);
}

export function getPveClusterStatus(api: ApiSession, remote: string): Promise<ClusterStatusRow[]> {
  const path = `/pve/remotes/${seg(remote)}/cluster-status`;
  return PDM.list(api, path, clusterStatusRowSchema);
}

export async function getPbsStatus(api: ApiSession, remote: string): Promise<void> {
  await PDM.get(api, `/pbs/remotes/${seg(remote)}/status`, pbsRemoteStatusSchema);
}

export function getResources(api: ApiSession): Promise<RemoteResourcesItem[]> {
  const path = '/resources/list';
  return PDM.list(api, path, remoteResourcesSchema);
}
