import type { EntityKind, EntityMembers } from '../proto/diode/v1/types.ts';

export type { EntityKind, EntityMembers } from '../proto/diode/v1/types.ts';

/** One Diode entity: the Entity oneof member name and its message. */
export type EntityOf<K extends EntityKind> = { kind: K; value: EntityMembers[K] };
export type AnyEntity = { [K in EntityKind]: EntityOf<K> }[EntityKind];

export function entity<K extends EntityKind>(kind: K, value: EntityMembers[K]): EntityOf<K> {
  return { kind, value };
}

/** What a mapper gets besides the snapshot: time is a parameter, never read from a clock. */
export interface MapContext<C> {
  config: C;
  scope: { nodes: string[] };
  now: Date;
  policyName: string;
}

/** What a streaming mapper (mapEach) returns when it is done: counts it saw while mapping. */
export interface MapSummary {
  measures?: Record<string, number>;
  /**
   * Natural keys (mappers/keys.ts vmKey) of VMs the policy now excludes on purpose (PVE
   * EXCLUDE_*): the delta forgets them, their interfaces, disks and IPs, instead of
   * reporting them stale (agent/pipeline/delta.ts).
   */
  forgetVms?: string[];
}

/**
 * A mapper fed while its collector still runs (CollectorDefinition.mapParts): the collector
 * hands over each part of the snapshot once it is final, in the order the mapper needs
 * (what a part is, and that order, is the collector's and its mapper's contract), and the
 * run encodes each entity as it comes. Entities go to `emit` in any order; the run orders
 * them. `end` gets the whole snapshot once collected (the parts it was handed among it)
 * and maps what no part carried: its entities with those of the parts are exactly
 * mapEach's on that snapshot.
 */
export interface PartMapper<S, P> {
  part(p: P, emit: (e: AnyEntity) => void): void;
  end(snapshot: S, emit: (e: AnyEntity) => void): MapSummary | undefined;
}
