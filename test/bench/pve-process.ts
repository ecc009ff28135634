import { generatePveScenario } from '../fakes/pve-server.ts';
import { startFakeHttps } from '../fakes/https-server.ts';
import { classify, emptyCounts, estateStats, indexedPveHandler, type PveProcessArgs, type PveProcessMessage } from './estate.ts';

/*
 * The fake PVE server of the benchmark, in a process of its own so that its CPU (TLS,
 * JSON, the added latency's timers) is not counted as the agent's. Started with
 * child_process.fork and one JSON argument (PveProcessArgs); it answers on IPC:
 *   → { type: 'ready', port, estate }            once listening
 *   ← { type: 'count' }  → { type: 'count', counts }   requests since the last count
 *   ← { type: 'paths' }  → { type: 'paths', paths }     their paths (with the query)
 * and exits when the parent disconnects.
 */

/**
 * The added latency, held to L on average without a busy loop. A plain setTimeout(L)
 * answers 0.3–1 ms late (millisecond timers, the loop's cached clock, waking from idle),
 * which at L = 5 ms would charge the agent for the fake's timer slack; polling until the
 * deadline instead keeps a core busy, which on a two-core machine is taken from the agent.
 * So the timer is aimed `lead` ms early and every request whose aimed time has passed is
 * answered; `lead` follows the measured error (an integral controller) so that the mean
 * time held is L. The mean is reported (`heldMs`) so a reader can check it.
 * Every request waits the same L, so deadlines come in arrival order: a FIFO suffices.
 */
function holder(latencyMs: number): (arrived: number) => Promise<void> {
  const queue: Array<{ deadline: number; resolve: () => void }> = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  // Starts at the typical slack of a millisecond timer; the controller takes it from there.
  let lead = 0.5;
  const GAIN = 0.02;
  const tick = (): void => {
    timer = undefined;
    const now = performance.now();
    while (head < queue.length) {
      const next = queue[head];
      if (!next || next.deadline - lead > now) break;
      head++;
      lead = Math.min(latencyMs, Math.max(0, lead - GAIN * (next.deadline - now)));
      next.resolve();
    }
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
    const next = queue[head];
    if (timer || !next) return;
    timer = setTimeout(tick, Math.max(0, next.deadline - lead - performance.now()));
  };
  return (arrived) => new Promise<void>((resolve) => {
    queue.push({ deadline: arrived + latencyMs, resolve });
    arm();
  });
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as PveProcessArgs;
  const scenario = generatePveScenario({ guests: args.guests, nodes: args.nodes, seed: args.seed });
  const handle = indexedPveHandler(scenario, { tokenId: args.tokenId, secret: args.secret });
  let counts = emptyCounts();
  // The paths asked since the last count, for the floor client to ask again.
  let paths: string[] = [];
  let cpuFrom = process.cpuUsage();
  const hold = holder(args.latencyMs);
  const server = await startFakeHttps(async (req) => {
    const arrived = performance.now();
    counts.total++;
    counts[classify(req.path)]++;
    const query = req.query.toString();
    paths.push(query ? `${req.path}?${query}` : req.path);
    // startFakeHttps keeps every request; the benchmark only needs the counts.
    if (server.requests.length > 256) server.requests.length = 0;
    const res = handle(req);
    if (res.status !== 200) counts.errors++;
    if (args.latencyMs > 0) await hold(arrived);
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
      paths = [];
    } else if (m.type === 'paths') {
      send({ type: 'paths', paths });
    }
  });
  process.on('disconnect', () => {
    void server.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', port: server.port, estate: estateStats(scenario) });
}

await main();
