import { cpus, release, totalmem } from 'node:os';
import { NODE_FLAGS } from '../../agent/node-flags.ts';
import type { AgentProcessArgs, AgentProcessMessage, RunSample } from './agent-process.ts';
import { expect, spawnChild, type Child } from './child.ts';
import type { EstateStats, PveProcessArgs, PveProcessMessage, RequestCounts } from './estate.ts';
import type { FloorProcessArgs, FloorProcessMessage, FloorSample } from './floor-process.ts';
import { FEATURES, latencyScenario, SCENARIO_NAMES, scheduleBound, type RequestRecord, type ScenarioName, type ScheduleBound } from './scenarios.ts';

/*
 * The benchmark driver: per size, a fake PVE process with the generated estate; per
 * (size, concurrency), a fresh agent process that runs the policy twice (full, then
 * delta). Requests are counted by the fake; CPU and peak RSS by the agent process, so
 * neither side's cost leaks into the other's numbers.
 */

export const PVE_AUTH = { tokenId: 'root@pam!netbox', secret: 'harness-pve-secret-7d1e' };
export const DEFAULT_SIZES = [1000, 10_000, 50_000];
export const DEFAULT_CONCURRENCY = [8, 32];
export const DEFAULT_LATENCY_MS = 5;
export const SEED = 42;

export interface BenchOptions {
  sizes: number[];
  concurrency: number[];
  latencyMs: number;
  /** Run the latency table (latencyMs > 0). */
  latency: boolean;
  /** Run the CPU-only table (latency 0), for the mapping and encoding cost. */
  cpu: boolean;
  /** Concurrency of the CPU-only runs. */
  cpuConcurrency: number[];
  /** Nodes per size; default nodesFor(guests). */
  nodes?: number;
  json?: string;
  /** Also time a bare client sending the same requests (the machine's floor). */
  floor: boolean;
  /** Write a V8 CPU profile of every agent process into this directory. */
  profileDir?: string;
  quiet: boolean;
  /** Run the main tables (fixed latency and CPU-only). */
  main: boolean;
  /** Latency scenarios, each measured against its own bound (scenarios.ts). */
  scenarios: ScenarioName[];
  scenarioGuests: number;
  scenarioConcurrency: number[];
  /** Price every feature of FEATURES (its requests and wall time) on the fixed-latency estate. */
  features: boolean;
  featureGuests: number;
  featureConcurrency: number;
}

/** One latency scenario: a full run against the bound computed from the fake's record of it. */
export interface ScenarioRow {
  scenario: ScenarioName;
  summary: string;
  guests: number;
  nodes: number;
  concurrency: number;
  requests: number;
  /** Answers other than 200 (the hung agents' 500s). */
  errors: number;
  bound: ScheduleBound;
  /** Wall of the whole run and of its collection, s. */
  wallS: number;
  collectS: number;
  boundS: number;
  wallOverBound: number;
  collectOverBound: number;
  /** Mean requests in flight / C during collection. */
  slotUse: number;
  /** Mean time the fake held a request and a request waited for a server worker, ms. */
  heldMs: number;
  queuedMs: number;
  cpuS: number;
  peakRssMb: number;
  warnings: number;
}

/** A policy run with one feature switched on (or none, the base), on the fixed-latency estate. */
export interface FeatureRow {
  feature: string;
  config: string;
  guests: number;
  concurrency: number;
  requests: number;
  requestCounts: RequestCounts;
  /** Over the base run of the same estate; 0 for the base. */
  extraRequests: number;
  wallS: number;
  extraWallS: number;
  cpuS: number;
  extraCpuS: number;
  entities: number;
  warnings: number;
}

export interface BenchRow {
  mode: 'latency' | 'cpu';
  guests: number;
  nodes: number;
  concurrency: number;
  latencyMs: number;
  estate: EstateStats;
  /** Requests of the first run as the fake counted them. */
  requests: number;
  requestCounts: RequestCounts;
  entities: number;
  requestsPerSec: number;
  wallS: number;
  /** requests × L / C: no collector with C requests in flight can be faster. */
  boundS: number | null;
  wallOverBound: number | null;
  /** requests × L: a collector with one request in flight. */
  sequentialS: number | null;
  speedup: number | null;
  cpuS: number;
  cpuUsPerEntity: number;
  peakRssMb: number;
  diodeBytes: number;
  diodeRequests: number;
  /** Entities the second, unchanged run sent. */
  deltaSent: number;
  deltaRequests: number;
  runs: [RunSample, RunSample];
  /** A bare client sending the same requests at the same C (floor-process.ts); null if skipped. */
  floor: FloorSample | null;
  /** floor wall / bound: what this machine allows before the agent does anything. */
  floorOverBound: number | null;
  /** agent wall / floor wall: what the agent adds on top. */
  wallOverFloor: number | null;
  /** The floor client's CPU per entity of the agent's run, µs: HTTP alone, against the agent's. */
  floorCpuUsPerEntity: number | null;
}

export interface BenchReport {
  machine: { cpu: string; cores: number; memoryGb: number; node: string; os: string };
  startedAt: string;
  options: BenchOptions;
  rows: BenchRow[];
  scenarios: ScenarioRow[];
  features: FeatureRow[];
}

/** 16 nodes at 1,000 guests, 32 at 10,000, 64 at 50,000; fewer for smoke sizes. */
export function nodesFor(guests: number): number {
  if (guests >= 50_000) return 64;
  if (guests >= 10_000) return 32;
  if (guests >= 1000) return 16;
  return Math.max(1, Math.min(16, Math.ceil(guests / 64)));
}

const list = (v: string | undefined, what: string): number[] => {
  const out = (v ?? '').split(',').map((s) => Number(s.trim().replace(/_/g, '')));
  if (!out.length || out.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`${what}: expected a comma-separated list of integers, got "${v ?? ''}"`);
  return out;
};

export const BENCH_USAGE = `Usage: node test/bench/run.ts [options]
  --sizes 1000,10000,50000   guests per estate
  --concurrency 8,32         policy concurrency (requests in flight per target)
  --latency 5                added latency per PVE request, ms (0 = CPU-only)
  --cpu-only                 only the CPU-only table (latency 0)
  --no-cpu                   only the latency table
  --nodes N                  nodes per estate (default 16/32/64 by size)
  --no-floor                 skip the bare-client run that measures the machine's floor
  --json FILE                where to write the JSON results
  --profile DIR              write a CPU profile (.cpuprofile) of each agent and floor process to DIR
  --no-main                  skip the fixed-latency and CPU-only tables
  --scenarios a,b            latency scenarios (${SCENARIO_NAMES.join(', ')}; default all but fixed)
  --no-scenarios             skip them
  --scenario-guests 10000    guests of the scenario estate (nodes as --nodes or by size)
  --scenario-concurrency 8   policy concurrency of the scenario runs
  --no-features              skip the per-feature request price
  --feature-guests 10000     guests of the feature estate (fixed latency --latency)
  --feature-concurrency 8    policy concurrency of the feature runs
  --quiet                    no progress lines on stderr
`;

function scenarioList(v: string): ScenarioName[] {
  const names = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(SCENARIO_NAMES as readonly string[]).includes(n));
  if (unknown.length || !names.length) throw new Error(`--scenarios: expected some of ${SCENARIO_NAMES.join(', ')}, got "${v}"`);
  return names as ScenarioName[];
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    sizes: DEFAULT_SIZES,
    concurrency: DEFAULT_CONCURRENCY,
    latencyMs: DEFAULT_LATENCY_MS,
    latency: true,
    cpu: true,
    cpuConcurrency: [DEFAULT_CONCURRENCY[0] ?? 8],
    floor: true,
    quiet: false,
    main: true,
    scenarios: SCENARIO_NAMES.filter((n) => n !== 'fixed'),
    scenarioGuests: 10_000,
    scenarioConcurrency: [8],
    features: true,
    featureGuests: 10_000,
    featureConcurrency: 8,
  };
  let concurrencyGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--sizes':
        o.sizes = list(value(), '--sizes');
        break;
      case '--concurrency':
        o.concurrency = list(value(), '--concurrency');
        concurrencyGiven = true;
        break;
      case '--latency':
        o.latencyMs = list(value(), '--latency')[0] ?? DEFAULT_LATENCY_MS;
        break;
      case '--cpu-only':
        o.latency = false;
        o.cpu = true;
        break;
      case '--no-cpu':
        o.cpu = false;
        break;
      case '--nodes':
        o.nodes = list(value(), '--nodes')[0] ?? 1;
        break;
      case '--json':
        o.json = value();
        break;
      case '--profile':
        o.profileDir = value();
        break;
      case '--no-floor':
        o.floor = false;
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--no-main':
        o.main = false;
        break;
      case '--scenarios':
        o.scenarios = scenarioList(value());
        break;
      case '--no-scenarios':
        o.scenarios = [];
        break;
      case '--scenario-guests':
        o.scenarioGuests = list(value(), '--scenario-guests')[0] ?? o.scenarioGuests;
        break;
      case '--scenario-concurrency':
        o.scenarioConcurrency = list(value(), '--scenario-concurrency');
        break;
      case '--no-features':
        o.features = false;
        break;
      case '--feature-guests':
        o.featureGuests = list(value(), '--feature-guests')[0] ?? o.featureGuests;
        break;
      case '--feature-concurrency':
        o.featureConcurrency = list(value(), '--feature-concurrency')[0] ?? o.featureConcurrency;
        break;
      case '--help':
      case '-h':
        throw new Error(BENCH_USAGE);
      default:
        throw new Error(`unknown option ${a}\n${BENCH_USAGE}`);
    }
  }
  if (o.latencyMs === 0) {
    o.latency = false;
    o.cpu = true;
  }
  if (concurrencyGiven) o.cpuConcurrency = o.concurrency;
  if ([...o.concurrency, ...o.scenarioConcurrency, o.featureConcurrency].some((c) => c < 1 || c > 64))
    throw new Error('--concurrency: each value must be 1..64 (the policy limit)');
  return o;
}

// ---------------------------------------------------------------------------
// Child processes.

async function countRequests(pve: Child<PveProcessMessage>): Promise<RequestCounts> {
  pve.proc.send({ type: 'count' });
  return (await expect(pve, 'count')).counts;
}

// ---------------------------------------------------------------------------

/** The derived columns of one scenario, from the fake's count and the agent's samples. */
export function deriveRow(
  base: { mode: BenchRow['mode']; guests: number; nodes: number; concurrency: number; latencyMs: number; estate: EstateStats },
  counts: RequestCounts,
  run1: RunSample,
  run2: RunSample,
  floor: FloorSample | null = null,
): BenchRow {
  const requests = counts.total;
  const wallS = run1.wallMs / 1000;
  const cpuS = (run1.cpuUserMs + run1.cpuSystemMs) / 1000;
  const L = base.latencyMs / 1000;
  const boundS = L > 0 ? (requests * L) / base.concurrency : null;
  const sequentialS = L > 0 ? requests * L : null;
  return {
    ...base,
    requests,
    requestCounts: counts,
    entities: run1.entities,
    requestsPerSec: wallS > 0 ? requests / wallS : 0,
    wallS,
    boundS,
    wallOverBound: boundS ? wallS / boundS : null,
    sequentialS,
    speedup: sequentialS !== null && wallS > 0 ? sequentialS / wallS : null,
    cpuS,
    cpuUsPerEntity: run1.entities > 0 ? (cpuS * 1e6) / run1.entities : 0,
    peakRssMb: run1.peakRssMb,
    diodeBytes: run1.diodeBytes,
    diodeRequests: run1.diodeRequests,
    deltaSent: run2.entitiesSent,
    deltaRequests: run2.diodeRequests,
    runs: [run1, run2],
    floor,
    floorOverBound: floor && boundS ? floor.wallMs / 1000 / boundS : null,
    wallOverFloor: floor && floor.wallMs > 0 ? wallS / (floor.wallMs / 1000) : null,
    floorCpuUsPerEntity: floor && run1.entities > 0 ? (floor.cpuMs * 1000) / run1.entities : null,
  };
}

export function machineInfo(): BenchReport['machine'] {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    os: `${process.platform} ${release()}`,
  };
}

export async function runBench(o: BenchOptions, onRow?: (row: BenchRow) => void): Promise<BenchReport> {
  const report: BenchReport = { machine: machineInfo(), startedAt: new Date().toISOString(), options: o, rows: [], scenarios: [], features: [] };
  const log = (msg: string): void => {
    if (!o.quiet) process.stderr.write(`${msg}\n`);
  };
  const plan: Array<{ mode: BenchRow['mode']; latencyMs: number; concurrency: number[] }> = [];
  if (o.main && o.latency) plan.push({ mode: 'latency', latencyMs: o.latencyMs, concurrency: o.concurrency });
  if (o.main && o.cpu) plan.push({ mode: 'cpu', latencyMs: 0, concurrency: o.cpuConcurrency });
  for (const { mode, latencyMs, concurrency } of plan) {
    for (const guests of o.sizes) {
      const nodes = o.nodes ?? nodesFor(guests);
      const pveArgs: PveProcessArgs = { guests, nodes, seed: SEED, latencyMs, scenario: 'fixed', ...PVE_AUTH };
      const pve = spawnChild<PveProcessMessage>('./pve-process.ts', pveArgs);
      try {
        const { port, estate } = await expect(pve, 'ready');
        for (const c of concurrency) {
          log(`bench: ${guests} guests, ${nodes} nodes, L=${latencyMs} ms, C=${c} …`);
          await countRequests(pve);
          const agentArgs: AgentProcessArgs = { pvePort: port, concurrency: c };
          const profile = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=agent-${mode}-${guests}-c${c}.cpuprofile`] : [];
          // The agent runs with the heap flags of the image, so RSS and CPU are the product's.
          const agent = spawnChild<AgentProcessMessage>('./agent-process.ts', agentArgs, [...NODE_FLAGS, ...profile]);
          try {
            const run1 = (await expect(agent, 'run')).sample;
            pve.proc.send({ type: 'paths' });
            const { paths } = await expect(pve, 'paths');
            const counts = await countRequests(pve);
            agent.proc.send({ type: 'continue' });
            const run2 = (await expect(agent, 'run')).sample;
            await countRequests(pve);
            let floor: FloorSample | null = null;
            if (o.floor) {
              const floorArgs: FloorProcessArgs = { pvePort: port, concurrency: c, authorization: `PVEAPIToken=${PVE_AUTH.tokenId}=${PVE_AUTH.secret}` };
              // Profiled too, so the two profiles can be compared request for request.
              const floorProfile = o.profileDir
                ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=floor-${mode}-${guests}-c${c}.cpuprofile`]
                : [];
              const child = spawnChild<FloorProcessMessage>('./floor-process.ts', floorArgs, floorProfile);
              child.proc.send({ type: 'paths', paths });
              floor = (await expect(child, 'floor')).sample;
              await child.exited;
              await countRequests(pve);
            }
            const row = deriveRow({ mode, guests, nodes, concurrency: c, latencyMs, estate }, counts, run1, run2, floor);
            report.rows.push(row);
            onRow?.(row);
            log(
              `bench:   ${row.requests} requests, ${row.entities} entities, ${row.wallS.toFixed(2)} s, ${row.cpuUsPerEntity.toFixed(1)} µs CPU/entity, peak RSS ${row.peakRssMb.toFixed(0)} MB`,
            );
          } finally {
            // It exits by itself after the second run (writing its profile, if any).
            const timer = setTimeout(() => agent.proc.kill(), 30_000);
            await agent.exited;
            clearTimeout(timer);
          }
        }
      } finally {
        if (pve.proc.connected) pve.proc.disconnect();
        await pve.exited;
      }
    }
  }
  const L = o.latencyMs > 0 ? o.latencyMs : DEFAULT_LATENCY_MS;
  for (const name of o.scenarios) {
    const guests = o.scenarioGuests;
    const nodes = o.nodes ?? nodesFor(guests);
    await withPve({ guests, nodes, seed: SEED, latencyMs: L, scenario: name, ...PVE_AUTH }, async (pve, port) => {
      for (const c of o.scenarioConcurrency) {
        log(`bench: scenario ${name}, ${guests} guests, ${nodes} nodes, C=${c} …`);
        await countRequests(pve);
        const run = await singleRun(
          pve,
          { pvePort: port, concurrency: c, runs: 1 },
          o.profileDir ? profileArgs(o.profileDir, `scenario-${name}-${guests}-c${c}`) : [],
        );
        const scenario = latencyScenario(name, { latencyMs: L, seed: SEED, slowNode: 'pve1' });
        const row = scenarioRow(name, scenario.summary, { guests, nodes, concurrency: c }, run.counts, run.records, run.sample, scenario.serverConcurrency);
        report.scenarios.push(row);
        log(
          `bench:   ${row.requests} requests, wall ${row.wallS.toFixed(2)} s, bound ${row.boundS.toFixed(2)} s (${row.bound.kind}), ${row.wallOverBound.toFixed(3)} × bound, slot use ${row.slotUse.toFixed(3)}`,
        );
      }
    });
  }
  if (o.features) {
    const guests = o.featureGuests;
    const nodes = o.nodes ?? nodesFor(guests);
    const c = o.featureConcurrency;
    await withPve({ guests, nodes, seed: SEED, latencyMs: L, scenario: 'fixed', ...PVE_AUTH }, async (pve, port) => {
      let base: FeatureRow | undefined;
      for (const f of [{ name: 'none', config: '' }, ...FEATURES]) {
        log(`bench: feature ${f.name}, ${guests} guests, ${nodes} nodes, L=${L} ms, C=${c} …`);
        await countRequests(pve);
        const run = await singleRun(pve, { pvePort: port, concurrency: c, runs: 1, config: f.config }, []);
        const row = featureRow(f, { guests, concurrency: c }, run.counts, run.sample, base);
        base ??= row;
        report.features.push(row);
        log(`bench:   ${row.requests} requests (+${row.extraRequests}), wall ${row.wallS.toFixed(2)} s (+${row.extraWallS.toFixed(2)})`);
      }
    });
  }
  return report;
}

const profileArgs = (dir: string, name: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=agent-${name}.cpuprofile`];

async function withPve(args: PveProcessArgs, body: (pve: Child<PveProcessMessage>, port: number) => Promise<void>): Promise<void> {
  const pve = spawnChild<PveProcessMessage>('./pve-process.ts', args);
  try {
    const { port } = await expect(pve, 'ready');
    await body(pve, port);
  } finally {
    if (pve.proc.connected) pve.proc.disconnect();
    await pve.exited;
  }
}

/** One agent process with one run; the fake's counts and records of that run. */
async function singleRun(
  pve: Child<PveProcessMessage>,
  args: AgentProcessArgs,
  execArgv: string[],
): Promise<{ sample: RunSample; counts: RequestCounts; records: RequestRecord[] }> {
  const agent = spawnChild<AgentProcessMessage>('./agent-process.ts', args, [...NODE_FLAGS, ...execArgv]);
  try {
    const sample = (await expect(agent, 'run')).sample;
    pve.proc.send({ type: 'records' });
    const { records } = await expect(pve, 'records');
    const counts = await countRequests(pve);
    return { sample, counts, records };
  } finally {
    const timer = setTimeout(() => agent.proc.kill(), 30_000);
    await agent.exited;
    clearTimeout(timer);
  }
}

/** Σ slot time / (C × collection wall) of one run. */
function runSlotUse(run: RunSample, concurrency: number): number {
  const p = run.phases.collect;
  return p.wallMs > 0 ? run.slotBusyMs / (concurrency * p.wallMs) : 0;
}

export function scenarioRow(
  scenario: ScenarioName,
  summary: string,
  base: { guests: number; nodes: number; concurrency: number },
  counts: RequestCounts,
  records: readonly RequestRecord[],
  run: RunSample,
  serverConcurrency?: number,
): ScenarioRow {
  const bound = scheduleBound(records, base.concurrency, serverConcurrency);
  const boundS = bound.ms / 1000;
  const wallS = run.wallMs / 1000;
  const collectS = run.phases.collect.wallMs / 1000;
  return {
    scenario,
    summary,
    ...base,
    requests: counts.total,
    errors: counts.errors,
    bound,
    wallS,
    collectS,
    boundS,
    wallOverBound: boundS > 0 ? wallS / boundS : 0,
    collectOverBound: boundS > 0 ? collectS / boundS : 0,
    slotUse: runSlotUse(run, base.concurrency),
    heldMs: counts.heldMs,
    queuedMs: counts.queuedMs,
    cpuS: (run.cpuUserMs + run.cpuSystemMs) / 1000,
    peakRssMb: run.peakRssMb,
    warnings: run.warnings,
  };
}

export function featureRow(
  f: { name: string; config: string },
  base: { guests: number; concurrency: number },
  counts: RequestCounts,
  run: RunSample,
  without?: FeatureRow,
): FeatureRow {
  const wallS = run.wallMs / 1000;
  const cpuS = (run.cpuUserMs + run.cpuSystemMs) / 1000;
  return {
    feature: f.name,
    config: f.config,
    ...base,
    requests: counts.total,
    requestCounts: counts,
    extraRequests: without ? counts.total - without.requests : 0,
    wallS,
    extraWallS: without ? wallS - without.wallS : 0,
    cpuS,
    extraCpuS: without ? cpuS - without.cpuS : 0,
    entities: run.entities,
    warnings: run.warnings,
  };
}

// ---------------------------------------------------------------------------
// The table.

const fmt = (n: number | null, digits: number): string =>
  n === null ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const TABLE_COLUMNS = [
  'guests',
  'nodes',
  'C',
  'L ms',
  'requests',
  'entities',
  'req/s',
  'wall s',
  'bound s',
  'wall/bound',
  'floor/bound',
  'wall/floor',
  'seq s',
  'speed-up',
  'CPU µs/entity',
  'floor CPU µs/entity',
  'peak RSS MB',
  'Diode MB',
  'delta sent',
] as const;

export function tableCells(r: BenchRow): string[] {
  return [
    fmt(r.guests, 0),
    fmt(r.nodes, 0),
    fmt(r.concurrency, 0),
    fmt(r.latencyMs, 0),
    fmt(r.requests, 0),
    fmt(r.entities, 0),
    fmt(r.requestsPerSec, 0),
    fmt(r.wallS, 2),
    fmt(r.boundS, 2),
    fmt(r.wallOverBound, 3),
    fmt(r.floorOverBound, 3),
    fmt(r.wallOverFloor, 3),
    fmt(r.sequentialS, 1),
    r.speedup === null ? '–' : `${fmt(r.speedup, 1)}×`,
    fmt(r.cpuUsPerEntity, 1),
    fmt(r.floorCpuUsPerEntity, 1),
    fmt(r.peakRssMb, 0),
    fmt(r.diodeBytes / 1e6, 1),
    fmt(r.deltaSent, 0),
  ];
}

/** The main table, one row per scenario. */
export function formatTable(rows: readonly BenchRow[]): string {
  return markdown(TABLE_COLUMNS, rows.map(tableCells));
}

/** Σ slot time / (C × collection wall): 1 means a request in every slot all the time. */
export function slotUse(r: BenchRow): number {
  const p = r.runs[0].phases.collect;
  return p.wallMs > 0 ? r.runs[0].slotBusyMs / (r.concurrency * p.wallMs) : 0;
}

/** CPU after collection (mapping, encoding, delta, chunking, sending) per entity, µs. */
export function postCollectCpuUsPerEntity(r: BenchRow): number {
  const p = r.runs[0].phases;
  return r.entities > 0 ? ((p.map.cpuMs + p.encode.cpuMs + p.deliver.cpuMs) * 1000) / r.entities : 0;
}

export const PHASE_COLUMNS = [
  'guests',
  'C',
  'L ms',
  'collect s',
  'slot use',
  'req ms',
  'fake held ms',
  'floor req ms',
  'map in collect s',
  'map s',
  'encode s',
  'deliver s',
  'CPU collect s',
  'CPU rest s',
  'rest µs/entity',
  'delta wall s',
  'delta CPU s',
  'delta peak RSS MB',
  'RSS before MB',
  'growth KB/guest',
] as const;

/** Where the time and CPU of the first run went, per scenario, and the delta run. */
export function formatPhases(rows: readonly BenchRow[]): string {
  return markdown(
    PHASE_COLUMNS,
    rows.map((r) => {
      const [a, b] = r.runs;
      const p = a.phases;
      return [
        fmt(r.guests, 0),
        fmt(r.concurrency, 0),
        fmt(r.latencyMs, 0),
        fmt(p.collect.wallMs / 1000, 2),
        fmt(slotUse(r), 3),
        fmt(r.requests > 0 ? a.slotBusyMs / r.requests : 0, 2),
        fmt(r.requestCounts.heldMs, 2),
        fmt(r.floor && r.floor.requests > 0 ? (r.floor.wallMs * r.concurrency) / r.floor.requests : null, 2),
        fmt(a.mapWhileCollecting ? a.mapWhileCollecting.wallMs / 1000 : null, 2),
        fmt(p.map.wallMs / 1000, 2),
        fmt(p.encode.wallMs / 1000, 2),
        fmt(p.deliver.wallMs / 1000, 2),
        fmt(p.collect.cpuMs / 1000, 2),
        fmt((p.map.cpuMs + p.encode.cpuMs + p.deliver.cpuMs) / 1000, 2),
        fmt(postCollectCpuUsPerEntity(r), 1),
        fmt(b.wallMs / 1000, 2),
        fmt((b.cpuUserMs + b.cpuSystemMs) / 1000, 2),
        fmt(b.peakRssMb, 0),
        fmt(a.rssBeforeMb, 0),
        fmt(rssGrowthKbPerGuest(r), 1),
      ];
    }),
  );
}

/** What the full run adds to the resident set per guest: (peak − RSS before the run) / guests, KB. */
export function rssGrowthKbPerGuest(r: BenchRow): number {
  const a = r.runs[0];
  return r.guests > 0 ? ((a.peakRssMb - a.rssBeforeMb) * 1024) / r.guests : 0;
}

/** A Markdown table with right-aligned columns (readable on a terminal, pasteable into the README). */
function markdown(head: readonly string[], body: readonly string[][]): string {
  const cells = [head.slice(), ...body];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`;
  return [line(head), rule, ...body.map(line)].join('\n');
}

export const SCENARIO_COLUMNS = [
  'scenario',
  'guests',
  'nodes',
  'C',
  'requests',
  'errors',
  'work s',
  'chain s',
  'bound s',
  'bound is',
  'collect s',
  'wall s',
  'collect/bound',
  'wall/bound',
  'slot use',
  'fake held ms',
  'queued ms',
  'CPU s',
  'peak RSS MB',
] as const;

export function formatScenarios(rows: readonly ScenarioRow[]): string {
  return markdown(
    SCENARIO_COLUMNS,
    rows.map((r) => [
      r.scenario,
      fmt(r.guests, 0),
      fmt(r.nodes, 0),
      fmt(r.concurrency, 0),
      fmt(r.requests, 0),
      fmt(r.errors, 0),
      fmt(r.bound.workMs / 1000, 1),
      fmt(r.bound.chainMs / 1000, 2),
      fmt(r.boundS, 2),
      r.bound.kind,
      fmt(r.collectS, 2),
      fmt(r.wallS, 2),
      fmt(r.collectOverBound, 3),
      fmt(r.wallOverBound, 3),
      fmt(r.slotUse, 3),
      fmt(r.heldMs, 2),
      fmt(r.queuedMs, 2),
      fmt(r.cpuS, 2),
      fmt(r.peakRssMb, 0),
    ]),
  );
}

export const FEATURE_COLUMNS = [
  'feature',
  'policy config',
  'guests',
  'C',
  'requests',
  'extra requests',
  'wall s',
  'extra wall s',
  'CPU s',
  'extra CPU s',
  'entities',
] as const;

export function formatFeatures(rows: readonly FeatureRow[]): string {
  return markdown(
    FEATURE_COLUMNS,
    rows.map((r) => [
      r.feature,
      r.config || '–',
      fmt(r.guests, 0),
      fmt(r.concurrency, 0),
      fmt(r.requests, 0),
      `+${fmt(r.extraRequests, 0)}`,
      fmt(r.wallS, 2),
      `${r.extraWallS >= 0 ? '+' : ''}${fmt(r.extraWallS, 2)}`,
      fmt(r.cpuS, 2),
      `${r.extraCpuS >= 0 ? '+' : ''}${fmt(r.extraCpuS, 2)}`,
      fmt(r.entities, 0),
    ]),
  );
}

export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const out = [`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.os}`];
  const latency = report.rows.filter((r) => r.mode === 'latency');
  const cpu = report.rows.filter((r) => r.mode === 'cpu');
  if (latency.length) out.push('', `With ${latency[0]?.latencyMs ?? 0} ms added latency per PVE request:`, '', formatTable(latency));
  if (cpu.length) out.push('', 'CPU-only (no added latency):', '', formatTable(cpu));
  if (report.rows.length)
    out.push(
      '',
      "Where the first run's time went (slot use: requests in flight / C during collection; map in collect: mapping and encoding done while collecting, part of collect; rest: mapping, encoding, delta, sending after it), and the delta run:",
      '',
      formatPhases(report.rows),
    );
  if (report.scenarios.length) {
    out.push(
      '',
      'Latency scenarios (one full run each; the bound is the best a perfect scheduler with C slots achieves on the request times the fake recorded, scenarios.ts scheduleBound):',
      '',
    );
    for (const name of [...new Set(report.scenarios.map((r) => r.scenario))])
      out.push(`- ${name}: ${report.scenarios.find((r) => r.scenario === name)?.summary ?? ''}`);
    out.push('', formatScenarios(report.scenarios));
  }
  if (report.features.length)
    out.push('', 'What each feature costs (one full run each, fixed latency; extra: over the run without any):', '', formatFeatures(report.features));
  return out.join('\n');
}
