import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { startFakeHttps, TEST_CERT_FINGERPRINT, type FakeServer } from './fakes/https-server.ts';
import { freePort, waitFor } from './helpers/agent-harness.ts';
import { agentCli, getStatus, startAgent, tempAgent, type CliResult } from './helpers/cli.ts';
import { hasRedis } from './helpers/redis.ts';

/*
 * The README: secrets never appear in logs, error messages, `once` output, /metrics or
 * /status, also when an upstream echoes one back and when it holds characters JSON escapes.
 * test/secrets-cli.test.ts does it for PVE and Diode; this for the PBS and PDM token
 * secrets, the Ceph dashboard password and the Redis password of coordination. Every
 * upstream here answers 401 with the credential it was sent in its reason phrase (the
 * dashboard echoes its login body, where JSON escaped the password), so each run fails
 * with an error quoting it.
 */
const PBS_SECRET = 'pbs"s3cr\\et-1';
const PDM_SECRET = 'pdm"s3cr\\et-2';
const CEPH_PASSWORD = 'ceph"s3cr\\et-3';
const REDIS_PASSWORD = 're"dis\\s3cr-4';
const SECRETS = [PBS_SECRET, PDM_SECRET, CEPH_PASSWORD, REDIS_PASSWORD];

/** Every form a secret takes in encoded outputs: as is, JSON-escaped once and twice, percent-encoded, Prometheus-escaped. */
function forms(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  return [secret, once, JSON.stringify(once).slice(1, -1), encodeURIComponent(secret), secret.replace(/\\/g, '\\\\').replace(/"/g, '\\"')];
}

function expectNoSecret(where: string, text: string): void {
  for (const s of SECRETS) for (const f of forms(s)) expect(text.includes(f), `${where} holds ${JSON.stringify(f)}`).toBe(false);
}

let pbs: FakeServer;
let pdm: FakeServer;
let ceph: FakeServer;
let ingester: FakeDiodeIngester;
let redisProc: ChildProcess | undefined;
let config: { dir: string; file: string };
let statusPort: number;

const POLICIES = ['ceph-echo', 'pbs-echo', 'pdm-echo'];

beforeAll(async () => {
  const echo = (what: string) => ({ status: 401, statusText: `authentication failed: ${what}`, body: { data: null } });
  pbs = await startFakeHttps((req) => echo(String(req.headers.authorization)));
  pdm = await startFakeHttps((req) => echo(String(req.headers.authorization)));
  ceph = await startFakeHttps((req) => echo(req.method === 'POST' ? req.body : String(req.headers.authorization)));
  ingester = await new FakeDiodeIngester().start();
  const redisPort = await freePort();
  statusPort = await freePort();
  if (hasRedis)
    redisProc = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', REDIS_PASSWORD],
      { stdio: 'ignore' },
    );
  const pin = `"${TEST_CERT_FINGERPRINT}"`;
  config = tempAgent(
    `
agent:
  state_dir: ./state
  log_level: trace
  status: { listen: 127.0.0.1:${statusPort} }
diode:
  target: ${ingester.target}
  client_id: ${ingester.opts.clientId}
  client_secret: ${ingester.opts.clientSecret}
  max_attempts: 1
policies:
  dir: ./policies
${hasRedis ? `coordination:\n  redis_url: redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redisPort}/0\n` : ''}`,
    {
      'pbs.yaml': `name: pbs-echo\ncollector: pbs\nconfig:\n  PBS_HOST: 127.0.0.1\n  PBS_PORT: ${pbs.port}\n  PBS_TOKEN_ID: "netbox@pbs!discovery"\n  PBS_TOKEN_SECRET: \${env:PBS_SECRET}\n  PBS_FINGERPRINT: ${pin}\n`,
      'pdm.yaml': `name: pdm-echo\ncollector: pdm\nconfig:\n  PDM_HOST: 127.0.0.1\n  PDM_PORT: ${pdm.port}\n  PDM_TOKEN_ID: "netbox@pdm!discovery"\n  PDM_TOKEN_SECRET: \${file:../pdm-secret}\n  PDM_FINGERPRINT: ${pin}\n`,
      // Written literally in the policy, not through ${env:}: a secret all the same.
      'ceph.yaml': `name: ceph-echo\ncollector: ceph\nconfig:\n  CEPH_SOURCE: dashboard\n  CEPH_URL: https://127.0.0.1:${ceph.port}\n  CEPH_USER: netbox-ro\n  CEPH_PASSWORD: ${JSON.stringify(CEPH_PASSWORD)}\n  CEPH_FINGERPRINT: ${pin}\n`,
    },
  );
  writeFileSync(join(config.dir, 'pdm-secret'), `${PDM_SECRET}\n`);
}, 30_000);

afterAll(async () => {
  redisProc?.kill('SIGKILL');
  await Promise.all([pbs.close(), pdm.close(), ceph.close(), ingester.stop()]);
});

const env = { PBS_SECRET };

describe('PBS, PDM, Ceph and Redis secrets', () => {
  it('once: neither the summary nor the logs hold any form of them, though every upstream echoed its credential', async () => {
    const r: CliResult = await agentCli(['once', '-c', config.file], { env });
    expect(r.code).toBe(1);
    expectNoSecret('stdout', r.stdout);
    expectNoSecret('stderr', r.stderr);
    // The echoes did reach the output, masked: each policy failed with the upstream's reason.
    const errors = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('  error: '))
      .map((l) => l.replace(/127\.0\.0\.1:\d+/, 'HOST'));
    expect(errors).toEqual([
      '  error: collection failed: dashboard login as netbox-ro failed: HTTP 401 authentication failed: {"username":"netbox-ro","password":"[REDACTED]"}',
      '  error: collection failed: Proxmox Backup Server at HOST could not be read: GET /version: HTTP 401 authentication failed: PBSAPIToken=netbox@pbs!discovery:[REDACTED] (check PBS_TOKEN_ID and PBS_TOKEN_SECRET)',
      '  error: collection failed: Proxmox Datacenter Manager at HOST could not be read: GET /version: HTTP 401 authentication failed: PDMAPIToken=netbox@pdm!discovery:[REDACTED] (check PDM_TOKEN_ID and PDM_TOKEN_SECRET)',
    ]);
    expect(r.stderr).toContain('PBSAPIToken=netbox@pbs!discovery:[REDACTED]');
  });

  it('run: /status, /metrics and the logs hold no form of them', async () => {
    const a = startAgent(['run', '-c', config.file], env);
    let status = '';
    let metrics = '';
    try {
      for (const policy of POLICIES) await a.waitForLog('run finished', { policy }, 30_000);
      await waitFor(() => a.logs().some((l) => l.msg === 'status server listening'));
      status = (await getStatus(statusPort, '/status')).body;
      metrics = (await getStatus(statusPort, '/metrics')).body;
    } finally {
      expect(await a.stop()).toBe(0);
    }
    expectNoSecret('/status', status);
    expectNoSecret('/metrics', metrics);
    expectNoSecret('stderr', a.stderr());
    const doc = JSON.parse(status) as { policies: Array<{ name: string; last_run: { result: string; error: string } | null }> };
    expect(doc.policies.map((p) => [p.name, p.last_run?.result, p.last_run?.error.includes('[REDACTED]')])).toEqual(POLICIES.map((n) => [n, 'failed', true]));
    expect(metrics).toContain('diode_agent_runs_total{policy="pbs-echo",result="failed"} 1');
    // Coordination authenticated with the password (a wrong one would log WRONGPASS here).
    expect(a.logs().filter((l) => l.msg === 'redis error')).toEqual([]);
  });
});
