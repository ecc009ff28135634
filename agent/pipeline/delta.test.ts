import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EntityType, encodeEntity, type EncodedEntity } from '../diode/codec.ts';
import { entity, type AnyEntity } from '../../mappers/types.ts';
import { commitDelta, planDelta, type DeltaOptions } from './delta.ts';
import { orderRun } from './order.ts';
import { encodeState, encodeStatePieces, PIECE_BYTES } from '../state/format.ts';
import { FileStateStore, parseState, StateLoadError, type PolicyState } from '../state/store.ts';

const opts = (over: Partial<DeltaOptions> = {}): DeltaOptions => ({
  agentVersion: '1.0.0',
  policyHash: 'h1',
  now: 1_000_000,
  delta: true,
  fullSyncIntervalMs: 86_400_000,
  staleAfterRuns: 3,
  staleAction: 'mark',
  ...over,
});
const vm = (name: string, memory = 1024): AnyEntity =>
  entity('virtual_machine', { name, cluster: { name: 'c' }, status: 'active', memory, tags: [{ name: 'discovered', slug: 'discovered' }] });
const tag = entity('tag', { name: 'discovered', slug: 'discovered', color: '198754' });

/** Runs plan + commit with everything accepted, as a successful delivery would (on the run's order, order.ts). */
function cycle(state: PolicyState | null, ents: AnyEntity[], o: DeltaOptions = opts()): { state: PolicyState; sent: EncodedEntity[] } {
  const encoded = orderRun(ents.map(encodeEntity));
  const plan = planDelta(state, encoded, o);
  const accepted = new Set(plan.send);
  return { state: commitDelta(state, o, plan, encoded, accepted, true), sent: plan.send };
}

/** The state as a version-1 agent wrote it: JSON, bodies in base64. */
const asV1 = (state: PolicyState): Record<string, unknown> => ({
  ...state,
  version: 1,
  objects: Object.fromEntries([...state.objects].map(([id, o]) => [id, { ...o, ...(o.body && { body: Buffer.from(o.body).toString('base64') }) }])),
});

const decode = (e: EncodedEntity) => EntityType.toObject(EntityType.decode(e.body), { longs: Number }) as Record<string, Record<string, unknown>>;

describe('delta sync', () => {
  it('sends everything first, nothing when unchanged, only what changed after that', () => {
    const r1 = cycle(null, [tag, vm('a'), vm('b')]);
    expect(r1.sent).toHaveLength(3);
    const r2 = cycle(r1.state, [tag, vm('a'), vm('b')]);
    expect(r2.sent).toHaveLength(0);
    const r3 = cycle(r2.state, [tag, vm('a', 2048), vm('b')]);
    expect(r3.sent.map((e) => e.key)).toEqual(['/c/a']);
  });

  it('resends everything after an incomplete delivery, a policy or agent change, or the full-sync interval', () => {
    const ents = [tag, vm('a')];
    const { state } = cycle(null, ents);
    const encoded = ents.map(encodeEntity);
    const failed = commitDelta(structuredClone(state), opts(), planDelta(state, encoded, opts()), encoded, new Set(), false);
    expect(planDelta(failed, encoded, opts())).toMatchObject({ full: true, reason: 'previous delivery incomplete' });
    expect(planDelta(state, encoded, opts({ policyHash: 'h2' }))).toMatchObject({ full: true, reason: 'policy changed' });
    expect(planDelta(state, encoded, opts({ agentVersion: '1.0.1' }))).toMatchObject({ full: true, reason: 'agent version changed' });
    expect(planDelta(state, encoded, opts({ now: 1_000_000 + 86_400_000 }))).toMatchObject({ full: true, reason: 'full sync interval elapsed' });
    expect(planDelta(state, encoded, opts({ now: 1_000_000 + 86_399_999 }))).toMatchObject({ full: false, send: [] });
    expect(planDelta(state, encoded, opts({ delta: false })).send).toHaveLength(2);
  });

  it('advances fingerprints only for accepted entities', () => {
    const ents = [vm('a'), vm('b')].map(encodeEntity);
    const plan = planDelta(null, ents, opts());
    const accepted = new Set([ents[0]!]);
    const state = commitDelta(null, opts(), plan, ents, accepted, false);
    expect(state.objects.get('virtual_machine|/c/a')?.fp).toBe(ents[0]!.fingerprint);
    expect(state.objects.get('virtual_machine|/c/b')?.fp).toBe('');
    expect(state.forceFull).toBe(true);
  });

  it('marks a vanished VM stale after stale_after_runs runs, not before, once, and clears it when it returns', () => {
    let { state } = cycle(null, [tag, vm('a'), vm('gone')]);
    for (let i = 0; i < 2; i++) {
      const r = cycle(state, [tag, vm('a')]);
      expect(r.sent).toEqual([]);
      state = r.state;
    }
    const r3 = cycle(state, [tag, vm('a')]);
    // Marked with a custom field Diode can take back (tags only grow), defined in the same plan.
    expect(r3.sent.map((e) => `${e.kind}:${e.key}`)).toEqual(['custom_field:diode_agent_stale', 'virtual_machine:/c/gone']);
    expect(decode(r3.sent[0]!).custom_field).toMatchObject({
      name: 'diode_agent_stale',
      type: 'boolean',
      object_types: expect.arrayContaining(['virtualization.virtualmachine', 'dcim.device']),
    });
    const stale = decode(r3.sent[1]!).virtual_machine!;
    expect(stale.status).toBe('offline');
    expect(stale.tags).toEqual([{ name: 'discovered', slug: 'discovered' }]);
    expect(stale.custom_fields).toEqual({ diode_agent_stale: { boolean: true } });
    const r4 = cycle(r3.state, [tag, vm('a')]);
    expect(r4.sent).toEqual([]);
    // Back: its own entity, with the mark cleared, and nothing more once that is recorded.
    const back = cycle(r4.state, [tag, vm('a'), vm('gone')]);
    expect(back.sent.map((e) => `${e.kind}:${e.key}`)).toEqual(['custom_field:diode_agent_stale', 'virtual_machine:/c/gone']);
    expect(decode(back.sent[1]!).virtual_machine).toMatchObject({ status: 'active', custom_fields: { diode_agent_stale: { boolean: false } } });
    expect(back.state.objects.get('virtual_machine|/c/gone')?.stale).toBeUndefined();
    expect(cycle(back.state, [tag, vm('a'), vm('gone')]).sent).toEqual([]);
  });

  it('forgets the VM, interfaces, disks and IPs of a guest the policy now excludes, sending nothing stale', () => {
    const vmRefOf = (name: string) => ({ name, cluster: { name: 'c' } });
    const guest = (name: string, ip: string): AnyEntity[] => [
      vm(name),
      entity('vm_interface', { virtual_machine: vmRefOf(name), name: 'net0' }),
      entity('virtual_disk', { virtual_machine: vmRefOf(name), name: 'scsi0', size: 1024 }),
      entity('ip_address', { address: ip, assigned_object_vm_interface: { virtual_machine: vmRefOf(name), name: 'net0' }, status: 'active' }),
    ];
    const device = entity('device', { name: 'pve1', site: { name: 's' } });
    const first = cycle(null, [tag, device, ...guest('a', '10.0.0.1/24'), ...guest('x', '10.0.0.2/24'), ...guest('y', '10.0.0.3/24')]);
    const xIds = ['ip_address|/10.0.0.2/24', 'virtual_disk|/c/x/scsi0', 'virtual_machine|/c/x', 'vm_interface|/c/x/net0'];
    // Control: without the mapper's word, x and y (both gone) are sent stale after stale_after_runs.
    let control = structuredClone(first.state);
    for (let i = 0; i < 2; i++) control = cycle(control, [tag, device, ...guest('a', '10.0.0.1/24')]).state;
    expect(
      cycle(structuredClone(control), [tag, device, ...guest('a', '10.0.0.1/24')])
        .sent.map((e) => e.id)
        .sort(),
    ).toEqual([
      'custom_field|diode_agent_stale',
      'ip_address|/10.0.0.2/24',
      'ip_address|/10.0.0.3/24',
      'virtual_machine|/c/x',
      'virtual_machine|/c/y',
      'vm_interface|/c/x/net0',
      'vm_interface|/c/y/net0',
    ]);
    // x excluded: its objects leave the state at once and never go out; y (gone, not excluded) goes stale as before.
    const excluded = opts({ forgetVms: new Set(['/c/x']) });
    const r2 = cycle(first.state, [tag, device, ...guest('a', '10.0.0.1/24')], excluded);
    expect(r2.sent.map((e) => e.id)).toEqual([]);
    expect([...r2.state.objects.keys()].filter((id) => xIds.includes(id))).toEqual([]);
    expect([...r2.state.objects.keys()].sort()).toEqual([
      'device|s/pve1',
      'ip_address|/10.0.0.1/24',
      'ip_address|/10.0.0.3/24',
      'tag|discovered',
      'virtual_disk|/c/a/scsi0',
      'virtual_disk|/c/y/scsi0',
      'virtual_machine|/c/a',
      'virtual_machine|/c/y',
      'vm_interface|/c/a/net0',
      'vm_interface|/c/y/net0',
    ]);
    let state = r2.state;
    state = cycle(state, [tag, device, ...guest('a', '10.0.0.1/24')], excluded).state;
    const r4 = cycle(state, [tag, device, ...guest('a', '10.0.0.1/24')], excluded);
    expect(r4.sent.map((e) => e.id)).toEqual(['custom_field|diode_agent_stale', 'vm_interface|/c/y/net0', 'ip_address|/10.0.0.3/24', 'virtual_machine|/c/y']);
    expect(r4.state.objects.get('virtual_machine|/c/x')).toBeUndefined();
  });

  it("keeps an excluded guest's address that another object now holds, and forgets an object already marked stale", () => {
    const vmRefOf = (name: string) => ({ name, cluster: { name: 'c' } });
    const ip = (address: string, owner: string) =>
      entity('ip_address', { address, assigned_object_vm_interface: { virtual_machine: vmRefOf(owner), name: 'net0' }, status: 'active' });
    let { state } = cycle(null, [vm('x'), ip('10.0.0.2/24', 'x'), vm('z'), ip('10.0.0.9/24', 'z')]);
    // z goes stale first (three runs gone), then the policy excludes it.
    for (let i = 0; i < 3; i++) state = cycle(state, [vm('x'), ip('10.0.0.2/24', 'x')]).state;
    expect(state.objects.get('virtual_machine|/c/z')?.stale).toBe(true);
    // x excluded, its address moved to b: the address is in the run (b's now) and stays tracked.
    const r = cycle(state, [vm('b'), ip('10.0.0.2/24', 'b')], opts({ forgetVms: new Set(['/c/x', '/c/z']) }));
    expect(r.sent.map((e) => e.id)).toEqual(['ip_address|/10.0.0.2/24', 'virtual_machine|/c/b']);
    expect([...r.state.objects.keys()].sort()).toEqual(['ip_address|/10.0.0.2/24', 'virtual_machine|/c/b']);
  });

  it('does not mark anything stale with stale.action ignore', () => {
    let { state } = cycle(null, [vm('a'), vm('gone')]);
    for (let i = 0; i < 5; i++) {
      const r = cycle(state, [vm('a')], opts({ staleAction: 'ignore' }));
      expect(r.sent).toEqual([]);
      state = r.state;
    }
  });
});

describe('FileStateStore', () => {
  it('round-trips state atomically, leaving no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const store = new FileStateStore(dir);
    expect(await store.load('p')).toBeNull();
    const { state } = cycle(null, [tag, vm('a')]);
    await store.save('p', state);
    expect(await store.load('p')).toEqual(state);
    expect(readdirSync(dir)).toEqual(['p.state']);
  });

  it('reports a corrupt version-1 file as StateLoadError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    writeFileSync(join(dir, 'p.state.json'), '{"version":1,"runs":');
    await expect(new FileStateStore(dir).load('p')).rejects.toBeInstanceOf(StateLoadError);
    expect(planDelta(null, [encodeEntity(tag)], opts({ stateUnreadable: true })).reason).toBe('state unreadable');
  });
});

describe('state file', () => {
  it('is written in pieces of about a megabyte that read back as the state', () => {
    const { state } = cycle(null, [tag, vm('a'), vm('b'), vm('c')]);
    const one = [...encodeStatePieces(state)];
    expect(one).toHaveLength(1);
    expect(parseState(Buffer.concat(one), 'x')).toEqual(state);
    const empty = { ...state, objects: new Map() };
    expect(parseState(Buffer.concat([...encodeStatePieces(empty)]), 'x')).toEqual(empty);
    // 20,000 records of 2 + 6..10 + 1 + 22 + 4 + 1 + 4 + 100 bytes: 2.86 MB, three pieces, each
    // as full as whole records make it.
    const big: PolicyState = {
      ...state,
      objects: new Map(Array.from({ length: 20_000 }, (_, i) => [`tag|t${i}`, { fp: 'x'.repeat(22), seen: 1, body: Buffer.alloc(100, i % 256) }])),
    };
    const pieces = [...encodeStatePieces(big)];
    expect(pieces.map((p) => p.length > PIECE_BYTES - 150 && p.length <= PIECE_BYTES)).toEqual([true, true, false]);
    expect(parseState(Buffer.concat(pieces), 'x')).toEqual(big);
    // A body larger than a piece is a piece of its own.
    const huge: PolicyState = {
      ...state,
      objects: new Map([
        ['virtual_machine|/c/a', { fp: 'f', seen: 1, body: Buffer.alloc(PIECE_BYTES + 1, 7) }],
        ['virtual_machine|/c/b', { fp: 'g', seen: 1, stale: false }],
      ]),
    };
    const hp = [...encodeStatePieces(huge)];
    expect(hp.map((p) => p.length)).toEqual([expect.any(Number), PIECE_BYTES + 1, expect.any(Number)]);
    expect(parseState(Buffer.concat(hp), 'x')).toEqual(huge);
  });
});

describe('state validation', () => {
  it('rejects a state file whose object entries are malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const { state } = cycle(null, [tag, vm('a')]);
    const v1 = asV1(state);
    const bad = { ...v1, objects: { ...(v1.objects as object), 'tag|x': { fp: 1, seen: 'now' } } };
    writeFileSync(join(dir, 'p.state.json'), JSON.stringify(bad));
    await expect(new FileStateStore(dir).load('p')).rejects.toThrow(/p\.state\.json is corrupt: object "tag\|x" is malformed/);
  });

  it('rejects objects that are not a map of entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const { state } = cycle(null, [tag]);
    for (const objects of [[], null, 'x']) {
      writeFileSync(join(dir, 'p.state.json'), JSON.stringify({ ...asV1(state), objects }));
      await expect(new FileStateStore(dir).load('p')).rejects.toThrow(/p\.state\.json is corrupt$/);
    }
  });

  it("updates a delta run's entries in place and keeps what it did not resend", () => {
    const first = cycle(null, [tag, vm('a')]).state;
    const id = encodeEntity(vm('a')).id;
    const before = first.objects.get(id);
    expect(before).toMatchObject({ seen: 1, body: expect.any(Uint8Array) });
    // As the next run gets it: saved and loaded.
    const second = cycle(parseState(encodeState(first), 'x'), [tag, vm('a')], opts({ now: 1_000_001 }));
    expect(second.sent).toEqual([]);
    expect(second.state.objects.get(id)).toEqual({ ...before, seen: 2 });
  });
});
