import type {
  Cluster,
  ClusterType,
  CustomField,
  CustomFieldChoiceSet,
  CustomFieldValue,
  Device,
  DeviceRole,
  DeviceType,
  Interface,
  InventoryItemRole,
  IPAddress,
  Manufacturer,
  Platform,
  Site,
  Tag,
  Tenant,
  VirtualMachine,
  VLAN,
  VMInterface,
} from '../../proto/diode/v1/types.ts';
import { entity, type EntityOf } from '../types.ts';
import { slugify } from './slug.ts';

/*
 * One helper per kind of nested reference. Today's Diode turns every nested reference into
 * its own object, matches it against NetBox with that type's matcher and, when nothing
 * matches, *creates* it from the fields the reference carries: there are no placeholder
 * objects any more (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/transformer.py
 * `transform_proto_json`, matcher.py `find_existing_object`). So every reference carries
 * what NetBox needs to create its object and what the matcher needs to find the full
 * entity, and every entity that points at an object builds the reference here, so the
 * same object is always the same reference (the identities are listed in README.md "What lands in NetBox").
 */

/** Tags match on slug (matcher.py, extras.tag unique slug); name and slug create it. */
export function tagRef(name: string): Tag {
  return { name, slug: slugify(name) };
}

/** A Tag entity: the reference plus its color (6 hex digits, no '#'). */
export function tagEntity(name: string, color?: string): EntityOf<'tag'> {
  return entity('tag', { ...tagRef(name), ...(color !== undefined && { color }) });
}

/** Sites match on name or slug (both unique in dcim.Site); the agent never emits a Site entity. */
export function siteRef(name: string): Site {
  return { name, slug: slugify(name) };
}

export function manufacturerRef(name: string): Manufacturer {
  return { name, slug: slugify(name) };
}

/** What a device of one kind is: its model (with manufacturer) and role. */
export interface DeviceKind {
  model: string;
  manufacturer: string;
  role: string;
}

/** DeviceType requires manufacturer and model (dcim.DeviceType); it matches on (manufacturer, model). */
export function deviceTypeRef(kind: Pick<DeviceKind, 'model' | 'manufacturer'>): DeviceType {
  return { model: kind.model, slug: slugify(kind.model), manufacturer: manufacturerRef(kind.manufacturer) };
}

export function deviceRoleRef(name: string): DeviceRole {
  return { name, slug: slugify(name) };
}

export function inventoryItemRoleRef(name: string): InventoryItemRole {
  return { name, slug: slugify(name) };
}

export function platformRef(name: string): Platform {
  return { name, slug: slugify(name) };
}

export function clusterTypeRef(name: string): ClusterType {
  return { name, slug: slugify(name) };
}

/** `map[key]`, else `fallback`: the site NODE_SITE_MAP, REMOTE_SITE_MAP or CLUSTER_SITE_MAP gives a key. */
export function siteFrom(map: Readonly<Record<string, string>>, key: string, fallback: string): string {
  return Object.hasOwn(map, key) ? (map[key] ?? fallback) : fallback;
}

/** A cluster's identity: name and type, plus the site it is scoped to, if any. */
export interface ClusterIdentity {
  name: string;
  type: string;
  /** scope_site; absent for a cluster with no scope (Ceph). */
  site?: string;
}

/**
 * A cluster matches on (name, scope) when the payload has a scope, else only a cluster
 * with no scope and no group (netbox_diode_plugin/api/matcher.py, virtualization.cluster
 * criteria): a reference without the scope its entity has would create a second cluster.
 * Cluster requires a type (virtualization.Cluster.type).
 */
export function clusterRef(c: ClusterIdentity): Cluster {
  return { name: c.name, type: clusterTypeRef(c.type), ...(c.site !== undefined && { scope_site: siteRef(c.site) }) };
}

/**
 * Device requires device_type, role and site (dcim.Device); it matches on (name, site)
 * (matcher.py, dcim.device criteria). The reference carries all four, so whichever entity
 * of a host arrives first creates the same device.
 */
export function deviceRef(name: string, site: string, kind: DeviceKind): Device {
  return { name, site: siteRef(site), device_type: deviceTypeRef(kind), role: deviceRoleRef(kind.role) };
}

/**
 * Tenant requires name and slug; without a group it matches on name, then slug (NetBox's
 * unique constraints `tenancy_tenant_unique_name` / `_unique_slug` where group is null,
 * netbox-community/netbox netbox/tenancy/models/tenants.py, which the plugin's matcher uses
 * as it has no logical tenant criteria: netboxlabs/diode-netbox-plugin
 * netbox_diode_plugin/api/matcher.py `get_model_matchers`).
 */
export function tenantRef(name: string): Tenant {
  return { name, slug: slugify(name) };
}

/**
 * A VM matches on (name, cluster) (matcher.py, virtualization.virtualmachine criteria). Its
 * site must be the cluster's scope site (virtualization.VirtualMachine.clean), so the
 * reference carries that site too when the cluster has one. NetBox's constraints are
 * (Lower(name), cluster, tenant) and (Lower(name), cluster) only where tenant is null
 * (netbox-community/netbox netbox/virtualization/models/virtualmachines.py), and the matcher
 * checks those conditions on the rows: a reference to a VM that has a tenant must carry it,
 * or it finds nothing and creates a second VM.
 */
export function vmRef(name: string, cluster: Cluster, tenant?: Tenant): VirtualMachine {
  return { name, cluster, ...(cluster.scope_site !== undefined && { site: cluster.scope_site }), ...(tenant !== undefined && { tenant }) };
}

/** Interface requires a type (dcim.Interface.type); it matches on (device, name). */
export function interfaceRef(device: Device, name: string, type: string): Interface {
  return { device, name, type };
}

/** VMInterface matches on (virtual_machine, name) and needs nothing else. */
export function vmInterfaceRef(vm: VirtualMachine, name: string): VMInterface {
  return { virtual_machine: vm, name };
}

export function vlanName(vid: number): string {
  return `VLAN ${vid}`;
}

/** VLAN requires vid and name; identity is (vid, site); the name is derived, so every reference carries it. */
export function vlanRef(vid: number, site: Site): VLAN {
  return { vid, name: vlanName(vid), site };
}

/** An IP address as a primary_ip4/6 value; Diode matches it on its host part (matcher.py, ipam.ipaddress). */
export function ipRef(address: string): IPAddress {
  return { address };
}

function isEmptyJson(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/*
 * A JSON value as the plugin stores it when it creates the object: clean_diff_data drops
 * null, "", [] and {} members of objects, recursively (not inside lists), from a create only
 * (netbox_diode_plugin/api/differ.py). Sending that form makes the create and every later
 * update agree, so an unchanged value is no change.
 */
function createStable(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const stable = createStable(v);
    if (!isEmptyJson(stable)) out[k] = stable;
  }
  return out;
}

/** Custom field values in the shapes the plugin reads them (netbox_diode_plugin/api/common.py). */
export const cf = {
  text: (text: string): CustomFieldValue => ({ text }),
  integer: (integer: number): CustomFieldValue => ({ integer }),
  decimal: (decimal: number): CustomFieldValue => ({ decimal }),
  /*
   * An empty list or object is sent as JSON null: the plugin drops empty values from a
   * create and writes them on the next update (netbox_diode_plugin/api/differ.py
   * `clean_diff_data`, kept only for updates), so "[]" would change the object on the second
   * run; null is dropped on create and clears a value on update, the same state both ways.
   */
  json: (value: unknown): CustomFieldValue => {
    const stable = createStable(value);
    return { json: isEmptyJson(stable) ? 'null' : JSON.stringify(stable) };
  },
  boolean: (boolean: boolean): CustomFieldValue => ({ boolean }),
  multiple: (multiple_selection: string[]): CustomFieldValue => ({ multiple_selection }),
  datetime: (d: Date): CustomFieldValue => ({ datetime: { seconds: Math.floor(d.getTime() / 1000), nanos: 0 } }),
};

/** A custom field definition as each collector declares it. */
export type CustomFieldDef = {
  name: string;
  label: string;
  type: NonNullable<CustomField['type']>;
  object_types: readonly string[];
  description: string;
  /** Name of the choice set of a select or multiselect field. */
  choice_set?: string;
};

/**
 * CustomField entities for a collector's definitions. `hidden`: not offered for editing,
 * as the next run would overwrite an edit (the seed's seven PVE fields keep NetBox's default).
 */
export function customFieldEntities(
  defs: readonly CustomFieldDef[],
  group: string,
  opts: { hidden?: boolean; choiceSets?: readonly CustomFieldChoiceSet[] } = {},
): EntityOf<'custom_field'>[] {
  // A field's choice set reference is the whole choice set: applied before the choice set's
  // own entity, the field creates it, and NetBox refuses a choice set without choices.
  const sets = new Map((opts.choiceSets ?? []).map((c) => [c.name, c]));
  return defs.map((f) =>
    entity('custom_field', {
      name: f.name,
      label: f.label,
      type: f.type,
      description: f.description,
      object_types: [...f.object_types],
      group_name: group,
      ...(opts.hidden === true && { ui_editable: 'hidden' as const }),
      ...(f.choice_set !== undefined && { choice_set: sets.get(f.choice_set) ?? { name: f.choice_set } }),
    }),
  );
}
