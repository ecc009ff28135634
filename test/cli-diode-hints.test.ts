import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { agentCli, logLines, tempAgent } from './helpers/cli.ts';

/*
 * The two Diode mistakes an operator makes first, named with their fix in the `once`
 * summary: the target without the /diode path prefix, and grpcs:// to a plaintext port.
 * Retry lines say which policy and run they belong to, and why.
 */
let ingester: FakeDiodeIngester;
beforeAll(async () => {
  ingester = await new FakeDiodeIngester().start();
});
afterAll(async () => {
  await ingester.stop();
});

const config = (target: string, maxAttempts = 1) =>
  tempAgent(
    `agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  target: ${target}\n  client_id: \${env:ID}\n  client_secret: \${env:SECRET}\n  max_attempts: ${maxAttempts}\n  backoff_max: 10ms\npolicies:\n  - { name: boot, collector: pve, config: { BOOTSTRAP: true } }\n`,
  ).file;
const once = (file: string) => agentCli(['once', '-c', file], { env: { ID: ingester.opts.clientId, SECRET: ingester.opts.clientSecret } });
const errorLine = (stdout: string) => stdout.split('\n').find((l) => l.startsWith('  error: '));

describe('Diode hints', () => {
  it('a 404 on /auth/token without a path prefix suggests /diode', async () => {
    const r = await once(config(`grpc://127.0.0.1:${ingester.port}`));
    expect(r.code).toBe(1);
    expect(errorLine(r.stdout)).toBe(
      `  error: delivery failed: token request to http://127.0.0.1:${ingester.port}/auth/token was refused: HTTP 404 (nothing at /auth/token: Diode behind the NetBox Enterprise ingress needs the /diode path prefix, e.g. diode.target: grpcs://netbox.example.com/diode)`,
    );
  });

  it('a 404 under another prefix says to check it', async () => {
    const r = await once(config(`grpc://127.0.0.1:${ingester.port}/netbox`));
    expect(errorLine(r.stdout)).toBe(
      `  error: delivery failed: token request to http://127.0.0.1:${ingester.port}/netbox/auth/token was refused: HTTP 404 (nothing at /netbox/auth/token: check the path of diode.target; Diode behind the NetBox Enterprise ingress is at /diode)`,
    );
  });

  it('TLS to a plaintext port ("wrong version number") suggests grpc://', async () => {
    const r = await once(config(`grpcs://127.0.0.1:${ingester.port}/diode`));
    expect(r.code).toBe(1);
    expect(errorLine(r.stdout)).toBe(
      `  error: delivery failed: Diode UNAVAILABLE: token request to https://127.0.0.1:${ingester.port}/diode/auth/token failed: ERR_SSL_WRONG_VERSION_NUMBER (the server does not speak TLS on this port: use grpc:// in diode.target, or the port that serves TLS)`,
    );
  });

  it('retry lines carry the policy, the run id and the reason', async () => {
    const r = await once(config(`grpcs://127.0.0.1:${ingester.port}/diode`, 3));
    const logs = logLines(r.stderr);
    const runId = logs.find((l) => l.msg === 'run started')?.run_id;
    expect(typeof runId).toBe('string');
    expect(
      logs.filter((l) => l.msg === 'diode request failed, retrying').map((l) => [l.level, l.policy, l.collector, l.run_id, l.code, l.attempt, l.reason]),
    ).toEqual(
      [1, 2].map((attempt) => [
        40,
        'boot',
        'pve',
        runId,
        'UNAVAILABLE',
        attempt,
        `token request to https://127.0.0.1:${ingester.port}/diode/auth/token failed: ERR_SSL_WRONG_VERSION_NUMBER (the server does not speak TLS on this port: use grpc:// in diode.target, or the port that serves TLS)`,
      ]),
    );
  });
});
