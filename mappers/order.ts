import type { AnyEntity, EntityKind } from './types.ts';
import { naturalKey } from './keys.ts';

/**
 * The one emission-order table. The first thirteen ranks are the seed's order
 * (proxmox-ve-mapping.txt, "Entity Emission Order") with custom field choice sets slotted
 * before the custom fields that use them; then kinds the seed does not name (DESIGN.md §7).
 * Diode applies each entity as its own change set, so anything an entity references by
 * natural key must already exist: VMs and devices come after the IPs they make primary.
 */
export const EMISSION_ORDER = [
  'tag',
  'custom_field_choice_set',
  'custom_field',
  'cluster_type',
  'cluster',
  'platform',
  'vlan',
  'vm_interface',
  'interface',
  'ip_address',
  'prefix',
  'virtual_machine',
  'virtual_disk',
  'device',
  'inventory_item',
  'service',
  'journal_entry',
] as const satisfies readonly EntityKind[];

const rank = new Map<string, number>(EMISSION_ORDER.map((k, i) => [k, i]));

export function kindRank(kind: EntityKind): number {
  return rank.get(kind) ?? EMISSION_ORDER.length;
}

/**
 * Sorts entities by emission rank, then kind name (for kinds outside the table), then
 * natural key. Keys are computed once per entity, so this is O(n log n) string compares.
 */
export function orderEntities(entities: readonly AnyEntity[]): AnyEntity[] {
  const keyed = entities.map((e) => ({ e, r: kindRank(e.kind), k: naturalKey(e) }));
  keyed.sort((a, b) => a.r - b.r || (a.e.kind < b.e.kind ? -1 : a.e.kind > b.e.kind ? 1 : 0) || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.e);
}
