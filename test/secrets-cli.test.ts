import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiodeIngester, GrpcCode } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler } from '../agent/collectors/pve/fake.ts';
import { pveLabConfigYaml } from './helpers/agent-harness.ts';

/*
 * `diode-agent once` against upstreams that echo the credential they were sent: PVE in an
 * HTTP reason phrase (a warning and a failed run) and Diode in an INVALID_ARGUMENT message.
 * The secrets hold the characters JSON escapes (`"`, `\`, a tab, a newline), and nothing
 * of them may reach stdout or stderr.
 */
const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
// Header values cannot carry a newline; a tab, a quote and a backslash they can.
const PVE_SECRET = 'pve"tok\\en\t-7d1e';
const DIODE_SECRET = 'di"ode\\sec\nret-42';
const TOKEN = { tokenId: 'root@pam!netbox', secret: PVE_SECRET };

let ingester: FakeDiodeIngester;
let pveWarn: FakeServer;
let pveFail: FakeServer;
let out: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  const scenario = generatePveScenario({ guests: 4, nodes: 2, seed: 3 });
  scenario.cluster = 'echo';
  const handler = pveHandler(scenario, TOKEN);
  const echo = (req: { headers: Record<string, unknown> }) => `no route to host (request had ${String(req.headers.authorization)})`;
  pveWarn = await startFakeHttps((req) =>
    req.path.startsWith('/api2/json/nodes/pve2/') ? { status: 595, statusText: echo(req), body: { data: null } } : handler(req),
  );
  // /version answers first, so the run's error names it whatever order the requests go out in.
  pveFail = await startFakeHttps((req) => ({
    status: 401,
    statusText: `authentication failed: ${String(req.headers.authorization)}`,
    body: { data: null },
    delayMs: req.path.endsWith('/version') ? 0 : 300,
  }));
  ingester = await new FakeDiodeIngester({ clientSecret: DIODE_SECRET }).start();
  ingester.faultFn = () => ({ code: GrpcCode.INVALID_ARGUMENT, message: `entity 1: rejected for client ${DIODE_SECRET}` });
  const dir = mkdtempSync(join(tmpdir(), 'secrets-once-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'a-warn.yaml'), `name: echo-warn\ncollector: pve\nconfig:\n${pveLabConfigYaml(pveWarn.port)}\n`);
  writeFileSync(join(dir, 'policies', 'b-fail.yaml'), `name: echo-fail\ncollector: pve\nconfig:\n${pveLabConfigYaml(pveFail.port)}\n`);
  writeFileSync(join(dir, 'client-secret'), `${DIODE_SECRET}\n`);
  writeFileSync(
    join(dir, 'agent.yaml'),
    `
agent:
  state_dir: ./state
  log_level: trace
diode:
  target: ${ingester.target}
  client_id: \${env:DIODE_CLIENT_ID}
  client_secret: \${file:./client-secret}
  max_attempts: 1
policies:
  dir: ./policies
`,
  );
  const env = { PATH: process.env.PATH, PVE_TOKEN: PVE_SECRET, DIODE_CLIENT_ID: ingester.opts.clientId };
  try {
    const r = await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '-c', join(dir, 'agent.yaml')], { env });
    out = { code: 0, ...r };
  } catch (err) {
    out = err as typeof out;
  }
}, 60_000);

afterAll(async () => {
  await ingester.stop();
  await pveWarn.close();
  await pveFail.close();
});

/** Every form a secret takes in encoded outputs: as is, JSON-escaped once and twice. */
function forms(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  return [secret, once, JSON.stringify(once).slice(1, -1)];
}

describe('once against upstreams that echo the credential', () => {
  it('prints a summary with every echoed secret masked', () => {
    const summary = out.stdout
      .replace(/ in \d+\.\d\ds,/g, ' in T,')
      .split(`127.0.0.1:${pveFail.port}`)
      .join('127.0.0.1:PORT');
    expect(summary).toBe(`echo-warn (pve): failed in T, 12 API requests, 1 warnings
  entities: tag 6, custom_field 12, cluster_type 1, cluster 1, platform 3, vlan 3, vm_interface 3, interface 2, ip_address 7, prefix 3, virtual_machine 4, virtual_disk 4, device 2
  sent: 0 entities in 0 requests (0 bytes)
  warning: node pve2: GET /nodes/pve2/status: HTTP 595 no route to host (request had PVEAPIToken=root@pam!netbox=[REDACTED]); node data and its guests' details skipped [node_unreachable]
  error: delivery failed: Diode INVALID_ARGUMENT: entity 1: rejected for client [REDACTED]
echo-fail (pve): failed in T, 4 API requests, 0 warnings
  sent: 0 entities in 0 requests (0 bytes)
  error: collection failed: Proxmox VE at 127.0.0.1:PORT could not be read: GET /version: HTTP 401 authentication failed: PVEAPIToken=root@pam!netbox=[REDACTED] (check PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE)
`);
    expect(out.code).toBe(1);
  });

  it('logs with every secret masked, also where JSON escaped it', () => {
    for (const f of [...forms(PVE_SECRET), ...forms(DIODE_SECRET)]) expect(out.stderr).not.toContain(f);
    const lines = out.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'collector warning')?.reason).toBe(
      "GET /nodes/pve2/status: HTTP 595 no route to host (request had PVEAPIToken=root@pam!netbox=[REDACTED]); node data and its guests' details skipped",
    );
    expect((lines.find((l) => l.msg === 'delivery failed; the next run resends everything')?.err as { message?: string } | undefined)?.message).toBe(
      // The error as pino's serializer writes it: its message, then each cause's.
      'Diode INVALID_ARGUMENT: entity 1: rejected for client [REDACTED]: Diode INVALID_ARGUMENT: entity 1: rejected for client [REDACTED]: 3 INVALID_ARGUMENT: entity 1: rejected for client [REDACTED]',
    );
  });
});

describe('crash reports', () => {
  async function crash(mode: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-crash-'));
    writeFileSync(
      join(dir, 'agent.yaml'),
      'diode:\n  target: grpc://127.0.0.1:1/diode\n  client_id: agent\n  client_secret: ${env:CRASH_SECRET}\npolicies: []\n',
    );
    const env = { PATH: process.env.PATH, CRASH_SECRET: DIODE_SECRET, CRASH_MODE: mode };
    const preload = join(root, 'test/fixtures/crash-after-output.mjs');
    try {
      const r = await exec(process.execPath, ['--import', preload, join(root, 'bin/diode-agent.js'), 'validate', '-c', join(dir, 'agent.yaml')], { env });
      return { code: 0, ...r };
    } catch (err) {
      return err as { code: number; stdout: string; stderr: string };
    }
  }

  it.each([
    ['throw', 'uncaught exception'],
    ['reject', 'unhandled rejection'],
  ])('%s: the uncaught exception handler masks secrets in the trace, its properties and causes', async (mode, what) => {
    const r = await crash(mode);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/agent\.yaml: OK \(0 policies: \)\n$/);
    for (const f of forms(DIODE_SECRET)) expect(r.stderr).not.toContain(f);
    expect(r.stderr).toMatch(new RegExp(`^diode-agent: ${what}: Error: boom with \\[REDACTED\\]\n {4}at `));
    expect(r.stderr).toContain("  { input: '[REDACTED]' }\n");
    expect(r.stderr).toMatch(/\ncaused by: Error: inner \[REDACTED\]\n {4}at /);
  });
});
