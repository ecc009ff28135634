import { generatePveScenario } from '../../agent/collectors/pve/fake.ts';
import { startFakeHttps } from '../fakes/https-server.ts';
import { Semaphore } from '../../agent/http/semaphore.ts';
import { classify, emptyCounts, estateStats, indexedPveHandler, pveFailure, withBackups, type PveProcessArgs, type PveProcessMessage } from './estate.ts';
import { latencyScenario, type RequestRecord } from './scenarios.ts';

/*
 * The fake PVE server of the benchmark, in a process of its own so that its CPU (TLS,
 * JSON, the added latency's timers) is not counted as the agent's. Started with
 * child_process.fork and one JSON argument (PveProcessArgs); it answers on IPC:
 *   → { type: 'ready', port, estate }            once listening
 *   ← { type: 'count' }  → { type: 'count', counts }   requests since the last count
 *   ← { type: 'paths' }  → { type: 'paths', paths }     their paths (with the query)
 *   ← { type: 'records' } → { type: 'records', records } their paths and the time each was held
 * and exits when the parent disconnects.
 */

/**
 * The added latency, held to what the scenario asks on average without a busy loop. A
 * plain setTimeout(ms) answers 0.3–1 ms late (millisecond timers, the loop's cached
 * clock, waking from idle), which at 5 ms would charge the agent for the fake's timer
 * slack; polling until the deadline instead keeps a core busy, which on a two-core
 * machine is taken from the agent. So the timer is aimed `lead` ms early and every
 * request whose aimed time has passed is answered; `lead` follows the measured error (an
 * integral controller) so that the mean time held is what was asked. The mean is
 * reported (`heldMs`) so a reader can check it. Deadlines differ per request (the
 * scenarios), so they wait in a binary min-heap.
 */
function holder(): (arrived: number, ms: number) => Promise<void> {
  const heap: Array<{ deadline: number; resolve: () => void }> = [];
  const push = (e: { deadline: number; resolve: () => void }): void => {
    heap.push(e);
    for (let i = heap.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if ((heap[up] as typeof e).deadline <= e.deadline) break;
      heap[i] = heap[up] as typeof e;
      heap[up] = e;
      i = up;
    }
  };
  const pop = (): void => {
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && (heap[l] as typeof last).deadline < (heap[m] as typeof last).deadline) m = l;
      if (r < heap.length && (heap[r] as typeof last).deadline < (heap[m] as typeof last).deadline) m = r;
      if (m === i) break;
      heap[i] = heap[m] as typeof last;
      heap[m] = last;
      i = m;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Infinity;
  // Starts at the typical slack of a millisecond timer; the controller takes it from there.
  let lead = 0.5;
  const GAIN = 0.02;
  const tick = (): void => {
    timer = undefined;
    armedFor = Infinity;
    const now = performance.now();
    for (let next = heap[0]; next && next.deadline - lead <= now; next = heap[0]) {
      pop();
      lead = Math.min(5, Math.max(0, lead - GAIN * (next.deadline - now)));
      next.resolve();
    }
    arm();
  };
  const arm = (): void => {
    const next = heap[0];
    if (!next || next.deadline >= armedFor) return;
    if (timer) clearTimeout(timer);
    armedFor = next.deadline;
    timer = setTimeout(tick, Math.max(0, next.deadline - lead - performance.now()));
  };
  return (arrived, ms) =>
    new Promise<void>((resolve) => {
      push({ deadline: arrived + ms, resolve });
      arm();
    });
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as PveProcessArgs;
  const scenario = withBackups(generatePveScenario({ guests: args.guests, nodes: args.nodes, seed: args.seed }));
  const handle = indexedPveHandler(scenario, { tokenId: args.tokenId, secret: args.secret });
  const latency = latencyScenario(args.scenario, { latencyMs: args.latencyMs, seed: args.seed, slowNode: scenario.nodes[0]?.name ?? 'pve1' });
  // pveproxy's few workers: at most this many requests are worked on, the rest wait in arrival order.
  const workers = latency.serverConcurrency ? new Semaphore(latency.serverConcurrency) : undefined;
  let counts = emptyCounts();
  // The paths asked since the last count, for the floor client to ask again; each request's time for the bound.
  let paths: string[] = [];
  let records: RequestRecord[] = [];
  let cpuFrom = process.cpuUsage();
  const hold = holder();
  const server = await startFakeHttps(async (req) => {
    const arrived = performance.now();
    counts.total++;
    counts[classify(req.path)]++;
    const query = req.query.toString();
    paths.push(query ? `${req.path}?${query}` : req.path);
    // startFakeHttps keeps every request; the benchmark only needs the counts.
    if (server.requests.length > 256) server.requests.length = 0;
    await workers?.acquire();
    try {
      const started = performance.now();
      const timing = args.latencyMs > 0 ? latency.timing(req.path) : { ms: 0 };
      records.push([req.path, timing.ms]);
      const res = timing.fail ? pveFailure(timing.fail.status, timing.fail.reason) : handle(req);
      if (res.status !== 200) counts.errors++;
      if (timing.ms > 0) await hold(started, timing.ms);
      counts.heldMs += performance.now() - started;
      counts.queuedMs += started - arrived;
      return res;
    } finally {
      workers?.release();
    }
  });
  const send = (m: PveProcessMessage): void => {
    process.send?.(m);
  };
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'count') {
      const cpu = process.cpuUsage(cpuFrom);
      cpuFrom = process.cpuUsage();
      send({
        type: 'count',
        counts: {
          ...counts,
          fakeCpuMs: (cpu.user + cpu.system) / 1000,
          heldMs: counts.total ? counts.heldMs / counts.total : 0,
          queuedMs: counts.total ? counts.queuedMs / counts.total : 0,
        },
      });
      counts = emptyCounts();
      paths = [];
      records = [];
    } else if (m.type === 'paths') {
      send({ type: 'paths', paths });
    } else if (m.type === 'records') {
      send({ type: 'records', records });
    }
  });
  process.on('disconnect', () => {
    void server.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', port: server.port, estate: estateStats(scenario) });
}

await main();
