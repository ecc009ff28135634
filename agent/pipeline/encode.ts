import type { Policy } from '../config/load.ts';
import { encodeEntityWith, type EncodedEntity } from '../diode/codec.ts';
import { MessageEncoder } from '../diode/message-encoder.ts';
import type { AnyEntity } from '../../mappers/types.ts';

/** A run's entities, encoded in the mapper's order (order.ts puts them in emission order). */
export interface EncodedRun {
  encoded: EncodedEntity[];
  /** Collection time: the entities' timestamp. */
  at: Date;
  measures: Record<string, number>;
  /** VM keys the mapper says to forget, not report stale (MapSummary.forgetVms). */
  forgetVms?: string[];
}

/**
 * Map and encode. Each entity is encoded as soon as it is mapped (mapEach) or, for collectors
 * with only `map`, released as soon as it is encoded, so one form of it is alive at a time.
 * One encoder for the run: the references the entities share (tags, site, cluster…) are
 * encoded once.
 */
export function mapAndEncode(policy: Policy, snapshot: unknown, at: Date): EncodedRun {
  const mctx = { config: policy.config, scope: policy.scope, now: at, policyName: policy.name };
  const encoder = new MessageEncoder({ shareNested: true });
  const encoded: EncodedEntity[] = [];
  const take = (e: AnyEntity): void => {
    encoded.push(encodeEntityWith(encoder, e));
  };
  const measures: Record<string, number> = { ...policy.def.measures?.(snapshot, mctx) };
  let forgetVms: string[] | undefined;
  if (policy.def.mapEach) {
    const it = policy.def.mapEach(snapshot, mctx);
    for (let step = it.next(); ; step = it.next()) {
      if (step.done) {
        Object.assign(measures, step.value?.measures);
        forgetVms = step.value?.forgetVms;
        break;
      }
      take(step.value);
    }
  } else {
    const entities: Array<AnyEntity | undefined> = policy.def.map(snapshot, mctx);
    for (let i = 0; i < entities.length; i++) {
      const e = entities[i];
      if (e) take(e);
      entities[i] = undefined;
    }
  }
  return { encoded, at, measures, ...(forgetVms?.length && { forgetVms }) };
}
