import { HttpConnectError, HttpStatusError } from '../../http/client.ts';
import type { Warning } from '../types.ts';
import { getLxcInterfaces, lxcInterfacesPrivilege, missingPrivilege } from './client.ts';
import { parsePropertyString, PveParseError } from './parsers.ts';
import type { GuestConfigRaw } from './schema.ts';
import type { PveLxcInterface } from './snapshot.ts';
import { ApiResponseError, type ApiSession } from '../../http/proxmox.ts';

/*
 * LXC addresses from the running container (issue #17, LXC_ADDRESSES runtime | both). A
 * container whose config names its addresses (static ip=/ip6=) needs no request; one with a
 * dhcp or auto NIC gets one GET /nodes/{node}/lxc/{vmid}/interfaces while it runs. Nothing
 * here fails the run: a failure costs that container's runtime addresses, with a warning,
 * and the mapper falls back to its config addresses.
 */

/**
 * Whether a NIC of the config takes its address at run time: `ip=dhcp`, `ip6=dhcp` or
 * `ip6=auto` (SLAAC) (pve-container src/PVE/LXC/Config.pm $netconf_desc: ip takes
 * dhcp|manual|<cidr>, ip6 also auto). `manual` means nobody configures one: not asked for.
 */
export function hasDynamicNic(raw: GuestConfigRaw): boolean {
  for (const [key, value] of Object.entries(raw)) {
    if (!/^net\d+$/.test(key) || typeof value !== 'string') continue;
    let props: Map<string, string>;
    try {
      props = parsePropertyString('LXC net', value);
    } catch (err) {
      // The config parser already warned about this entry.
      if (err instanceof PveParseError) continue;
      throw err;
    }
    if (props.get('ip')?.toLowerCase() === 'dhcp') return true;
    const ip6 = props.get('ip6')?.toLowerCase();
    if (ip6 === 'dhcp' || ip6 === 'auto') return true;
  }
  return false;
}

export interface LxcRuntimeReader {
  /** The container's interfaces, or undefined when they could not be had (warned). */
  read(node: string, vmid: number): Promise<PveLxcInterface[] | undefined>;
}

/**
 * One reader per run. A node whose PVE has no such endpoint (before 8.1: pveproxy answers
 * 501 "Method … not implemented"; 404 taken the same) is warned about once and not asked
 * again this run, so an old cluster costs one request and one warning per node, not per
 * container.
 */
export function lxcRuntimeReader(api: ApiSession, warn: (w: Warning) => void, nodeDown: (node: string, why: string) => void): LxcRuntimeReader {
  const without = new Set<string>();
  return {
    async read(node, vmid) {
      if (without.has(node)) return undefined;
      const subject = `lxc ${vmid} on ${node}`;
      const lost = 'addresses from its config only';
      try {
        const rows = await getLxcInterfaces(api, node, vmid);
        if (rows === null) {
          warn({
            code: 'pve_lxc_not_running',
            subject,
            message: `GET /nodes/${node}/lxc/${vmid}/interfaces answered no data: the container stopped since /cluster/resources was read; ${lost}`,
          });
          return undefined;
        }
        return rows;
      } catch (err) {
        if (err instanceof HttpConnectError || (err instanceof HttpStatusError && err.status >= 595 && err.status <= 599)) {
          nodeDown(node, err.message);
        } else if (err instanceof HttpStatusError && err.status === 403) {
          warn({ code: 'pve_permission_denied', subject, message: `${err.message}; ${missingPrivilege(err, lxcInterfacesPrivilege(vmid))}; ${lost}` });
        } else if (err instanceof HttpStatusError && (err.status === 501 || err.status === 404)) {
          if (!without.has(node)) {
            without.add(node);
            warn({
              code: 'pve_lxc_interfaces_unsupported',
              subject: `node ${node}`,
              message: `${err.message}; this PVE has no GET /nodes/{node}/lxc/{vmid}/interfaces (added in PVE 8.1), so its containers keep the addresses from their config`,
            });
          }
        } else if (err instanceof HttpStatusError || err instanceof ApiResponseError) {
          warn({ code: 'pve_lxc_interfaces_unavailable', subject, message: `${err.message}; ${lost}` });
        } else throw err;
        return undefined;
      }
    },
  };
}
