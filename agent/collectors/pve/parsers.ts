import { isIPv4, isIPv6 } from 'node:net';
import { AgentError } from '../../errors.ts';

/*
 * Pure parsers for the strings Proxmox VE packs into config keys and status fields.
 * Each one either returns a value or throws PveParseError; nothing else escapes, which
 * parsers.test.ts checks with fast-check on arbitrary input.
 */

export class PveParseError extends AgentError {
  readonly input: string;
  readonly reason: string;
  constructor(what: string, input: string, reason: string, options?: { cause?: unknown }) {
    super('pve_parse', `${what} "${input.length > 120 ? `${input.slice(0, 117)}...` : input}": ${reason}`, options);
    this.input = input;
    this.reason = reason;
  }
}

/**
 * PVE's property strings (`k=v,k=v`, optionally a leading value for the format's
 * default key). Mirrors PVE::JSONSchema::parse_property_string: empty parts are
 * ignored, a duplicate key or a second key-less part is an error.
 * https://git.proxmox.com/?p=pve-common.git;a=blob;f=src/PVE/JSONSchema.pm (parse_property_string)
 */
export function parsePropertyString(what: string, input: string, defaultKey?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rawPart of input.split(',')) {
    const part = rawPart.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    if (eq === -1) {
      if (!defaultKey) throw new PveParseError(what, input, `"${part}" is not a key=value pair`);
      key = defaultKey;
      value = part;
    } else {
      key = part.slice(0, eq).trim();
      value = part.slice(eq + 1).trim();
      if (key === '') throw new PveParseError(what, input, `"${part}" has an empty key`);
      if (value === '') throw new PveParseError(what, input, `key "${key}" has no value`);
    }
    if (out.has(key)) throw new PveParseError(what, input, `key "${key}" appears twice`);
    out.set(key, value);
  }
  return out;
}

/** Runs a sub-parser and re-labels its error with the whole string, so warnings show the entry. */
function within<T>(what: string, input: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof PveParseError) || err.input === input) throw err;
    throw new PveParseError(what, input, err.reason, { cause: err });
  }
}

const MAC = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/;

/** Upper-case colon form, the way PVE writes MACs in configs and NetBox shows them. */
export function parseMac(what: string, input: string): string {
  const mac = input.trim();
  if (!MAC.test(mac)) throw new PveParseError(what, input, 'not a MAC address');
  return mac.toUpperCase();
}

/** VLAN tag of a guest NIC (`tag=`): 1..4094 (qemu-server Network.pm `tag`, minimum 1, maximum 4094). */
export function parseVlanTag(what: string, input: string): number {
  if (!/^\d{1,4}$/.test(input.trim())) throw new PveParseError(what, input, 'tag is not a VLAN id');
  const vid = Number(input.trim());
  if (vid < 1 || vid > 4094) throw new PveParseError(what, input, `VLAN id ${vid} is outside 1-4094`);
  return vid;
}

/**
 * QEMU NIC models: each doubles as a key whose value is the MAC (`virtio=BC:24:…`).
 * https://git.proxmox.com/?p=qemu-server.git;a=blob;f=src/PVE/QemuServer/Network.pm ($nic_model_list)
 */
export const QEMU_NIC_MODELS = [
  'e1000',
  'e1000-82540em',
  'e1000-82544gc',
  'e1000-82545em',
  'e1000e',
  'i82551',
  'i82557b',
  'i82559er',
  'ne2k_isa',
  'ne2k_pci',
  'pcnet',
  'rtl8139',
  'virtio',
  'vmxnet3',
] as const;
const MODEL_SET = new Set<string>(QEMU_NIC_MODELS);

export interface QemuNet {
  model?: string;
  mac?: string;
  bridge?: string;
  vlan?: number;
}

/**
 * QEMU `netN`: `virtio=BC:24:11:2E:C5:4A,bridge=vmbr0,tag=10` or the long form
 * `model=virtio,macaddr=…` (qemu-server src/PVE/QemuServer/Network.pm `$net_fmt`: each model
 * name is a `keyAlias` of `model` whose value is the `macaddr`).
 */
export function parseQemuNet(input: string): QemuNet {
  return within('QEMU net', input, () => qemuNet(input));
}

function qemuNet(input: string): QemuNet {
  const what = 'QEMU net';
  const props = parsePropertyString(what, input, 'model');
  const out: QemuNet = {};
  for (const [key, value] of props) {
    if (MODEL_SET.has(key)) {
      if (out.model !== undefined) throw new PveParseError(what, input, 'more than one model');
      out.model = key;
      out.mac = parseMac(what, value);
    } else if (key === 'model') {
      if (out.model !== undefined) throw new PveParseError(what, input, 'more than one model');
      out.model = value;
    } else if (key === 'macaddr') {
      if (out.mac !== undefined) throw new PveParseError(what, input, 'more than one MAC address');
      out.mac = parseMac(what, value);
    } else if (key === 'bridge') {
      out.bridge = value;
    } else if (key === 'tag') {
      out.vlan = parseVlanTag(what, value);
    }
  }
  return out;
}

export interface LxcNet {
  name?: string;
  mac?: string;
  bridge?: string;
  vlan?: number;
  /** Static address with prefix length; absent for dhcp/manual/auto or when unset. */
  ipv4?: string;
  ipv6?: string;
}

/**
 * LXC `netN`: `name=eth0,bridge=vmbr0,hwaddr=BC:24:…,ip=192.168.3.102/20,ip6=auto,tag=10`.
 * The format has no default key (pve-container src/PVE/LXC/Config.pm $netconf_desc).
 */
export function parseLxcNet(input: string): LxcNet {
  return within('LXC net', input, () => lxcNet(input));
}

function lxcNet(input: string): LxcNet {
  const what = 'LXC net';
  const props = parsePropertyString(what, input);
  const out: LxcNet = {};
  for (const [key, value] of props) {
    if (key === 'name') out.name = value;
    else if (key === 'hwaddr') out.mac = parseMac(what, value);
    else if (key === 'bridge') out.bridge = value;
    else if (key === 'tag') out.vlan = parseVlanTag(what, value);
    else if (key === 'ip') {
      const ip = parseGuestIp(value, 4);
      if (ip !== undefined) out.ipv4 = ip;
    } else if (key === 'ip6') {
      const ip = parseGuestIp(value, 6);
      if (ip !== undefined) out.ipv6 = ip;
    }
  }
  return out;
}

/** `ip=` takes `dhcp|manual|<cidr>`, `ip6=` also `auto` (SLAAC); none of those name an address. */
const IP_METHODS = new Set(['dhcp', 'manual', 'auto']);

/**
 * An `ip=`/`ip6=` value of a container NIC or a cloud-init `ipconfigN`: the address with
 * its prefix length, or undefined for dhcp/manual/auto.
 */
export function parseGuestIp(input: string, family: 4 | 6): string | undefined {
  const value = input.trim();
  if (IP_METHODS.has(value.toLowerCase())) return undefined;
  return parseCidr(`IPv${family} address`, value, family);
}

/** `address/len` of the given family; throws unless both halves are valid. */
export function parseCidr(what: string, input: string, family: 4 | 6): string {
  const slash = input.indexOf('/');
  if (slash === -1) throw new PveParseError(what, input, `IPv${family} address has no prefix length`);
  const addr = input.slice(0, slash);
  const len = input.slice(slash + 1);
  const okAddr = family === 4 ? isIPv4(addr) : isIPv6(addr);
  if (!okAddr) throw new PveParseError(what, input, `not an IPv${family} address`);
  if (!/^\d{1,3}$/.test(len) || Number(len) > (family === 4 ? 32 : 128)) throw new PveParseError(what, input, `bad IPv${family} prefix length`);
  return `${addr}/${Number(len)}`;
}

export interface GuestDisk {
  /** Config key: scsi0, virtio1, ide2, sata0, rootfs, mp0… */
  key: string;
  /** The volume as written: `local-lvm:vm-100-disk-0`, `/dev/disk/by-id/…`, `none`. */
  volume: string;
  /** Storage id before the first `:` of a storage-backed volume. */
  storage?: string;
  /** `size=` in MB (binary units, rounded up so a small disk never reads 0). */
  sizeMb?: number;
  cdrom: boolean;
  cloudinit: boolean;
  none: boolean;
}

/** PVE storage ids: `[a-z][a-z0-9\-\_\.]*[a-z0-9]` (pve-storage PVE/Storage/Plugin.pm, pve-storage-id). */
const STORAGE_VOLUME = /^([a-z][a-z0-9\-_.]*[a-z0-9]|[a-z]):(.+)$/i;
/** Cloud-init drives are `vm-<vmid>-cloudinit` (qemu-server QemuServer/Cloudinit.pm), `<vmid>/vm-…-cloudinit.qcow2` on file storages. */
const CLOUDINIT = /(?:^|\/)vm-\d+-cloudinit(?:\.[a-z0-9]+)?$/i;

/**
 * A disk or mount point value. The volume is the format's default key (`file` for
 * QEMU, `volume` for LXC); the rest are options (`default_key => 1` on `file` in qemu-server
 * src/PVE/QemuServer/Drive.pm `%drivedesc_base`, on `volume` in pve-container
 * src/PVE/LXC/Config.pm `$rootfs_desc`).
 */
export function parseDisk(key: string, input: string): GuestDisk {
  const what = `disk ${key}`;
  const props = parsePropertyString(what, input, 'file');
  const volume = props.get('file') ?? props.get('volume');
  if (volume === undefined) throw new PveParseError(what, input, 'no volume');
  const disk: GuestDisk = { key, volume, cdrom: props.get('media') === 'cdrom', cloudinit: false, none: volume === 'none' };
  const m = STORAGE_VOLUME.exec(volume);
  if (m && m[1] !== undefined && m[2] !== undefined) {
    disk.storage = m[1];
    disk.cloudinit = CLOUDINIT.test(m[2]);
  }
  const size = props.get('size');
  if (size !== undefined) disk.sizeMb = within(what, input, () => parseSizeMb(what, size));
  return disk;
}

const UNIT_BYTES: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * `size=` values: a number with an optional K/M/G/T suffix (binary); no suffix means
 * bytes, as in PVE::JSONSchema::parse_size. Returned in MB (NetBox VirtualDisk.size).
 */
export function parseSizeMb(what: string, input: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/i.exec(input.trim());
  if (!m || m[1] === undefined) throw new PveParseError(what, input, 'size is not <number>[K|M|G|T]');
  const bytes = Number(m[1]) * (m[2] ? (UNIT_BYTES[m[2].toUpperCase()] ?? 1) : 1);
  if (!Number.isFinite(bytes)) throw new PveParseError(what, input, 'size is out of range');
  // Subtracting a hair keeps exact multiples (1.5G → 1536) from rounding up on float noise.
  const mb = Math.ceil(bytes / 1024 ** 2 - 1e-9);
  if (mb > Number.MAX_SAFE_INTEGER) throw new PveParseError(what, input, 'size is out of range');
  return Math.max(mb, 0);
}

/** QEMU disk keys the seed inventories: scsi*, virtio*, ide*, sata*. */
export const QEMU_DISK_KEY = /^(?:scsi|virtio|ide|sata)\d+$/;
/** LXC disk keys: rootfs and mount points mp*. */
export const LXC_DISK_KEY = /^(?:rootfs|mp\d+)$/;
export const NET_KEY = /^net\d+$/;

/**
 * Guest tags: `;` in API answers, but PVE also accepts `,` and spaces on input
 * (pve-common PVE/JSONSchema.pm, `pve-tag-list`). Order kept, duplicates dropped.
 */
export function parseTags(input: string): string[] {
  const seen = new Set<string>();
  for (const t of input.split(/[;,\s]+/)) {
    const tag = t.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

/**
 * `pveversion` from /nodes/{node}/status: `pve-manager/8.2.4/faa83925c9641325`, also
 * `pve-manager/9.1-1/…` on test builds. Returns "X.Y" (pve-manager PVE/API2/Nodes.pm).
 */
export function parsePveVersion(input: string): string {
  const m = /^(?:pve-manager\/)?(\d+)\.(\d+)(?:[.\-+~][^/]*)?(?:\/.*)?$/.exec(input.trim());
  if (!m) throw new PveParseError('pveversion', input, 'expected pve-manager/X.Y.Z/<hash>');
  return `${Number(m[1])}.${Number(m[2])}`;
}

/** PVE's boolean property values (pve-common JSONSchema.pm parse_boolean). */
const PVE_TRUE = new Set(['1', 'on', 'yes', 'true']);
const PVE_FALSE = new Set(['0', 'off', 'no', 'false']);

/**
 * `agent` of a QEMU config: `1`, `0`, or `enabled=1,fstrim_cloned_disks=1,type=virtio`
 * (`enabled` is the default key; qemu-server QemuServer/Agent.pm $agent_fmt).
 */
export function parseAgentEnabled(input: string | number | boolean): boolean {
  if (typeof input === 'boolean') return input;
  if (typeof input === 'number') return input !== 0;
  const enabled = parsePropertyString('agent', input, 'enabled').get('enabled');
  if (enabled === undefined) return false;
  if (PVE_TRUE.has(enabled.toLowerCase())) return true;
  if (PVE_FALSE.has(enabled.toLowerCase())) return false;
  throw new PveParseError('agent', input, 'enabled is not a boolean');
}

// ---------------------------------------------------------------------------
// A whole guest config (GET /nodes/{node}/{qemu|lxc}/{vmid}/config, already shape-checked).

export interface GuestConfigInput {
  ostype?: string | undefined;
  description?: string | undefined;
  onboot?: boolean | undefined;
  agent?: string | number | boolean | undefined;
  [key: string]: unknown;
}

export interface ParsedGuestNet {
  /** Config key: net0, net1… */
  key: string;
  /** Interface name: the config key for QEMU; `name=` (else the key) for LXC. */
  name: string;
  /** Upper-case colon form. */
  mac?: string;
  /** `tag=`: the untagged VLAN. */
  vlan?: number;
  /** LXC static `ip=` / `ip6=` with prefix length (dhcp/manual/auto leave them unset). */
  ipv4?: string;
  ipv6?: string;
}

export interface ParsedGuestConfig {
  ostype?: string;
  description?: string;
  /** `onboot`, PVE's default 0 when unset. */
  onboot: boolean;
  /** QEMU `agent` enabled; always false for LXC. */
  agentEnabled: boolean;
  /** netN entries in key order; entries that did not parse are left out. */
  nets: ParsedGuestNet[];
  /** The seed's disk keys (QEMU scsi/virtio/ide/sata, LXC rootfs/mp) in key order, CD-ROMs included. */
  disks: GuestDisk[];
}

/** A config key as its name and trailing number (-1 when none): `net10` → ["net", 10]; `rootfs` sorts first. */
function splitConfigKey(key: string): { name: string; num: number } {
  let i = key.length;
  while (i > 0 && isDigit(key.charCodeAt(i - 1))) i--;
  // A digit before the trailing ones: not name + number; the whole key is the name.
  for (let j = 0; j < i; j++) if (isDigit(key.charCodeAt(j))) return { name: key, num: -1 };
  return { name: key === 'rootfs' ? '' : key.slice(0, i), num: i < key.length ? Number(key.slice(i)) : -1 };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

function compareSplit(a: string, sa: { name: string; num: number }, b: string, sb: { name: string; num: number }): number {
  if (sa.name !== sb.name) return sa.name < sb.name ? -1 : 1;
  return sa.num - sb.num || (a < b ? -1 : a > b ? 1 : 0);
}

/** net2 < net10, rootfs before mp0, then bus name: the order PVE's GUI lists them. */
export function compareConfigKeys(a: string, b: string): number {
  return compareSplit(a, splitConfigKey(a), b, splitConfigKey(b));
}

/**
 * The parts of a guest config the mapping uses. A NIC or disk entry that does not
 * parse is left out and returned in `errors`, so one bad entry costs only itself.
 */
export function parseGuestConfig(type: 'qemu' | 'lxc', raw: GuestConfigInput): { config: ParsedGuestConfig; errors: PveParseError[] } {
  const errors: PveParseError[] = [];
  const config: ParsedGuestConfig = { onboot: raw.onboot ?? false, agentEnabled: false, nets: [], disks: [] };
  if (typeof raw.ostype === 'string' && raw.ostype.trim()) config.ostype = raw.ostype.trim();
  if (typeof raw.description === 'string' && raw.description.trim()) config.description = raw.description;
  if (type === 'qemu' && raw.agent !== undefined) {
    try {
      config.agentEnabled = parseAgentEnabled(raw.agent);
    } catch (err) {
      if (!(err instanceof PveParseError)) throw err;
      errors.push(err);
    }
  }
  const diskKey = type === 'qemu' ? QEMU_DISK_KEY : LXC_DISK_KEY;
  // Only NIC and disk keys matter; sorting just those keeps the comparisons few.
  // Each key split once, not once per comparison.
  const keys: Array<{ key: string; isNet: boolean; split: { name: string; num: number } }> = [];
  for (const key in raw) {
    const isNet = NET_KEY.test(key);
    if (isNet || diskKey.test(key)) keys.push({ key, isNet, split: splitConfigKey(key) });
  }
  keys.sort((x, y) => compareSplit(x.key, x.split, y.key, y.split));
  for (const { key, isNet } of keys) {
    const value = raw[key];
    const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    try {
      if (typeof value !== 'string') throw new PveParseError(key, shown, 'expected a property string');
      if (isNet) {
        if (type === 'qemu') {
          const n = parseQemuNet(value);
          config.nets.push({ key, name: key, ...(n.mac !== undefined && { mac: n.mac }), ...(n.vlan !== undefined && { vlan: n.vlan }) });
        } else {
          const n = parseLxcNet(value);
          config.nets.push({
            key,
            name: n.name ?? key,
            ...(n.mac !== undefined && { mac: n.mac }),
            ...(n.vlan !== undefined && { vlan: n.vlan }),
            ...(n.ipv4 !== undefined && { ipv4: n.ipv4 }),
            ...(n.ipv6 !== undefined && { ipv6: n.ipv6 }),
          });
        }
      } else {
        config.disks.push(parseDisk(key, value));
      }
    } catch (err) {
      if (!(err instanceof PveParseError)) throw err;
      errors.push(new PveParseError(key, shown, err.reason, { cause: err }));
    }
  }
  return { config, errors };
}
