import { generatePveScenario } from '../fakes/pve-server.ts';
import { startFakeHttps } from '../fakes/https-server.ts';
import { classify, emptyCounts, estateStats, indexedPveHandler, type PveProcessArgs, type PveProcessMessage } from './estate.ts';

/*
 * The fake PVE server of the benchmark, in a process of its own so that its CPU (TLS,
 * JSON, the added latency's timers) is not counted as the agent's. Started with
 * child_process.fork and one JSON argument (PveProcessArgs); it answers on IPC:
 *   → { type: 'ready', port, estate }            once listening
 *   ← { type: 'count' }  → { type: 'count', counts }   requests since the last count
 * and exits when the parent disconnects.
 */

/**
 * The added latency, held to the deadline: a plain setTimeout(L) answers 0.3–1 ms late
 * (millisecond timers, the loop's cached clock, waking from idle), which at L = 5 ms
 * would charge the agent for the fake's timer slack. A timer sleeps until about 1 ms
 * before the earliest deadline, then the loop polls (setImmediate) until it passes.
 * Every request waits the same L, so deadlines come in arrival order: a FIFO suffices.
 */
function holder(): (deadline: number) => Promise<void> {
  const queue: Array<{ deadline: number; resolve: () => void }> = [];
  let head = 0;
  let armed = false;
  const SPIN_MS = 1;
  const tick = (): void => {
    armed = false;
    const now = performance.now();
    while (head < queue.length && (queue[head]?.deadline ?? Infinity) <= now) queue[head++]?.resolve();
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
      return;
    }
    if (head > 4096) {
      queue.splice(0, head);
      head = 0;
    }
    arm();
  };
  const arm = (): void => {
    if (armed) return;
    const next = queue[head];
    if (!next) return;
    armed = true;
    const wait = next.deadline - performance.now() - SPIN_MS;
    if (wait > 0) setTimeout(tick, wait);
    else setImmediate(tick);
  };
  return (deadline) => new Promise<void>((resolve) => {
    queue.push({ deadline, resolve });
    arm();
  });
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as PveProcessArgs;
  const scenario = generatePveScenario({ guests: args.guests, nodes: args.nodes, seed: args.seed });
  const handle = indexedPveHandler(scenario, { tokenId: args.tokenId, secret: args.secret });
  let counts = emptyCounts();
  let cpuFrom = process.cpuUsage();
  const hold = holder();
  const server = await startFakeHttps(async (req) => {
    const arrived = performance.now();
    counts.total++;
    counts[classify(req.path)]++;
    // startFakeHttps keeps every request; the benchmark only needs the counts.
    if (server.requests.length > 256) server.requests.length = 0;
    const res = handle(req);
    if (res.status !== 200) counts.errors++;
    if (args.latencyMs > 0) await hold(arrived + args.latencyMs);
    counts.heldMs += performance.now() - arrived;
    return res;
  });
  const send = (m: PveProcessMessage): void => {
    process.send?.(m);
  };
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'count') {
      const cpu = process.cpuUsage(cpuFrom);
      cpuFrom = process.cpuUsage();
      send({ type: 'count', counts: { ...counts, fakeCpuMs: (cpu.user + cpu.system) / 1000, heldMs: counts.total ? counts.heldMs / counts.total : 0 } });
      counts = emptyCounts();
    }
  });
  process.on('disconnect', () => {
    void server.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', port: server.port, estate: estateStats(scenario) });
}

await main();
