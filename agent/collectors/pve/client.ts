import { z } from 'zod';
import type { HttpStatusError } from '../../http/client.ts';
import { namedPrivilege, ProxmoxApi, type ApiSession } from '../../http/proxmox.ts';
import { PVE_SERVICE } from '../proxmox-config.ts';
import { isJsonObject, parseEach, UNSURE, withFastPath } from '../../http/loose.ts';
import {
  agentInterfaceSchema,
  agentOsInfoSchema,
  backupJobSchema,
  backupVolumeSchema,
  clusterStatusRowSchema,
  notBackedUpRowSchema,
  storageRowSchema,
  type BackupJob,
  type BackupVolume,
  type NotBackedUpRow,
  type StorageRow,
  guestConfigSchema,
  networkRowSchema,
  nodeRowSchema,
  nodeStatusSchema,
  resourceRowSchema,
  versionSchema,
  type AgentInterface,
  type AgentOsInfo,
  type ClusterStatusRow,
  type GuestConfigRaw,
  type NodeRow,
  type NodeStatus,
  type PveVersion,
  type ResourceRow,
  haGroupSchema,
  haResourceSchema,
  haRuleSchema,
  lxcInterfaceSchema,
  replicationJobSchema,
  type HaGroup,
  type HaResource,
  type HaRule,
  type LxcInterface,
  type ReplicationJob,
} from './schema.ts';
import type { NodeNetworkRow } from '../snapshot.ts';

/*
 * One function per PVE endpoint the collector calls, over the shared Proxmox API layer
 * (agent/http/proxmox.ts). Each returns the parsed `data`; HTTP failures surface as
 * HttpStatusError / HttpConnectError from the target, a body of the wrong shape (or not
 * JSON) as ApiResponseError. Paths are relative to /api2/json.
 */

const PVE = new ProxmoxApi(PVE_SERVICE);

/** `data` checked against `schema`. */
function get<T extends z.ZodType>(api: ApiSession, path: string, schema: T, query?: Record<string, string>): Promise<z.output<T>> {
  return PVE.get(api, path, schema, query);
}

/** `data` as a list; a bad item is dropped through api.onDrop. */
function getList<T extends z.ZodType>(api: ApiSession, path: string, item: T, query?: Record<string, string>): Promise<z.output<T>[]> {
  return PVE.list(api, path, item, query);
}

const rawList = z.array(z.unknown());

const seg = encodeURIComponent;

/*
 * Privileges, for a 403: PVE names the one it checked in the reason (namedPrivilege in
 * agent/http/proxmox.ts). When the reason does not say, the message names what the
 * endpoint's schema checks.
 */

/** What the token is missing, for a warning: what PVE named, else what the endpoint needs. */
export function missingPrivilege(err: HttpStatusError, documented: string): string {
  const named = namedPrivilege(err.reason);
  return named !== undefined ? `the token lacks ${named}` : documented;
}

/** pve-manager PVE/API2/Nodes.pm status: `check => ['perm', '/nodes/{node}', ['Sys.Audit']]`. */
export const nodeStatusPrivilege = (node: string): string => `the token lacks Sys.Audit on /nodes/${node}`;

/**
 * pve-manager PVE/API2/Network.pm index has `permissions => { user => 'all' }`: PVE checks
 * nothing beyond a valid token (it only leaves out bridges without SDN.Audit or SDN.Use on
 * /sdn/zones/localnetwork/<bridge>), so a 403 that names nothing did not come from that check.
 */
export const nodeNetworkPrivilege = (): string =>
  'PVE names no privilege, and it checks none for this call beyond a valid token (pve-manager PVE/API2/Network.pm), so something in front of PVE may have refused it';

/** qemu-server PVE/API2/Qemu.pm and pve-container PVE/API2/LXC/Config.pm vm_config: VM.Audit on /vms/{vmid}. */
export const guestConfigPrivilege = (vmid: number): string => `the token lacks VM.Audit on /vms/${vmid}`;

export function getVersion(api: ApiSession): Promise<PveVersion> {
  return get(api, '/version', versionSchema);
}

export function getClusterStatus(api: ApiSession): Promise<ClusterStatusRow[]> {
  return getList(api, '/cluster/status', clusterStatusRowSchema);
}

export function getNodes(api: ApiSession): Promise<NodeRow[]> {
  return getList(api, '/nodes', nodeRowSchema);
}

/** `type=vm` returns qemu and lxc rows only (pve-manager PVE/API2/Cluster.pm resources). */
export function getClusterResources(api: ApiSession): Promise<ResourceRow[]> {
  return getList(api, '/cluster/resources', resourceRowSchema, { type: 'vm' });
}

export function getNodeStatus(api: ApiSession, node: string): Promise<NodeStatus> {
  return get(api, `/nodes/${seg(node)}/status`, nodeStatusSchema);
}

export function getNodeNetwork(api: ApiSession, node: string): Promise<NodeNetworkRow[]> {
  return getList(api, `/nodes/${seg(node)}/network`, networkRowSchema);
}

export function getQemuConfig(api: ApiSession, node: string, vmid: number): Promise<GuestConfigRaw> {
  return get(api, `/nodes/${seg(node)}/qemu/${vmid}/config`, guestConfigSchema);
}

export function getLxcConfig(api: ApiSession, node: string, vmid: number): Promise<GuestConfigRaw> {
  return get(api, `/nodes/${seg(node)}/lxc/${vmid}/config`, guestConfigSchema);
}

/** QGA `guest-get-osinfo`; a 500 names why the agent is unavailable (qemu-server src/PVE/QemuServer/Agent.pm assert_agent_available). */
export function getAgentOsInfo(api: ApiSession, node: string, vmid: number): Promise<AgentOsInfo> {
  return get(api, `/nodes/${seg(node)}/qemu/${vmid}/agent/get-osinfo`, agentOsInfoSchema);
}

// One per running guest with the agent; the list is read as it is (parseEach copies what it keeps).
const agentResultList = withFastPath(z.object({ result: rawList }), (v) =>
  isJsonObject(v) && Array.isArray(v.result) ? { result: v.result as unknown[] } : UNSURE,
);

/** QGA `guest-network-get-interfaces`, `{"data":{"result":[…]}}`. */
export async function getAgentNetworkInterfaces(api: ApiSession, node: string, vmid: number): Promise<AgentInterface[]> {
  const path = `/nodes/${seg(node)}/qemu/${vmid}/agent/network-get-interfaces`;
  return parseEach(agentInterfaceSchema, (await get(api, path, agentResultList)).result, (index, why) => api.onDrop(path, index, why));
}

/*
 * Backup status (issue #17, BACKUP_STATUS). Privileges as each endpoint checks them:
 * /cluster/backup and /cluster/backup-info/not-backed-up check Sys.Audit on /
 * (pve-manager PVE/API2/Backup.pm, PVE/API2/Cluster/BackupInfo.pm); not-backed-up also
 * leaves out guests without VM.Audit. The content listing checks Datastore.Audit or
 * Datastore.AllocateSpace on /storage/{storage}, then *silently drops* each backup volume
 * the token may not read: check_volume_access wants Datastore.AllocateSpace on the storage
 * and VM.Backup on /vms/{vmid} (or Datastore.Allocate), which PVEAuditor does not have
 * (pve-storage src/PVE/API2/Storage/Content.pm index, src/PVE/Storage.pm check_volume_access).
 */
export const backupJobsPrivilege = (): string => 'the token lacks Sys.Audit on /';
export const storageContentPrivilege = (storage: string): string => `the token lacks Datastore.Audit on /storage/${storage}`;

export function getBackupJobs(api: ApiSession): Promise<BackupJob[]> {
  return getList(api, '/cluster/backup', backupJobSchema);
}

export function getNotBackedUp(api: ApiSession): Promise<NotBackedUpRow[]> {
  return getList(api, '/cluster/backup-info/not-backed-up', notBackedUpRowSchema);
}

export function getStorageResources(api: ApiSession): Promise<StorageRow[]> {
  return getList(api, '/cluster/resources', storageRowSchema, { type: 'storage' });
}

export function getBackupVolumes(api: ApiSession, node: string, storage: string): Promise<BackupVolume[]> {
  return getList(api, `/nodes/${seg(node)}/storage/${seg(storage)}/content`, backupVolumeSchema, { content: 'backup' });
}

/*
 * LXC runtime addresses (issue #17, LXC_ADDRESSES): pve-container src/PVE/API2/LXC.pm `ip`
 * checks VM.Audit on /vms/{vmid}, like the config. A container that is not running answers
 * 200 with `data: null` (src/PVE/LXC.pm get_interfaces returns nothing when it finds no
 * PID); a PVE before 8.1 has no such handler and pveproxy answers 501.
 */
export const lxcInterfacesPrivilege = (vmid: number): string => `the token lacks VM.Audit on /vms/${vmid}`;

const nullableList = rawList.nullable();

/** The running container's interfaces; null when PVE says nothing (the container is not running). */
export async function getLxcInterfaces(api: ApiSession, node: string, vmid: number): Promise<LxcInterface[] | null> {
  const path = `/nodes/${seg(node)}/lxc/${vmid}/interfaces`;
  const rows = await get(api, path, nullableList);
  return rows === null ? null : parseEach(lxcInterfaceSchema, rows, (index, why) => api.onDrop(path, index, why));
}

/*
 * HA and replication (issue #17, HA_STATUS, REPLICATION_STATUS). The three HA lists check
 * Sys.Audit on / (pve-ha-manager src/PVE/API2/HA/Rules.pm, Groups.pm, Resources.pm).
 * /cluster/replication checks VM.Audit on /vms/{vmid} of every job's guest *without*
 * `noerr` (pve-manager PVE/API2/ReplicationConfig.pm index), so one replicated guest the
 * token may not audit makes the whole list a 403.
 */
export const haPrivilege = (): string => 'the token lacks Sys.Audit on /';
export const replicationPrivilege = (): string => 'the token lacks VM.Audit on a guest with a replication job (PVE refuses the whole list then)';

export function getHaRules(api: ApiSession): Promise<HaRule[]> {
  return getList(api, '/cluster/ha/rules', haRuleSchema);
}

export function getHaGroups(api: ApiSession): Promise<HaGroup[]> {
  return getList(api, '/cluster/ha/groups', haGroupSchema);
}

export function getHaResources(api: ApiSession): Promise<HaResource[]> {
  return getList(api, '/cluster/ha/resources', haResourceSchema);
}

export function getReplicationJobs(api: ApiSession): Promise<ReplicationJob[]> {
  return getList(api, '/cluster/replication', replicationJobSchema);
}
