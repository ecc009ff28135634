import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { freePort, waitFor } from './helpers/agent-harness.ts';
import { hasRedis } from './helpers/redis.ts';

/*
 * Two agent processes share one Redis (started here, on loopback) and one every-second
 * schedule: every tick must run exactly once in total, and when one replica stops the
 * other takes its ticks. CI installs redis-server (.ci/run).
 */
const root = new URL('..', import.meta.url).pathname;

let redisProc: ChildProcess;
let redis: Redis;
let redisUrl: string;
let ingester: FakeDiodeIngester;
const procs: ChildProcess[] = [];

beforeAll(async () => {
  if (!hasRedis) return;
  const port = await freePort();
  redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redisUrl = `redis://127.0.0.1:${port}/0`;
  // ioredis queues the command and reconnects until the server is up.
  redis = new Redis(redisUrl, { retryStrategy: () => 100 });
  redis.on('error', () => {});
  await redis.ping();
  ingester = await new FakeDiodeIngester().start();
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await ingester?.stop();
  redis?.disconnect();
  redisProc?.kill('SIGKILL');
});

function startReplica(name: string): ChildProcess {
  const dir = mkdtempSync(join(tmpdir(), `replica-${name}-`));
  writeFileSync(
    join(dir, 'agent.yaml'),
    `
agent:
  name: ${name}
  state_dir: ./state
  status: { enabled: false }
diode:
  target: ${ingester.target}
  client_id: ${ingester.opts.clientId}
  client_secret: \${env:DIODE_CLIENT_SECRET}
coordination:
  redis_url: ${redisUrl}
policies:
  - name: boot
    collector: pve
    schedule: "* * * * * *"
    run_at_start: false
    delta: false
    config: { BOOTSTRAP: true }
`,
  );
  const p = spawn(process.execPath, [join(root, 'bin/diode-agent.js'), 'run', '-c', join(dir, 'agent.yaml')], {
    env: { ...process.env, DIODE_CLIENT_SECRET: ingester.opts.clientSecret },
    stdio: 'ignore',
  });
  procs.push(p);
  return p;
}

/** Elected slots (lease keys) as [slot time, replica pid], in time order. */
async function leases(): Promise<Array<[number, number]>> {
  const keys = await redis.keys('diode-agent:lease:boot:*');
  const out: Array<[number, number]> = [];
  for (const k of keys) out.push([Date.parse(k.slice('diode-agent:lease:boot:'.length)), Number(((await redis.get(k)) ?? '').split(':').pop())]);
  return out.sort((a, b) => a[0] - b[0]);
}

describe.skipIf(!hasRedis)('replicas sharing Redis', () => {
  it('run each scheduled tick exactly once in total, and the survivor takes over when one stops', async () => {
    const a = startReplica('replica-a');
    const b = startReplica('replica-b');
    // Two requests a run: the definitions, then the rest.
    await waitFor(() => ingester.ingests.length >= 2 * 5, 30_000, 100);
    // Let both replicas compete for a few more ticks.
    await new Promise((r) => setTimeout(r, 2500));
    const before = await leases();
    a.kill('SIGTERM');
    await new Promise((r) => a.once('exit', r));
    const stoppedAt = Date.now();
    await waitFor(() => ingester.ingests.length >= 2 * (before.length + 4), 30_000, 100);
    await new Promise((r) => setTimeout(r, 1200));
    b.kill('SIGTERM');
    await new Promise((r) => b.once('exit', r));
    const all = await leases();
    // Every elected slot produced exactly one delivery (two requests: the definitions, then
    // the rest), and nothing ran without a lease.
    expect(ingester.ingests.filter((r) => r.code === 0)).toHaveLength(ingester.ingests.length);
    expect(ingester.ingests.filter((r) => r.request.entities.every((e) => 'tag' in e || 'custom_field' in e)).length).toBe(all.length);
    expect(ingester.ingests.length).toBe(2 * all.length);
    // Slots are consecutive seconds: no tick was lost between the two replicas.
    const seconds = all.map(([t]) => t / 1000);
    expect(seconds).toEqual(seconds.map((_, i) => seconds[0]! + i));
    // After replica A stopped, every tick went to B.
    const after = all.filter(([t]) => t > stoppedAt + 1000);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(new Set(after.map(([, pid]) => pid))).toEqual(new Set([b.pid]));
    expect(new Set(all.map(([, pid]) => pid)).size).toBeLessThanOrEqual(2);
  }, 90_000);
});
