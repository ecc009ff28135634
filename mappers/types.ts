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
   * reporting them stale (agent/state/delta.ts).
   */
  forgetVms?: string[];
}
