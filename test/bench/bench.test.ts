import { describe, expect, it } from 'vitest';
import { generatePveScenario } from '../../agent/collectors/pve/fake.ts';
import type { RunSample } from './agent-process.ts';
import {
  deriveRow,
  FEATURE_COLUMNS,
  formatReport,
  formatTable,
  nodesFor,
  parseBenchArgs,
  runBench,
  SCENARIO_COLUMNS,
  TABLE_COLUMNS,
  type BenchOptions,
} from './bench.ts';
import { estateStats, type RequestCounts } from './estate.ts';
import { agentHangs, latencyScenario, LOGNORMAL, scheduleBound, type RequestRecord } from './scenarios.ts';

/*
 * The benchmark's structure and invariants at a smoke size. Nothing here depends on
 * timing: the numbers that vary from run to run are only checked for shape and for
 * being derived correctly from what was counted.
 */

describe('benchmark options', () => {
  it('parses sizes, concurrency, latency and modes', () => {
    const o = parseBenchArgs(['--sizes', '1000,10_000', '--concurrency=4', '--latency', '2', '--no-cpu', '--json', 'out.json']);
    expect(o).toMatchObject({ sizes: [1000, 10_000], concurrency: [4], cpuConcurrency: [4], latencyMs: 2, latency: true, cpu: false, json: 'out.json' });
    expect(parseBenchArgs(['--cpu-only'])).toMatchObject({ latency: false, cpu: true, cpuConcurrency: [8] });
    expect(parseBenchArgs(['--latency', '0'])).toMatchObject({ latency: false, cpu: true });
    expect(parseBenchArgs([])).toMatchObject({ sizes: [1000, 10_000, 50_000], concurrency: [8, 32], latencyMs: 5, latency: true, cpu: true, floor: true });
    expect(parseBenchArgs(['--no-floor'])).toMatchObject({ floor: false });
    expect(parseBenchArgs([])).toMatchObject({
      main: true,
      scenarios: ['lognormal', 'agent-hang', 'slow-node', 'status-3s', 'status-20s', 'queue-4'],
      scenarioGuests: 10_000,
      scenarioConcurrency: [8],
      features: true,
      featureGuests: 10_000,
      featureConcurrency: 8,
    });
    expect(parseBenchArgs(['--no-main', '--scenarios', 'fixed,queue-4', '--scenario-guests', '2000', '--no-features'])).toMatchObject({
      main: false,
      scenarios: ['fixed', 'queue-4'],
      scenarioGuests: 2000,
      features: false,
    });
    expect(parseBenchArgs(['--no-scenarios'])).toMatchObject({ scenarios: [] });
    expect(() => parseBenchArgs(['--scenarios', 'slow'])).toThrow(/--scenarios: expected some of fixed, lognormal/);
    expect(() => parseBenchArgs(['--concurrency', '65'])).toThrow(/1\.\.64/);
    expect(() => parseBenchArgs(['--sizes', 'many'])).toThrow(/--sizes/);
    expect(() => parseBenchArgs(['--frobnicate'])).toThrow(/unknown option/);
  });

  it('uses 16 to 64 nodes for the issue sizes', () => {
    expect([1000, 10_000, 50_000].map(nodesFor)).toEqual([16, 32, 64]);
    expect(nodesFor(50)).toBe(1);
  });
});

describe('estate request formula', () => {
  it('is 4 + 2 per node + 1 per guest + 2 per running QEMU guest with the agent', () => {
    const s = generatePveScenario({ guests: 500, nodes: 4, seed: 3 });
    const e = estateStats(s);
    const agentCalls = s.guests.filter((g) => g.resource.type === 'qemu' && g.resource.status === 'running').length;
    expect(e).toMatchObject({ guests: 500, nodes: 4, qemuAgentCalls: agentCalls });
    expect(e.qemu + e.lxc).toBe(500);
    expect(e.expectedRequests).toBe(4 + 8 + 500 + 2 * agentCalls);
  });
});

describe('derived columns', () => {
  const sample = (over: Partial<RunSample>): RunSample => ({
    run: 1,
    status: 'success',
    warnings: 0,
    wallMs: 2000,
    cpuUserMs: 300,
    cpuSystemMs: 100,
    entities: 1000,
    entitiesSent: 1000,
    apiRequestsAgent: 400,
    diodeRequests: 1,
    diodeBytes: 12345,
    ingested: { requests: 1, entities: 1000, bytes: 12345 },
    delivery: null,
    phases: Object.fromEntries(
      ['collect', 'map', 'encode', 'deliver'].map((k) => [k, { wallMs: 1, cpuMs: 1, rssEndMb: 1, heapEndMb: 1 }]),
    ) as RunSample['phases'],
    rssBeforeMb: 100,
    peakRssMb: 200,
    heapUsedAfterMb: 50,
    slotBusyMs: 0,
    ...over,
  });
  const counts: RequestCounts = { total: 400, cluster: 4, node: 4, config: 200, agent: 192, errors: 0, fakeCpuMs: 0, heldMs: 5, queuedMs: 0 };
  const estate = { guests: 200, nodes: 2, qemu: 140, lxc: 60, qemuAgentCalls: 96, expectedRequests: 400 };

  it('computes bound, sequential time, ratio and speed-up from the counted requests', () => {
    const r = deriveRow(
      { mode: 'latency', guests: 200, nodes: 2, concurrency: 8, latencyMs: 5, estate },
      counts,
      sample({}),
      sample({ run: 2, entitiesSent: 3 }),
    );
    expect(r.boundS).toBeCloseTo((400 * 0.005) / 8, 12);
    expect(r.sequentialS).toBeCloseTo(400 * 0.005, 12);
    expect(r.wallOverBound).toBeCloseTo(2 / 0.25, 12);
    expect(r.speedup).toBeCloseTo(2 / 2, 12);
    expect(r.requestsPerSec).toBeCloseTo(200, 12);
    expect(r.cpuUsPerEntity).toBeCloseTo(400, 9);
    expect(r.deltaSent).toBe(3);
    expect(formatTable([r]).split('\n')).toHaveLength(3);
    expect(r).toMatchObject({ floor: null, floorOverBound: null, wallOverFloor: null, floorCpuUsPerEntity: null });
  });

  it('relates the agent to the bare client that sent the same requests', () => {
    const floor = { requests: 400, wallMs: 500, cpuMs: 40, errors: 0 };
    const r = deriveRow({ mode: 'latency', guests: 200, nodes: 2, concurrency: 8, latencyMs: 5, estate }, counts, sample({}), sample({ run: 2 }), floor);
    expect(r.floorOverBound).toBeCloseTo(0.5 / 0.25, 12);
    expect(r.wallOverFloor).toBeCloseTo(2 / 0.5, 12);
    expect(r.floorCpuUsPerEntity).toBeCloseTo(40, 9);
  });

  it('leaves bound and speed-up empty without latency', () => {
    const r = deriveRow({ mode: 'cpu', guests: 200, nodes: 2, concurrency: 8, latencyMs: 0, estate }, counts, sample({}), sample({ run: 2 }));
    expect(r).toMatchObject({ boundS: null, wallOverBound: null, sequentialS: null, speedup: null });
    expect(formatTable([r])).toContain('–');
  });
});

describe('runBench at a smoke size', () => {
  it('counts every request of the estate, sends everything once and nothing on the unchanged second run', async () => {
    const o: BenchOptions = {
      sizes: [50],
      concurrency: [4],
      latencyMs: 2,
      latency: true,
      cpu: false,
      cpuConcurrency: [4],
      floor: true,
      quiet: true,
      main: true,
      scenarios: [],
      scenarioGuests: 50,
      scenarioConcurrency: [4],
      features: false,
      featureGuests: 50,
      featureConcurrency: 4,
    };
    const report = await runBench(o);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.rows).toHaveLength(1);
    const [r] = report.rows;
    if (!r) throw new Error('no row');
    const [first, second] = r.runs;

    // Requests, counted by the fake, are exactly the estate's formula and all answered 200.
    expect(r.requests).toBe(r.estate.expectedRequests);
    expect(r.requestCounts).toMatchObject({ errors: 0, cluster: 4, node: 2 * r.nodes, config: r.guests, agent: 2 * r.estate.qemuAgentCalls });
    expect(first.apiRequestsAgent).toBe(r.requests);

    // Full first run: everything collected is sent and arrives; the unchanged second run sends nothing.
    expect(first).toMatchObject({ status: 'success', warnings: 0 });
    expect(first.delivery).toMatchObject({ full: true, reason: 'first run' });
    expect(first.entitiesSent).toBe(r.entities);
    expect(first.ingested).toEqual({ requests: r.diodeRequests, entities: r.entities, bytes: r.diodeBytes });
    expect(r.entities).toBeGreaterThan(r.guests);
    expect(second).toMatchObject({ status: 'success', entities: r.entities, entitiesSent: 0, diodeRequests: 0 });
    expect(second.delivery).toMatchObject({ full: false, reason: 'delta', planned: 0 });
    expect(r.deltaSent).toBe(0);

    // Derived columns follow from the counts.
    expect(r.boundS).toBeCloseTo((r.requests * 0.002) / 4, 9);
    expect(r.sequentialS).toBeCloseTo(r.requests * 0.002, 9);
    expect(r.wallOverBound).toBeCloseTo(r.wallS / (r.boundS ?? 1), 9);
    expect(r.speedup).toBeCloseTo((r.sequentialS ?? 0) / r.wallS, 9);
    expect(r.cpuUsPerEntity).toBeGreaterThan(0);
    expect(r.peakRssMb).toBeGreaterThan(0);

    // The floor client sent exactly the agent's requests, all answered 200.
    expect(r.floor).toMatchObject({ requests: r.requests, errors: 0 });
    expect(r.wallOverFloor).toBeCloseTo(r.wallS / ((r.floor?.wallMs ?? 1) / 1000), 9);

    const text = formatReport(report);
    for (const col of TABLE_COLUMNS) expect(text).toContain(col);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  }, 60_000);
});

describe('latency scenarios', () => {
  const p = { latencyMs: 5, seed: 42, slowNode: 'pve1' };
  const paths = Array.from({ length: 20_000 }, (_, i) => `/api2/json/nodes/pve${(i % 32) + 1}/qemu/${100 + i}/config`);

  it('gives a request the same time whatever the order, lognormal with median 5 ms and p99 near 100 ms', () => {
    const s = latencyScenario('lognormal', p);
    const ms = paths.map((x) => s.timing(x).ms);
    expect([...paths].reverse().map((x) => s.timing(x).ms)).toEqual([...ms].reverse());
    const sorted = [...ms].sort((a, b) => a - b);
    expect(sorted[10_000]).toBeGreaterThan(4.7);
    expect(sorted[10_000]).toBeLessThan(5.3);
    expect(sorted[19_800]).toBeGreaterThan(85);
    expect(sorted[19_800]).toBeLessThan(115);
    expect(LOGNORMAL).toMatchObject({ medianMs: 5, p99Ms: 100 });
  });

  it('hangs 5% of guest agents for 5 s and answers them as PVE does, the rest in 50 ms', () => {
    const s = latencyScenario('agent-hang', p);
    const hung = Array.from({ length: 20_000 }, (_, i) => 100 + i).filter((vmid) => agentHangs(42, vmid));
    expect(hung.length / 20_000).toBeGreaterThan(0.045);
    expect(hung.length / 20_000).toBeLessThan(0.055);
    const vmid = hung[0] ?? 0;
    expect(s.timing(`/api2/json/nodes/pve3/qemu/${vmid}/agent/network-get-interfaces`)).toEqual({
      ms: 5000,
      fail: { status: 500, reason: `VM ${vmid} qmp command 'guest-network-get-interfaces' failed - got timeout` },
    });
    expect(s.timing(`/api2/json/nodes/pve3/qemu/${vmid}/config`)).toEqual({ ms: 5 });
    const fine = Array.from({ length: 100 }, (_, i) => 100 + i).find((v) => !agentHangs(42, v)) ?? 0;
    expect(s.timing(`/api2/json/nodes/pve3/qemu/${fine}/agent/get-osinfo`)).toEqual({ ms: 50 });
  });

  it('slows one node, or only its status call, and limits the queue-4 server', () => {
    expect(latencyScenario('slow-node', p).timing('/api2/json/nodes/pve1/lxc/104/config')).toEqual({ ms: 50 });
    expect(latencyScenario('slow-node', p).timing('/api2/json/nodes/pve2/lxc/105/config')).toEqual({ ms: 5 });
    expect(latencyScenario('status-3s', p).timing('/api2/json/nodes/pve1/status')).toEqual({ ms: 3000 });
    expect(latencyScenario('status-20s', p).timing('/api2/json/nodes/pve1/status')).toEqual({ ms: 20_000 });
    expect(latencyScenario('status-20s', p).timing('/api2/json/nodes/pve1/network')).toEqual({ ms: 5 });
    expect(latencyScenario('queue-4', p)).toMatchObject({ serverConcurrency: 4 });
    expect(latencyScenario('fixed', p).serverConcurrency).toBeUndefined();
  });
});

describe('scheduleBound', () => {
  const A = '/api2/json';
  const base: RequestRecord[] = [
    [`${A}/version`, 5],
    [`${A}/cluster/status`, 5],
    [`${A}/nodes`, 10],
    [`${A}/cluster/resources`, 20],
    [`${A}/nodes/a/status`, 100],
    [`${A}/nodes/a/network`, 5],
    [`${A}/nodes/b/status`, 5],
    [`${A}/nodes/b/network`, 5],
    [`${A}/nodes/a/qemu/1/config`, 5],
    [`${A}/nodes/a/qemu/1/agent/get-osinfo`, 50],
    [`${A}/nodes/b/lxc/2/config`, 5],
  ];

  it('is the longest chain when one guest waits on a slow node status and then its config', () => {
    // /nodes (10) → a's status (100) → config (5) → agent (50).
    expect(scheduleBound(base, 2)).toEqual({ ms: 165, kind: 'chain', slots: 2, workMs: 215, chainMs: 165 });
  });

  it('is the total work over the slots when that is larger, and the server limits the slots', () => {
    expect(scheduleBound(base, 1)).toEqual({ ms: 215, kind: 'load', slots: 1, workMs: 215, chainMs: 165 });
    expect(scheduleBound(base, 8, 1)).toMatchObject({ ms: 215, kind: 'load', slots: 1 });
  });

  it('is the release time plus the work released then over the slots when a slow node holds much work back', () => {
    const configs: RequestRecord[] = [3, 4, 5, 6].map((v) => [`${A}/nodes/a/lxc/${v}/config`, 40]);
    // a's guests are released at 10 + 100 = 110: 5 + 50 + 4 × 40 = 215 ms of work on 2 slots.
    expect(scheduleBound([...base, ...configs], 2)).toEqual({ ms: 110 + 215 / 2, kind: 'release', slots: 2, workMs: 375, chainMs: 165 });
  });
});

describe('scenario and feature runs at a smoke size', () => {
  it("bounds each scenario by the fake's record and prices each feature in requests", async () => {
    const guests = 40;
    const o: BenchOptions = {
      ...parseBenchArgs([]),
      sizes: [],
      main: false,
      latencyMs: 2,
      quiet: true,
      floor: false,
      scenarios: ['queue-4', 'slow-node'],
      scenarioGuests: guests,
      scenarioConcurrency: [8],
      features: true,
      featureGuests: guests,
      featureConcurrency: 4,
    };
    const report = await runBench(o);
    expect(report.rows).toEqual([]);
    const s = generatePveScenario({ guests, nodes: nodesFor(guests), seed: 42 });
    const e = estateStats(s);
    const [queue, slow] = report.scenarios;
    if (!queue || !slow) throw new Error('missing scenario rows');

    // queue-4: every request L, at most 4 worked on at once whatever C is.
    expect(queue).toMatchObject({ scenario: 'queue-4', guests, nodes: e.nodes, concurrency: 8, requests: e.expectedRequests, errors: 0, warnings: 0 });
    expect(queue.bound.slots).toBe(4);
    expect(queue.bound.workMs).toBeCloseTo(e.expectedRequests * 2, 9);
    // Guests are released when /nodes and then their node's /status have answered (2 × L): all but the
    // 4 cluster calls and the 2 per node are released then, and must fit on 4 slots after it.
    const released = queue.bound.workMs - 4 * 2 - 2 * e.nodes * 2;
    expect(queue.bound.kind).toBe('release');
    expect(queue.boundS).toBeCloseTo((2 * 2 + released / 4) / 1000, 9);

    // slow-node: pve1's two node calls, its guests' configs and agent calls at 10 × L.
    const onPve1 = s.guests.filter((g) => g.resource.node === 'pve1');
    const agentOnPve1 = onPve1.filter((g) => g.resource.type === 'qemu' && g.resource.status === 'running').length;
    const slowCalls = 2 + onPve1.length + 2 * agentOnPve1;
    expect(slow).toMatchObject({ scenario: 'slow-node', requests: e.expectedRequests, errors: 0 });
    expect(slow.bound.slots).toBe(8);
    expect(slow.bound.workMs).toBeCloseTo((e.expectedRequests + 9 * slowCalls) * 2, 9);
    expect(slow.wallOverBound).toBeCloseTo(slow.wallS / slow.boundS, 9);
    expect(slow.slotUse).toBeGreaterThan(0);

    // The feature prices: BACKUP_STATUS adds its three cluster calls and one backup listing per
    // node; LXC_ADDRESSES: runtime one interfaces call per running container (every generated
    // container has ip6=auto); HA_STATUS the PVE 8 pair (groups, resources: the estate's nodes run
    // PVE 8); REPLICATION_STATUS its one list.
    const runningLxc = s.guests.filter((g) => g.resource.type === 'lxc' && g.resource.status === 'running').length;
    expect(runningLxc).toBeGreaterThan(0);
    expect(report.features.map((f) => [f.feature, f.requests, f.extraRequests])).toEqual([
      ['none', e.expectedRequests, 0],
      ['backups', e.expectedRequests + 3 + e.nodes, 3 + e.nodes],
      ['lxc-runtime', e.expectedRequests + runningLxc, runningLxc],
      ['ha', e.expectedRequests + 2, 2],
      ['replication', e.expectedRequests + 1, 1],
    ]);
    expect(report.features[1]).toMatchObject({ config: 'BACKUP_STATUS: true', warnings: 0 });
    const text = formatReport(report);
    for (const col of [...SCENARIO_COLUMNS, ...FEATURE_COLUMNS]) expect(text).toContain(col);
  }, 60_000);
});
