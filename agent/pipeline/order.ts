import type { EncodedEntity } from '../diode/codec.ts';
import { compareEmission, sortByEmission } from '../../mappers/order.ts';

/*
 * Order once. The run's entities are put in emission order (mappers/order.ts EMISSION_ORDER)
 * here and nowhere else; the stages after this one (delta.ts, requests.ts) take that order as
 * given and keep it: delta filters and merges, requests splits by phase.
 */

/**
 * The run's entities in emission order (a list the mapper already ordered is only checked).
 * What a run encodes comes guest by guest, far from that order, but each kind's entities
 * nearly are (guests come by vmid): split by kind, a stable partition, each kind is sorted
 * by key alone (often only checked) and the kinds put in order, which is what a stable sort
 * of the whole list gives, without comparing ranks and kinds tens of thousands of times.
 */
export function orderRun(encoded: EncodedEntity[]): EncodedEntity[] {
  if (isInEmissionOrder(encoded)) return encoded;
  const byKind = new Map<string, EncodedEntity[]>();
  for (const e of encoded) {
    const list = byKind.get(e.kind);
    if (list) list.push(e);
    else byKind.set(e.kind, [e]);
  }
  const kinds = [...byKind.values()].sort((a, b) => compareEmission((a[0] as EncodedEntity).kind, '', (b[0] as EncodedEntity).kind, ''));
  const out = new Array<EncodedEntity>(encoded.length);
  let i = 0;
  for (const list of kinds) for (const e of sortedByKey(list)) out[i++] = e;
  return out;
}

const byKey = (a: EncodedEntity, b: EncodedEntity): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Entities of one kind by natural key (stable); a list in order is only checked. */
function sortedByKey(list: EncodedEntity[]): EncodedEntity[] {
  for (let i = 1; i < list.length; i++) if (byKey(list[i - 1] as EncodedEntity, list[i] as EncodedEntity) > 0) return list.sort(byKey);
  return list;
}

function isInEmissionOrder(list: readonly EncodedEntity[]): boolean {
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1] as EncodedEntity;
    const b = list[i] as EncodedEntity;
    if (compareEmission(a.kind, a.key, b.kind, b.key) > 0) return false;
  }
  return true;
}

/**
 * `ordered` (in emission order) with `extra` merged in where each belongs: the result equals
 * a stable sort of `[...ordered, ...extra]` (on a tie the ordered entity comes first), but
 * only the few extras (delta's stale entities and the stale field) are sorted. Without extras
 * it is `ordered` itself.
 */
export function mergeInOrder(ordered: EncodedEntity[], extra: EncodedEntity[]): EncodedEntity[] {
  if (extra.length === 0) return ordered;
  const add = sortByEmission(extra);
  const out: EncodedEntity[] = [];
  let j = 0;
  for (const e of ordered) {
    for (let x = add[j]; x && compareEmission(x.kind, x.key, e.kind, e.key) < 0; x = add[++j]) out.push(x);
    out.push(e);
  }
  for (const x of add.slice(j)) out.push(x);
  return out;
}
