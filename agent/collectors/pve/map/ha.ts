import type { CustomFieldValue } from '../../../../proto/diode/v1/types.ts';
import type { PveConfig, PveGuest } from '../snapshot.ts';
import { cf, customFieldEntities, type CustomFieldDef } from '../../../../mappers/common/refs.ts';
import type { EntityOf } from '../../../../mappers/types.ts';
import { CUSTOM_FIELD_GROUP } from './static.ts';

/*
 * HA and replication as VM custom fields (issue #17, HA_STATUS, REPLICATION_STATUS), same
 * prefix and group as the others. Their definitions are emitted only while a switch is on,
 * so a policy without them sends exactly what it sent before.
 *
 * Types, for what an operator filters on in NetBox: rule names and targets are text
 * (`?cf_proxmox_ha_rules__ic=ha-group-prod`, `?cf_proxmox_replication_targets__ic=pve2`,
 * `=none` for the unprotected); a select would need a choice set that follows every rule
 * and node rename. The jobs' detail (schedule, disabled) is JSON, to read, not to filter.
 * "none" rather than an empty value: NetBox keeps a custom field an entity leaves out
 * (Diode merges custom fields per key), so a guest taken out of its last rule or job must be
 * told, and the plugin drops "" from a create but writes it on an update
 * (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/differ.py clean_diff_data), which
 * would be a change on every second run.
 */

const VM = ['virtualization.virtualmachine'] as const;

export const PVE_HA_CUSTOM_FIELDS = [
  {
    name: 'proxmox_ha_rules',
    label: 'Proxmox HA Rules',
    type: 'text',
    object_types: VM,
    description: 'HA rules listing this guest (PVE 9), or its HA group as PVE 9 migrates it, ha-group-<group> (PVE 8); comma-separated, "none" when in none',
  },
] as const satisfies readonly CustomFieldDef[];

export const PVE_REPLICATION_CUSTOM_FIELDS = [
  {
    name: 'proxmox_replication_targets',
    label: 'Proxmox Replication Targets',
    type: 'text',
    object_types: VM,
    description: 'Nodes that enabled storage replication jobs copy this guest to, comma-separated; "none" when none',
  },
  {
    name: 'proxmox_replication_jobs',
    label: 'Proxmox Replication Jobs',
    type: 'json',
    object_types: VM,
    description: 'Storage replication jobs of this guest: id (<vmid>-<n>), target node, schedule, disabled, removal',
  },
] as const satisfies readonly CustomFieldDef[];

/** The definitions the policy's switches need (BOOTSTRAP included, so a bootstrap run creates them too). */
export function haReplicationFieldEntities(config: Pick<PveConfig, 'HA_STATUS' | 'REPLICATION_STATUS'>): EntityOf<'custom_field'>[] {
  return customFieldEntities(
    [...(config.HA_STATUS ? PVE_HA_CUSTOM_FIELDS : []), ...(config.REPLICATION_STATUS ? PVE_REPLICATION_CUSTOM_FIELDS : [])],
    CUSTOM_FIELD_GROUP,
  );
}

/** The guest's HA and replication values; none for what was not read this run. */
export function haReplicationValues(g: PveGuest): Record<string, CustomFieldValue> {
  const out: Record<string, CustomFieldValue> = {};
  if (g.ha) out.proxmox_ha_rules = cf.text(g.ha.rules.length > 0 ? g.ha.rules.join(',') : 'none');
  if (g.replication) {
    // A disabled job or one being removed copies nothing: not a target.
    const targets = [...new Set(g.replication.filter((j) => !j.disabled && j.removal === undefined).map((j) => j.target))].sort();
    out.proxmox_replication_targets = cf.text(targets.length > 0 ? targets.join(',') : 'none');
    out.proxmox_replication_jobs = cf.json(g.replication);
  }
  return out;
}
