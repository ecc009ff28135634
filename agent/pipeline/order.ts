import type { EncodedEntity } from '../diode/codec.ts';
import { compareEmission, sortByEmission } from '../../mappers/order.ts';

/*
 * Order once. The run's entities are put in emission order (mappers/order.ts EMISSION_ORDER)
 * here and nowhere else; the stages after this one (delta.ts, requests.ts) take that order as
 * given and keep it: delta filters and merges, requests splits by phase.
 */

/** The run's entities in emission order (mappers/order.ts sortByEmission; a list the mapper already ordered is only checked). */
export function orderRun(encoded: EncodedEntity[]): EncodedEntity[] {
  return sortByEmission(encoded);
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
