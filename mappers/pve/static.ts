import type { CustomFieldDef } from '../common/refs.ts';
import { clusterTypeRef, customFieldEntities, tagEntity, tagRef } from '../common/refs.ts';
import { DISCOVERED_TAG, PVE_CLUSTER_TYPE } from '../common/vocabulary.ts';
import { entity, type EntityOf } from '../types.ts';

export { DISCOVERED_TAG };

/*
 * The static part of the PVE mapping: what BOOTSTRAP creates (seed, "Bootstrap Mode")
 * and every regular run repeats.
 */

/** Tag colors of the seed's "Tag Colors" table; NetBox stores 6 hex digits without '#'. */
export const PVE_TAG = { name: 'proxmox-ve', color: 'e57000' } as const;
export const HOST_TAG_COLOR = 'fd7e14';

export function hostTagName(host: string): string {
  return `proxmox-${host}`;
}


/** The seed's seven custom fields ("Custom Fields" table), grouped under "Proxmox VE". */
export const PVE_CUSTOM_FIELDS = [
  {
    name: 'proxmox_vmid', label: 'Proxmox VM ID', type: 'text', object_types: ['virtualization.virtualmachine'],
    description: 'The unique numeric ID assigned to this VM or container by Proxmox VE',
  },
  {
    name: 'proxmox_node', label: 'Proxmox Node', type: 'text', object_types: ['virtualization.virtualmachine'],
    description: 'The Proxmox VE cluster node that this VM or container is running on',
  },
  {
    name: 'proxmox_ha_state', label: 'Proxmox HA State', type: 'text', object_types: ['virtualization.virtualmachine'],
    description: 'High-availability state as reported by the Proxmox VE HA manager (e.g. started, stopped, fence)',
  },
  {
    name: 'proxmox_cpu_count', label: 'Proxmox CPU Count', type: 'integer', object_types: ['dcim.device'],
    description: 'Total number of logical CPU cores available on this Proxmox VE node',
  },
  {
    name: 'proxmox_memory_mb', label: 'Proxmox Memory (MB)', type: 'integer', object_types: ['dcim.device'],
    description: 'Total physical memory installed on this Proxmox VE node, in megabytes',
  },
  {
    name: 'proxmox_vm_type', label: 'Proxmox VM Type', type: 'text', object_types: ['virtualization.virtualmachine'],
    description: 'Proxmox VE virtualisation type: qemu for KVM VMs or lxc for Linux containers',
  },
  {
    name: 'proxmox_storage_pool', label: 'Proxmox Storage Pool', type: 'text', object_types: ['virtualization.virtualdisk'],
    description: 'Proxmox VE storage pool (e.g. local-lvm, ceph) from which this virtual disk is allocated',
  },
] as const satisfies readonly CustomFieldDef[];

export const CUSTOM_FIELD_GROUP = 'Proxmox VE';

/**
 * Tags, custom fields and the cluster type. The cluster type is shared by every PVE
 * policy, so it carries only the two static tags, never a per-host one (which would
 * flip between policies on each run).
 */
export function staticEntities(): Array<EntityOf<'tag'> | EntityOf<'custom_field'> | EntityOf<'cluster_type'>> {
  const staticTags = [tagRef(PVE_TAG.name), tagRef(DISCOVERED_TAG.name)];
  return [
    tagEntity(PVE_TAG.name, PVE_TAG.color),
    tagEntity(DISCOVERED_TAG.name, DISCOVERED_TAG.color),
    ...customFieldEntities(PVE_CUSTOM_FIELDS, CUSTOM_FIELD_GROUP),
    entity('cluster_type', { ...clusterTypeRef(PVE_CLUSTER_TYPE), tags: staticTags }),
  ];
}
