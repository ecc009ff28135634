import { EntityType, encodeEntity, type EncodedEntity } from '../diode/codec.ts';
import { sortByEmission } from '../../mappers/order.ts';
import type { AnyEntity } from '../../mappers/types.ts';
import { emptyState, type ObjectState, type PolicyState } from './store.ts';

/** Kinds that are reported stale when they disappear (DESIGN.md §8, issue "Nothing lost"). */
export const STALE_KINDS: ReadonlySet<string> = new Set(['virtual_machine', 'device', 'interface', 'vm_interface', 'ip_address', 'inventory_item']);
/** Models whose status field allows "offline". */
const OFFLINE_STATUS_KINDS: ReadonlySet<string> = new Set(['virtual_machine', 'device', 'inventory_item']);
export const STALE_TAG = { name: 'stale', slug: 'stale', color: '9e9e9e', description: 'Not seen by the discovery agent in its last runs' };
/** Objects unseen for this many runs are forgotten, to keep the state bounded. */
const FORGET_AFTER_RUNS = 100;

export interface DeltaOptions {
  agentVersion: string;
  policyHash: string;
  now: number;
  delta: boolean;
  fullSyncIntervalMs: number;
  staleAfterRuns: number;
  staleAction: 'mark' | 'ignore';
  /** The stored state could not be read: resync everything. */
  stateUnreadable?: boolean;
}

export interface DeltaPlan {
  full: boolean;
  reason: string;
  /** What to send, in emission order. */
  send: EncodedEntity[];
  /** Ids of the objects sent as stale in this plan. */
  staleIds: Set<string>;
}

function fullReason(state: PolicyState | null, o: DeltaOptions): string | undefined {
  if (!o.delta) return 'delta disabled';
  if (o.stateUnreadable) return 'state unreadable';
  if (!state || state.lastFullSync === null) return 'first run';
  if (state.forceFull) return 'previous delivery incomplete';
  if (state.agentVersion !== o.agentVersion) return 'agent version changed';
  if (state.policyHash !== o.policyHash) return 'policy changed';
  if (o.now - state.lastFullSync >= o.fullSyncIntervalMs) return 'full sync interval elapsed';
  return undefined;
}

/** Rebuilds a stored entity as stale: status offline where the model has it, tag `stale`. */
export function staleEntity(kind: string, bodyB64: string): EncodedEntity {
  const decoded = EntityType.toObject(EntityType.decode(Buffer.from(bodyB64, 'base64')), { longs: Number, arrays: true, objects: true }) as Record<string, Record<string, unknown>>;
  const value = decoded[kind] ?? {};
  if (OFFLINE_STATUS_KINDS.has(kind)) value.status = 'offline';
  const tags = (value.tags as Array<{ slug?: string }> | undefined) ?? [];
  if (!tags.some((t) => t.slug === STALE_TAG.slug)) value.tags = [...tags, { name: STALE_TAG.name, slug: STALE_TAG.slug }];
  return encodeEntity({ kind, value } as AnyEntity);
}

/** Chooses what a run sends: everything on a full sync, else only new or changed entities, plus stale ones. */
export function planDelta(state: PolicyState | null, encoded: readonly EncodedEntity[], o: DeltaOptions): DeltaPlan {
  const reason = fullReason(state, o);
  const full = reason !== undefined;
  const objects = state?.objects ?? {};
  const send = full ? [...encoded] : encoded.filter((e) => objects[e.id]?.fp !== e.fingerprint);
  const staleIds = new Set<string>();
  if (o.staleAction === 'mark' && state) {
    const run = state.runs + 1;
    const present = new Set<string>();
    for (const e of encoded) present.add(e.id);
    const stale: EncodedEntity[] = [];
    for (const id in objects) {
      const obj = objects[id];
      if (!obj) continue;
      const kind = id.slice(0, id.indexOf('|'));
      if (!STALE_KINDS.has(kind) || obj.stale || !obj.body || present.has(id)) continue;
      if (run - obj.seen < o.staleAfterRuns) continue;
      stale.push(staleEntity(kind, obj.body));
      staleIds.add(id);
    }
    if (stale.length) send.push(encodeEntity({ kind: 'tag', value: STALE_TAG }), ...stale);
  }
  return { full, reason: reason ?? 'delta', send: sortByEmission(send), staleIds };
}

/**
 * The state after a run: fingerprints advance only for what Diode accepted; every
 * collected object is marked seen; an incomplete delivery forces the next run to be full.
 * `prev` is updated in place (it is the run's own copy, loaded for this delivery): copying
 * tens of thousands of entries per run would double the state's memory for nothing.
 */
export function commitDelta(
  prev: PolicyState | null,
  o: DeltaOptions,
  plan: DeltaPlan,
  collected: readonly EncodedEntity[],
  accepted: ReadonlyMap<string, EncodedEntity>,
  deliveryComplete: boolean,
): PolicyState {
  const state: PolicyState = prev ?? emptyState(o.agentVersion, o.policyHash);
  const run = state.runs + 1;
  state.runs = run;
  state.agentVersion = o.agentVersion;
  state.policyHash = o.policyHash;
  for (const e of collected) {
    const id = e.id;
    const old = state.objects[id];
    const acc = accepted.get(id);
    // An unchanged entity keeps its stored body: no base64 pass over what did not change.
    const body = acc && STALE_KINDS.has(e.kind) && !(old?.body && old.fp === acc.fingerprint)
      ? Buffer.from(acc.body.buffer, acc.body.byteOffset, acc.body.byteLength).toString('base64')
      : old?.body;
    if (!old) {
      const next: ObjectState = { fp: acc ? acc.fingerprint : '', seen: run };
      if (body) next.body = body;
      state.objects[id] = next;
      continue;
    }
    // Updated in place: a delta run over tens of thousands of unchanged objects allocates nothing here.
    old.seen = run;
    if (acc) {
      old.fp = acc.fingerprint;
      if (old.stale !== undefined) delete old.stale;
    }
    if (body) old.body = body;
  }
  for (const id of plan.staleIds) {
    const acc = accepted.get(id);
    const old = state.objects[id];
    if (acc && old) state.objects[id] = { ...old, fp: acc.fingerprint, stale: true };
  }
  for (const id in state.objects) if (run - (state.objects[id]?.seen ?? run) > FORGET_AFTER_RUNS) delete state.objects[id];
  if (deliveryComplete) {
    state.forceFull = false;
    if (plan.full) state.lastFullSync = o.now;
  } else {
    state.forceFull = true;
  }
  return state;
}
