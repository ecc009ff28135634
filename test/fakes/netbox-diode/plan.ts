/*
 * P differ.py `generate_changeset`: one change per node (create / update / noop), merged with
 * the existing row by the plugin's rules, then P common.py `ChangeSet.validate`.
 */
import { Unresolved } from './matcher.ts';
import { isBlank, missingMessage, requiredValue, type NetBox, type Row } from './netbox.ts';
import { choicesFor, messageNames, specOf } from './schema.ts';
import { PlanError, setCustomFieldDefaults, transformEntity, type Node } from './transform.ts';

export interface Change {
  changeType: 'create' | 'update';
  objectType: string;
  /** The row an update addresses. */
  objectId?: number;
  /** The node uuid a create registers and a deferred update addresses. */
  refId?: string;
  data: Record<string, unknown>;
  before?: Record<string, unknown>;
}

export interface Plan {
  changes: Change[];
  /** Fields the model does not know, reported instead of silently dropped. */
  warnings: string[];
}

/** P differ.py `prechange_data_from_instance`: the row's diode fields, m2m sorted, every custom field. */
function prechange(nb: NetBox, row: Row, type: string): Record<string, unknown> {
  const spec = specOf(type);
  const out: Record<string, unknown> = { id: row.id };
  if (!spec) return out;
  for (const f of spec.fields) if (f in row) out[f] = row[f];
  for (const r of spec.refs) {
    if (r.generic) {
      out[`${r.field}_type`] = row[`${r.field}_type`] ?? null;
      out[`${r.field}_id`] = row[`${r.field}_id`] ?? null;
    } else if (r.many) out[r.field] = [...((row[r.field] as number[] | undefined) ?? [])].sort((a, b) => a - b);
    else out[r.field] = row[r.field] ?? null;
  }
  if (spec.customFields) {
    const cf: Record<string, unknown> = {};
    for (const def of nb.customFieldsFor(type)) cf[String(def.name)] = (row.custom_fields as Record<string, unknown> | undefined)?.[String(def.name)] ?? null;
    out.custom_fields = cf;
  }
  return out;
}

/**
 * P differ.py `_partially_merge`: tags are the union of existing and new (never removed);
 * custom fields keep every existing non-null value the entity does not set; every other
 * field the entity carries replaces the existing value.
 */
function partiallyMerge(nb: NetBox, type: string, pre: Record<string, unknown>, post: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(post)) {
    if (k === 'tags') {
      const merged = new Set<unknown>([...((pre.tags as unknown[] | undefined) ?? []), ...((v as unknown[] | undefined) ?? [])]);
      out.tags = [...merged].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : typeof a === 'number' ? -1 : 1));
    } else out[k] = v;
  }
  if ('custom_fields' in post) {
    const cf = { ...(post.custom_fields as Record<string, unknown>) };
    for (const [k, v] of Object.entries((pre.custom_fields as Record<string, unknown> | undefined) ?? {})) if (v != null && !(k in cf)) cf[k] = v;
    out.custom_fields = cf;
    setCustomFieldDefaults(nb, type, out);
  }
  return out;
}

/** Python compares dicts without regard to key order (custom_fields, JSON values): so does this. */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Unresolved) return `ref:${x.uuid}`;
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, (x as Record<string, unknown>)[k]]),
      );
    }
    return x;
  });
}

/** P differ.py `clean_diff_data` (for creates): drop None, empty lists, empty dicts and empty strings, recursively. */
function clean(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unresolved)) {
      if (Object.keys(v).length === 0) continue;
      out[k] = clean(v as Record<string, unknown>);
      continue;
    }
    out[k] = v;
  }
  return out;
}

export function plan(nb: NetBox, type: string, json: Record<string, unknown>): Plan {
  const nodes = transformEntity(nb, type, json);
  const byUuid = new Map(nodes.map((n) => [n.uuid, n]));
  const warnings = nodes.flatMap((n) => n.warnings);
  const changes: Change[] = [];
  let any = false;
  for (const n of nodes) {
    const change = diff(nb, n, byUuid);
    if (change) {
      changes.push(change);
      any = true;
    }
  }
  if (!any) return { changes: [], warnings };
  validate(nb, changes);
  return { changes, warnings };
}

function diff(nb: NetBox, n: Node, byUuid: Map<string, Node>): Change | undefined {
  if (n.instance) {
    const pre = prechange(nb, n.instance, n.type);
    const post = partiallyMerge(nb, n.type, pre, n.data);
    // utilities.data.shallow_compare_dict: only keys the entity carries.
    const changed = Object.keys(post).filter((k) => canon(pre[k] ?? null) !== canon(post[k] ?? null));
    if (!changed.length) return undefined; // NOOP
    // Updates keep explicitly empty values ("so that the apply changeset endpoint can clear
    // fields", P differ.py diff_to_change `preserve_empty`); creates drop them.
    return { changeType: 'update', objectType: n.type, objectId: n.instance.id, data: post, before: clean(pre) };
  }
  if (n.postCreateOf) {
    // A deferred update of a node this changeset creates: diffed against that node.
    const prior = byUuid.get(n.postCreateOf) as Node;
    const changed = Object.keys(n.data).filter((k) => canon(prior.data[k] ?? null) !== canon(n.data[k] ?? null));
    if (!changed.length) return undefined;
    return { changeType: 'update', objectType: n.type, refId: prior.uuid, data: n.data, before: clean(prior.data) };
  }
  return { changeType: 'create', objectType: n.type, refId: n.uuid, data: clean(n.data) };
}

/**
 * P common.py `ChangeSet.validate`, at plan time: a value for every required relation
 * ("Field X is required"), known and required custom fields, and `clean_fields` (blank,
 * null, choices). Model `clean()` rules run later, at apply (see netbox.ts).
 */
function validate(nb: NetBox, changes: Change[]): void {
  const errors: string[] = [];
  for (const c of changes) {
    const spec = specOf(c.objectType);
    if (!spec) continue;
    const d = { ...c.data, ...(c.before ?? {}) };
    for (const f of spec.requiredRefs ?? []) {
      const v = requiredValue(spec, f, d);
      if (v === undefined || v === null) errors.push(`${c.objectType}: ${f}: Field ${f} is required`);
    }
    if (spec.customFields && d.custom_fields) {
      const defs = new Map(nb.customFieldsFor(c.objectType).map((cf) => [String(cf.name), cf]));
      for (const name of Object.keys(d.custom_fields as object)) {
        if (!defs.has(name)) errors.push(`${c.objectType}: custom_fields: Unknown field name '${name}' in custom field data.`);
      }
      for (const [name, cf] of defs)
        if (cf.required && !(name in (d.custom_fields as object))) errors.push(`${c.objectType}: custom_fields: Custom field '${name}' is required.`);
    }
    for (const f of spec.required ?? []) {
      const missing = missingMessage(f, d[f]);
      if (missing) errors.push(`${c.objectType}: ${f}: ${missing}`);
    }
    const msg = messageNames[c.objectType];
    for (const f of spec.fields) {
      const allowed = msg ? choicesFor(msg, f) : undefined;
      if (allowed && !isBlank(d[f]) && !allowed.includes(String(d[f]))) errors.push(`${c.objectType}: ${f}: Value '${String(d[f])}' is not a valid choice.`);
    }
  }
  if (errors.length) throw new PlanError([...new Set(errors)].join('; '));
}

export { PlanError };
