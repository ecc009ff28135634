import type { CollectContext } from '../types.ts';
import { ProxmoxApi, type ApiSession } from '../../http/proxmox.ts';
import { PVE_SERVICE, pveTargetRequest, type PveConnection } from '../proxmox-config.ts';
import { pveGuestRowSchema, type PveGuestRow } from './schema.ts';

/*
 * The optional PVE lookup: one `GET /cluster/resources?type=vm` (PVEAuditor is enough)
 * maps each output VMID to the guest PVE has under it, so the NetBox VM carries the
 * template's real name and node: a Proxmox build's artifact id is the VMID
 * (hashicorp/packer-plugin-proxmox builder/proxmox/common/artifact.go Id), and PVE lists the
 * template there with `template: 1` (pve-manager PVE/API2Tools.pm extract_vm_stats).
 */

const PVE = new ProxmoxApi(PVE_SERVICE);

/** `type=vm` returns qemu and lxc rows only (pve-manager PVE/API2/Cluster.pm resources). */
export function getClusterGuests(api: ApiSession): Promise<PveGuestRow[]> {
  return PVE.list(api, '/cluster/resources', pveGuestRowSchema, { type: 'vm' });
}

export interface PveGuestRef {
  name: string;
  node: string;
  isTemplate: boolean;
}

export async function lookupGuests(ctx: CollectContext<PveConnection>): Promise<Map<number, PveGuestRef>> {
  const api = {
    target: ctx.target(pveTargetRequest(ctx.config)),
    onDrop: (path: string, index: number, why: string) => ctx.warn({ code: 'packer_item_dropped', subject: `GET ${path} item ${index}`, message: why }),
  };
  const rows = await getClusterGuests(api);
  const out = new Map<number, PveGuestRef>();
  for (const r of rows) {
    if ((r.type !== 'qemu' && r.type !== 'lxc') || r.vmid === undefined || r.name === undefined || r.node === undefined) continue;
    out.set(r.vmid, { name: r.name, node: r.node, isTemplate: r.template === true });
  }
  return out;
}
