import { isIPv4, isIPv6 } from 'node:net';
import type { Device, Site, Tag } from '../../proto/diode/v1/types.ts';
import { entity, type EntityOf } from '../types.ts';
import { interfaceRef, ipRef, vlanRef } from './refs.ts';
import type { NodeNetworkRow } from '../../agent/collectors/snapshot.ts';

/*
 * Host network of a Proxmox machine (a PVE node, a PBS host): rows of
 * GET /nodes/{node}/network → Interface, IPAddress, Prefix and VLAN entities, following
 * the seed's "Node Interface", "Node IP Address", "Network Prefix" and "VLAN" rows.
 */

/** Seed "Node Interface Types"; anything else is `other`. */
export const NODE_INTERFACE_TYPES: Readonly<Record<string, string>> = {
  bridge: 'bridge',
  bond: 'lag',
  vlan: 'virtual',
  alias: 'virtual',
  OVSBridge: 'bridge',
  OVSBond: 'lag',
  OVSPort: 'virtual',
  OVSIntPort: 'virtual',
};

export function nodeInterfaceType(pveType: string): string {
  return Object.hasOwn(NODE_INTERFACE_TYPES, pveType) ? (NODE_INTERFACE_TYPES[pveType] ?? 'other') : 'other';
}

export function vlanEntity(vid: number, site: Site, tags: Tag[]): EntityOf<'vlan'> {
  return entity('vlan', { ...vlanRef(vid, site), status: 'active', tags });
}

/**
 * One Prefix per network: Diode matches a prefix on prefix (and VRF) alone, not its scope
 * (netbox_diode_plugin/api/matcher.py, ipam.prefix criteria), so two entities of one network
 * at two sites are one row whose scope flips every run. Scoped to a site only when every
 * host carrying the network is at that site (`site` undefined: global).
 */
export function prefixEntity(prefix: string, site: Site | undefined, tags: Tag[]): EntityOf<'prefix'> {
  return entity('prefix', { prefix, ...(site !== undefined && { scope_site: site }), status: 'active', tags });
}

// ---------------------------------------------------------------------------
// Addresses.

export interface Cidr {
  family: 4 | 6;
  /** Canonical address text (IPv6 compressed, lower case). */
  address: string;
  prefixLength: number;
}

/** `address/len` → canonical Cidr, or undefined when it is not one. */
export function parseCidrText(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  return withPrefix(text.slice(0, slash), text.slice(slash + 1));
}

/** An address plus a netmask given as a length ("24") or dotted ("255.255.255.0"). */
export function withPrefix(address: string, mask: string): Cidr | undefined {
  const addr = address.trim().replace(/%.*$/, '');
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : undefined;
  if (family === undefined) return undefined;
  let len: number | undefined;
  const m = mask.trim();
  if (/^\d{1,3}$/.test(m)) len = Number(m);
  else if (family === 4 && isIPv4(m)) len = dottedMaskLength(m);
  if (len === undefined || len > (family === 4 ? 32 : 128)) return undefined;
  return { family, address: canonicalAddress(addr, family), prefixLength: len };
}

export function cidrText(c: Cidr): string {
  return `${c.address}/${c.prefixLength}`;
}

function dottedMaskLength(mask: string): number | undefined {
  const n = ipv4ToInt(mask);
  const len = 32 - Math.log2((~n >>> 0) + 1);
  return Number.isInteger(len) ? len : undefined;
}

/** A valid dotted IPv4 address as an unsigned 32-bit number. */
function ipv4ToInt(addr: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 48);
    }
  }
  return (n * 256 + octet) >>> 0;
}

function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/*
 * IPv6 addresses as eight 16-bit groups: parsing and printing run once per guest
 * address, so they avoid BigInt and intermediate arrays of strings.
 */

/** The eight groups of a valid IPv6 address (embedded IPv4 tail allowed). */
function ipv6Groups(addr: string): number[] {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  let text = addr;
  // An embedded IPv4 tail ("::ffff:192.0.2.1") becomes the last two groups.
  let end = 8;
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':');
    const v4 = ipv4ToInt(text.slice(colon + 1));
    groups[6] = v4 >>> 16;
    groups[7] = v4 & 0xffff;
    end = 6;
    text = text.slice(0, colon + 1);
    // Drop the separator before the tail, unless it is part of a "::".
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const gap = text.indexOf('::');
  const parse = (part: string, into: number[]): void => {
    if (part === '') return;
    let v = 0;
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      if (c === 58) {
        into.push(v);
        v = 0;
      } else {
        v = v * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
      }
    }
    into.push(v);
  };
  const head: number[] = [];
  const tail: number[] = [];
  if (gap === -1) parse(text, head);
  else {
    parse(text.slice(0, gap), head);
    parse(text.slice(gap + 2), tail);
  }
  for (let i = 0; i < head.length; i++) groups[i] = head[i] ?? 0;
  for (let i = 0; i < tail.length; i++) groups[end - tail.length + i] = tail[i] ?? 0;
  return groups;
}

/** RFC 5952 text: lower case, no leading zeros, the longest zero run (≥ 2 groups) as `::`. */
function ipv6Text(groups: readonly number[]): string {
  const g = (i: number): number => groups[i] ?? 0;
  if (g(0) === 0 && g(1) === 0 && g(2) === 0 && g(3) === 0 && g(4) === 0 && g(5) === 0xffff) {
    // IPv4-mapped addresses keep the dotted tail, as NetBox (netaddr) prints them.
    return `::ffff:${intToIpv4(((g(6) << 16) | g(7)) >>> 0)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g(i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g(j) === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += g(i).toString(16);
  }
  return out;
}

/** The form NetBox prints, so the same address always has the same identity. */
export function canonicalAddress(addr: string, family: 4 | 6): string {
  return family === 4 ? intToIpv4(ipv4ToInt(addr)) : ipv6Text(ipv6Groups(addr));
}

/** The network an address sits in: 192.168.1.101/24 → 192.168.1.0/24. */
export function networkOf(c: Cidr): string {
  if (c.family === 4) {
    const mask = c.prefixLength === 0 ? 0 : (~0 << (32 - c.prefixLength)) >>> 0;
    return `${intToIpv4((ipv4ToInt(c.address) & mask) >>> 0)}/${c.prefixLength}`;
  }
  const groups = ipv6Groups(c.address);
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, c.prefixLength - i * 16));
    groups[i] = keep === 0 ? 0 : (groups[i] ?? 0) & ((0xffff << (16 - keep)) & 0xffff);
  }
  return `${ipv6Text(groups)}/${c.prefixLength}`;
}

/** 127.0.0.0/8 and ::1. */
export function isLoopback(c: Cidr): boolean {
  return c.family === 4 ? c.address.startsWith('127.') : c.address === '::1';
}

/** 169.254.0.0/16 and fe80::/10. */
export function isLinkLocal(c: Cidr): boolean {
  if (c.family === 4) return c.address.startsWith('169.254.');
  return ((ipv6Groups(c.address)[0] ?? 0) & 0xffc0) === 0xfe80;
}

/** 0.0.0.0 and :: say nothing about where a host is. */
export function isUnspecified(c: Cidr): boolean {
  return c.address === '0.0.0.0' || c.address === '::';
}

/** Addresses worth inventorying on any interface: not loopback, link-local or unspecified. */
export function isUsableAddress(c: Cidr): boolean {
  return !isLoopback(c) && !isLinkLocal(c) && !isUnspecified(c);
}

// ---------------------------------------------------------------------------

export interface NodeNetworkOptions {
  /** Addresses already taken by another object in this run; they are left out here. */
  isClaimed?: (address: string) => boolean;
}

export interface NodeNetworkEntities {
  interfaces: EntityOf<'interface'>[];
  ipAddresses: EntityOf<'ip_address'>[];
  /** Networks of the host's addresses (no host routes), first seen first; the caller scopes them. */
  networks: string[];
  /** Addresses left out because another row or object already holds them. */
  conflicts: number;
  vlans: EntityOf<'vlan'>[];
  /** First IPv4 / IPv6 (rows in interfaces-file order), for the Device's primary_ip4/6. */
  primaryIp4?: string;
  primaryIp6?: string;
}

function rowAddresses(row: NodeNetworkRow): Cidr[] {
  const out: Cidr[] = [];
  // The seed: "Tries cidr first; falls back to address+netmask".
  const v4 =
    (row.cidr !== undefined ? parseCidrText(row.cidr) : undefined) ??
    (row.address !== undefined && row.netmask !== undefined ? withPrefix(row.address, row.netmask) : undefined);
  if (v4) out.push(v4);
  const v6 =
    (row.cidr6 !== undefined ? parseCidrText(row.cidr6) : undefined) ??
    (row.address6 !== undefined && row.netmask6 !== undefined ? withPrefix(row.address6, row.netmask6) : undefined);
  if (v6) out.push(v6);
  return out;
}

function isLoopbackRow(row: NodeNetworkRow): boolean {
  return row.iface === 'lo' || row.type === 'loopback' || row.method === 'loopback';
}

/**
 * Maps one host's network rows. `device` is the host's reference (deviceRef), `site` the
 * site its VLANs are at, `tags` go on every entity. Networks and VLANs are unique within
 * the result; callers merging several hosts dedupe VLANs by (vid, site), their natural key.
 */
export function mapNodeNetwork(device: Device, site: Site, rows: readonly NodeNetworkRow[], tags: Tag[], opts: NodeNetworkOptions = {}): NodeNetworkEntities {
  // PVE lists the rows in Perl hash order (pve-manager PVE/API2/Network.pm index →
  // hash_to_array), so "first" follows the interfaces file (`priority`), then the name.
  const sorted = [...rows].sort((a, b) => (a.priority ?? Infinity) - (b.priority ?? Infinity) || (a.iface < b.iface ? -1 : a.iface > b.iface ? 1 : 0));
  const out: NodeNetworkEntities = { interfaces: [], ipAddresses: [], networks: [], vlans: [], conflicts: 0 };
  const prefixes = new Set<string>();
  const vlans = new Set<number>();
  const taken = new Set<string>();

  // VLANs come from every vlan row with an id, whether or not it carries an address.
  for (const row of sorted) {
    if (row.type !== 'vlan' || row.vlanId === undefined || vlans.has(row.vlanId)) continue;
    if (row.vlanId < 1 || row.vlanId > 4094) continue;
    vlans.add(row.vlanId);
    out.vlans.push(vlanEntity(row.vlanId, site, tags));
  }

  const assignments: Array<{ row: NodeNetworkRow; cidr: Cidr }> = [];
  for (const row of sorted) {
    if (isLoopbackRow(row)) continue;
    for (const cidr of rowAddresses(row)) {
      if (!isUsableAddress(cidr)) continue;
      const text = cidrText(cidr);
      if (taken.has(text) || opts.isClaimed?.(text)) {
        out.conflicts++;
        continue;
      }
      taken.add(text);
      assignments.push({ row, cidr });
    }
  }

  const primary4 = assignments.find((a) => a.cidr.family === 4);
  const primary6 = assignments.find((a) => a.cidr.family === 6);
  if (primary4) out.primaryIp4 = cidrText(primary4.cidr);
  if (primary6) out.primaryIp6 = cidrText(primary6.cidr);

  // "Interfaces without a resolvable IP are skipped" (seed, Node Interface row).
  const withIp = new Set(assignments.map((a) => a.row));
  for (const row of sorted) {
    if (!withIp.has(row)) continue;
    out.interfaces.push(
      entity('interface', {
        ...interfaceRef(device, row.iface, nodeInterfaceType(row.type)),
        ...(row.mtu !== undefined && row.mtu > 0 && { mtu: row.mtu }),
        ...(row.speedMbps !== undefined && row.speedMbps > 0 && { speed: Math.round(row.speedMbps * 1000) }),
        tags,
      }),
    );
  }

  for (const a of assignments) {
    const address = cidrText(a.cidr);
    // Only the primary IP's own entity sets the primary, on the device reference it nests:
    // Diode creates the address, assigns it, then sets it primary (transformer.py circular
    // references). On the Device entity it would name an address that, applied first, is
    // not yet assigned to the device, which NetBox rejects (dcim.Device.clean).
    const isPrimary4 = a === primary4;
    const isPrimary6 = a === primary6;
    const owner: Device = isPrimary4 ? { ...device, primary_ip4: ipRef(address) } : isPrimary6 ? { ...device, primary_ip6: ipRef(address) } : device;
    out.ipAddresses.push(
      entity('ip_address', { address, assigned_object_interface: interfaceRef(owner, a.row.iface, nodeInterfaceType(a.row.type)), status: 'active', tags }),
    );
    // "Host routes (/32, /128) and loopback excluded" (seed, Network Prefix row).
    const hostLen = a.cidr.family === 4 ? 32 : 128;
    if (a.cidr.prefixLength === hostLen) continue;
    const network = networkOf(a.cidr);
    if (prefixes.has(network)) continue;
    prefixes.add(network);
    out.networks.push(network);
  }
  return out;
}
