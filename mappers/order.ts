import type { AnyEntity, EntityKind } from './types.ts';
import { naturalKey } from './keys.ts';

/**
 * The one emission-order table. The first thirteen ranks are the seed's "Entity Emission
 * Order" (agent/collectors/pve/README.md "What lands in NetBox" lists it) with custom field
 * choice sets slotted before the custom fields that use them; then kinds the seed does not name.
 * It orders the entities within each delivery phase below (and the dry-run files); what
 * reaches Diode first is decided by the phases, since no entity may depend on this order
 * to land.
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
  'tenant',
] as const satisfies readonly EntityKind[];

const rank = new Map<string, number>(EMISSION_ORDER.map((k, i) => [k, i]));

/*
 * Delivery phases: each phase is sent (and, with read-back, applied) before the next. Diode
 * applies every entity on its own, several at once, in no fixed order, and an entity that
 * creates an object another entity already created binds to that row *without writing its
 * own fields* (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/applier.py
 * `_create_or_find_instance`) unless the type is matched before saving (matcher.py
 * `_REQUIRES_PRE_SAVE_MATCH`: clusters, VMs, prefixes, VLANs; and dcim interfaces and
 * inventory items). So an object whose entity carries more than the references to it do
 * (a tag's color, a custom field, a platform's tags, a device's status, a VM interface's
 * MAC) must be applied before the entities that reference it; custom fields before any value.
 */
export const DELIVERY_PHASES: ReadonlyArray<readonly EntityKind[]> = [
  // Tags alone: every other entity carries tag references, which would create them colourless.
  ['tag'],
  // Tenants (PVE TENANT_MAP) before the VMs and IPs that reference them.
  ['custom_field_choice_set', 'custom_field', 'cluster_type', 'platform', 'tenant'],
  ['cluster', 'device', 'vlan', 'virtual_machine', 'prefix'],
  ['vm_interface', 'interface', 'virtual_disk', 'inventory_item', 'service', 'journal_entry'],
  ['ip_address'],
];

const phaseOf = new Map<string, number>(DELIVERY_PHASES.flatMap((kinds, i) => kinds.map((k) => [k, i] as const)));

/** The delivery phase of a kind; kinds outside the table go with the components. */
export function deliveryPhase(kind: EntityKind): number {
  return phaseOf.get(kind) ?? 3;
}

/** Where a kind goes in what a run sends: its phase, then the emission order within it. */
export function deliveryRank(kind: EntityKind): number {
  return deliveryPhase(kind) * (EMISSION_ORDER.length + 1) + kindRank(kind);
}

export function kindRank(kind: EntityKind): number {
  return rank.get(kind) ?? EMISSION_ORDER.length;
}

/** Emission order of two entities given their kinds and natural keys. */
export function compareEmission(aKind: EntityKind, aKey: string, bKind: EntityKind, bKey: string): number {
  return kindRank(aKind) - kindRank(bKind) || (aKind < bKind ? -1 : aKind > bKind ? 1 : 0) || (aKey < bKey ? -1 : aKey > bKey ? 1 : 0);
}

/**
 * Sorts items that carry their kind and natural key into emission order: rank, then kind
 * name (for kinds outside the table), then key. Stable; a list already in order (what the
 * mappers return) is only checked, in one pass. Otherwise the items are split by kind (a
 * stable partition), each kind sorted by key alone (often only checked: a run's entities
 * come guest by guest, but each kind's nearly in key order) and the kinds put in order,
 * which is what a stable sort of the whole list by compareEmission gives, without comparing
 * ranks and kinds tens of thousands of times. The result is then a new array.
 */
export function sortByEmission<T extends { kind: EntityKind; key: string }>(items: T[]): T[] {
  if (inEmissionOrder(items)) return items;
  const byKind = new Map<EntityKind, T[]>();
  for (const x of items) {
    const list = byKind.get(x.kind);
    if (list) list.push(x);
    else byKind.set(x.kind, [x]);
  }
  const kinds = [...byKind.entries()].sort(([a], [b]) => compareEmission(a, '', b, ''));
  const out = new Array<T>(items.length);
  let i = 0;
  for (const [, list] of kinds) for (const x of sortedByKey(list)) out[i++] = x;
  return out;
}

function inEmissionOrder(items: ReadonlyArray<{ kind: EntityKind; key: string }>): boolean {
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1]!;
    const b = items[i]!;
    if (compareEmission(a.kind, a.key, b.kind, b.key) > 0) return false;
  }
  return true;
}

const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Items of one kind by key (stable); a list in order is only checked. */
function sortedByKey<T extends { key: string }>(list: T[]): T[] {
  for (let i = 1; i < list.length; i++) if (byKey(list[i - 1]!, list[i]!) > 0) return list.sort(byKey);
  return list;
}

/** Entities in emission order (keys computed once per entity). */
export function orderEntities(entities: readonly AnyEntity[]): AnyEntity[] {
  return sortByEmission(entities.map((e) => ({ e, kind: e.kind, key: naturalKey(e) }))).map((x) => x.e);
}
