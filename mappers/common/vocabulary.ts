import type { Cluster, Device } from '../../proto/diode/v1/types.ts';
import { clusterRef, deviceRef, type DeviceKind } from './refs.ts';

/*
 * The NetBox objects more than one collector points at, named once: a host that two
 * collectors see (a hyperconverged PVE + Ceph node, a PBS server that PDM manages) must be
 * the same device with the same type and role from both, or the last writer flips them
 * on every run (Diode replaces every field but tags and custom fields:
 * netbox_diode_plugin/api/differ.py).
 */

/** On every entity of every collector; one name, one color, or the tag flips between policies. */
export const DISCOVERED_TAG = { name: 'discovered', color: '198754' } as const;

export const PROXMOX = 'Proxmox';

/** A Proxmox VE node (agent/collectors/pve/README.md "What lands in NetBox", Device row). */
export const PVE_NODE: DeviceKind = { model: 'Proxmox Node', manufacturer: PROXMOX, role: 'Hypervisor' };
/** A Proxmox Backup Server (agent/collectors/pbs/README.md "What lands in NetBox"). */
export const PBS_SERVER: DeviceKind = { model: 'Proxmox Backup Server', manufacturer: PROXMOX, role: 'Backup Server' };

/** A PBS server's Device reference: the PBS collector's server and PDM's PBS remote are one device. */
export function pbsDeviceRef(name: string, site: string): Device {
  return deviceRef(name, site, PBS_SERVER);
}

/** A host as a name: IPv6 literals lose their brackets, anything else stays as written. */
export function hostLabel(host: string): string {
  const h = host.trim();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** "3.2" + "7" → "3.2-7", the way PBS shows its own version (proxmox-backup pbs-buildcfg/src/lib.rs: PROXMOX_PKG_VERSION is MAJOR.MINOR, PROXMOX_PKG_RELEASE the patch). */
export function formatPbsVersion(version: string, release?: string): string {
  return release === undefined ? version : `${version}-${release}`;
}

/** "Proxmox Backup Server X.Y" from any version string starting with MAJOR.MINOR. */
export function pbsPlatformName(version: string | undefined): string | undefined {
  const m = version === undefined ? null : /^(\d+)\.(\d+)/.exec(version.trim());
  return m ? `Proxmox Backup Server ${m[1]}.${m[2]}` : undefined;
}

/** A Proxmox Datacenter Manager (agent/collectors/pdm/README.md "What lands in NetBox"). */
export const PDM_MANAGER: DeviceKind = { model: 'Proxmox Datacenter Manager', manufacturer: PROXMOX, role: 'Datacenter Manager' };
/**
 * A Ceph host read from the Ceph dashboard, which says nothing of its hardware: NetBox
 * requires a device type, so a generic one (agent/collectors/ceph/README.md).
 */
export const CEPH_HOST: DeviceKind = { model: 'Ceph Node', manufacturer: 'Generic', role: 'Ceph Node' };

/** Cluster types ("Proxmox": agent/collectors/pve/README.md; "Ceph": agent/collectors/ceph/README.md). */
export const PVE_CLUSTER_TYPE = 'Proxmox';
export const CEPH_CLUSTER_TYPE = 'Ceph';

/**
 * A Proxmox VE cluster as every collector names it (pve, pdm's PVE remotes, packer's target
 * clusters): type Proxmox, scoped to the site the PVE policy's SITE_NAME gives it.
 */
export function pveClusterRef(name: string, site: string): Cluster {
  return clusterRef({ name, type: PVE_CLUSTER_TYPE, site });
}
