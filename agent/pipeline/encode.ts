import type { Policy } from '../config/load.ts';
import { encodeEntityWith, type EncodedEntity } from '../diode/codec.ts';
import { MessageEncoder } from '../diode/message-encoder.ts';
import type { AnyEntity, MapContext, MapSummary } from '../../mappers/types.ts';

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
 * One run's encoding: one encoder, so the references the entities share (tags, site,
 * cluster…) are encoded once.
 */
function runEncoding(): { encoded: EncodedEntity[]; take: (e: AnyEntity) => void } {
  const encoder = new MessageEncoder({ shareNested: true });
  const encoded: EncodedEntity[] = [];
  return {
    encoded,
    take: (e) => {
      encoded.push(encodeEntityWith(encoder, e));
    },
  };
}

function mapContext(policy: Policy, now: Date): MapContext<unknown> {
  return { config: policy.config, scope: policy.scope, now, policyName: policy.name };
}

function encodedRun(
  policy: Policy,
  snapshot: unknown,
  at: Date,
  encoded: EncodedEntity[],
  summary: MapSummary | undefined,
  mctx: MapContext<unknown>,
): EncodedRun {
  const measures: Record<string, number> = { ...policy.def.measures?.(snapshot, mctx), ...summary?.measures };
  const forgetVms = summary?.forgetVms;
  return { encoded, at, measures, ...(forgetVms?.length && { forgetVms }) };
}

/**
 * Map and encode. Each entity is encoded as soon as it is mapped (mapEach) or, for collectors
 * with only `map`, released as soon as it is encoded, so one form of it is alive at a time.
 */
export function mapAndEncode(policy: Policy, snapshot: unknown, at: Date): EncodedRun {
  const mctx = mapContext(policy, at);
  const { encoded, take } = runEncoding();
  let summary: MapSummary | undefined;
  if (policy.def.mapEach) {
    const it = policy.def.mapEach(snapshot, mctx);
    for (let step = it.next(); ; step = it.next()) {
      if (step.done) {
        summary = step.value;
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
  return encodedRun(policy, snapshot, at, encoded, summary, mctx);
}

/** Mapping and encoding that goes on while the collector runs (see startMapping). */
export interface MappingWhileCollecting {
  /** The collector's CollectContext.part: maps and encodes the part; never throws. */
  part(p: unknown): void;
  /** Once collected: maps what no part carried; throws what mapping a part threw. */
  finish(snapshot: unknown, at: Date): EncodedRun;
}

/**
 * For a collector with `mapParts`: its mapper fed part by part while collection runs, each
 * entity encoded as it comes (as mapAndEncode does for mapEach), so that once the last
 * answer is in only the rest is left to map. Undefined for other collectors.
 */
export function startMapping(policy: Policy, started: Date): MappingWhileCollecting | undefined {
  const mapParts = policy.def.mapParts;
  if (!mapParts) return undefined;
  const mctx = mapContext(policy, started);
  const mapper = mapParts(mctx);
  const { encoded, take } = runEncoding();
  // A failure in the collector's callback would end up in the collector's own error
  // handling: it is kept and thrown once collection is over, which fails the run as a
  // failure of mapAndEncode does.
  let failure: { err: unknown } | undefined;
  return {
    part: (p) => {
      if (failure) return;
      try {
        mapper.part(p, take);
      } catch (err) {
        failure = { err };
      }
    },
    finish: (snapshot, at) => {
      if (failure) throw failure.err;
      const summary = mapper.end(snapshot, take);
      return encodedRun(policy, snapshot, at, encoded, summary, { ...mctx, now: at });
    },
  };
}
