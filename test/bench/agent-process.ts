import { rmSync } from 'node:fs';
import type { FakeDiodeIngester } from '../fakes/diode-ingester.ts';
import { harness } from '../helpers/agent-harness.ts';
import type { CollectContext } from '../../agent/collectors/types.ts';
import type { HttpTarget } from '../../agent/http/client.ts';
import type { RunResult } from '../../agent/pipeline/result.ts';
import type { DiodeCounted, DiodeProcessMessage } from './diode-process.ts';
import { expect, spawnChild } from './child.ts';

/*
 * The agent side of one benchmark scenario, in a fresh process so that its CPU time and
 * peak RSS are this scenario's alone. Started with child_process.fork and one JSON
 * argument (AgentProcessArgs). It runs the policy twice into a Diode ingester that only
 * counts, in a child process of its own (diode-process.ts), so that the ingester's CPU
 * and memory are not the agent's (getrusage and process.cpuUsage count this process
 * alone): the first run (the measured one, a full sync) and, after the parent's
 * { type: 'continue' }, the second (a delta run over the unchanged estate). After each
 * run it sends { type: 'run', sample }; then it exits.
 */

export interface AgentProcessArgs {
  pvePort: number;
  concurrency: number;
  /** Runs: 2 is a full and then a delta run; 1 the full run alone (the latency scenarios, the feature prices). */
  runs?: 1 | 2;
  /** Lines added to the policy's `config:` block (a feature's switch). */
  config?: string;
}

/** CPU and wall time of one phase of a run, in milliseconds; RSS and V8 heap in use at its end, MB. */
export interface PhaseTime {
  wallMs: number;
  cpuMs: number;
  rssEndMb: number;
  heapEndMb: number;
}

export interface RunSample {
  run: 1 | 2;
  status: string;
  warnings: number;
  wallMs: number;
  /** user + system CPU of this process during the run. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Entities the run collected (mapped). */
  entities: number;
  entitiesSent: number;
  apiRequestsAgent: number;
  diodeRequests: number;
  diodeBytes: number;
  /** What the ingester counted; equals the above when nothing was lost. */
  ingested: { requests: number; entities: number; bytes: number };
  delivery: RunResult['delivery'] | null;
  /**
   * collect: the collector; map: mapping, and encoding each entity as it is mapped (mapEach)
   * or mapping alone (map); encode: the rest of the encoding, ordering, delta plan and
   * chunking up to the first Ingest; deliver: the Ingest calls and saving the state.
   */
  phases: { collect: PhaseTime; map: PhaseTime; encode: PhaseTime; deliver: PhaseTime };
  /**
   * A collector with mapParts maps and encodes while it collects: the wall time spent in its
   * parts (part of `collect`, and nearly all CPU); `map` is then what was left once collected.
   */
  mapWhileCollecting?: { wallMs: number; parts: number };
  /** Σ time requests held a concurrency slot, ms (HttpTarget.busyMs). */
  slotBusyMs: number;
  /** Resident set size in MB: before the run, and the process's peak (getrusage) after it. */
  rssBeforeMb: number;
  peakRssMb: number;
  heapUsedAfterMb: number;
}

export type AgentProcessMessage = { type: 'run'; sample: RunSample } | { type: 'error'; message: string };

const MB = 1024 * 1024;
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

interface Mark {
  t: number;
  cpu: NodeJS.CpuUsage;
  /** RSS and V8 heap in use at the mark, MB. */
  rssMb: number;
  heapMb: number;
}

const mark = (): Mark => {
  const m = process.memoryUsage();
  return { t: performance.now(), cpu: process.cpuUsage(), rssMb: m.rss / MB, heapMb: m.heapUsed / MB };
};
const span = (a: Mark | undefined, b: Mark | undefined): PhaseTime =>
  a && b
    ? { wallMs: b.t - a.t, cpuMs: cpuMs(b.cpu) - cpuMs(a.cpu), rssEndMb: b.rssMb, heapEndMb: b.heapMb }
    : { wallMs: 0, cpuMs: 0, rssEndMb: 0, heapEndMb: 0 };

/** The ingester's process: its address and credentials, and its totals on request. */
interface DiodeChild {
  ready: Extract<DiodeProcessMessage, { type: 'ready' }>;
  counted(): Promise<DiodeCounted>;
  stop(): Promise<void>;
}

async function startDiode(): Promise<DiodeChild> {
  // Not this process's flags (heap flags, --cpu-prof): the ingester is not what is measured.
  const child = spawnChild<DiodeProcessMessage>('./diode-process.ts');
  const ready = await expect(child, 'ready');
  return {
    ready,
    counted: async () => {
      child.proc.send({ type: 'count' });
      return (await expect(child, 'count')).counted;
    },
    stop: async () => {
      if (child.proc.connected) child.proc.disconnect();
      await child.exited;
    },
  };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as AgentProcessArgs;
  const send = (m: AgentProcessMessage): void => {
    process.send?.(m);
  };
  const diode = await startDiode();
  // The harness reads only the target and the client credentials of its ingester.
  const ingester = { target: diode.ready.target, opts: { clientId: diode.ready.clientId, clientSecret: diode.ready.clientSecret } } as FakeDiodeIngester;
  const fakePve = { url: `https://127.0.0.1:${args.pvePort}`, port: args.pvePort, requests: [], close: async () => {} };
  const h = harness(ingester, fakePve);
  const config = (args.config ?? '')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => `  ${l}\n`)
    .join('');
  h.writePolicy(`${config}concurrency: ${args.concurrency}\n`);
  const agent = h.agent();
  const policy = agent.policies[0];
  if (!policy) throw new Error('the benchmark policy did not load');

  // Phase marks: the collector's return, the mapper's return, the first Ingest call.
  let marks: { start?: Mark; collected?: Mark; mapped?: Mark; firstIngest?: Mark; end?: Mark } = {};
  let during = { wallMs: 0, parts: 0 };
  const def = policy.def;
  let targets: HttpTarget[] = [];
  policy.def = {
    ...def,
    collect: async (ctx: CollectContext<unknown>) => {
      const s: unknown = await def.collect({
        ...ctx,
        target: (o) => {
          const t = ctx.target(o);
          targets.push(t);
          return t;
        },
      });
      marks.collected = mark();
      return s;
    },
    map: (s, ctx) => {
      const out = def.map(s, ctx);
      marks.mapped = mark();
      return out;
    },
    // Mapping while collecting: each part's time is summed; the mark falls when the rest is mapped.
    ...(def.mapParts && {
      mapParts: (ctx: Parameters<typeof def.map>[1]) => {
        const m = def.mapParts?.(ctx);
        if (!m) throw new Error('mapParts vanished');
        return {
          // Wall time only: a getrusage per part (tens of thousands) would cost more than it measures.
          part: (p: unknown, emit: Parameters<typeof m.part>[1]) => {
            const t = performance.now();
            try {
              m.part(p, emit);
            } finally {
              during.wallMs += performance.now() - t;
              during.parts++;
            }
          },
          end: (s: unknown, emit: Parameters<typeof m.part>[1]) => {
            const summary = m.end(s, emit);
            marks.mapped = mark();
            return summary;
          },
        };
      },
    }),
    // The run maps one entity at a time and encodes each as it comes: the mark falls when the last is out.
    ...(def.mapEach && {
      mapEach: function* (s: unknown, ctx: Parameters<typeof def.map>[1]) {
        const summary = def.mapEach ? yield* def.mapEach(s, ctx) : undefined;
        marks.mapped = mark();
        return summary;
      },
    }),
  };
  const sink = agent.sink;
  const ingest = sink.ingest.bind(sink);
  sink.ingest = (request, signal) => {
    marks.firstIngest ??= mark();
    return ingest(request, signal);
  };

  const runOnce = async (n: 1 | 2): Promise<RunSample> => {
    const before = await diode.counted();
    const rssBefore = process.memoryUsage.rss();
    marks = { start: mark() };
    during = { wallMs: 0, parts: 0 };
    targets = [];
    const [r] = await agent.once();
    marks.end = mark();
    if (!r) throw new Error('the policy did not run');
    const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
    const cpu = process.cpuUsage(marks.start?.cpu);
    // maxRSS is in kilobytes; read before the IPC round trip below, which allocates a little.
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const after = await diode.counted();
    const deliverFrom = marks.firstIngest ?? marks.end;
    return {
      run: n,
      status: r.status,
      warnings: r.warnings.length,
      wallMs: marks.end.t - (marks.start?.t ?? 0),
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      entities: sum(r.collected),
      entitiesSent: sum(r.sent),
      apiRequestsAgent: r.apiRequests,
      diodeRequests: r.diode.requests,
      diodeBytes: r.diode.bytes,
      ingested: { requests: after.requests - before.requests, entities: after.entities - before.entities, bytes: after.bytes - before.bytes },
      delivery: r.delivery ?? null,
      phases: {
        collect: span(marks.start, marks.collected),
        map: span(marks.collected, marks.mapped),
        encode: span(marks.mapped, deliverFrom),
        deliver: span(deliverFrom, marks.end),
      },
      ...(during.parts > 0 && { mapWhileCollecting: during }),
      rssBeforeMb: rssBefore / MB,
      peakRssMb,
      heapUsedAfterMb: process.memoryUsage().heapUsed / MB,
      slotBusyMs: targets.reduce((a, t) => a + t.busyMs, 0),
    };
  };

  try {
    send({ type: 'run', sample: await runOnce(1) });
    if ((args.runs ?? 2) === 2) {
      await new Promise<void>((resolve) => {
        process.once('message', () => resolve());
      });
      send({ type: 'run', sample: await runOnce(2) });
    }
  } finally {
    await agent.stop(1000);
    await diode.stop();
    rmSync(h.dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.disconnect?.(),
  (err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies AgentProcessMessage);
    process.exitCode = 1;
    process.disconnect?.();
  },
);
