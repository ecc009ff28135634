import type { CustomFieldDef } from '../../../../mappers/common/refs.ts';
import { clusterTypeRef, customFieldEntities, tagEntity, tagRef } from '../../../../mappers/common/refs.ts';
import { DISCOVERED_TAG, PVE_CLUSTER_TYPE } from '../../../../mappers/common/vocabulary.ts';
import { entity, type EntityOf } from '../../../../mappers/types.ts';

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
    name: 'proxmox_vmid',
    label: 'Proxmox VM ID',
    type: 'text',
    object_types: ['virtualization.virtualmachine'],
    description: 'The unique numeric ID assigned to this VM or container by Proxmox VE',
  },
  {
    name: 'proxmox_node',
    label: 'Proxmox Node',
    type: 'text',
    object_types: ['virtualization.virtualmachine'],
    description: 'The Proxmox VE cluster node that this VM or container is running on',
  },
  {
    name: 'proxmox_ha_state',
    label: 'Proxmox HA State',
    type: 'text',
    object_types: ['virtualization.virtualmachine'],
    description: 'High-availability state as reported by the Proxmox VE HA manager (e.g. started, stopped, fence)',
  },
  {
    name: 'proxmox_cpu_count',
    label: 'Proxmox CPU Count',
    type: 'integer',
    object_types: ['dcim.device'],
    description: 'Total number of logical CPU cores available on this Proxmox VE node',
  },
  {
    name: 'proxmox_memory_mb',
    label: 'Proxmox Memory (MB)',
    type: 'integer',
    object_types: ['dcim.device'],
    description: 'Total physical memory installed on this Proxmox VE node, in megabytes',
  },
  {
    name: 'proxmox_vm_type',
    label: 'Proxmox VM Type',
    type: 'text',
    object_types: ['virtualization.virtualmachine'],
    description: 'Proxmox VE virtualisation type: qemu for KVM VMs or lxc for Linux containers',
  },
  {
    name: 'proxmox_storage_pool',
    label: 'Proxmox Storage Pool',
    type: 'text',
    object_types: ['virtualization.virtualdisk'],
    description: 'Proxmox VE storage pool (e.g. local-lvm, ceph) from which this virtual disk is allocated',
  },
] as const satisfies readonly CustomFieldDef[];

export const CUSTOM_FIELD_GROUP = 'Proxmox VE';

/**
 * Beyond the seed (issue #17): same prefix and group. `unique` fields are matched by Diode
 * after the logical matchers and NetBox's unique constraints
 * (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/matcher.py `CustomFieldMatcher`,
 * `get_model_matchers`), so a VM whose (name, cluster) no longer matches is still found.
 */
export const PVE_EXTRA_CUSTOM_FIELDS = [
  {
    name: 'proxmox_vm_uid',
    label: 'Proxmox VM UID',
    type: 'text',
    object_types: ['virtualization.virtualmachine'],
    unique: true,
    description: 'Cluster name and VMID (<cluster>/<vmid>): identifies the guest across renames and migrations between nodes',
  },
  {
    name: 'proxmox_last_backup',
    label: 'Proxmox Last Backup',
    type: 'datetime',
    object_types: ['virtualization.virtualmachine'],
    description: 'Creation time of the newest backup volume of this guest on any backup storage the agent can read',
  },
  {
    name: 'proxmox_backup_storage',
    label: 'Proxmox Backup Storage',
    type: 'text',
    object_types: ['virtualization.virtualmachine'],
    description: 'Storage holding the newest backup of this guest',
  },
  {
    name: 'proxmox_backup_verification',
    label: 'Proxmox Backup Verification',
    type: 'text',
    object_types: ['virtualization.virtualmachine'],
    description: 'Verification state of the newest backup (ok, failed; none when not verified or not on Proxmox Backup Server)',
  },
  {
    name: 'proxmox_backup_job',
    label: 'Proxmox Backup Job',
    type: 'boolean',
    object_types: ['virtualization.virtualmachine'],
    description: 'True when a backup job covers this guest (Proxmox VE: guests not in GET /cluster/backup-info/not-backed-up)',
  },
] as const satisfies ReadonlyArray<CustomFieldDef & { unique?: boolean }>;

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
    // Emitted in BOOTSTRAP too, so a bootstrap run creates every field a regular run sets.
    ...customFieldEntities(PVE_EXTRA_CUSTOM_FIELDS, CUSTOM_FIELD_GROUP).map((e, i) =>
      PVE_EXTRA_CUSTOM_FIELDS[i] && 'unique' in PVE_EXTRA_CUSTOM_FIELDS[i] ? entity('custom_field', { ...e.value, unique: true }) : e,
    ),
    entity('cluster_type', { ...clusterTypeRef(PVE_CLUSTER_TYPE), tags: staticTags }),
  ];
}
