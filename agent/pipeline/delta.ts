import { EntityType, encodeEntity, type EncodedEntity } from '../diode/codec.ts';
import { emptyState, type ObjectState, type PolicyState } from '../state/store.ts';
import { vmKey } from '../../mappers/keys.ts';
import type { AnyEntity } from '../../mappers/types.ts';
import { mergeInOrder } from './order.ts';

/** Kinds that are reported stale when they disappear (README.md "What lands in NetBox", stale objects; issue "Nothing lost"). */
export const STALE_KINDS: ReadonlySet<string> = new Set(['virtual_machine', 'device', 'interface', 'vm_interface', 'ip_address', 'inventory_item']);
/** Models whose status field allows "offline". */
const OFFLINE_STATUS_KINDS: ReadonlySet<string> = new Set(['virtual_machine', 'device', 'inventory_item']);
/** NetBox object type of each stale kind, for the custom field's object_types. */
const STALE_OBJECT_TYPES: Readonly<Record<string, string>> = {
  device: 'dcim.device',
  interface: 'dcim.interface',
  inventory_item: 'dcim.inventoryitem',
  ip_address: 'ipam.ipaddress',
  virtual_machine: 'virtualization.virtualmachine',
  vm_interface: 'virtualization.vminterface',
};
/*
 * Staleness is a boolean custom field, not a tag: Diode unions tags and never removes one
 * (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/differ.py), so a `stale` tag could
 * never come off. A custom field merges per key and takes a new value, so the agent sets it
 * true when an object goes missing and false when it comes back.
 */
export const STALE_FIELD = 'diode_agent_stale';
export const STALE_FIELD_ENTITY: AnyEntity = {
  kind: 'custom_field',
  value: {
    name: STALE_FIELD,
    label: 'Not seen by discovery',
    type: 'boolean',
    description: 'True while the discovery agent has not seen this object for stale_after_runs runs',
    object_types: Object.values(STALE_OBJECT_TYPES).sort(),
    group_name: 'Discovery agent',
    ui_editable: 'hidden',
  },
};
/*
 * Unique identity custom fields of VMs (agent/collectors/pve/map `proxmox_vm_uid`, issue #17). Diode
 * matches a VM on them when (name, cluster) finds nothing (netboxlabs/diode-netbox-plugin
 * netbox_diode_plugin/api/matcher.py `CustomFieldMatcher`), so a guest renamed in PVE updates
 * its NetBox VM. Its old-name VM and interfaces are then gone from the run but not gone from
 * NetBox: sent as stale, the VM would match the renamed row by this field and mark it
 * offline, and an interface's VM reference (old name, no match) would create a ghost VM.
 */
const VM_IDENTITY_FIELDS = ['proxmox_vm_uid'] as const;

type Decoded = Record<string, Record<string, unknown> | undefined>;

function decodeBody(body: Uint8Array): Decoded {
  return EntityType.toObject(EntityType.decode(body), { longs: Number, arrays: true, objects: true }) as Decoded;
}

function vmIdentity(vm: Record<string, unknown> | undefined): string | undefined {
  const fields = vm?.custom_fields as Record<string, { text?: unknown } | undefined> | undefined;
  for (const f of VM_IDENTITY_FIELDS) {
    const t = fields?.[f]?.text;
    if (typeof t === 'string' && t !== '') return `${f}=${t}`;
  }
  return undefined;
}

/**
 * Stale candidates that belong to a VM present in this run under another name (same
 * identity field value). Only candidates of VM kinds are decoded, and the run's VMs only
 * when there is one, so an ordinary run pays nothing.
 */
function renamedAway(candidates: readonly string[], encoded: readonly EncodedEntity[], objects: PolicyState['objects']): Set<string> {
  const out = new Set<string>();
  const vmKinds = candidates.filter((id) => id.startsWith('virtual_machine|') || id.startsWith('vm_interface|'));
  if (vmKinds.length === 0) return out;
  const present = new Set<string>();
  for (const e of encoded) {
    if (e.kind !== 'virtual_machine') continue;
    const idv = vmIdentity(decodeBody(e.body).virtual_machine);
    if (idv) present.add(idv);
  }
  if (present.size === 0) return out;
  const storedIdentity = (vmId: string): string | undefined => {
    const b = objects.get(vmId)?.body;
    return b ? vmIdentity(decodeBody(b).virtual_machine) : undefined;
  };
  for (const id of vmKinds) {
    const body = objects.get(id)?.body;
    if (!body) continue;
    const d = decodeBody(body);
    const vmId = id.startsWith('virtual_machine|') ? id : `virtual_machine|${vmKey(d.vm_interface?.virtual_machine as never)}`;
    const idv = id === vmId ? vmIdentity(d.virtual_machine) : storedIdentity(vmId);
    if (idv && present.has(idv)) out.add(id);
  }
  return out;
}

/** Kinds whose natural key is `<vm key>/<name>` (mappers/keys.ts). */
const VM_CHILD_KINDS: ReadonlySet<string> = new Set(['vm_interface', 'virtual_disk']);

/**
 * Stored objects, absent from this run, that belong to a VM the policy now excludes: the VM,
 * its interfaces and disks (by key: PVE interface and disk names have no "/"), and the IPs
 * assigned to its interfaces (by the stored entity's VM reference). NetBox keeps them as they
 * are; the agent just stops tracking them, so they are never reported stale.
 */
function excludedAway(objects: PolicyState['objects'], present: ReadonlySet<ObjectState>, forget: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const [id, obj] of objects) {
    if (present.has(obj)) continue;
    const bar = id.indexOf('|');
    const kind = id.slice(0, bar);
    const key = id.slice(bar + 1);
    if (kind === 'virtual_machine') {
      if (forget.has(key)) out.add(id);
    } else if (VM_CHILD_KINDS.has(kind)) {
      if (forget.has(key.slice(0, key.lastIndexOf('/')))) out.add(id);
    } else if (kind === 'ip_address') {
      const body = obj.body;
      const vm = body ? (decodeBody(body).ip_address?.assigned_object_vm_interface as { virtual_machine?: unknown } | undefined) : undefined;
      if (vm?.virtual_machine && forget.has(vmKey(vm.virtual_machine as never))) out.add(id);
    }
  }
  return out;
}

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
  /**
   * VM keys (mappers/keys.ts vmKey) the policy now excludes on purpose (MapSummary.forgetVms):
   * their objects are dropped from the state, never sent as stale.
   */
  forgetVms?: ReadonlySet<string>;
}

export interface DeltaPlan {
  full: boolean;
  reason: string;
  /** What to send, in emission order. */
  send: EncodedEntity[];
  /** Ids of the objects sent as stale in this plan. */
  staleIds: Set<string>;
  /**
   * The entity sent for an id when it is not the collected one: a returned object's (its
   * stale mark cleared) and each stale object's. Every other entity of `send` is the
   * collected object itself, which is what a delivery records as accepted.
   */
  sentFor: Map<string, EncodedEntity>;
  /** Ids of the objects to drop from the state without a word to Diode (an excluded guest's). */
  forgetIds: Set<string>;
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

function withStaleField(kind: string, body: Uint8Array, stale: boolean): EncodedEntity {
  const decoded = EntityType.toObject(EntityType.decode(body), { longs: Number, arrays: true, objects: true }) as Record<string, Record<string, unknown>>;
  const value = decoded[kind] ?? {};
  if (stale && OFFLINE_STATUS_KINDS.has(kind)) value.status = 'offline';
  value.custom_fields = { ...(value.custom_fields as object | undefined), [STALE_FIELD]: { boolean: stale } };
  return encodeEntity({ kind, value } as AnyEntity);
}

/** Rebuilds a stored entity as stale: status offline where the model has it, diode_agent_stale true. */
export function staleEntity(kind: string, body: Uint8Array): EncodedEntity {
  return withStaleField(kind, body, true);
}

/** An object that was marked stale and is back: its entity with diode_agent_stale false. */
export function returnedEntity(e: EncodedEntity): EncodedEntity {
  return withStaleField(e.kind, e.body, false);
}

/**
 * Chooses what a run sends: everything on a full sync, else only new or changed entities, plus
 * stale ones. `encoded` is in emission order (order.ts), and so is `send`.
 */
export function planDelta(state: PolicyState | null, encoded: readonly EncodedEntity[], o: DeltaOptions): DeltaPlan {
  const reason = fullReason(state, o);
  const full = reason !== undefined;
  const objects = state?.objects ?? new Map<string, ObjectState>();
  const staleIds = new Set<string>();
  const sentFor = new Map<string, EncodedEntity>();
  /*
   * One pass over the run: what to send, and the stored objects the run collected (by
   * object: a set of tens of thousands of ids would cost more than the lookups themselves).
   * An object marked stale that is back is sent (its fingerprint is the stale one's) with
   * the mark cleared. Without a state everything is sent as it is.
   */
  let send: EncodedEntity[];
  const present = new Set<ObjectState>();
  let staleField = false;
  if (!state) send = [...encoded];
  else {
    send = [];
    for (const e of encoded) {
      const obj = objects.get(e.id);
      if (obj) present.add(obj);
      if (!full && obj?.fp === e.fingerprint) continue;
      if (obj?.stale) {
        const back = returnedEntity(e);
        send.push(back);
        sentFor.set(e.id, back);
        staleField = true;
      } else send.push(e);
    }
  }
  const forgetIds = state && o.forgetVms?.size ? excludedAway(objects, present, o.forgetVms) : new Set<string>();
  // What the run did not collect (stale entities, the stale field), merged into the order.
  const extra: EncodedEntity[] = [];
  if (o.staleAction === 'mark' && state) {
    const run = state.runs + 1;
    const stale: EncodedEntity[] = [];
    const candidates: string[] = [];
    for (const [id, obj] of objects) {
      // The cheap tests first: nearly every stored object is present.
      if (obj.stale || !obj.body || present.has(obj)) continue;
      if (!STALE_KINDS.has(id.slice(0, id.indexOf('|'))) || forgetIds.has(id)) continue;
      if (run - obj.seen < o.staleAfterRuns) continue;
      candidates.push(id);
    }
    const renamed = renamedAway(candidates, encoded, objects);
    for (const id of candidates) {
      if (renamed.has(id)) continue;
      const body = objects.get(id)?.body;
      if (!body) continue;
      const e = staleEntity(id.slice(0, id.indexOf('|')), body);
      stale.push(e);
      staleIds.add(id);
      sentFor.set(id, e);
    }
    if (stale.length) {
      extra.push(...stale);
      staleField = true;
    }
  }
  if (staleField) extra.push(encodeEntity(STALE_FIELD_ENTITY));
  return { full, reason: reason ?? 'delta', send: mergeInOrder(send, extra), staleIds, forgetIds, sentFor };
}

/**
 * The state after a run: fingerprints advance only for what Diode accepted; every
 * collected object is marked seen; an incomplete delivery forces the next run to be full.
 * `prev` is updated in place (it is the run's own copy, loaded for this delivery): copying
 * tens of thousands of entries per run would double the state's memory for nothing.
 * `accepted` holds the entity objects of `plan.send` that Diode accepted (by object, not
 * by id: a delivery adds tens of thousands).
 */
export function commitDelta(
  prev: PolicyState | null,
  o: DeltaOptions,
  plan: DeltaPlan,
  collected: readonly EncodedEntity[],
  accepted: ReadonlySet<EncodedEntity>,
  deliveryComplete: boolean,
): PolicyState {
  const state: PolicyState = prev ?? emptyState(o.agentVersion, o.policyHash);
  const run = state.runs + 1;
  state.runs = run;
  state.agentVersion = o.agentVersion;
  state.policyHash = o.policyHash;
  const sentFor = plan.sentFor;
  // A first state: nothing to look up, nothing to forget (tens of thousands of misses saved).
  const fresh = prev === null;
  for (const e of collected) {
    const id = e.id;
    const old = fresh ? undefined : state.objects.get(id);
    const acc = accepted.has(sentFor.size === 0 ? e : (sentFor.get(id) ?? e));
    // An unchanged entity keeps its stored body (a view of the loaded state), no second copy.
    const body = acc && STALE_KINDS.has(e.kind) && !(old?.body && old.fp === e.fingerprint) ? e.body : old?.body;
    if (!old) {
      const next: ObjectState = { fp: acc ? e.fingerprint : '', seen: run };
      if (body) next.body = body;
      state.objects.set(id, next);
      continue;
    }
    // Updated in place: a delta run over tens of thousands of unchanged objects allocates nothing here.
    old.seen = run;
    if (acc) {
      // The collected entity's fingerprint, also when a cleared stale mark was added to what was sent.
      old.fp = e.fingerprint;
      if (old.stale !== undefined) delete old.stale;
    }
    if (body) old.body = body;
  }
  for (const id of plan.staleIds) {
    const sent = sentFor.get(id);
    const old = state.objects.get(id);
    if (sent && accepted.has(sent) && old) state.objects.set(id, { ...old, fp: sent.fingerprint, stale: true });
  }
  for (const id of plan.forgetIds) state.objects.delete(id);
  // Deleting the entry being visited is safe while iterating a Map.
  if (!fresh) for (const [id, obj] of state.objects) if (run - obj.seen > FORGET_AFTER_RUNS) state.objects.delete(id);
  if (deliveryComplete) {
    state.forceFull = false;
    if (plan.full) state.lastFullSync = o.now;
  } else {
    state.forceFull = true;
  }
  return state;
}
