import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisStateStore } from '../agent/coordination/redis.ts';
import { emptyState, FileStateStore } from '../agent/state/store.ts';
import { FakeDiodeIngester, GrpcCode } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { freePort, harness, waitFor, type Harness } from './helpers/agent-harness.ts';
import { hasRedis } from './helpers/redis.ts';

/*
 * A deleted policy's delta state is deleted too: at start-up (deleted while the agent was
 * not running) and on reload, in the state directory and in Redis. Never in a dry run, and
 * not at start-up while a policy file does not load (its policy's name is unknown then).
 */

let ingester: FakeDiodeIngester;
let pve: FakeServer;

beforeEach(async () => {
  ingester = await new FakeDiodeIngester().start();
  // No run asks PVE anything here: the policies are yearly and do not run at start.
  pve = await startFakeHttps(() => ({ status: 500, statusText: 'not expected', body: { data: null } }));
});

afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) }), lines };
}

/** The harness's yearly "pve" policy, plus stored states of "pve" and of `others`. */
async function withStates(others: string[]): Promise<{ h: Harness; stateDir: string }> {
  const h = harness(ingester, pve, { schedule: '0 0 1 1 *' });
  h.writePolicy('run_at_start: false\n');
  const stateDir = join(h.dir, 'state');
  const store = new FileStateStore(stateDir);
  for (const name of ['pve', ...others]) await store.save(name, emptyState('0', 'h'));
  return { h, stateDir };
}

const boot = (name: string) => `name: ${name}\ncollector: pve\nschedule: "0 0 1 1 *"\nrun_at_start: false\nconfig: { BOOTSTRAP: true }\n`;

describe('the state of a deleted policy (state directory)', () => {
  it('is deleted at start-up, and logged; the states of existing policies stay', async () => {
    const { h, stateDir } = await withStates(['gone', 'old-lab']);
    const { log, lines } = capture();
    const a = h.agent({ log });
    a.start();
    await a.stateCleanup;
    await a.stop(0);
    expect(readdirSync(stateDir)).toEqual(['pve.state']);
    expect(lines.filter((l) => l.msg === 'state of a removed policy deleted').map((l) => [l.level, l.policy, l.reason])).toEqual([
      [30, 'gone', 'no such policy at start-up'],
      [30, 'old-lab', 'no such policy at start-up'],
    ]);
  });

  it('is deleted when a reload removes the policy', async () => {
    const { h, stateDir } = await withStates(['boot']);
    writeFileSync(join(h.dir, 'policies', 'boot.yaml'), boot('boot'));
    const { log, lines } = capture();
    const a = h.agent({ log });
    a.start();
    a.watchPolicies(50);
    await a.stateCleanup;
    expect(readdirSync(stateDir)).toEqual(['boot.state', 'pve.state']);
    rmSync(join(h.dir, 'policies', 'boot.yaml'));
    await waitFor(() => !a.policies.some((p) => p.name === 'boot'));
    await a.stateCleanup;
    await a.stop(0);
    expect(readdirSync(stateDir)).toEqual(['pve.state']);
    expect(lines.filter((l) => l.msg === 'state of a removed policy deleted').map((l) => [l.policy, l.reason])).toEqual([['boot', 'policy removed']]);
  });

  it('is kept in a dry run, which never writes state', async () => {
    const { h, stateDir } = await withStates(['gone']);
    const a = h.agent({ dryRun: true, dryRunDir: mkdtempSync(join(tmpdir(), 'cleanup-dry-')) });
    a.start();
    await a.stateCleanup;
    rmSync(h.policyFile);
    a.reloadPolicies();
    await a.stateCleanup;
    await a.stop(0);
    expect(readdirSync(stateDir)).toEqual(['gone.state', 'pve.state']);
  });

  it("is kept at start-up while a policy file does not load: it may be that policy's", async () => {
    const { h, stateDir } = await withStates(['typo']);
    writeFileSync(join(h.dir, 'policies', 'typo.yaml'), 'name: typo\ncollector: pve\nconfig: { PROXMOX_PORT: x, BOOTSTRAP: true }\n');
    const { log, lines } = capture();
    const a = h.agent({ log });
    a.start();
    await a.stateCleanup;
    await a.stop(0);
    expect(readdirSync(stateDir)).toEqual(['pve.state', 'typo.state']);
    expect(lines.filter((l) => l.msg === 'a policy file did not load: states of deleted policies are kept until every file loads at start-up')).toHaveLength(1);
  });

  it('a snapshot of the removed policy still waiting for Diode is given up and counted, so no retry writes its state back', async () => {
    const h = harness(ingester, pve, { schedule: '0 0 1 1 *' });
    h.writePolicy('run_at_start: false\n');
    writeFileSync(join(h.dir, 'policies', 'boot.yaml'), boot('boot'));
    ingester.faultFn = () => ({ code: GrpcCode.UNAVAILABLE, message: 'connection refused' });
    const a = h.agent({ background: true, outboxRetryBaseMs: 50, outboxRetryMaxMs: 50 });
    const [r] = await a.once(['boot']);
    expect(r?.delivery?.pending).toBe(true);
    rmSync(join(h.dir, 'policies', 'boot.yaml'));
    a.reloadPolicies();
    await a.stateCleanup;
    expect(a.deliverer.pending.has('boot')).toBe(false);
    ingester.faultFn = undefined;
    // Time for retries that must not come (the outbox retried every 50 ms before).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await a.stop(0);
    expect(ingester.ingests.filter((i) => i.code === GrpcCode.OK)).toEqual([]);
    expect(existsSync(join(h.dir, 'state', 'boot.state'))).toBe(false);
    const dropped = await a.metrics.registry.getSingleMetric('diode_agent_snapshots_dropped_total')!.get();
    expect(dropped.values.map((v) => [v.labels, v.value])).toEqual([[{ policy: 'boot', reason: 'policy_removed' }, 1]]);
  });
});

describe.skipIf(!hasRedis)('the state of a deleted policy (Redis)', () => {
  let redisProc: ChildProcess;
  let redis: Redis;

  beforeAll(async () => {
    const port = await freePort();
    redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    // ioredis queues the command and reconnects until the server is up.
    redis = new Redis(`redis://127.0.0.1:${port}/0`, { retryStrategy: () => 100 });
    redis.on('error', () => {});
    await redis.ping();
  });

  afterAll(() => {
    redis?.disconnect();
    redisProc?.kill('SIGKILL');
  });

  it('RedisStateStore lists the policies with a state under its prefix only, and removes one', async () => {
    const store = new RedisStateStore(redis, 'cleanup-a');
    await new RedisStateStore(redis, 'cleanup-ab').save('other-prefix', emptyState('0', 'h'));
    await redis.set('cleanup-a:lease:start:x:h', 'replica');
    for (const n of ['b', 'a', 'c']) await store.save(n, emptyState('0', 'h'));
    expect(await store.list()).toEqual(['a', 'b', 'c']);
    await store.remove('b');
    expect(await store.list()).toEqual(['a', 'c']);
    expect(await store.load('b')).toBeNull();
  });

  it('at start-up the agent deletes the Redis state of a policy that no longer exists', async () => {
    const store = new RedisStateStore(redis, 'cleanup-agent');
    for (const n of ['pve', 'gone']) await store.save(n, emptyState('0', 'h'));
    const h = harness(ingester, pve, { schedule: '0 0 1 1 *' });
    h.writePolicy('run_at_start: false\n');
    mkdirSync(join(h.dir, 'state'), { recursive: true });
    const a = h.agent({ store });
    a.start();
    await a.stateCleanup;
    await a.stop(0);
    expect(await store.list()).toEqual(['pve']);
  });
});
