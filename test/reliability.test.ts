import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DELIVERY_PHASES, deliveryPhase } from '../mappers/order.ts';
import type { EntityKind } from '../mappers/types.ts';
import { parseState } from '../agent/state/store.ts';
import { FakeDiodeIngester, GrpcCode, type RecordedIngest } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler, type PveScenario } from '../agent/collectors/pve/fake.ts';
import { entitiesOf, harness, kindOf, PVE_TOKEN, waitFor } from './helpers/agent-harness.ts';

/*
 * Fault injection over real sockets: the agent loses nothing and resends nothing needlessly.
 */
const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

let ingester: FakeDiodeIngester;
let pve: FakeServer;
let scenario: PveScenario;
let pveFault: ((n: number, path: string) => { status: number; statusText: string; headers?: Record<string, string> } | undefined) | undefined;

beforeEach(async () => {
  scenario = generatePveScenario({ guests: 120, nodes: 3, seed: 5 });
  scenario.cluster = 'rel';
  ingester = await new FakeDiodeIngester().start();
  const handler = pveHandler(scenario, PVE_TOKEN);
  let n = 0;
  pveFault = undefined;
  pve = await startFakeHttps((req) => pveFault?.(++n, req.path) ?? handler(req));
});

afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

const accepted = () => entitiesOf(ingester.ingests.filter((r) => r.code === GrpcCode.OK).map((r) => r.bytes));
/** The delivery phases (mappers/order.ts DELIVERY_PHASES) of the entities of one request. */
const phasesOf = (r: RecordedIngest) => [...new Set(r.request.entities.map((e) => deliveryPhase(kindOf(e) as EntityKind)))];
/** A full run of this scenario: every phase present, each in one request. */
const ONE_REQUEST_PER_PHASE = DELIVERY_PHASES.map((_kinds, i) => [i]);

/** What a clean run delivers: the reference for exact comparisons. */
async function reference(): Promise<Array<Record<string, unknown>>> {
  const ref = await new FakeDiodeIngester().start();
  const h = harness(ref, pve);
  const a = h.agent();
  await a.once();
  await a.stop(0);
  await ref.stop();
  return entitiesOf(ref.ingests.filter((r) => r.code === 0).map((r) => r.bytes));
}

describe('upstream faults', () => {
  it('PVE answering 503 and 429 on a share of requests: the run completes with every entity delivered', async () => {
    const expected = await reference();
    // The first attempt at every 4th path gets 503, at every 7th 429; retries succeed.
    const attempts = new Map<string, number>();
    let paths = 0;
    const index = new Map<string, number>();
    pveFault = (_n, path) => {
      if (!index.has(path)) index.set(path, ++paths);
      const tries = (attempts.get(path) ?? 0) + 1;
      attempts.set(path, tries);
      const i = index.get(path)!;
      if (tries > 1) return undefined;
      return i % 4 === 0
        ? { status: 503, statusText: 'Service Unavailable' }
        : i % 7 === 0
          ? { status: 429, statusText: 'Too Many Requests', headers: { 'retry-after': '0' } }
          : undefined;
    };
    const a = harness(ingester, pve).agent();
    const [r] = await a.once();
    await a.stop(0);
    expect(r?.warnings).toEqual([]);
    expect(r?.status).toBe('success');
    expect(r?.apiByStatus['503']).toBeGreaterThan(10);
    expect(r?.apiByStatus['429']).toBeGreaterThan(3);
    expect(accepted()).toEqual(expected);
  });
});

describe('Retry-After', () => {
  it('a 429 and a 503 asking for 2 s: the retry of each comes no sooner, and the run succeeds', async () => {
    // Arrival times as the fake saw them; without the header the first retry would wait
    // 100-200 ms (agent/http/client.ts backoff base 200 ms), with it 2 s.
    const arrivals = new Map<string, number[]>();
    const asked: Record<string, { status: number; statusText: string }> = {
      '/api2/json/cluster/resources': { status: 429, statusText: 'Too Many Requests' },
      '/api2/json/nodes': { status: 503, statusText: 'Service Unavailable' },
    };
    pveFault = (_n, path) => {
      const times = arrivals.get(path) ?? [];
      times.push(performance.now());
      arrivals.set(path, times);
      const fault = asked[path];
      return fault && times.length === 1 ? { ...fault, headers: { 'retry-after': '2' } } : undefined;
    };
    const a = harness(ingester, pve).agent();
    const [r] = await a.once();
    await a.stop(0);
    expect(r?.status).toBe('success');
    expect([r?.apiByStatus['429'], r?.apiByStatus['503']]).toEqual([1, 1]);
    for (const path of Object.keys(asked)) {
      const [first, second, ...more] = arrivals.get(path) ?? [];
      expect([path, more.length]).toEqual([path, 0]);
      expect(second! - first!).toBeGreaterThanOrEqual(1900);
    }
  });
});

describe('Diode faults', () => {
  it('keeps the newest snapshot through an outage longer than the schedule and delivers it complete, in order, once', async () => {
    const expected = await reference();
    let down = true;
    ingester.faultFn = () => (down ? { code: GrpcCode.UNAVAILABLE, message: 'connection refused' } : undefined);
    const h = harness(ingester, pve, { schedule: '* * * * * *' });
    const a = h.agent({ background: true, outboxRetryBaseMs: 300, outboxRetryMaxMs: 600 });
    a.start();
    await waitFor(() => a.deliverer.superseded >= 2, 15_000);
    expect(accepted()).toEqual([]);
    // The newest snapshot differs from the first ones; Diode comes back only once a run that
    // started after the change has superseded them, so the snapshot waiting then is one with it.
    const guest = scenario.guests[0]!.resource;
    guest.maxmem = 17179869184;
    const changedAt = new Date().toISOString();
    await waitFor(() => (a.deliverer.pending.get('pve')?.run.result.startedAt ?? '') > changedAt, 15_000);
    down = false;
    await waitFor(() => ingester.ingests.some((r) => r.code === GrpcCode.OK) && !a.deliverer.pending.has('pve'), 15_000);
    // A later change goes out as a delta of the delivered snapshot.
    const other = scenario.guests[1]!.resource;
    other.maxmem = 5368709120;
    const memoryOf = (name: unknown) => (e: Record<string, unknown>) =>
      kindOf(e) === 'virtual_machine' && (e.virtual_machine as { name: string }).name === name ? (e.virtual_machine as { memory: number }).memory : undefined;
    await waitFor(() => accepted().some((e) => memoryOf(other.name)(e) === 5120), 15_000);
    await a.stop(1000);
    // The first accepted requests are the newest pending snapshot, complete (at this size:
    // one request per delivery phase, in phase order), with the change.
    expect(expected.length).toBeLessThan(1000);
    const ok = ingester.ingests.filter((r) => r.code === GrpcCode.OK);
    const n = DELIVERY_PHASES.length;
    expect(ok.slice(0, n).map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
    const first = entitiesOf(ok.slice(0, n).map((r) => r.bytes));
    const keys = first.map((e) => JSON.stringify(e));
    expect(new Set(keys).size).toBe(keys.length);
    expect(first.map(kindOf)).toEqual(expected.map(kindOf));
    expect(first.map(memoryOf(guest.name)).filter((m) => m !== undefined)).toEqual([16384]);
    // After it, only deltas: the VM changed later, never the whole snapshot again.
    expect(entitiesOf(ok.slice(n).map((r) => r.bytes)).map((e) => [kindOf(e), memoryOf(other.name)(e)])).toEqual([['virtual_machine', 5120]]);
    const firstOk = ingester.ingests.findIndex((r) => r.code === 0);
    expect(ingester.ingests.slice(firstOk).every((r) => r.code === 0)).toBe(true);
    const superseded = await a.metrics.registry.getSingleMetric('diode_agent_superseded_snapshots_total')!.get();
    expect(superseded.values[0]?.value).toBe(a.deliverer.superseded);
    expect(a.deliverer.superseded).toBeGreaterThanOrEqual(3);
  });

  it('RESOURCE_EXHAUSTED then success; UNAUTHENTICATED then success after one refresh; UNKNOWN not retried and reported', async () => {
    const h = harness(ingester, pve);
    const a = h.agent();
    ingester.faults.push({ code: GrpcCode.RESOURCE_EXHAUSTED, message: 'slow down' });
    const [r1] = await a.once();
    expect(r1?.status).toBe('success');
    expect(ingester.ingests.slice(0, 2).map((r) => [r.code, r.request.id === ingester.ingests[1]!.request.id])).toEqual([
      [GrpcCode.RESOURCE_EXHAUSTED, true],
      [0, true],
    ]);
    scenario.guests[1]!.resource.maxmem = 1073741824;
    ingester.expireTokens();
    const before = ingester.ingests.length;
    const [r2] = await a.once();
    expect(r2?.status).toBe('success');
    expect(ingester.ingests.slice(before).map((r) => [r.code, r.authorization])).toEqual([
      [GrpcCode.UNAUTHENTICATED, 'Bearer tok-1'],
      [0, 'Bearer tok-2'],
    ]);
    expect(ingester.tokenRequests).toHaveLength(2);
    scenario.guests[1]!.resource.maxmem = 2147483648;
    ingester.faults.push({ code: GrpcCode.UNKNOWN, message: 'validation: bad virtual machine' });
    const n = ingester.ingests.length;
    const [r3] = await a.once();
    await a.stop(0);
    expect(ingester.ingests.length - n).toBe(1);
    expect(r3).toMatchObject({ status: 'failed', error: 'delivery failed: Diode UNKNOWN: validation: bad virtual machine' });
  });
});

describe('delta and staleness', () => {
  it('sends nothing on an unchanged second run and only the changed VM after one change', async () => {
    const a = harness(ingester, pve).agent();
    const [r1] = await a.once();
    const first = accepted().length;
    expect(r1?.delivery).toMatchObject({ full: true, reason: 'first run' });
    const [r2] = await a.once();
    expect(r2?.delivery).toMatchObject({ full: false, planned: 0 });
    expect(accepted().length).toBe(first);
    scenario.guests[3]!.resource.maxcpu = 12;
    const [r3] = await a.once();
    await a.stop(0);
    expect(r3?.sent).toEqual({ virtual_machine: 1 });
    const last = accepted().slice(first);
    expect(last.map((e) => e.virtual_machine as { name: string; vcpus: number }).map((v) => [v.name, v.vcpus])).toEqual([
      [scenario.guests[3]!.resource.name, 12],
    ]);
  });

  it('marks a deleted VM stale after stale_after_runs runs, and not before', async () => {
    const h = harness(ingester, pve);
    h.writePolicy('stale_after_runs: 2\n');
    const a = h.agent();
    await a.once();
    const gone = scenario.guests.splice(
      scenario.guests.findIndex((g) => g.resource.type === 'lxc'),
      1,
    )[0]!;
    const n0 = accepted().length;
    const req0 = ingester.ingests.length;
    const [r1] = await a.once();
    expect(r1?.delivery?.stale).toBe(0);
    expect(accepted().length).toBe(n0);
    const [r2] = await a.once();
    expect(r2?.delivery?.stale).toBeGreaterThan(0);
    const stale = accepted().slice(n0);
    // Phase by phase, one request each: the custom field, the VM, its interface, its IP.
    expect(ingester.ingests.slice(req0).map((r) => [r.code, r.request.entities.map(kindOf)])).toEqual([
      [0, ['custom_field']],
      [0, ['virtual_machine']],
      [0, ['vm_interface']],
      [0, ['ip_address']],
    ]);
    expect(stale.map(kindOf)).toEqual(['custom_field', 'virtual_machine', 'vm_interface', 'ip_address']);
    const vm = stale[1]!.virtual_machine as { name: string; status: string; custom_fields?: Record<string, unknown> };
    expect([vm.name, vm.status, vm.custom_fields?.diode_agent_stale]).toMatchObject([gone.resource.name, 'offline', { boolean: true }]);
    const [r3] = await a.once();
    await a.stop(0);
    expect(r3?.delivery?.stale).toBe(0);
  });
});

describe('crash safety', () => {
  it('SIGKILL in the middle of a delivery leaves the state intact; the restart resends what was not acknowledged', async () => {
    const h = harness(ingester, pve);
    const env = { ...h.env };
    await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '-c', h.configFile], { env });
    const stateFile = join(h.dir, 'state', 'pve.state');
    const stateAfterFirst = readFileSync(stateFile);
    const firstCount = accepted().length;
    // A policy change forces a full resend; Diode holds the request until the kill.
    h.writePolicy('concurrency: 4\n');
    const base = ingester.ingests.length;
    ingester.faultFn = (_r, n) => (n === base + 1 ? { code: 0, delayMs: 60_000 } : undefined);
    const child = spawn(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '-c', h.configFile], { env, stdio: 'ignore' });
    await waitFor(() => ingester.ingests.length >= base + 1, 20_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(readFileSync(stateFile)).toEqual(stateAfterFirst);
    parseState(readFileSync(stateFile), stateFile);
    ingester.faultFn = undefined;
    const before = ingester.ingests.length;
    const r = await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '-c', h.configFile], { env });
    expect(r.stdout).toMatch(/pve \(pve\): success/);
    const resent = entitiesOf(
      ingester.ingests
        .slice(before)
        .filter((x) => x.code === 0)
        .map((x) => x.bytes),
    );
    expect(resent.length).toBe(firstCount);
  });
});

describe('hot reload and shutdown', () => {
  it('applies an added, edited and deleted policy without a restart, and keeps the old version on an invalid edit', async () => {
    const h = harness(ingester, pve, { schedule: '0 0 1 1 *' });
    const a = h.agent();
    a.start();
    a.watchPolicies(50);
    const hashOf = () => a.policies.find((p) => p.name === 'pve')?.hash;
    const original = hashOf();
    h.writePolicy('concurrency: 3\n');
    await waitFor(() => hashOf() !== original);
    expect(a.policies.find((p) => p.name === 'pve')?.concurrency).toBe(3);
    const edited = hashOf();
    h.writePolicy('concurrency: lots\n');
    await waitFor(() => a.policyIssues.length > 0);
    expect(hashOf()).toBe(edited);
    expect(a.policyIssues.map((i) => `${i.path}: ${i.message}`)).toEqual(['concurrency: expected an integer']);
    writeFileSync(join(h.dir, 'policies', 'boot.yaml'), 'name: boot\ncollector: pve\nschedule: "0 0 1 1 *"\nconfig: { BOOTSTRAP: true }\n');
    await waitFor(() => a.policies.some((p) => p.name === 'boot'));
    rmSync(join(h.dir, 'policies', 'boot.yaml'));
    await waitFor(() => !a.policies.some((p) => p.name === 'boot'));
    expect(a.nextRun('pve')).toBeInstanceOf(Date);
    await a.stop(0);
  });

  it('SIGTERM during a delivery: the in-flight request finishes within the grace period and the process exits 0', async () => {
    const h = harness(ingester, pve, { agentExtra: '  shutdown_grace_period: 5s' });
    ingester.faultFn = (_r, n) => (n === 1 ? { code: 0, delayMs: 1500 } : undefined);
    const child = spawn(process.execPath, [join(root, 'bin/diode-agent.js'), 'run', '-c', h.configFile], { env: h.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    await waitFor(() => ingester.ingests.length >= 1, 20_000);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    // The delayed request (the tags, phase 1) and the later phases after it, in order, all
    // within the grace period.
    expect(ingester.ingests.map((r) => r.code)).toEqual(Array(DELIVERY_PHASES.length).fill(0));
    expect(ingester.ingests.map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
    expect(log).toContain('"msg":"stopped"');
    expect(parseState(readFileSync(join(h.dir, 'state', 'pve.state')), 'pve.state').forceFull).toBe(false);
  });
});
