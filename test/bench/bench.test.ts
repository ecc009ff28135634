import { describe, expect, it } from 'vitest';
import { generatePveScenario } from '../fakes/pve-server.ts';
import type { RunSample } from './agent-process.ts';
import { deriveRow, formatReport, formatTable, nodesFor, parseBenchArgs, runBench, TABLE_COLUMNS, type BenchOptions } from './bench.ts';
import { estateStats, type RequestCounts } from './estate.ts';

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
    run: 1, status: 'success', warnings: 0, wallMs: 2000, cpuUserMs: 300, cpuSystemMs: 100, entities: 1000, entitiesSent: 1000,
    apiRequestsAgent: 400, diodeRequests: 1, diodeBytes: 12345, ingested: { requests: 1, entities: 1000, bytes: 12345 }, delivery: null,
    phases: Object.fromEntries(['collect', 'map', 'encode', 'deliver'].map((k) => [k, { wallMs: 1, cpuMs: 1, rssEndMb: 1, heapEndMb: 1 }])) as RunSample['phases'],
    rssBeforeMb: 100, peakRssMb: 200, heapUsedAfterMb: 50, slotBusyMs: 0, ...over,
  });
  const counts: RequestCounts = { total: 400, cluster: 4, node: 4, config: 200, agent: 192, errors: 0, fakeCpuMs: 0, heldMs: 5 };
  const estate = { guests: 200, nodes: 2, qemu: 140, lxc: 60, qemuAgentCalls: 96, expectedRequests: 400 };

  it('computes bound, sequential time, ratio and speed-up from the counted requests', () => {
    const r = deriveRow({ mode: 'latency', guests: 200, nodes: 2, concurrency: 8, latencyMs: 5, estate }, counts, sample({}), sample({ run: 2, entitiesSent: 3 }));
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
    const o: BenchOptions = { sizes: [50], concurrency: [4], latencyMs: 2, latency: true, cpu: false, cpuConcurrency: [4], floor: true, quiet: true };
    const report = await runBench(o);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.rows).toHaveLength(1);
    const [r] = report.rows;
    if (!r) throw new Error('no row');
    const [first, second] = r.runs;

    // Requests, counted by the fake, are exactly the estate's formula and all answered 200.
    expect(r.requests).toBe(r.estate.expectedRequests);
    expect(r.requestCounts).toMatchObject({
      errors: 0, cluster: 4, node: 2 * r.nodes, config: r.guests, agent: 2 * r.estate.qemuAgentCalls,
    });
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
