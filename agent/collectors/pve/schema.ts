import { z } from 'zod';
import {
  fastBool,
  fastInt,
  fastNumber,
  fastString,
  fastText,
  isJsonObject,
  lenientList,
  looseBool,
  looseInt,
  looseNumber,
  opt,
  text,
  UNSURE,
  withFastPath,
} from '../../http/loose.ts';
import type { NodeNetworkRow } from '../snapshot.ts';

export { lenientList, looseBool, looseInt, looseNumber, opt };

/*
 * zod schemas of the PVE answers the collector reads, naming only the fields it uses.
 * PVE is Perl: booleans come as 0/1 (pve-common src/PVE/JSONSchema.pm check_type accepts a
 * `boolean` only as '1' or '0') and some numbers as strings (e.g. `vlan-id`, a regex capture in
 * pve-common src/PVE/INotify.pm __read_etc_network_interfaces), so both are coerced here, at the edge.
 */

/** An answer whose shape is not what the schema expects (alias of the shared class; code `pve_bad_response`). */

/** `{"data": …}`, the envelope of every PVE answer (pve-http-server src/PVE/APIServer/Formatter/Standard.pm), for tests of the schemas. */
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
 * collector keeps only qemu/lxc rows; guests of a down node may lack `name` (pve-manager
 * PVE/API2Tools.pm extract_vm_stats sets `name` only from the guest's RRD entry, which a down
 * node stops feeding).
 */
const resourceRowZod = z.object({
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
  // The guest's pool, when it is in one (pve-manager PVE/API2/Cluster.pm resources: `$entry->{pool} = $pool`).
  pool: opt(text),
  // Seconds since the guest started (0 when stopped); the collector's boot identity (guest-agent.ts).
  uptime: opt(looseInt),
});

/** How each optional field of a row is read on the fast path (fast-path readers of loose.ts), in the schema's key order. */
type FieldReaders = ReadonlyArray<readonly [string, (v: unknown) => unknown]>;

/**
 * z.object's output for a JSON object: the fields of `readers` the input has, in the
 * schema's order, unknown keys left out; UNSURE when a field is not of its plain type
 * (the schema then decides). A field JSON gives as null goes to the schema too.
 */
function readFields(v: Record<string, unknown>, out: Record<string, unknown>, readers: FieldReaders): boolean {
  for (const [key, read] of readers) {
    const raw = v[key];
    if (raw === undefined) continue;
    const x = read(raw);
    if (x === UNSURE) return false;
    out[key] = x;
  }
  return true;
}

const RESOURCE_FIELDS: FieldReaders = [
  ['vmid', fastInt],
  ['name', fastText],
  ['node', fastText],
  ['status', fastString],
  ['template', fastBool],
  ['tags', fastString],
  ['maxcpu', fastNumber],
  ['maxmem', fastNumber],
  ['hastate', fastText],
  ['pool', fastText],
  ['uptime', fastInt],
];

// One row per guest of the cluster: the largest answer of a run.
export const resourceRowSchema = withFastPath(resourceRowZod, (v) => {
  if (!isJsonObject(v) || typeof v.type !== 'string') return UNSURE;
  const out: Record<string, unknown> = { type: v.type };
  return readFields(v, out, RESOURCE_FIELDS) ? (out as z.output<typeof resourceRowZod>) : UNSURE;
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
  .transform(
    (r): NodeNetworkRow => ({
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
    }),
  );

/*
 * GET /nodes/{node}/{qemu|lxc}/{vmid}/config: a flat map. Named keys are coerced; the
 * numbered ones (net0, scsi0, mp0…) pass through unchecked and parsers.ts checks the ones
 * it reads, so an odd value costs only its own entry (and no union is tried on each of a
 * config's dozens of keys). `memory` became a property string in PVE 8.1, so no value is
 * assumed to be a number.
 */
const guestConfigZod = z
  .object({ ostype: opt(z.string()), description: opt(z.string()), onboot: opt(looseBool), agent: opt(z.union([z.string(), z.number(), z.boolean()])) })
  .catchall(z.unknown());

const GUEST_CONFIG_FIELDS: FieldReaders = [
  ['ostype', fastString],
  ['description', fastString],
  ['onboot', fastBool],
  ['agent', (v) => (typeof v === 'string' || typeof v === 'boolean' ? v : fastNumber(v))],
];
const GUEST_CONFIG_KEYS: ReadonlySet<string> = new Set(GUEST_CONFIG_FIELDS.map(([k]) => k));

// One per guest. The catchall keys follow the named ones, in the answer's order, as zod gives them.
export const guestConfigSchema = withFastPath(guestConfigZod, (v) => {
  if (!isJsonObject(v)) return UNSURE;
  const out: Record<string, unknown> = {};
  if (!readFields(v, out, GUEST_CONFIG_FIELDS)) return UNSURE;
  for (const k of Object.keys(v)) {
    // An own "__proto__" key (JSON.parse makes one) would set the copy's prototype here.
    if (k === '__proto__') return UNSURE;
    if (!GUEST_CONFIG_KEYS.has(k)) out[k] = v[k];
  }
  return out as z.output<typeof guestConfigZod>;
});
export type GuestConfigRaw = z.output<typeof guestConfigSchema>;

// GET …/agent/get-osinfo: every member of QAPI GuestOSInfo is optional.
const agentOsInfoZod = z
  .object({ result: z.object({ id: opt(text), name: opt(text), 'pretty-name': opt(text), 'version-id': opt(text) }) })
  .transform(({ result: r }) => ({
    ...(r.id !== undefined && { id: r.id }),
    ...(r.name !== undefined && { name: r.name }),
    ...(r['pretty-name'] !== undefined && { prettyName: r['pretty-name'] }),
    ...(r['version-id'] !== undefined && { versionId: r['version-id'] }),
  }));
const OSINFO_FIELDS = [
  ['id', 'id'],
  ['name', 'name'],
  ['pretty-name', 'prettyName'],
  ['version-id', 'versionId'],
] as const;
export const agentOsInfoSchema = withFastPath(agentOsInfoZod, (v) => {
  const r = isJsonObject(v) ? v.result : undefined;
  if (!isJsonObject(r)) return UNSURE;
  const out: Record<string, string> = {};
  for (const [from, to] of OSINFO_FIELDS) {
    if (r[from] === undefined) continue;
    const x = fastText(r[from]);
    if (x === UNSURE) return UNSURE;
    if (x !== undefined) out[to] = x;
  }
  return out as z.output<typeof agentOsInfoZod>;
});
export type AgentOsInfo = z.output<typeof agentOsInfoSchema>;

const agentIpSchema = z.object({ 'ip-address': z.string(), 'ip-address-type': z.string(), prefix: looseInt });

/** One address of an agent interface, or none when agentIpSchema drops it. */
function agentAddress(a: unknown): Array<{ address: string; family: string; prefix: number }> {
  if (isJsonObject(a)) {
    const address = a['ip-address'];
    const family = a['ip-address-type'];
    const prefix = fastInt(a.prefix);
    if (typeof address === 'string' && typeof family === 'string' && prefix !== UNSURE) return [{ address, family, prefix }];
  }
  const p = agentIpSchema.safeParse(a);
  return p.success ? [{ address: p.data['ip-address'], family: p.data['ip-address-type'], prefix: p.data.prefix }] : [];
}

const agentInterfaceZod = z.object({ name: z.string(), 'hardware-address': opt(z.string()), 'ip-addresses': opt(z.array(z.unknown())) }).transform((r) => ({
  name: r.name,
  ...(r['hardware-address'] !== undefined && { mac: r['hardware-address'] }),
  // One odd address does not cost the interface its other addresses.
  addresses: (r['ip-addresses'] ?? []).flatMap(agentAddress),
}));
export const agentInterfaceSchema = withFastPath(agentInterfaceZod, (v) => {
  if (!isJsonObject(v) || typeof v.name !== 'string') return UNSURE;
  const mac = v['hardware-address'];
  const ips = v['ip-addresses'];
  if ((mac !== undefined && typeof mac !== 'string') || (ips !== undefined && !Array.isArray(ips))) return UNSURE;
  return { name: v.name, ...(mac !== undefined && { mac }), addresses: ips === undefined ? [] : (ips as unknown[]).flatMap(agentAddress) };
});
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
export const backupVolumeSchema = z.object({ volid: z.string(), vmid: opt(looseInt), ctime: opt(looseInt), verification: opt(z.object({ state: opt(text) })) });
export type BackupVolume = z.output<typeof backupVolumeSchema>;

/*
 * LXC runtime addresses (issue #17, LXC_ADDRESSES). GET /nodes/{node}/lxc/{vmid}/interfaces
 * (pve-container src/PVE/API2/LXC.pm `ip`, PVE ≥ 8.1) runs `ip --json a` in the container's
 * network namespace (src/PVE/LXC.pm get_interfaces). Every pve-container with the endpoint
 * sends `name`, `hwaddr`, `inet`, `inet6`, where `inet`/`inet6` hold only the *last* address
 * of each family as "addr/len"; later ones add `hardware-address` and `ip-addresses`
 * ([{ip-address, ip-address-type: "inet"|"inet6", prefix}], every address). The list is
 * read when present, else the two single fields. `hwaddr` is set only inside the address
 * loop, so an interface without addresses has none.
 */
const lxcAddressSchema = z.object({ 'ip-address': z.string(), 'ip-address-type': z.string(), prefix: looseInt });

function familyOf(type: string): 4 | 6 | undefined {
  // `ip` writes inet/inet6; ipv4/ipv6 (QGA's words) are taken as well.
  return type === 'inet' || type === 'ipv4' ? 4 : type === 'inet6' || type === 'ipv6' ? 6 : undefined;
}

function splitCidr(value: string | undefined, family: 4 | 6): Array<{ address: string; prefix: number; family: 4 | 6 }> {
  const m = value === undefined ? null : /^([^/\s]+)\/(\d{1,3})$/.exec(value.trim());
  return m?.[1] !== undefined && m[2] !== undefined ? [{ address: m[1], prefix: Number(m[2]), family }] : [];
}

export const lxcInterfaceSchema = z
  .object({
    name: z.string().min(1),
    hwaddr: opt(text),
    'hardware-address': opt(text),
    inet: opt(text),
    inet6: opt(text),
    'ip-addresses': opt(z.array(z.unknown())),
  })
  .transform((r) => {
    const mac = r['hardware-address'] ?? r.hwaddr;
    const list = r['ip-addresses'];
    const addresses =
      list !== undefined
        ? list.flatMap((a) => {
            // One odd address does not cost the interface its other addresses.
            const p = lxcAddressSchema.safeParse(a);
            const family = p.success ? familyOf(p.data['ip-address-type']) : undefined;
            return p.success && family !== undefined ? [{ address: p.data['ip-address'], prefix: p.data.prefix, family }] : [];
          })
        : [...splitCidr(r.inet, 4), ...splitCidr(r.inet6, 6)];
    return { name: r.name, ...(mac !== undefined && { mac }), addresses };
  });
export type LxcInterface = z.output<typeof lxcInterfaceSchema>;

/*
 * HA (issue #17, HA_STATUS); each list checks Sys.Audit on / (pve-ha-manager
 * src/PVE/API2/HA/Rules.pm, Groups.pm, Resources.pm index).
 * PVE 9 GET /cluster/ha/rules: `rule`, `type` (node-affinity | resource-affinity),
 * `resources` as PVE encodes it, "vm:100,ct:101" sorted (src/PVE/HA/Rules.pm encode_value),
 * `disable` when switched off. The answer already holds the rules PVE derives from HA groups
 * not migrated yet ("ha-group-<group>", src/PVE/HA/Groups.pm migrate_groups_to_rules).
 */
export const haRuleSchema = z.object({ rule: z.string().min(1), type: opt(z.string()), resources: opt(z.string()), disable: opt(looseBool) });
export type HaRule = z.output<typeof haRuleSchema>;

// PVE 8 GET /cluster/ha/groups: `group` (src/PVE/API2/HA/Groups.pm index).
export const haGroupSchema = z.object({ group: z.string().min(1) });
export type HaGroup = z.output<typeof haGroupSchema>;

// GET /cluster/ha/resources: `sid` "vm:100" | "ct:101", `group` on PVE 8 (src/PVE/API2/HA/Resources.pm api_copy_config).
export const haResourceSchema = z.object({ sid: z.string().min(1), group: opt(text) });
export type HaResource = z.output<typeof haResourceSchema>;

/*
 * Replication (issue #17, REPLICATION_STATUS). GET /cluster/replication (pve-manager
 * PVE/API2/ReplicationConfig.pm index): the section config as stored, `id` "<vmid>-<n>",
 * `guest` and `jobnum` parsed from it, `target`; `schedule` only when set (absent: the default, every 15 minutes),
 * `disable`, and `remove_job` once a job is marked for removal (pve-guest-common
 * src/PVE/ReplicationConfig.pm).
 */
export const replicationJobSchema = z.object({
  id: z.string().regex(/^\d+-\d+$/, 'expected <vmid>-<jobnum>'),
  guest: looseInt,
  target: z.string().min(1),
  schedule: opt(text),
  disable: opt(looseBool),
  remove_job: opt(text),
});
export type ReplicationJob = z.output<typeof replicationJobSchema>;
