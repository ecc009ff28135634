import { AgentError } from '../../errors.ts';
import { HttpStatusError } from '../../http/client.ts';
import type { CollectContext } from '../types.ts';
import { ApiUnreachableError, describeError as describe, hostPort, type ApiSession } from '../../http/proxmox.ts';
import {
  getPbsStatus,
  getPveClusterStatus,
  getRemotes,
  getRemoteVersion,
  getResources,
  getVersion,
  PDM_SERVICE,
  pdmTargetRequest,
  remotePrivilege,
} from './client.ts';
import type { PdmConfig } from './config.ts';
import { resourceSchema, type RemoteItem, type RemoteResourcesItem } from './schema.ts';
import type { PdmGeneration, PdmRemote, PdmRemoteHealth, PdmRemoteType, PdmSnapshot } from './snapshot.ts';

/** PDM itself could not be read: the run has nothing to report (alias of the shared class; code `pdm_unreachable`). */

const TYPES: ReadonlySet<string> = new Set<PdmRemoteType>(['pve', 'pbs']);

/** Health from PDM's own view of a remote's resources (nodes only). */
export function resourceHealth(type: PdmRemoteType, entry: RemoteResourcesItem | undefined): PdmRemoteHealth {
  if (entry === undefined) return 'unknown';
  if (entry.error !== undefined) return 'error';
  const nodes = entry.resources
    .map((r) => resourceSchema.safeParse(r))
    .flatMap((r) => (r.success ? [r.data] : []))
    .filter((r) => r.type === (type === 'pve' ? 'pve-node' : 'pbs-node'));
  if (nodes.length === 0) return 'unknown';
  const down = nodes.some((n) => (type === 'pve' ? n.status !== 'online' : !(n.uptime !== undefined && n.uptime > 0)));
  return down ? 'degraded' : 'ok';
}

/**
 * Reads a Proxmox Datacenter Manager into a PdmSnapshot.
 *
 * /version and the remote list are fatal (without them there is nothing to report).
 * /resources/list says which remotes PDM cannot reach: each is one warning with the remote's
 * name and is not asked anything further. The others get their version and, for PVE, the
 * cluster status (the real cluster name) or, for PBS, the node status; a failing call is
 * one warning per remote.
 */
export async function collectPdm(ctx: CollectContext<PdmConfig>): Promise<PdmSnapshot> {
  const c = ctx.config;
  const endpoint = hostPort(c.PDM_HOST, c.PDM_PORT);
  const api: ApiSession = {
    target: ctx.target(pdmTargetRequest(c)),
    onDrop: (path, index, why) => ctx.warn({ code: 'pdm_item_invalid', subject: `GET ${path} item ${index}`, message: `item dropped: ${why}` }),
  };

  let version;
  let listed: { generation: PdmGeneration; remotes: RemoteItem[] };
  try {
    [version, listed] = await Promise.all([getVersion(api), getRemotes(api)]);
  } catch (err) {
    if (err instanceof AgentError) throw new ApiUnreachableError(PDM_SERVICE, endpoint, err);
    throw err;
  }
  const { generation } = listed;

  let resources: Map<string, RemoteResourcesItem> | undefined;
  try {
    resources = new Map((await getResources(api)).map((r) => [r.remote, r]));
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    ctx.warn({ code: 'pdm_resources_unreadable', subject: 'resources', message: `${describe(err)}; remote health unknown` });
  }

  const known = listed.remotes.filter((r) => {
    if (TYPES.has(r.type)) return true;
    ctx.log.info({ remote: r.id, type: r.type }, 'remote of a type this collector does not map; skipped');
    return false;
  });
  const unique = [...new Map(known.map((r) => [r.id, r])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  let done = 0;
  ctx.progress(0, unique.length);
  const remotes = await Promise.all(
    unique.map(async (r) => {
      try {
        return await readRemote(r);
      } finally {
        ctx.progress(++done, unique.length);
      }
    }),
  );

  return { version: version.version, ...(version.release !== undefined && { release: version.release }), generation, remotes };

  async function readRemote(r: RemoteItem): Promise<PdmRemote> {
    const type = r.type as PdmRemoteType;
    const entry = resources?.get(r.id);
    const remote: PdmRemote = { id: r.id, type, hosts: r.hosts, health: resources === undefined ? 'unknown' : resourceHealth(type, entry) };
    if (entry?.error !== undefined) {
      // PDM already failed to reach it; asking again through PDM would only wait for the same timeout.
      remote.error = entry.error;
      ctx.warn({ code: 'pdm_remote_error', subject: `remote ${r.id}`, message: `PDM reports: ${entry.error}` });
      return remote;
    }

    // Errors in call order, not completion order, so the warning reads the same every run.
    const errors: Array<AgentError | undefined> = [undefined, undefined];
    const lost = ['no version for this remote', type === 'pve' ? 'no cluster name for this remote' : 'its reachability through PDM is unknown'];
    const call = async <T>(slot: number, p: Promise<T>): Promise<T | undefined> => {
      try {
        return await p;
      } catch (err) {
        if (!(err instanceof AgentError)) throw err;
        errors[slot] = err;
        return undefined;
      }
    };
    const [v, status] = await Promise.all([
      call(0, getRemoteVersion(api, generation, r.id)),
      type === 'pve' ? call(1, getPveClusterStatus(api, r.id)) : call(1, getPbsStatus(api, r.id)).then(() => undefined),
    ]);
    if (v !== undefined) {
      remote.version = v.version;
      if (v.release !== undefined) remote.release = v.release;
    }
    if (status !== undefined) {
      remote.clusterStatusRead = true;
      const name = status.find((row) => row.type === 'cluster')?.name;
      if (name !== undefined) remote.clusterName = name;
    }
    // A 403 is about the token, not the remote: a warning naming the privilege, health untouched.
    const denied = errors.flatMap((e, slot) => (e instanceof HttpStatusError && e.status === 403 ? [{ e, lost: lost[slot] }] : []));
    if (denied.length > 0) {
      ctx.warn({
        code: 'pdm_permission_denied',
        subject: `remote ${r.id}`,
        message: `${denied.map((d) => describe(d.e)).join('; ')}; the token lacks ${remotePrivilege(r.id)}; ${denied.map((d) => d.lost).join(', ')}`,
      });
    }
    const failed = errors.filter((e): e is AgentError => e !== undefined && !(e instanceof HttpStatusError && e.status === 403)).map(describe);
    if (failed.length > 0) {
      remote.health = 'error';
      remote.error = failed.join('; ');
      ctx.warn({ code: 'pdm_remote_error', subject: `remote ${r.id}`, message: remote.error });
    }
    return remote;
  }
}
