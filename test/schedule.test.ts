import cron from 'node-cron';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler } from '../agent/collectors/pve/fake.ts';
import { harness, PVE_TOKEN, waitFor } from './helpers/agent-harness.ts';

/*
 * The README's claims about schedules: a policy's `jitter` and `timezone` reach node-cron,
 * and a tick that finds the previous run still going is skipped, logged and counted in
 * diode_agent_skipped_ticks_total.
 */

let ingester: FakeDiodeIngester;
let pve: FakeServer;
let release: () => void;

beforeEach(async () => {
  ingester = await new FakeDiodeIngester().start();
  const handler = pveHandler(generatePveScenario({ guests: 4, nodes: 2, seed: 5 }), PVE_TOKEN);
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // /cluster/resources waits for release(): a run started by a tick is still going at the next ticks.
  pve = await startFakeHttps(async (req) => {
    if (req.path.endsWith('/cluster/resources')) await held;
    return handler(req);
  });
});

afterEach(async () => {
  release();
  vi.restoreAllMocks();
  await ingester.stop();
  await pve.close();
});

/** A logger whose lines the test reads. */
function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines };
}

describe("a policy file's schedule settings", () => {
  it('jitter and timezone reach node-cron as maxRandomDelay (ms) and timezone', async () => {
    const createTask = vi.spyOn(cron, 'createTask');
    const h = harness(ingester, pve, { schedule: '0 9 * * *' });
    h.writePolicy('run_at_start: false\njitter: 30s\ntimezone: Pacific/Kiritimati\n');
    const a = h.agent();
    a.start();
    try {
      // The scheduler's task (readiness builds a nameless one of its own to measure the interval).
      const calls = createTask.mock.calls.filter(([, , o]) => o?.name === 'pve');
      expect(calls).toHaveLength(1);
      const [expression, , options] = calls[0]!;
      expect(expression).toBe('0 9 * * *');
      expect(options).toMatchObject({ name: 'pve', noOverlap: true, timezone: 'Pacific/Kiritimati', maxRandomDelay: 30_000 });
      // node-cron applied the zone: 09:00 at UTC+14 (no DST there) is 19:00 UTC.
      expect(a.nextRun('pve')?.getUTCHours()).toBe(19);
      expect(a.nextRun('pve')?.getUTCMinutes()).toBe(0);
    } finally {
      await a.stop(0);
    }
  });

  it('without them, node-cron gets neither option', async () => {
    const createTask = vi.spyOn(cron, 'createTask');
    const h = harness(ingester, pve, { schedule: '0 9 * * *' });
    h.writePolicy('run_at_start: false\n');
    const a = h.agent();
    a.start();
    try {
      const calls = createTask.mock.calls.filter(([, , o]) => o?.name === 'pve');
      expect(calls).toHaveLength(1);
      expect(Object.keys(calls[0]?.[2] ?? {}).filter((k) => k === 'timezone' || k === 'maxRandomDelay')).toEqual([]);
    } finally {
      await a.stop(0);
    }
  });
});

describe('skipped ticks', () => {
  it('a tick while the previous run is still going is skipped, logged and counted per policy', async () => {
    const { log, lines } = capture();
    const h = harness(ingester, pve, { schedule: '* * * * * *' });
    h.writePolicy('run_at_start: false\n');
    const a = h.agent({ log });
    const counted = async () => (await a.metrics.registry.getSingleMetric('diode_agent_skipped_ticks_total')!.get()).values;
    a.start();
    try {
      // One run starts at a tick and hangs on /cluster/resources; the ticks after it find it going.
      await waitFor(() => lines.filter((l) => l.msg === 'previous run still going, tick skipped').length >= 2, 15_000);
    } finally {
      await a.stop(1000);
    }
    // Stopped: no tick comes any more, so the count and the log lines can be compared exactly.
    const skipped = lines.filter((l) => l.msg === 'previous run still going, tick skipped');
    expect(skipped.every((l) => l.level === 40 && l.policy === 'pve')).toBe(true);
    expect((await counted()).map((v) => [v.labels, v.value])).toEqual([[{ policy: 'pve' }, skipped.length]]);
    expect(lines.filter((l) => l.msg === 'run started')).toHaveLength(1);
  });
});
