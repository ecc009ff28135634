/*
 * P matcher.py: `find_existing_object` and `fingerprints` over the per-type matchers of
 * schema.ts, plus one matcher per unique custom field of the model (`CustomFieldMatcher`).
 */
import { hostKey } from './ip.ts';
import { rowCondition, sameValue, type NetBox, type Row } from './netbox.ts';
import { specOf, type MatcherSpec } from './schema.ts';

/** A reference to a node not yet in NetBox (P common.py `UnresolvedReference`). */
export class Unresolved {
  readonly type: string;
  readonly uuid: string;
  constructor(type: string, uuid: string) {
    this.type = type;
    this.uuid = uuid;
  }
  toString(): string {
    return `new_object:${this.type}:${this.uuid}`;
  }
}

export interface MatchInput {
  data: Record<string, unknown>;
  /** `_auto_slug` (P transformer.py `_set_auto_slugs`): only set while the entity carries no slug. */
  autoSlug?: string | undefined;
}

type Matcher = MatcherSpec | { kind: 'custom-field'; name: string; field: string };

function matchersOf(nb: NetBox, type: string): Matcher[] {
  const spec = specOf(type);
  if (!spec) return [];
  const base = spec.matchers.filter((m) => m.kind !== 'autoslug');
  // P matcher.py `get_model_matchers`: model matchers, then unique custom fields, then autoslug.
  const cfs: Matcher[] = nb
    .customFieldsFor(type)
    .filter((cf) => cf.unique === true)
    .map((cf) => ({ kind: 'custom-field', name: `unique_custom_field_${String(cf.name)}`, field: String(cf.name) }));
  return [...base, ...cfs, ...spec.matchers.filter((m) => m.kind === 'autoslug')];
}

/** `_check_condition` on the data: `<f>__isnull` is "absent or None". */
function dataCondition(m: Extract<MatcherSpec, { kind: 'fields' }>, data: Record<string, unknown>): boolean {
  return (m.cond?.null ?? []).every((f) => data[f] == null) && (m.cond?.notNull ?? []).every((f) => data[f] != null);
}

function usable(v: unknown): boolean {
  return !(v instanceof Unresolved) && !(typeof v === 'object' && v !== null && !Array.isArray(v));
}

/** The first existing row any matcher finds (`q.order_by('pk').first()`), else undefined. */
export function findExisting(nb: NetBox, type: string, input: MatchInput): Row | undefined {
  const { data } = input;
  for (const m of matchersOf(nb, type)) {
    const rows = nb.rows(type);
    let hit: Row | undefined;
    if (m.kind === 'fields') {
      // ObjectMatchCriteria.has_required_fields: every field is a key of the data.
      if (!m.fields.every((f) => f in data)) continue;
      if (m.condOnData && !dataCondition(m, data)) continue;
      // A lookup whose values are all null could only bind an arbitrary row.
      if (m.fields.every((f) => data[f] == null)) continue;
      if (!m.fields.every((f) => usable(data[f]))) continue; // "cannot match, missing field data"
      hit = rows.find((r) => rowCondition(m, r) && m.fields.every((f) => sameValue(m, f, r[f], data[f])));
    } else if (m.kind === 'ip-host') {
      // GlobalIPNetworkIPMatcher: vrf null on both sides, host part compared (`address__net_host`).
      if (!(m.field in data) || data.vrf != null) continue;
      const host = hostKey(String(data[m.field]));
      if (!host) continue;
      hit = rows.find((r) => r.vrf == null && hostKey(String(r[m.field])) === host);
    } else if (m.kind === 'custom-field') {
      const v = (data.custom_fields as Record<string, unknown> | undefined)?.[m.field];
      if (v == null) continue;
      hit = rows.find((r) => JSON.stringify((r.custom_fields as Record<string, unknown> | undefined)?.[m.field]) === JSON.stringify(v));
    } else {
      if (input.autoSlug === undefined) continue;
      hit = rows.find((r) => r[m.field] === input.autoSlug);
    }
    if (hit) return hit;
  }
  return undefined;
}

function key(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x instanceof Unresolved ? `ref:${x.uuid}` : x));
}

/**
 * P matcher.py `fingerprints`: one per matcher whose fields and condition the data satisfies,
 * plus `_fingerprint_all` over every non-private field. Used to merge duplicate nodes.
 */
export function fingerprints(nb: NetBox, type: string, data: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const m of matchersOf(nb, type)) {
    if (m.kind === 'fields') {
      if (!m.fields.every((f) => f in data)) continue;
      if (!dataCondition(m, data)) continue;
      const values = m.fields.map((f) => (m.lower?.includes(f) && typeof data[f] === 'string' ? String(data[f]).toLowerCase() : data[f]));
      if (values.some((v) => typeof v === 'object' && v !== null && !(v instanceof Unresolved) && !Array.isArray(v))) continue;
      if (values.every((v) => v == null)) continue;
      out.push(`${type}|${m.name}|${key(values)}`);
    } else if (m.kind === 'ip-host') {
      if (!(m.field in data) || data.vrf != null) continue;
      const host = hostKey(String(data[m.field]));
      if (host) out.push(`${type}|${m.name}|${host}`);
    } else if (m.kind === 'custom-field') {
      const v = (data.custom_fields as Record<string, unknown> | undefined)?.[m.field];
      if (v != null) out.push(`${type}|${m.name}|${key(v)}`);
    }
    // The autoslug fingerprint needs `_auto_slug`, which is set only after dedupe.
  }
  const all = Object.keys(data)
    .filter((k) => !k.startsWith('_'))
    .sort()
    .map((k) => [k, data[k]]);
  out.push(`${type}|all|${key(all)}`);
  return out;
}
