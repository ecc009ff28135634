import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { freePort, waitFor } from './helpers/agent-harness.ts';
import { startAgent, tempAgent, type RunningAgent } from './helpers/cli.ts';
import { hasRedis } from './helpers/redis.ts';

/*
 * run_at_start with replicas: two agents started together run a scheduled policy's start
 * run once between them (a Redis lease per policy version), not once each.
 */

let redisProc: ChildProcess | undefined;
let redisUrl: string;
let ingester: FakeDiodeIngester;
beforeAll(async () => {
  if (!hasRedis) return;
  const port = await freePort();
  redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redisUrl = `redis://127.0.0.1:${port}/0`;
  ingester = await new FakeDiodeIngester().start();
});
afterAll(async () => {
  await ingester?.stop();
  redisProc?.kill('SIGKILL');
});

describe.skipIf(!hasRedis)('run_at_start with replicas sharing Redis', () => {
  it('one replica runs it, the other is told it is taken', async () => {
    const yaml = (name: string) =>
      `agent:\n  name: ${name}\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  target: ${ingester.target}\n  client_id: ${ingester.opts.clientId}\n  client_secret: \${env:S}\ncoordination:\n  redis_url: ${redisUrl}\npolicies:\n  - { name: boot, collector: pve, schedule: "0 0 1 1 *", config: { BOOTSTRAP: true } }\n`;
    const env = { S: ingester.opts.clientSecret };
    const replicas: RunningAgent[] = ['a', 'b'].map((n) => startAgent(['run', '-c', tempAgent(yaml(n)).file], env));
    try {
      const said = (r: RunningAgent, msg: string) => r.logs().some((l) => l.msg === msg && l.policy === 'boot');
      // Redis may still be starting: the replicas' clients retry until it answers.
      await waitFor(
        () =>
          replicas.filter((r) => said(r, 'run finished')).length === 1 && replicas.filter((r) => said(r, 'run at start taken by another replica')).length === 1,
        30_000,
      );
      expect(replicas.map((r) => [said(r, 'run started'), said(r, 'run at start taken by another replica')]).sort()).toEqual([
        [false, true],
        [true, false],
      ]);
      // One run: its two delivery phases (the tags, then the custom fields and cluster type).
      expect(ingester.ingests.map((x) => x.code)).toEqual([0, 0]);
    } finally {
      for (const r of replicas) expect(await r.stop()).toBe(0);
    }
  }, 60_000);
});
