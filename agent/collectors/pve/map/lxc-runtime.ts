import type { PveConfig, PveGuest } from '../snapshot.ts';
import { isUsableAddress, withPrefix, type Cidr } from '../../../../mappers/common/node-network.ts';

/*
 * Container addresses (seed "LXC Container IP Address", extended by issue #17
 * LXC_ADDRESSES): `config` takes the static ip=/ip6= of each NIC (dhcp, manual and auto name
 * none); `runtime` takes what the running container reported instead, for a container that
 * was asked and answered (else its config); `both` takes the two together. The seed's rules
 * hold for both sources: loopback, link-local and unspecified addresses are left out.
 */

export interface LxcIp {
  iface: string;
  cidr: Cidr;
}

/** A config NIC's interface name and MAC, in config order. */
interface Nic {
  iface: string;
  mac?: string;
}

function configIps(g: PveGuest, ifaceNames: ReadonlyMap<string, string>): LxcIp[] {
  const out: LxcIp[] = [];
  for (const n of g.config?.nets ?? []) {
    const iface = ifaceNames.get(n.key);
    if (iface === undefined) continue;
    for (const text of [n.ipv4, n.ipv6]) {
      if (text === undefined) continue;
      const slash = text.indexOf('/');
      const cidr = withPrefix(text.slice(0, slash), text.slice(slash + 1));
      if (cidr && isUsableAddress(cidr)) out.push({ iface, cidr });
    }
  }
  return out;
}

/**
 * Runtime interfaces matched to config NICs: by name first (pve-container writes each NIC's
 * `name=` as lxc.net.N.name, src/PVE/LXC.pm update_lxc_config, so `ip a` shows it), else by
 * MAC (`hwaddr`); `lo` and interfaces the config does not know (a docker0 inside) match none.
 * In config NIC order, then the container's order.
 */
function runtimeIps(g: PveGuest, ifaceNames: ReadonlyMap<string, string>): LxcIp[] {
  const nics: Nic[] = [];
  for (const n of g.config?.nets ?? []) {
    const iface = ifaceNames.get(n.key);
    if (iface !== undefined) nics.push({ iface, ...(n.mac !== undefined && { mac: n.mac }) });
  }
  const rank = new Map(nics.map((n, i) => [n.iface, i]));
  const out: LxcIp[] = [];
  for (const r of g.lxcRuntime ?? []) {
    const nic = nics.find((n) => n.iface === r.name) ?? (r.mac === undefined ? undefined : nics.find((n) => n.mac === r.mac?.toUpperCase()));
    if (nic === undefined) continue;
    for (const a of r.addresses) {
      const cidr = withPrefix(a.address, String(a.prefix));
      if (cidr && cidr.family === a.family && isUsableAddress(cidr)) out.push({ iface: nic.iface, cidr });
    }
  }
  // Stable: the container's order within a NIC.
  return out.sort((x, y) => (rank.get(x.iface) ?? 0) - (rank.get(y.iface) ?? 0));
}

/**
 * The container's addresses under the policy's LXC_ADDRESSES. A runtime address the config
 * already gave, or one the container reports twice, is left out: Diode matches an IP address
 * on its host part (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/matcher.py), so the
 * same host with another prefix length would be one row rewritten on every entity.
 */
export function lxcIps(g: PveGuest, ifaceNames: ReadonlyMap<string, string>, mode: PveConfig['LXC_ADDRESSES']): LxcIp[] {
  const runtime = mode !== 'config' && g.lxcRuntime !== undefined;
  const out = mode === 'runtime' && runtime ? [] : configIps(g, ifaceNames);
  if (!runtime) return out;
  const seen = new Set(out.map((ip) => ip.cidr.address));
  for (const ip of runtimeIps(g, ifaceNames)) {
    if (seen.has(ip.cidr.address)) continue;
    seen.add(ip.cidr.address);
    out.push(ip);
  }
  return out;
}
