/*
 * An in-memory NetBox: rows per object type, and what NetBox itself does when the plugin's
 * applier writes through a serializer (NetBox's ValidatedModelSerializer runs full_clean(),
 * i.e. clean_fields + the model's clean() + unique constraints, then save()).
 * Rows hold FK ids, generic FKs as `<field>_type` + `<field>_id`, m2m as id lists.
 */
import { cidr, formatNet, hostKey, parseIpNet } from './ip.ts';
import { choicesFor, messageNames, specOf, type MatcherSpec, type TypeSpec } from './schema.ts';

export type Row = Record<string, unknown> & { id: number };

/** A Django/DRF ValidationError: `{ field: [messages] }`. */
export class ValidationError extends Error {
  readonly errors: Record<string, string[]>;
  readonly objectType: string;
  constructor(objectType: string, errors: Record<string, string[]>) {
    super(
      Object.entries(errors)
        .map(([f, m]) => `${f}: ${m.join(' ')}`)
        .join('; '),
    );
    this.objectType = objectType;
    this.errors = errors;
  }
}

export interface NetBoxOptions {
  /** NetBox ENFORCE_GLOBAL_UNIQUE (default True since N 3.x: netbox/config/parameters.py). */
  enforceGlobalUnique?: boolean;
}

/** Django clean_fields for a required field: a CharField left unset is '' (blank), a number is None (null). */
export function missingMessage(field: string, v: unknown): string | undefined {
  const numeric = ['vid', 'size', 'ports'].includes(field);
  if (v === undefined) return numeric ? 'This field cannot be null.' : 'This field cannot be blank.';
  if (v === null) return 'This field cannot be null.';
  if (v === '') return 'This field cannot be blank.';
  return undefined;
}

/**
 * The value a required relation is checked on: for a generic FK's ContentType field
 * (`<f>_type`) it is `<f>_id` (P common.py `_validate_relations`).
 */
export function requiredValue(spec: TypeSpec, field: string, data: Record<string, unknown>): unknown {
  const generic = spec.refs.find((r) => r.generic && `${r.field}_type` === field);
  return generic ? data[`${generic.field}_id`] : data[field];
}

export function isBlank(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

export class NetBox {
  private tables = new Map<string, Map<number, Row>>();
  private nextIds = new Map<string, number>();
  readonly enforceGlobalUnique: boolean;

  constructor(opts: NetBoxOptions = {}) {
    this.enforceGlobalUnique = opts.enforceGlobalUnique ?? true;
  }

  rows(type: string): Row[] {
    return [...(this.tables.get(type)?.values() ?? [])].sort((a, b) => a.id - b.id);
  }

  get(type: string, id: unknown): Row | undefined {
    return typeof id === 'number' ? this.tables.get(type)?.get(id) : undefined;
  }

  types(): string[] {
    return [...this.tables.keys()].sort();
  }

  /** A transaction: everything since `snapshot()` is undone by `restore()` (P applier's transaction.atomic). */
  snapshot(): unknown {
    return { tables: structuredClone(this.tables), nextIds: new Map(this.nextIds) };
  }

  restore(s: unknown): void {
    const st = s as { tables: Map<string, Map<number, Row>>; nextIds: Map<string, number> };
    this.tables = st.tables;
    this.nextIds = st.nextIds;
  }

  /** CustomField rows whose object_types include `type` (N extras CustomFieldManager.get_for_model). */
  customFieldsFor(type: string): Row[] {
    return this.rows('extras.customfield').filter((cf) => Array.isArray(cf.object_types) && cf.object_types.includes(type));
  }

  /** Create through the serializer: defaults, full_clean, save. */
  create(type: string, data: Record<string, unknown>): Row {
    const spec = mustSpec(type);
    const row: Record<string, unknown> = { ...structuredClone(spec.defaults ?? {}) };
    for (const [k, v] of Object.entries(data)) row[k] = structuredClone(v);
    if (spec.customFields) {
      // CustomFieldsDataField default: every custom field of the model at its default.
      const cfs: Record<string, unknown> = {};
      for (const cf of this.customFieldsFor(type)) cfs[String(cf.name)] = cf.default ?? null;
      row.custom_fields = { ...cfs, ...((data.custom_fields as Record<string, unknown> | undefined) ?? {}) };
    }
    const id = this.nextIds.get(type) ?? 1;
    const candidate = { ...row, id } as Row;
    this.fullClean(spec, candidate, undefined);
    this.nextIds.set(type, id + 1);
    this.table(type).set(id, candidate);
    this.afterSave(spec, candidate);
    return candidate;
  }

  /** Partial update through the serializer (partial=True): given keys replace, custom fields merge. */
  update(type: string, id: number, data: Record<string, unknown>): Row {
    const spec = mustSpec(type);
    const before = this.get(type, id);
    if (!before) throw new ValidationError(type, { __all__: [`${type} with id ${id} does not exist`] });
    const candidate: Row = { ...structuredClone(before) };
    for (const [k, v] of Object.entries(data)) {
      if (k === 'custom_fields') {
        // N extras/api/customfields.py CustomFieldsDataField.to_internal_value: an update
        // starts from the instance's custom_field_data.
        candidate.custom_fields = { ...((before.custom_fields as object | undefined) ?? {}), ...(v as object) };
      } else candidate[k] = structuredClone(v);
    }
    this.fullClean(spec, candidate, before);
    this.table(type).set(id, candidate);
    this.afterSave(spec, candidate);
    return candidate;
  }

  /** str(obj) for messages. */
  label(type: string, id: unknown): string {
    const r = this.get(type, id);
    if (!r) return `${type}#${String(id)}`;
    return String(r.name ?? r.address ?? r.prefix ?? r.model ?? r.mac_address ?? `#${r.id}`);
  }

  private table(type: string): Map<number, Row> {
    let t = this.tables.get(type);
    if (!t) {
      t = new Map();
      this.tables.set(type, t);
    }
    return t;
  }

  private fullClean(spec: TypeSpec, row: Row, before: Row | undefined): void {
    const errors: Record<string, string[]> = {};
    const add = (f: string, m: string): void => {
      const list = errors[f] ?? [];
      list.push(m);
      errors[f] = list;
    };
    this.cleanFields(spec, row, add);
    this.cleanRefs(spec, row, add);
    if (spec.customFields) this.cleanCustomFields(spec.type, row, add);
    if (Object.keys(errors).length === 0) this.clean(spec, row, before, add);
    if (Object.keys(errors).length === 0) this.validateConstraints(spec, row, add);
    if (Object.keys(errors).length) throw new ValidationError(spec.type, errors);
  }

  /** Django Model.clean_fields: blank/null and choices (N ChoiceSets, see choices.json). */
  private cleanFields(spec: TypeSpec, row: Row, add: (f: string, m: string) => void): void {
    for (const f of spec.required ?? []) {
      const missing = missingMessage(f, row[f]);
      if (missing) add(f, missing);
    }
    const msg = messageNames[spec.type];
    for (const f of spec.fields) {
      const allowed = msg ? choicesFor(msg, f) : undefined;
      const v = row[f];
      if (allowed && !isBlank(v) && !allowed.includes(String(v))) add(f, `Value '${String(v)}' is not a valid choice.`);
    }
  }

  /** Required FKs and DRF PrimaryKeyRelatedField: the pk must exist. */
  private cleanRefs(spec: TypeSpec, row: Row, add: (f: string, m: string) => void): void {
    for (const f of spec.requiredRefs ?? []) {
      const v = requiredValue(spec, f, row);
      if (v === undefined || v === null) add(f, 'This field is required.');
    }
    for (const ref of spec.refs) {
      if (!specOf(ref.type)) continue;
      if (ref.generic) {
        const t = row[`${ref.field}_type`];
        const id = row[`${ref.field}_id`];
        if (t === ref.type && id != null && !this.get(ref.type, id)) add(`${ref.field}_id`, `Invalid pk "${String(id)}" - object does not exist.`);
      } else if (ref.many) {
        for (const id of (row[ref.field] as unknown[] | undefined) ?? [])
          if (!this.get(ref.type, id)) add(ref.field, `Invalid pk "${String(id)}" - object does not exist.`);
      } else if (row[ref.field] != null && !this.get(ref.type, row[ref.field])) {
        add(ref.field, `Invalid pk "${String(row[ref.field])}" - object does not exist.`);
      }
    }
  }

  /**
   * N netbox/models/features.py CustomFieldsMixin.clean: unknown names, per-type values
   * (N extras/models/customfields.py CustomField.validate), required fields.
   */
  private cleanCustomFields(type: string, row: Row, add: (f: string, m: string) => void): void {
    const defs = new Map(this.customFieldsFor(type).map((cf) => [String(cf.name), cf]));
    const data = (row.custom_fields as Record<string, unknown> | undefined) ?? {};
    for (const [name, value] of Object.entries(data)) {
      const cf = defs.get(name);
      if (!cf) {
        add('custom_fields', `Unknown field name '${name}' in custom field data.`);
        continue;
      }
      const err = this.validateCustomFieldValue(cf, value);
      if (err) add('custom_fields', `Invalid value for custom field '${name}': ${err}`);
    }
    for (const [name, cf] of defs) if (cf.required && isBlank(data[name])) add('custom_fields', `Missing required custom field '${name}'.`);
  }

  private validateCustomFieldValue(cf: Row, value: unknown): string | undefined {
    if (value === null || value === '' || value === undefined) return undefined;
    const choices = (): string[] =>
      ((this.get('extras.customfieldchoiceset', cf.choice_set)?.extra_choices as string[][] | undefined) ?? []).map((c) => String(c[0]));
    switch (cf.type) {
      case 'text':
      case 'longtext':
      case 'url':
        return typeof value === 'string' ? undefined : 'Value must be a string.';
      case 'integer':
        return Number.isInteger(value) ? undefined : 'Value must be an integer.';
      case 'decimal':
        return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Number(value))) ? undefined : 'Value must be a decimal.';
      case 'boolean':
        return [true, false, 1, 0].includes(value as never) ? undefined : 'Value must be true or false.';
      case 'date':
        return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? undefined : 'Date values must be in ISO 8601 format (YYYY-MM-DD).';
      case 'datetime':
        return typeof value === 'string' && !Number.isNaN(Date.parse(value))
          ? undefined
          : 'Date and time values must be in ISO 8601 format (YYYY-MM-DD HH:MM:SS).';
      case 'select':
        return choices().includes(String(value)) ? undefined : `Invalid choice (${String(value)}) for choice set.`;
      case 'multiselect':
        if (!Array.isArray(value)) return `Invalid choice(s) (${String(value)}) for choice set.`;
        return value.every((v) => choices().includes(String(v))) ? undefined : `Invalid choice(s) (${value.join(', ')}) for choice set.`;
      default:
        return undefined; // json accepts anything
    }
  }

  /** The models' clean() rules the agent's objects can hit. */
  private clean(spec: TypeSpec, row: Row, before: Row | undefined, add: (f: string, m: string) => void): void {
    switch (spec.type) {
      case 'dcim.device': {
        // N dcim/models/devices.py Device.clean: a cluster scoped to a site must be that site.
        const cluster = this.get('virtualization.cluster', row.cluster);
        if (cluster && cluster._site != null && cluster._site !== row.site) {
          add('cluster', `The assigned cluster belongs to a different site (${this.label('dcim.site', cluster._site)})`);
        }
        this.checkPrimaryIps(row, 'dcim.interface', 'device', 'device', add);
        break;
      }
      case 'virtualization.virtualmachine': {
        // N virtualization/models/virtualmachines.py VirtualMachine.clean.
        const site = row.site ?? null;
        const cluster = this.get('virtualization.cluster', row.cluster);
        const device = this.get('dcim.device', row.device);
        if (site === null && !cluster && !device) add('__all__', 'A virtual machine must be assigned to a site, cluster, or device.');
        if (cluster && site !== null && cluster._site != null && cluster._site !== site) {
          add('cluster', `The selected cluster (${String(cluster.name)}) is not assigned to this site (${this.label('dcim.site', site)}).`);
        }
        if (device && site !== null && device.site !== site)
          add('site', `The selected device (${String(device.name)}) is not assigned to this site (${this.label('dcim.site', site)}).`);
        if (device && !cluster && device.cluster != null)
          add(
            'cluster',
            `Must specify the assigned device's cluster (${this.label('virtualization.cluster', device.cluster)}) when assigning host device ${String(device.name)}.`,
          );
        if (device && cluster && device.cluster !== cluster.id)
          add('device', `The selected device (${String(device.name)}) is not assigned to this cluster (${String(cluster.name)}).`);
        if (before) {
          // Aggregate disk size, only for an existing VM ("if not self._state.adding").
          const total = this.rows('virtualization.virtualdisk')
            .filter((d) => d.virtual_machine === row.id)
            .reduce((s, d) => s + Number(d.size ?? 0), 0);
          if (total && row.disk == null) row.disk = total;
          else if (total && row.disk !== total)
            add('disk', `The specified disk size (${String(row.disk)}) must match the aggregate size of assigned virtual disks (${total}).`);
        }
        this.checkPrimaryIps(row, 'virtualization.vminterface', 'virtual_machine', 'VM', add);
        break;
      }
      case 'dcim.interface':
      case 'virtualization.vminterface': {
        const isVm = spec.type === 'virtualization.vminterface';
        const parent = isVm ? this.get('virtualization.virtualmachine', row.virtual_machine) : this.get('dcim.device', row.device);
        const parentSite = parent?.site ?? null;
        const noun = isVm ? 'virtual machine' : 'device';
        // N dcim/models/device_components.py Interface.clean: no untagged VLAN without a mode.
        if (!isVm && !row.mode && row.untagged_vlan != null) add('untagged_vlan', 'Interface mode does not support an untagged vlan.');
        // Interface.clean / VMInterface.clean: the untagged VLAN is global or at the parent's site.
        const untagged = this.get('ipam.vlan', row.untagged_vlan);
        if (untagged && untagged.site != null && untagged.site !== parentSite) {
          add(
            'untagged_vlan',
            `The untagged VLAN (${String(untagged.name)}) must belong to the same site as the interface's parent ${noun}, or it must be global.`,
          );
        }
        // N dcim/api + virtualization/api serializers (InterfaceSerializer / VMInterfaceSerializer.validate):
        // the same rule for tagged VLANs.
        for (const id of (row.tagged_vlans as unknown[] | undefined) ?? []) {
          const v = this.get('ipam.vlan', id);
          if (v && v.site != null && v.site !== parentSite)
            add('tagged_vlans', `VLAN ${String(v.name)} must belong to the same site as the interface's parent ${noun}, or it must be global.`);
        }
        break;
      }
      case 'ipam.ipaddress': {
        // N ipam/models/ip.py IPAddress.clean.
        const n = parseIpNet(String(row.address ?? ''));
        if (!n) {
          add('address', `Invalid IP address: ${String(row.address)}`);
          break;
        }
        if (n.len === 0) add('address', 'Cannot create IP address with /0 mask.');
        const nonUnique = ['anycast', 'vip', 'vrrp', 'hsrp', 'glbp', 'carp'];
        if (row.vrf == null && this.enforceGlobalUnique) {
          const dups = this.rows('ipam.ipaddress').filter(
            (o) => o.id !== row.id && o.vrf == null && hostKey(String(o.address)) === hostKey(String(row.address)),
          );
          if (dups.length && (!nonUnique.includes(String(row.role)) || dups.some((d) => !nonUnique.includes(String(d.role))))) {
            add('address', `Duplicate IP address found in global table: ${String(dups[0]?.address)}`);
          }
        }
        // Cannot move an address that is the primary IP of its parent (IPAddress.clean).
        if (before && (before.assigned_object_type !== row.assigned_object_type || before.assigned_object_id !== row.assigned_object_id)) {
          const parent = this.parentOf(before);
          if (parent && (parent.row.primary_ip4 === row.id || parent.row.primary_ip6 === row.id)) {
            add('assigned_object', 'Cannot reassign IP address while it is designated as the primary IP for the parent object');
          }
        }
        break;
      }
      case 'ipam.prefix': {
        // N ipam/models/ip.py Prefix.clean.
        const n = parseIpNet(String(row.prefix ?? ''));
        if (!n) {
          add('prefix', `Invalid prefix: ${String(row.prefix)}`);
          break;
        }
        if (n.len === 0) add('prefix', 'Cannot create prefix with /0 mask.');
        if (row.vrf == null && this.enforceGlobalUnique) {
          const net = formatNet(cidr(n));
          const dup = this.rows('ipam.prefix').find((o) => o.id !== row.id && o.vrf == null && o.prefix === net);
          if (dup) add('prefix', `Duplicate prefix found in global table: ${net}`);
        }
        break;
      }
      case 'extras.customfield': {
        // N extras/models/customfields.py CustomField.clean + name validators.
        if (!/^[a-z0-9_]+$/.test(String(row.name ?? ''))) add('name', 'Only alphanumeric characters and underscores are allowed.');
        if (String(row.name ?? '').includes('__')) add('name', 'Double underscores are not permitted in custom field names.');
        const select = row.type === 'select' || row.type === 'multiselect';
        if (select && row.choice_set == null) add('choice_set', 'Selection fields must specify a set of choices.');
        if (!select && row.choice_set != null) add('choice_set', 'Choices may be set only on selection fields.');
        break;
      }
      case 'extras.customfieldchoiceset': {
        // N extras/models/customfields.py CustomFieldChoiceSet.clean.
        const extra = row.extra_choices as unknown[] | undefined;
        if (!row.base_choices && !extra?.length) add('__all__', 'Must define base or extra choices.');
        break;
      }
      case 'virtualization.cluster': {
        // N virtualization/models/clusters.py Cluster.clean: host devices must be at the scope site.
        const site = row.scope_type === 'dcim.site' ? row.scope_id : null;
        if (before && site != null) {
          const n = this.rows('dcim.device').filter((d) => d.cluster === row.id && d.site !== site).length;
          if (n) add('scope', `${n} devices are assigned as hosts for this cluster but are not in site ${this.label('dcim.site', site)}`);
        }
        break;
      }
    }
  }

  /** Device/VM.clean: a primary IP of the right family, assigned to one of the object's interfaces. */
  private checkPrimaryIps(row: Row, ifaceType: string, ifaceParent: string, noun: string, add: (f: string, m: string) => void): void {
    const ifaces = new Set(
      this.rows(ifaceType)
        .filter((i) => i[ifaceParent] === row.id)
        .map((i) => i.id),
    );
    for (const family of [4, 6] as const) {
      const field = `primary_ip${family}`;
      const ip = this.get('ipam.ipaddress', row[field]);
      if (!ip) continue;
      const n = parseIpNet(String(ip.address));
      if (n && n.family !== family) {
        add(field, `Must be an IPv${family} address. (${String(ip.address)} is an IPv${n.family} address.)`);
        continue;
      }
      const assigned = (x: Row | undefined): boolean => !!x && x.assigned_object_type === ifaceType && ifaces.has(x.assigned_object_id as number);
      if (!assigned(ip) && !assigned(this.get('ipam.ipaddress', ip.nat_inside))) {
        add(field, `The specified IP address (${String(ip.address)}) is not assigned to this ${noun}.`);
      }
    }
  }

  private parentOf(ip: Row): { type: string; row: Row } | undefined {
    const iface = this.get(String(ip.assigned_object_type), ip.assigned_object_id);
    if (!iface) return undefined;
    if (ip.assigned_object_type === 'dcim.interface') {
      const d = this.get('dcim.device', iface.device);
      return d && { type: 'dcim.device', row: d };
    }
    const vm = this.get('virtualization.virtualmachine', iface.virtual_machine);
    return vm && { type: 'virtualization.virtualmachine', row: vm };
  }

  /**
   * Django validate_constraints + DRF UniqueValidator: a DB-unique matcher whose values are
   * all non-null (Postgres NULLs are distinct) must not equal another row's.
   */
  private validateConstraints(spec: TypeSpec, row: Row, add: (f: string, m: string) => void): void {
    for (const m of spec.matchers) {
      if (m.kind !== 'fields' || !m.db) continue;
      if (m.fields.some((f) => row[f] === undefined || row[f] === null)) continue;
      if (!rowCondition(m, row)) continue;
      const clash = this.rows(spec.type).find((o) => o.id !== row.id && rowCondition(m, o) && m.fields.every((f) => sameValue(m, f, o[f], row[f])));
      if (clash) {
        const what = m.fields.filter((f) => !f.startsWith('_')).join(', ');
        add(m.fields.length === 1 ? (m.fields[0] ?? '__all__') : '__all__', `${spec.type} with this ${what} already exists.`);
      }
    }
  }

  private afterSave(spec: TypeSpec, row: Row): void {
    switch (spec.type) {
      case 'virtualization.cluster':
      case 'ipam.prefix':
        // N dcim/models/mixins.py CachedScopeMixin.cache_related_objects: `_site` from the scope.
        row._site = row.scope_type === 'dcim.site' ? (row.scope_id ?? null) : null;
        if (spec.type === 'ipam.prefix') {
          // N ipam/models/ip.py Prefix.save: `self.prefix = self.prefix.cidr`.
          const n = parseIpNet(String(row.prefix));
          if (n) row.prefix = formatNet(cidr(n));
        }
        break;
      case 'virtualization.virtualmachine': {
        // VirtualMachine.save: inherit the site from the cluster (or the host device).
        if (row.site == null) {
          const cluster = this.get('virtualization.cluster', row.cluster);
          const device = this.get('dcim.device', row.device);
          row.site = cluster?._site ?? device?.site ?? null;
        }
        break;
      }
      case 'virtualization.virtualdisk': {
        // N virtualization/signals.py: a saved VirtualDisk sets its VM's disk to the sum.
        const vm = this.get('virtualization.virtualmachine', row.virtual_machine);
        if (vm)
          vm.disk = this.rows('virtualization.virtualdisk')
            .filter((d) => d.virtual_machine === vm.id)
            .reduce((s, d) => s + Number(d.size ?? 0), 0);
        break;
      }
      case 'dcim.interface':
      case 'virtualization.vminterface':
        // Interface.save: no untagged VLAN without an 802.1Q mode.
        if (!row.mode) row.untagged_vlan = null;
        break;
    }
  }
}

function mustSpec(type: string): TypeSpec {
  const s = specOf(type);
  if (!s) throw new ValidationError(type, { __all__: [`${type} is not modelled`] });
  return s;
}

/** The matcher's Q condition evaluated on a row (`qs.filter(condition)`). */
export function rowCondition(m: Extract<MatcherSpec, { kind: 'fields' }>, row: Record<string, unknown>): boolean {
  return (m.cond?.null ?? []).every((f) => row[f] == null) && (m.cond?.notNull ?? []).every((f) => row[f] != null);
}

export function sameValue(m: Extract<MatcherSpec, { kind: 'fields' }>, field: string, a: unknown, b: unknown): boolean {
  if (m.lower?.includes(field) && typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return (a ?? null) === (b ?? null);
}
