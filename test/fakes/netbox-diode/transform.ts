/*
 * P transformer.py `transform_proto_json`: an entity becomes a list of nodes (the entity and
 * every nested reference, each its own node), deduplicated by fingerprint, ordered by
 * reference, resolved against NetBox, defaulted, with circular references deferred.
 */
import { ipNetworkDefaulting } from './ip.ts';
import { findExisting, fingerprints, Unresolved } from './matcher.ts';
import type { NetBox, Row } from './netbox.ts';
import { slugify, specOf } from './schema.ts';

export interface Node {
  uuid: string;
  type: string;
  /** Uuids this node must follow (`_refs`). */
  refs: Set<string>;
  data: Record<string, unknown>;
  /** Fields the model does not know (upstream would apply or warn about them). */
  warnings: string[];
  /** A deferred update of another node (`_is_post_create`, `_instance` = that node's uuid). */
  postCreateOf?: string;
  /** The existing row this node resolved to (`_instance`). */
  instance?: Row;
  /** Id once resolved, else the node's own Unresolved (`id`). */
  id?: number | Unresolved;
  autoSlug?: { field: string; value: string };
}

/** A ChangeSetException / serializers.ValidationError raised while planning. */
export class PlanError extends Error {}

let counter = 0;
const newUuid = (): string => `n${(++counter).toString(36)}`;

/** P transformer.py `_NESTED_CONTEXT`: values pushed down into a referenced node. */
function nestedContext(type: string, field: string, uuid: string): Record<string, unknown> | undefined {
  if ((type === 'dcim.interface' || type === 'virtualization.vminterface') && field === 'primary_mac_address') {
    return { assigned_object_type: type, assigned_object_id: new Unresolved(type, uuid) };
  }
  if (type === 'virtualization.virtualmachine' && (field === 'primary_ip4' || field === 'primary_ip6')) {
    // "__force_after": only ordering; the IP node sorts after the VM.
    return { __force_after: new Unresolved(type, uuid) };
  }
  return undefined;
}

/** P plugin_utils.py `_FORMAT_TRANSFORMATIONS` for the fields the model knows. */
function formatValue(type: string, field: string, value: unknown): unknown {
  if ((type === 'ipam.ipaddress' && field === 'address') || (type === 'ipam.prefix' && field === 'prefix')) {
    try {
      return ipNetworkDefaulting(String(value));
    } catch {
      throw new PlanError(`${type}: ${field}: Invalid value for field ${field} in ${type}.`);
    }
  }
  if (field === 'object_types' && Array.isArray(value)) return [...value].map(String).sort();
  if (type === 'extras.customfieldchoiceset' && field === 'extra_choices' && Array.isArray(value)) {
    // delimited_tuples(v, 2, ':'): "value:label", a bare value is its own label.
    return value.map((v) => {
      const [a, b] = String(v).split(/(?<!\\):/, 2);
      return b === undefined ? [a, a] : [a, b];
    });
  }
  if (field === 'default' && type === 'extras.customfield' && typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return structuredClone(value);
}

/**
 * P transformer.py `_prepare_custom_fields` + `_pop_custom_field_type_and_value`: each value is
 * a one-key dict naming its type; `{}` (an empty multiple_selection, which protojson omits) is
 * an error, as is JSON that does not parse.
 */
function prepareCustomFields(type: string, cfs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(cfs)) {
    const invalid = (why: string): PlanError => new PlanError(`${type}: ${name}: Custom field ${name} is invalid: ${JSON.stringify(raw)} (${why})`);
    if (typeof raw !== 'object' || raw === null || Object.keys(raw).length !== 1) throw invalid('custom field value must be a dictionary with a single key');
    const [[kind, value]] = Object.entries(raw) as [[string, unknown]];
    switch (kind) {
      case 'text':
      case 'long_text':
      case 'decimal':
      case 'boolean':
      case 'datetime':
      case 'selection':
      case 'url':
      case 'multiple_selection':
        out[name] = value;
        break;
      case 'date':
        out[name] = String(value).slice(0, 10);
        break;
      case 'integer':
        out[name] = Number(value);
        break;
      case 'json':
        try {
          out[name] = JSON.parse(String(value));
        } catch {
          throw invalid('failed to parse as JSON');
        }
        break;
      default:
        throw new PlanError(`${type}: ${name}: Custom field ${name} has unknown type: ${kind} (object references are not modelled)`);
    }
  }
  return out;
}

function transformOne(type: string, json: Record<string, unknown>, context?: Record<string, unknown>): Node[] {
  const spec = specOf(type);
  if (!spec) throw new PlanError(`${type} is not modelled`);
  const node: Node = { uuid: newUuid(), type, refs: new Set(), data: {}, warnings: [] };
  for (const [k, v] of Object.entries(context ?? {})) {
    if (!k.startsWith('_')) node.data[k] = v;
    if (v instanceof Unresolved) node.refs.add(v.uuid);
  }
  const nodes: Node[] = [node];
  let post: Node | undefined;
  for (const [key, value] of Object.entries(json)) {
    if (key === 'metadata') continue;
    if (key === 'custom_fields') {
      if (!spec.customFields) {
        node.warnings.push(`${type}.${key}: not modelled`);
        continue;
      }
      node.data.custom_fields = prepareCustomFields(type, value as Record<string, unknown>);
      continue;
    }
    const ref = spec.refs.find((r) => r.json === key);
    if (!ref) {
      if (spec.fields.includes(key)) node.data[key] = formatValue(type, key, value);
      else node.warnings.push(`${type}.${key}: not modelled`);
      continue;
    }
    if (!specOf(ref.type)) {
      node.warnings.push(`${type}.${key}: references ${ref.type}, which is not modelled`);
      continue;
    }
    let field = ref.field;
    if (ref.generic) {
      node.data[`${field}_type`] = ref.type;
      field = `${field}_id`;
    }
    // An explicit null or an empty message clears the reference.
    if (value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)) {
      if (ref.generic) node.data[`${ref.field}_type`] = null;
      if (ref.circular) {
        post ??= postNode(node);
        post.data[field] = null;
      } else node.data[field] = null;
      continue;
    }
    const ctx = nestedContext(type, ref.field, node.uuid);
    const nest = (item: Record<string, unknown>): Unresolved => {
      const nested = transformOne(ref.type, item, ctx);
      nodes.push(...nested);
      return new Unresolved(ref.type, (nested[0] as Node).uuid);
    };
    const refValue = Array.isArray(value) ? value.map((v) => nest(v as Record<string, unknown>)) : nest(value as Record<string, unknown>);
    const uuids = (Array.isArray(refValue) ? refValue : [refValue]).map((r) => r.uuid);
    if (ref.circular) {
      post ??= postNode(node);
      post.data[field] = refValue;
      for (const u of uuids) post.refs.add(u);
      continue;
    }
    node.data[field] = refValue;
    for (const u of uuids) node.refs.add(u);
  }
  if (post) nodes.push(post);
  return nodes;
}

function postNode(of: Node): Node {
  return { uuid: newUuid(), type: of.type, refs: new Set([of.uuid]), data: {}, warnings: [], postCreateOf: of.uuid };
}

/** `_topo_sort`: a stable content key first, then by reference (graphlib keeps ties in order). */
function topoSort(nodes: Node[]): Node[] {
  const stable = (n: Node): string => {
    for (const k of ['name', 'slug', 'model', 'serial', 'address', 'mac_address']) {
      const v = n.data[k];
      if (typeof v === 'string') return `${n.type}\u0000${k}\u0000${v}`;
    }
    return `${n.type}\u0000_uuid\u0000${n.uuid}`;
  };
  const sorted = [...nodes].sort((a, b) => (stable(a) < stable(b) ? -1 : stable(a) > stable(b) ? 1 : 0));
  const known = new Set(sorted.map((n) => n.uuid));
  const done = new Set<string>();
  const out: Node[] = [];
  while (out.length < sorted.length) {
    const ready = sorted.filter((n) => !done.has(n.uuid) && [...n.refs].every((r) => done.has(r) || !known.has(r)));
    if (!ready.length) throw new PlanError('__all__: Unable to resolve circular reference in entities');
    for (const n of ready) done.add(n.uuid);
    out.push(...ready);
  }
  return out;
}

function remap(v: unknown, map: Map<string, string>): unknown {
  if (v instanceof Unresolved) return map.has(v.uuid) ? new Unresolved(v.type, map.get(v.uuid) as string) : v;
  if (Array.isArray(v)) return v.map((x) => remap(x, map));
  return v;
}

function remapNode(n: Node, map: Map<string, string>): void {
  if (n.postCreateOf) n.postCreateOf = map.get(n.postCreateOf) ?? n.postCreateOf;
  n.refs = new Set([...n.refs].map((r) => map.get(r) ?? r));
  for (const k of Object.keys(n.data)) n.data[k] = remap(n.data[k], map);
}

function same(a: unknown, b: unknown): boolean {
  return (
    JSON.stringify(a, (_k, x: unknown) => (x instanceof Unresolved ? `ref:${x.uuid}` : x)) ===
    JSON.stringify(b, (_k, x: unknown) => (x instanceof Unresolved ? `ref:${x.uuid}` : x))
  );
}

/** `_fingerprint_dedupe` + `_merge_nodes`: nodes sharing any fingerprint are one node; a field two of them set differently is an error. */
function dedupe(nb: NetBox, nodes: Node[]): Node[] {
  const byFp = new Map<string, string>();
  const byUuid = new Map<string, Node>();
  const order: string[] = [];
  const newRefs = new Map<string, string>();
  for (const n of nodes) {
    let fps: string[] = [];
    let existing: string | undefined;
    if (!n.postCreateOf) {
      remapNode(n, newRefs);
      fps = fingerprints(nb, n.type, n.data);
      existing = fps.map((f) => byFp.get(f)).find((u) => u !== undefined);
    }
    if (existing === undefined) {
      remapNode(n, newRefs);
      for (const f of fps) byFp.set(f, n.uuid);
      byUuid.set(n.uuid, n);
      order.push(n.uuid);
      continue;
    }
    const a = byUuid.get(existing) as Node;
    newRefs.set(n.uuid, a.uuid);
    for (const [k, v] of Object.entries(n.data)) {
      if (k in a.data && !same(a.data[k], v)) {
        throw new PlanError(`${a.type}: __all__: Conflicting values for '${k}' merging duplicate ${a.type}, \`${String(a.data[k])}\` != \`${String(v)}\``);
      }
      a.data[k] = v;
    }
    for (const r of n.refs) a.refs.add(r);
    a.warnings.push(...n.warnings);
    remapNode(a, newRefs);
    for (const f of fps) byFp.set(f, a.uuid);
  }
  return order.map((u) => byUuid.get(u) as Node);
}

function resolveRefs(v: unknown, ids: Map<string, number>): unknown {
  if (v instanceof Unresolved) return ids.get(v.uuid) ?? v;
  if (Array.isArray(v)) {
    const out = v.map((x) => resolveRefs(x, ids));
    // sort_ints_first
    return out.some((x) => typeof x === 'number')
      ? [...out].sort((p, q) => (typeof p === 'number' ? (typeof q === 'number' ? p - q : -1) : typeof q === 'number' ? 1 : 0))
      : out;
  }
  return v;
}

/** Nodes of one entity, resolved against `nb` as it is now (the plan phase reads NetBox). */
export function transformEntity(nb: NetBox, type: string, json: Record<string, unknown>): Node[] {
  let nodes = topoSort(transformOne(type, json));
  nodes = topoSort(dedupe(nb, nodes));
  for (const n of nodes) {
    const spec = specOf(n.type);
    // `_set_auto_slugs`: slugify(primary value) when the slug field is absent or None.
    if (spec?.slug && !n.postCreateOf && n.data[spec.slug] == null) {
      const src = n.data[spec.primary ?? 'name'];
      if (src != null) n.autoSlug = { field: spec.slug, value: slugify(String(src)) };
    }
    // `_handle_cached_scope`: `_site` as NetBox caches it, so the (_site, name) constraint can match.
    if ((n.type === 'virtualization.cluster' || n.type === 'ipam.prefix') && n.data.scope_type === 'dcim.site' && n.data.scope_id != null) {
      n.data._site = n.data.scope_id;
    }
  }
  // `_resolve_existing_references`, in reference order so parents resolve first.
  const ids = new Map<string, number>();
  for (const n of nodes) {
    for (const k of Object.keys(n.data)) n.data[k] = resolveRefs(n.data[k], ids);
    if (n.postCreateOf) continue;
    const hit = findExisting(nb, n.type, { data: n.data, autoSlug: n.autoSlug?.value });
    if (hit) {
      ids.set(n.uuid, hit.id);
      n.instance = hit;
      n.id = hit.id;
    } else n.id = new Unresolved(n.type, n.uuid);
  }
  for (const n of nodes) delete n.data._site; // `_strip_cached_scope`
  // `_set_defaults`, only for nodes that create.
  for (const n of nodes) {
    if (n.instance || n.postCreateOf) continue;
    const spec = specOf(n.type);
    if (!spec) continue;
    if (n.autoSlug && !(n.autoSlug.field in n.data)) n.data[n.autoSlug.field] = n.autoSlug.value;
    for (const [f, d] of Object.entries(spec.defaults ?? {})) if (n.data[f] == null) n.data[f] = structuredClone(d);
    setCustomFieldDefaults(nb, n.type, n.data);
  }
  return handlePostCreates(nodes);
}

/** P transformer.py `set_custom_field_defaults`: every custom field of the model, at its default when unset. */
export function setCustomFieldDefaults(nb: NetBox, type: string, data: Record<string, unknown>): void {
  const cfs = nb.customFieldsFor(type);
  if (!cfs.length) return;
  data.custom_fields ??= {};
  const cur = data.custom_fields as Record<string, unknown>;
  for (const cf of cfs) if (cur[String(cf.name)] == null) cur[String(cf.name)] = cf.default ?? null;
}

/** `_handle_post_creates`: merge a deferred update back unless something it needs comes later; `_check_unresolved_refs`. */
function handlePostCreates(nodes: Node[]): Node[] {
  const index = new Map(nodes.map((n, i) => [n.uuid, i]));
  const byUuid = new Map(nodes.map((n) => [n.uuid, n]));
  const out: Node[] = [];
  for (const n of nodes) {
    if (!n.postCreateOf) {
      out.push(n);
      continue;
    }
    const prior = byUuid.get(n.postCreateOf) as Node;
    const priorIndex = index.get(prior.uuid) ?? 0;
    if ([...n.refs].every((r) => (index.get(r) ?? 0) <= priorIndex)) Object.assign(prior.data, n.data);
    else {
      n.id = prior.id;
      if (prior.instance) n.instance = prior.instance;
      out.push(n);
    }
  }
  const seen = new Set<string>();
  for (const n of out) {
    seen.add(n.uuid);
    for (const [k, v] of Object.entries(n.data)) {
      for (const r of Array.isArray(v) ? v : [v]) {
        if (r instanceof Unresolved && !seen.has(r.uuid)) throw new PlanError(`${n.type}: ${k}: unable to resolve reference (circular reference?)`);
      }
    }
  }
  return out;
}
