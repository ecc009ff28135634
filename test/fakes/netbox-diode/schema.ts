/*
 * The slice of NetBox (>= 4.3) and of the Diode plugin's per-type tables that the model needs:
 * which Diode entity member is which NetBox object type, its fields, references, defaults,
 * required fields and matchers. Upstream abbreviations used in the citations:
 *   P = netboxlabs/diode-netbox-plugin `netbox_diode_plugin/api/`
 *   N = netbox-community/netbox `netbox/`
 */
import choicesJson from './choices.json' with { type: 'json' };

/** A reference field of an entity (P plugin_utils.py `_JSON_REF_INFO` / `RefInfo`). */
export interface RefSpec {
  /** Field name in the Diode entity (snake_case). */
  json: string;
  /** NetBox object type it points at. */
  type: string;
  /** Model field it lands in; a generic one becomes `<field>_type` + `<field>_id`. */
  field: string;
  generic?: boolean;
  many?: boolean;
  /**
   * Assigned in a deferred "post-create" update once both objects exist
   * (P transformer.py `_IS_CIRCULAR_REFERENCE`).
   */
  circular?: boolean;
}

/** Condition of a matcher (a Django Q of `<field>__isnull`). */
export interface Condition {
  null?: string[];
  notNull?: string[];
}

/**
 * One matcher (P matcher.py): `ObjectMatchCriteria` over fields (logical criteria and NetBox
 * unique constraints), `GlobalIPNetworkIPMatcher` (host part of an address) or
 * `AutoSlugMatcher`. Unique custom field matchers are added per model at match time.
 */
export type MatcherSpec =
  | {
      kind: 'fields';
      name: string;
      fields: string[];
      /** Fields compared case-insensitively (a `Lower(...)` expression in the constraint). */
      lower?: string[];
      cond?: Condition;
      /**
       * Whether the condition is also checked on the DATA. `_build_fields_queryset` does
       * (`_check_condition(data)`); `_build_expressions_queryset` only filters the rows.
       */
      condOnData: boolean;
      /** A NetBox DB unique constraint (enforced again on save), not only a logical criterion. */
      db?: boolean;
    }
  | { kind: 'ip-host'; name: string; field: string }
  | { kind: 'autoslug'; name: string; field: string };

export interface TypeSpec {
  /** NetBox object type, e.g. `dcim.device`. */
  type: string;
  /** Diode Entity oneof member, e.g. `device`. */
  member: string;
  /**
   * Scalar (non-reference) fields the model knows, as P plugin_utils.py `_LEGAL_FIELDS` limited
   * to fields NetBox 4.3+ still has (P transformer.py `_supported_diode_fields`): e.g. the
   * pre-4.2 Interface/VMInterface `mac_address` is reported as a warning, not applied.
   */
  fields: string[];
  refs: RefSpec[];
  /** Scalar fields NetBox requires (`blank=False`): clean_fields says "This field cannot be blank.". */
  required?: string[];
  /** Required non-null FKs, reported at plan time as "Field X is required" (P common.py `_validate_relations`). */
  requiredRefs?: string[];
  /** Model field defaults (Django `default=`), applied by P transformer.py `_set_defaults`. */
  defaults?: Record<string, unknown>;
  /** The SlugField, filled from the primary value when absent (P transformer.py `_set_auto_slugs`). */
  slug?: string;
  /** P plugin_utils.py `_OBJECT_TYPE_PRIMARY_VALUE_FIELD_MAP` (default `name`). */
  primary?: string;
  /** In upstream order: logical matchers, unique fields, unique constraints, autoslug. */
  matchers: MatcherSpec[];
  /** P matcher.py `_REQUIRES_PRE_SAVE_MATCH` (find-and-update before a CREATE inserts). */
  preSaveMatch?: boolean;
  /** P applier.py `_is_auto_created_component` (same find-first path). */
  autoCreatedComponent?: boolean;
  /** Has `custom_fields` (CustomFieldsMixin) and `tags` (TaggableModel). */
  customFields?: boolean;
  tags?: boolean;
}

const CHOICES = choicesJson.choices as Record<string, Record<string, string[]>>;

/** NetBox ChoiceSet values for `<Message>.<field>` (see choices.json for the source). */
export function choicesFor(message: string, field: string): readonly string[] | undefined {
  return CHOICES[message]?.[field];
}

/** Diode member -> NetBox object type for the kinds the model knows. */
export const memberTypes: Record<string, string> = {
  tag: 'extras.tag',
  custom_field: 'extras.customfield',
  custom_field_choice_set: 'extras.customfieldchoiceset',
  cluster_type: 'virtualization.clustertype',
  cluster_group: 'virtualization.clustergroup',
  cluster: 'virtualization.cluster',
  platform: 'dcim.platform',
  vlan: 'ipam.vlan',
  vm_interface: 'virtualization.vminterface',
  interface: 'dcim.interface',
  ip_address: 'ipam.ipaddress',
  prefix: 'ipam.prefix',
  virtual_machine: 'virtualization.virtualmachine',
  virtual_disk: 'virtualization.virtualdisk',
  device: 'dcim.device',
  inventory_item: 'dcim.inventoryitem',
  service: 'ipam.service',
  journal_entry: 'extras.journalentry',
  site: 'dcim.site',
  manufacturer: 'dcim.manufacturer',
  device_type: 'dcim.devicetype',
  device_role: 'dcim.devicerole',
  inventory_item_role: 'dcim.inventoryitemrole',
  mac_address: 'dcim.macaddress',
  tenant: 'tenancy.tenant',
};

const tags: RefSpec = { json: 'tags', type: 'extras.tag', field: 'tags', many: true };
const tenant: RefSpec = { json: 'tenant', type: 'tenancy.tenant', field: 'tenant' };
const scopeSite: RefSpec = { json: 'scope_site', type: 'dcim.site', field: 'scope', generic: true };

const uniq = (field: string): MatcherSpec => ({ kind: 'fields', name: `unique_${field}`, fields: [field], condOnData: true, db: true });
const autoslug: MatcherSpec = { kind: 'autoslug', name: 'unique_autoslug_slug', field: 'slug' };

/** OrganizationalModel: unique name and slug (N netbox/models/__init__.py `OrganizationalModel`). */
function organizational(type: string, member: string, extra: Partial<TypeSpec> = {}): TypeSpec {
  return {
    type,
    member,
    fields: ['name', 'slug', 'description', 'comments', ...(extra.fields ?? [])],
    refs: [tags, ...(extra.refs ?? [])],
    required: ['name', 'slug'],
    slug: 'slug',
    matchers: [uniq('name'), uniq('slug'), autoslug],
    customFields: true,
    tags: true,
    ...(extra.defaults ? { defaults: extra.defaults } : {}),
  };
}

/**
 * Nested models since N 4.3 (DeviceRole, Platform): the plugin matches name / slug among
 * top-level rows (P matcher.py `_LOGICAL_MATCHERS['dcim.devicerole']`); the model treats the
 * same criteria as NetBox's top-level uniqueness.
 */
function nested(type: string, member: string, extra: Partial<TypeSpec>): TypeSpec {
  return {
    type,
    member,
    fields: ['name', 'slug', 'description', 'comments', ...(extra.fields ?? [])],
    refs: [tags, ...(extra.refs ?? [])],
    required: ['name', 'slug'],
    slug: 'slug',
    matchers: [
      { kind: 'fields', name: `logical_${member}_name_no_parent`, fields: ['name'], cond: { null: ['parent'] }, condOnData: true, db: true },
      { kind: 'fields', name: `logical_${member}_slug_no_parent`, fields: ['slug'], cond: { null: ['parent'] }, condOnData: true, db: true },
      autoslug,
    ],
    customFields: true,
    tags: true,
    ...(extra.defaults ? { defaults: extra.defaults } : {}),
  };
}

const SPECS: TypeSpec[] = [
  {
    // N extras/models/tags.py Tag: name/slug unique, color default 9e9e9e.
    type: 'extras.tag',
    member: 'tag',
    fields: ['name', 'slug', 'color', 'description', 'weight', 'object_types'],
    refs: [],
    required: ['name', 'slug'],
    slug: 'slug',
    defaults: { color: '9e9e9e', weight: 1000 },
    matchers: [uniq('name'), uniq('slug'), autoslug],
  },
  {
    // N extras/models/customfields.py CustomFieldChoiceSet: name unique.
    type: 'extras.customfieldchoiceset',
    member: 'custom_field_choice_set',
    fields: ['name', 'description', 'base_choices', 'extra_choices', 'order_alphabetically'],
    refs: [],
    required: ['name'],
    defaults: { order_alphabetically: false },
    matchers: [uniq('name')],
  },
  {
    // N extras/models/customfields.py CustomField: name unique; defaults from its fields.
    type: 'extras.customfield',
    member: 'custom_field',
    fields: [
      'type',
      'name',
      'label',
      'group_name',
      'description',
      'required',
      'unique',
      'search_weight',
      'filter_logic',
      'ui_visible',
      'ui_editable',
      'is_cloneable',
      'default',
      'weight',
      'validation_minimum',
      'validation_maximum',
      'validation_regex',
      'comments',
      'object_types',
      'related_object_type',
    ],
    refs: [{ json: 'choice_set', type: 'extras.customfieldchoiceset', field: 'choice_set' }],
    required: ['name', 'type'],
    defaults: {
      type: 'text',
      required: false,
      unique: false,
      search_weight: 1000,
      filter_logic: 'loose',
      ui_visible: 'always',
      ui_editable: 'yes',
      is_cloneable: false,
      weight: 100,
    },
    matchers: [uniq('name')],
  },
  organizational('virtualization.clustertype', 'cluster_type'),
  organizational('virtualization.clustergroup', 'cluster_group'),
  organizational('dcim.manufacturer', 'manufacturer'),
  {
    // N tenancy/models/tenants.py Tenant: name and slug required; unique (group, name),
    // (name) where group is null, (group, slug), (slug) where group is null; name and slug
    // case-insensitive (db_collation ci_natural_sort / case_insensitive). The plugin has no
    // logical tenant criteria, so these constraints match (P matcher.py `get_model_matchers`).
    // Tenant groups are not modelled: an entity's group is always null.
    type: 'tenancy.tenant',
    member: 'tenant',
    fields: ['name', 'slug', 'description', 'comments'],
    refs: [tags],
    required: ['name', 'slug'],
    slug: 'slug',
    matchers: [
      { kind: 'fields', name: 'tenancy_tenant_unique_name', fields: ['name'], lower: ['name'], cond: { null: ['group'] }, condOnData: true, db: true },
      { kind: 'fields', name: 'tenancy_tenant_unique_slug', fields: ['slug'], lower: ['slug'], cond: { null: ['group'] }, condOnData: true, db: true },
      autoslug,
    ],
    customFields: true,
    tags: true,
  },
  organizational('dcim.inventoryitemrole', 'inventory_item_role', { fields: ['color'], defaults: { color: '9e9e9e' } }),
  nested('dcim.devicerole', 'device_role', { fields: ['color', 'vm_role'], defaults: { color: '9e9e9e', vm_role: true } }),
  nested('dcim.platform', 'platform', { refs: [{ json: 'manufacturer', type: 'dcim.manufacturer', field: 'manufacturer' }] }),
  {
    // N dcim/models/sites.py Site: name/slug unique, status default active.
    type: 'dcim.site',
    member: 'site',
    fields: ['name', 'slug', 'status', 'facility', 'time_zone', 'description', 'physical_address', 'shipping_address', 'latitude', 'longitude', 'comments'],
    refs: [tenant, tags],
    required: ['name', 'slug'],
    slug: 'slug',
    defaults: { status: 'active' },
    matchers: [uniq('name'), uniq('slug'), autoslug],
    customFields: true,
    tags: true,
  },
  {
    // N dcim/models/devices.py DeviceType: manufacturer + model required; unique (manufacturer, model)
    // and (manufacturer, slug); u_height 1.0 and is_full_depth true by default.
    type: 'dcim.devicetype',
    member: 'device_type',
    primary: 'model',
    fields: [
      'model',
      'slug',
      'part_number',
      'u_height',
      'exclude_from_utilization',
      'is_full_depth',
      'subdevice_role',
      'airflow',
      'weight',
      'weight_unit',
      'description',
      'comments',
    ],
    refs: [
      { json: 'manufacturer', type: 'dcim.manufacturer', field: 'manufacturer' },
      { json: 'default_platform', type: 'dcim.platform', field: 'default_platform' },
      tags,
    ],
    required: ['model', 'slug'],
    requiredRefs: ['manufacturer'],
    slug: 'slug',
    defaults: { u_height: 1, exclude_from_utilization: false, is_full_depth: true },
    matchers: [
      { kind: 'fields', name: 'dcim_devicetype_unique_manufacturer_model', fields: ['manufacturer', 'model'], condOnData: true, db: true },
      { kind: 'fields', name: 'dcim_devicetype_unique_manufacturer_slug', fields: ['manufacturer', 'slug'], condOnData: true, db: true },
      autoslug,
    ],
    customFields: true,
    tags: true,
  },
  {
    // N dcim/models/devices.py Device: device_type, role and site required; constraints
    // (Lower(name), site, tenant) and (Lower(name), site) where tenant is null.
    type: 'dcim.device',
    member: 'device',
    fields: [
      'name',
      'serial',
      'asset_tag',
      'position',
      'face',
      'latitude',
      'longitude',
      'status',
      'airflow',
      'vc_position',
      'vc_priority',
      'description',
      'comments',
    ],
    refs: [
      { json: 'device_type', type: 'dcim.devicetype', field: 'device_type' },
      { json: 'role', type: 'dcim.devicerole', field: 'role' },
      tenant,
      { json: 'platform', type: 'dcim.platform', field: 'platform' },
      { json: 'site', type: 'dcim.site', field: 'site' },
      { json: 'cluster', type: 'virtualization.cluster', field: 'cluster' },
      { json: 'primary_ip4', type: 'ipam.ipaddress', field: 'primary_ip4', circular: true },
      { json: 'primary_ip6', type: 'ipam.ipaddress', field: 'primary_ip6', circular: true },
      { json: 'oob_ip', type: 'ipam.ipaddress', field: 'oob_ip', circular: true },
      tags,
    ],
    requiredRefs: ['device_type', 'role', 'site'],
    defaults: { status: 'active' },
    matchers: [
      uniq('asset_tag'),
      { kind: 'fields', name: 'dcim_device_unique_name_site_tenant', fields: ['name', 'site', 'tenant'], lower: ['name'], condOnData: false, db: true },
      {
        kind: 'fields',
        name: 'dcim_device_unique_name_site',
        fields: ['name', 'site'],
        lower: ['name'],
        cond: { null: ['tenant'] },
        condOnData: false,
        db: true,
      },
    ],
    customFields: true,
    tags: true,
  },
  {
    // N virtualization/models/clusters.py Cluster: type required; constraints (group, name),
    // (_site, name). P matcher.py `_LOGICAL_MATCHERS['virtualization.cluster']`.
    type: 'virtualization.cluster',
    member: 'cluster',
    fields: ['name', 'status', 'description', 'comments'],
    refs: [
      { json: 'type', type: 'virtualization.clustertype', field: 'type' },
      { json: 'group', type: 'virtualization.clustergroup', field: 'group' },
      tenant,
      scopeSite,
      tags,
    ],
    required: ['name'],
    requiredRefs: ['type'],
    defaults: { status: 'active' },
    matchers: [
      { kind: 'fields', name: 'logical_cluster_within_scope', fields: ['name', 'scope_type', 'scope_id'], cond: { notNull: ['scope_type'] }, condOnData: true },
      { kind: 'fields', name: 'logical_cluster_with_no_scope_or_group', fields: ['name'], cond: { null: ['scope_type', 'group'] }, condOnData: true },
      { kind: 'fields', name: 'virtualization_cluster_unique_group_name', fields: ['group', 'name'], condOnData: true, db: true },
      { kind: 'fields', name: 'virtualization_cluster_unique__site_name', fields: ['_site', 'name'], condOnData: true, db: true },
    ],
    preSaveMatch: true,
    customFields: true,
    tags: true,
  },
  {
    // N ipam/models/vlans.py VLAN: vid + name required; constraints (group, vid), (group, name).
    type: 'ipam.vlan',
    member: 'vlan',
    fields: ['vid', 'name', 'status', 'qinq_role', 'description', 'comments'],
    refs: [
      { json: 'site', type: 'dcim.site', field: 'site' },
      { json: 'group', type: 'ipam.vlangroup', field: 'group' },
      tenant,
      { json: 'qinq_svlan', type: 'ipam.vlan', field: 'qinq_svlan' },
      tags,
    ],
    required: ['vid', 'name'],
    defaults: { status: 'active' },
    matchers: [
      {
        kind: 'fields',
        name: 'logical_vlan_vid_no_group_or_svlan_or_site',
        fields: ['vid'],
        cond: { null: ['group', 'qinq_svlan', 'site'] },
        condOnData: true,
      },
      { kind: 'fields', name: 'logical_vlan_in_site', fields: ['vid', 'site'], cond: { null: ['group', 'qinq_svlan'], notNull: ['site'] }, condOnData: true },
      { kind: 'fields', name: 'ipam_vlan_unique_group_vid', fields: ['group', 'vid'], condOnData: true, db: true },
      { kind: 'fields', name: 'ipam_vlan_unique_group_name', fields: ['group', 'name'], condOnData: true, db: true },
    ],
    preSaveMatch: true,
    customFields: true,
    tags: true,
  },
  {
    // N dcim/models/device_components.py MACAddress (4.2+): no unique constraint; P matcher.py
    // `logical_mac_address_within_parent`.
    type: 'dcim.macaddress',
    member: 'mac_address',
    fields: ['mac_address', 'description', 'comments', 'assigned_object_type', 'assigned_object_id'],
    refs: [tags],
    required: ['mac_address'],
    matchers: [
      { kind: 'fields', name: 'logical_mac_address_within_parent', fields: ['mac_address', 'assigned_object_type', 'assigned_object_id'], condOnData: true },
    ],
    preSaveMatch: true,
    customFields: true,
    tags: true,
  },
  {
    // N virtualization/models/virtualmachines.py VMInterface: (virtual_machine, name) unique.
    type: 'virtualization.vminterface',
    member: 'vm_interface',
    fields: ['name', 'enabled', 'mtu', 'description', 'mode'],
    refs: [
      { json: 'virtual_machine', type: 'virtualization.virtualmachine', field: 'virtual_machine' },
      { json: 'parent', type: 'virtualization.vminterface', field: 'parent' },
      { json: 'bridge', type: 'virtualization.vminterface', field: 'bridge' },
      { json: 'primary_mac_address', type: 'dcim.macaddress', field: 'primary_mac_address', circular: true },
      { json: 'untagged_vlan', type: 'ipam.vlan', field: 'untagged_vlan' },
      { json: 'tagged_vlans', type: 'ipam.vlan', field: 'tagged_vlans', many: true },
      tags,
    ],
    required: ['name'],
    requiredRefs: ['virtual_machine'],
    defaults: { enabled: true },
    matchers: [
      { kind: 'fields', name: 'virtualization_vminterface_unique_virtual_machine_name', fields: ['virtual_machine', 'name'], condOnData: true, db: true },
    ],
    customFields: true,
    tags: true,
  },
  {
    // N dcim/models/device_components.py Interface: device, name and type required;
    // (device, name) unique. An auto-created component in P applier.py.
    type: 'dcim.interface',
    member: 'interface',
    fields: ['name', 'label', 'type', 'enabled', 'mtu', 'speed', 'duplex', 'wwn', 'mgmt_only', 'description', 'mode', 'mark_connected'],
    refs: [
      { json: 'device', type: 'dcim.device', field: 'device' },
      { json: 'parent', type: 'dcim.interface', field: 'parent' },
      { json: 'bridge', type: 'dcim.interface', field: 'bridge' },
      { json: 'lag', type: 'dcim.interface', field: 'lag' },
      { json: 'primary_mac_address', type: 'dcim.macaddress', field: 'primary_mac_address', circular: true },
      { json: 'untagged_vlan', type: 'ipam.vlan', field: 'untagged_vlan' },
      { json: 'tagged_vlans', type: 'ipam.vlan', field: 'tagged_vlans', many: true },
      tags,
    ],
    required: ['name', 'type'],
    requiredRefs: ['device'],
    defaults: { enabled: true, mgmt_only: false, mark_connected: false },
    matchers: [{ kind: 'fields', name: 'dcim_interface_unique_device_name', fields: ['device', 'name'], condOnData: true, db: true }],
    autoCreatedComponent: true,
    customFields: true,
    tags: true,
  },
  {
    // N ipam/models/ip.py IPAddress: address required; no DB uniqueness (duplicates are a
    // clean() error under ENFORCE_GLOBAL_UNIQUE). P matcher.py `GlobalIPNetworkIPMatcher`.
    type: 'ipam.ipaddress',
    member: 'ip_address',
    primary: 'address',
    fields: ['address', 'status', 'role', 'dns_name', 'description', 'comments'],
    refs: [
      { json: 'assigned_object_interface', type: 'dcim.interface', field: 'assigned_object', generic: true },
      { json: 'assigned_object_vm_interface', type: 'virtualization.vminterface', field: 'assigned_object', generic: true },
      { json: 'nat_inside', type: 'ipam.ipaddress', field: 'nat_inside' },
      { json: 'vrf', type: 'ipam.vrf', field: 'vrf' },
      tenant,
      tags,
    ],
    required: ['address'],
    defaults: { status: 'active' },
    matchers: [{ kind: 'ip-host', name: 'logical_ip_address_global_no_vrf', field: 'address' }],
    customFields: true,
    tags: true,
  },
  {
    // N ipam/models/ip.py Prefix: no unique constraint at all (P matcher.py comment on
    // `_REQUIRES_PRE_SAVE_MATCH`); matched on the network alone, scope ignored.
    type: 'ipam.prefix',
    member: 'prefix',
    primary: 'prefix',
    fields: ['prefix', 'status', 'is_pool', 'mark_utilized', 'description', 'comments'],
    refs: [scopeSite, { json: 'vlan', type: 'ipam.vlan', field: 'vlan' }, { json: 'vrf', type: 'ipam.vrf', field: 'vrf' }, tenant, tags],
    required: ['prefix'],
    defaults: { status: 'active', is_pool: false, mark_utilized: false },
    matchers: [{ kind: 'fields', name: 'logical_prefix_global_no_vrf', fields: ['prefix'], cond: { null: ['vrf'] }, condOnData: true }],
    preSaveMatch: true,
    customFields: true,
    tags: true,
  },
  {
    // N virtualization/models/virtualmachines.py VirtualMachine: constraints on (Lower(name),
    // cluster[, tenant]) and (Lower(name), device[, tenant]) when unclustered; P matcher.py
    // `logical_virtual_machine_name_no_cluster`.
    type: 'virtualization.virtualmachine',
    member: 'virtual_machine',
    fields: ['name', 'status', 'start_on_boot', 'serial', 'vcpus', 'memory', 'disk', 'description', 'comments'],
    refs: [
      { json: 'site', type: 'dcim.site', field: 'site' },
      { json: 'cluster', type: 'virtualization.cluster', field: 'cluster' },
      { json: 'device', type: 'dcim.device', field: 'device' },
      { json: 'role', type: 'dcim.devicerole', field: 'role' },
      tenant,
      { json: 'platform', type: 'dcim.platform', field: 'platform' },
      { json: 'primary_ip4', type: 'ipam.ipaddress', field: 'primary_ip4', circular: true },
      { json: 'primary_ip6', type: 'ipam.ipaddress', field: 'primary_ip6', circular: true },
      tags,
    ],
    required: ['name'],
    defaults: { status: 'active', start_on_boot: 'off' },
    matchers: [
      { kind: 'fields', name: 'logical_virtual_machine_name_no_cluster', fields: ['name'], cond: { null: ['cluster'] }, condOnData: true },
      {
        kind: 'fields',
        name: 'virtualization_virtualmachine_unique_name_cluster_tenant',
        fields: ['name', 'cluster', 'tenant'],
        lower: ['name'],
        condOnData: false,
        db: true,
      },
      {
        kind: 'fields',
        name: 'virtualization_virtualmachine_unique_name_cluster',
        fields: ['name', 'cluster'],
        lower: ['name'],
        cond: { null: ['tenant'] },
        condOnData: false,
        db: true,
      },
      {
        kind: 'fields',
        name: 'virtualization_virtualmachine_unique_name_device_tenant',
        fields: ['name', 'device', 'tenant'],
        lower: ['name'],
        cond: { null: ['cluster'], notNull: ['device'] },
        condOnData: false,
        db: true,
      },
      {
        kind: 'fields',
        name: 'virtualization_virtualmachine_unique_name_device',
        fields: ['name', 'device'],
        lower: ['name'],
        cond: { null: ['cluster', 'tenant'], notNull: ['device'] },
        condOnData: false,
        db: true,
      },
    ],
    preSaveMatch: true,
    customFields: true,
    tags: true,
  },
  {
    // N virtualization/models/virtualmachines.py VirtualDisk: size required, (vm, name) unique.
    type: 'virtualization.virtualdisk',
    member: 'virtual_disk',
    fields: ['name', 'size', 'description'],
    refs: [{ json: 'virtual_machine', type: 'virtualization.virtualmachine', field: 'virtual_machine' }, tags],
    required: ['name', 'size'],
    requiredRefs: ['virtual_machine'],
    matchers: [
      { kind: 'fields', name: 'virtualization_virtualdisk_unique_virtual_machine_name', fields: ['virtual_machine', 'name'], condOnData: true, db: true },
    ],
    customFields: true,
    tags: true,
  },
  {
    // N dcim/models/device_components.py InventoryItem: device + name; P matcher.py
    // `logical_inventory_item_name_on_device_no_parent`; an auto-created component.
    type: 'dcim.inventoryitem',
    member: 'inventory_item',
    fields: ['name', 'label', 'status', 'part_id', 'serial', 'asset_tag', 'discovered', 'description'],
    refs: [
      { json: 'device', type: 'dcim.device', field: 'device' },
      { json: 'parent', type: 'dcim.inventoryitem', field: 'parent' },
      { json: 'role', type: 'dcim.inventoryitemrole', field: 'role' },
      { json: 'manufacturer', type: 'dcim.manufacturer', field: 'manufacturer' },
      tags,
    ],
    required: ['name'],
    requiredRefs: ['device'],
    defaults: { status: 'active', discovered: false },
    matchers: [
      { kind: 'fields', name: 'logical_inventory_item_name_on_device_no_parent', fields: ['name', 'device'], cond: { null: ['parent'] }, condOnData: true },
      uniq('asset_tag'),
      { kind: 'fields', name: 'dcim_inventoryitem_unique_device_parent_name', fields: ['device', 'parent', 'name'], condOnData: true, db: true },
    ],
    autoCreatedComponent: true,
    customFields: true,
    tags: true,
  },
  {
    // N ipam/models/services.py Service (4.3+): parent_object generic FK (required);
    // P matcher.py `logical_service_name_on_parent` (min_version 4.3.0). The pre-4.3
    // `device` / `virtual_machine` fields are not model fields any more, so the plugin
    // drops them with "Ignored unsupported field." (P transformer.py `is_supported`).
    type: 'ipam.service',
    member: 'service',
    fields: ['name', 'protocol', 'ports', 'description', 'comments'],
    refs: [
      { json: 'parent_object_device', type: 'dcim.device', field: 'parent_object', generic: true },
      { json: 'parent_object_virtual_machine', type: 'virtualization.virtualmachine', field: 'parent_object', generic: true },
      { json: 'ipaddresses', type: 'ipam.ipaddress', field: 'ipaddresses', many: true },
      tags,
    ],
    required: ['name', 'protocol', 'ports'],
    requiredRefs: ['parent_object_type'],
    matchers: [
      {
        kind: 'fields',
        name: 'logical_service_name_on_parent',
        fields: ['name', 'parent_object_type', 'parent_object_id'],
        cond: { notNull: ['parent_object_type'] },
        condOnData: true,
      },
    ],
    customFields: true,
    tags: true,
  },
  {
    // N extras/models/models.py JournalEntry: assigned_object + comments required, kind
    // default info; P matcher.py `logical_journal_entry_assigned_object_comments`.
    type: 'extras.journalentry',
    member: 'journal_entry',
    fields: ['comments', 'kind'],
    refs: [
      ...(['device', 'virtual_machine', 'cluster', 'site', 'interface', 'vm_interface', 'ip_address', 'prefix', 'inventory_item', 'service'] as const).map(
        (m): RefSpec => ({ json: `assigned_object_${m}`, type: memberTypes[m] ?? m, field: 'assigned_object', generic: true }),
      ),
      tags,
    ],
    required: ['comments'],
    requiredRefs: ['assigned_object_type'],
    defaults: { kind: 'info' },
    matchers: [
      {
        kind: 'fields',
        name: 'logical_journal_entry_assigned_object_comments',
        fields: ['assigned_object_id', 'assigned_object_type', 'comments'],
        condOnData: true,
      },
    ],
    customFields: true,
    tags: true,
  },
];

const BY_TYPE = new Map(SPECS.map((s) => [s.type, s]));

export function specOf(type: string): TypeSpec | undefined {
  return BY_TYPE.get(type);
}

/** Accepts a NetBox object type (`dcim.site`) or a Diode member (`site`). */
export function resolveType(typeOrMember: string): string {
  return typeOrMember.includes('.') ? typeOrMember : (memberTypes[typeOrMember] ?? typeOrMember);
}

/** Proto message name of a type (for choices.json), e.g. `virtualization.vminterface` -> VMInterface. */
export const messageNames: Record<string, string> = {
  'dcim.site': 'Site',
  'dcim.device': 'Device',
  'virtualization.virtualmachine': 'VirtualMachine',
  'virtualization.cluster': 'Cluster',
  'dcim.interface': 'Interface',
  'virtualization.vminterface': 'VMInterface',
  'ipam.ipaddress': 'IPAddress',
  'ipam.prefix': 'Prefix',
  'ipam.vlan': 'VLAN',
  'dcim.inventoryitem': 'InventoryItem',
  'ipam.service': 'Service',
  'extras.journalentry': 'JournalEntry',
  'extras.customfield': 'CustomField',
  'dcim.devicetype': 'DeviceType',
};

/** NetBox's slugify (django.utils.text.slugify): as P transformer.py `_generate_slug` calls it. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[^\p{ASCII}]/gu, '')
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .replace(/[-\s]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}
