import { z } from 'zod';
import { AgentError } from '../../errors.ts';
import { lenientList, looseBool, looseInt, looseNumber, opt, summarizeIssues, text } from '../../http/loose.ts';
import type { NodeNetworkRow } from '../../../mappers/common/node-network.ts';

export { lenientList, looseBool, looseInt, looseNumber, opt, summarizeIssues };

/*
 * zod schemas of the PVE answers the collector reads, naming only the fields it uses.
 * PVE is Perl: booleans come as 0/1 and some numbers as strings (reference/proxmox-apis.md
 * §0 "booleans", "number-as-string"), so both are coerced here, at the edge.
 */

/** An answer whose shape is not what the schema expects. */
export class PveResponseError extends AgentError {
  readonly path: string;
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super('pve_bad_response', `GET ${path}: unexpected response: ${detail}`, options);
    this.path = path;
  }
}

/** `{"data": …}`, the envelope of every PVE answer (pve-http-server Formatter/Standard.pm). */
export function envelope<T extends z.ZodType>(data: T) {
  return z.object({ data });
}

export const versionSchema = z.object({ version: z.string(), release: opt(z.string()) });
export type PveVersion = z.output<typeof versionSchema>;

// GET /cluster/status: one `type: "cluster"` row only when clustered (pve-manager PVE/API2/Cluster.pm get_status).
export const clusterStatusRowSchema = z.object({ type: z.string(), name: opt(text) });
export type ClusterStatusRow = z.output<typeof clusterStatusRowSchema>;

// GET /nodes: offline nodes carry little more than `node` and `status`.
export const nodeRowSchema = z.object({
  node: z.string().min(1),
  status: opt(z.string()).transform((s) => s ?? 'unknown'),
  maxcpu: opt(looseNumber),
  maxmem: opt(looseNumber),
});
export type NodeRow = z.output<typeof nodeRowSchema>;

/*
 * GET /cluster/resources?type=vm. Rows of other types (node, storage, pool, sdn, PVE 9
 * `network`) have none of the guest fields, so everything but `type` is optional and the
 * collector keeps only qemu/lxc rows; guests of a down node may lack `name`
 * (reference/proxmox-apis.md §1.1).
 */
export const resourceRowSchema = z.object({
  type: z.string(),
  vmid: opt(looseInt),
  name: opt(text),
  node: opt(text),
  status: opt(z.string()),
  template: opt(looseBool),
  tags: opt(z.string()),
  maxcpu: opt(looseNumber),
  maxmem: opt(looseNumber),
  hastate: opt(text),
  // Seconds since the guest started (0 when stopped); the collector's boot identity (guest-agent.ts).
  uptime: opt(looseInt),
});
export type ResourceRow = z.output<typeof resourceRowSchema>;

// GET /nodes/{node}/status.
export const nodeStatusSchema = z.object({ pveversion: opt(z.string()) });
export type NodeStatus = z.output<typeof nodeStatusSchema>;

/** `netmask` is "24" or "255.255.255.0"; either may arrive as a number-ish string. */
const maskish = z.union([z.string(), z.number()]).transform(String);

// GET /nodes/{node}/network (go-proxmox pve9x nodes_node1_network.json shows the loose types).
export const networkRowSchema = z
  .object({
    iface: z.string().min(1),
    type: opt(z.string()).transform((s) => s ?? 'unknown'),
    method: opt(z.string()),
    cidr: opt(text),
    address: opt(text),
    netmask: opt(maskish),
    cidr6: opt(text),
    address6: opt(text),
    netmask6: opt(maskish),
    'vlan-id': opt(looseInt),
    mtu: opt(looseInt),
    // Not in the published schema; accepted when present (the seed maps Mbps → kbps).
    speed: opt(looseNumber),
    priority: opt(looseNumber),
  })
  .transform((r): NodeNetworkRow => ({
    iface: r.iface,
    type: r.type,
    ...(r.method !== undefined && { method: r.method }),
    ...(r.cidr !== undefined && { cidr: r.cidr }),
    ...(r.address !== undefined && { address: r.address }),
    ...(r.netmask !== undefined && { netmask: r.netmask }),
    ...(r.cidr6 !== undefined && { cidr6: r.cidr6 }),
    ...(r.address6 !== undefined && { address6: r.address6 }),
    ...(r.netmask6 !== undefined && { netmask6: r.netmask6 }),
    ...(r['vlan-id'] !== undefined && { vlanId: r['vlan-id'] }),
    ...(r.mtu !== undefined && { mtu: r.mtu }),
    ...(r.speed !== undefined && { speedMbps: r.speed }),
    ...(r.priority !== undefined && { priority: r.priority }),
  }));

/*
 * GET /nodes/{node}/{qemu|lxc}/{vmid}/config: a flat map. Named keys are coerced; the
 * numbered ones (net0, scsi0, mp0…) pass through unchecked and parsers.ts checks the ones
 * it reads, so an odd value costs only its own entry (and no union is tried on each of a
 * config's dozens of keys). `memory` became a property string in PVE 8.1, so no value is
 * assumed to be a number.
 */
export const guestConfigSchema = z
  .object({
    ostype: opt(z.string()),
    description: opt(z.string()),
    onboot: opt(looseBool),
    agent: opt(z.union([z.string(), z.number(), z.boolean()])),
  })
  .catchall(z.unknown());
export type GuestConfigRaw = z.output<typeof guestConfigSchema>;

// GET …/agent/get-osinfo: every member of QAPI GuestOSInfo is optional.
export const agentOsInfoSchema = z
  .object({
    result: z.object({
      id: opt(text),
      name: opt(text),
      'pretty-name': opt(text),
      'version-id': opt(text),
    }),
  })
  .transform(({ result: r }) => ({
    ...(r.id !== undefined && { id: r.id }),
    ...(r.name !== undefined && { name: r.name }),
    ...(r['pretty-name'] !== undefined && { prettyName: r['pretty-name'] }),
    ...(r['version-id'] !== undefined && { versionId: r['version-id'] }),
  }));
export type AgentOsInfo = z.output<typeof agentOsInfoSchema>;

const agentIpSchema = z.object({
  'ip-address': z.string(),
  'ip-address-type': z.string(),
  prefix: looseInt,
});

export const agentInterfaceSchema = z
  .object({
    name: z.string(),
    'hardware-address': opt(z.string()),
    'ip-addresses': opt(z.array(z.unknown())),
  })
  .transform((r) => ({
    name: r.name,
    ...(r['hardware-address'] !== undefined && { mac: r['hardware-address'] }),
    // One odd address does not cost the interface its other addresses.
    addresses: (r['ip-addresses'] ?? []).flatMap((a) => {
      const p = agentIpSchema.safeParse(a);
      return p.success ? [{ address: p.data['ip-address'], family: p.data['ip-address-type'], prefix: p.data.prefix }] : [];
    }),
  }));
export type AgentInterface = z.output<typeof agentInterfaceSchema>;

/*
 * Backup status (issue #17). GET /cluster/backup-info/not-backed-up: `{vmid, type, name}`
 * of the guests no vzdump job covers, as PVE itself computes it from jobs.cfg and the
 * legacy vzdump.cron (pve-manager PVE/API2/Cluster/BackupInfo.pm get_guests_not_in_backup).
 */
export const notBackedUpRowSchema = z.object({ vmid: looseInt });
export type NotBackedUpRow = z.output<typeof notBackedUpRowSchema>;

// GET /cluster/backup: vzdump jobs (pve-manager PVE/API2/Backup.pm index); `enabled` is 0/1, absent = enabled.
export const backupJobSchema = z.object({ id: z.string(), storage: opt(text), enabled: opt(looseBool) });
export type BackupJob = z.output<typeof backupJobSchema>;

// GET /cluster/resources?type=storage: one row per storage and node, also for a shared storage.
export const storageRowSchema = z.object({
  type: z.string(),
  storage: opt(text),
  node: opt(text),
  content: opt(z.string()),
  shared: opt(looseBool),
  status: opt(z.string()),
});
export type StorageRow = z.output<typeof storageRowSchema>;

/*
 * GET /nodes/{node}/storage/{storage}/content?content=backup (pve-storage
 * src/PVE/API2/Storage/Content.pm index): `vmid` and `ctime` are optional in the schema
 * (a file whose name does not parse has neither); `verification` only on PBS storages.
 */
export const backupVolumeSchema = z.object({
  volid: z.string(),
  vmid: opt(looseInt),
  ctime: opt(looseInt),
  verification: opt(z.object({ state: opt(text) })),
});
export type BackupVolume = z.output<typeof backupVolumeSchema>;
