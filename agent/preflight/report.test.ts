import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from '../../test/fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from '../../test/fakes/https-server.ts';
import { startFakePve } from '../collectors/pve/fake.ts';
import { freePort } from '../../test/helpers/agent-harness.ts';
import { diodeYaml, policyYaml, preflight, writeAgent } from '../../test/helpers/preflight.ts';
import { formatPreflight, validateLive } from './index.ts';
import type { PreflightReport } from './types.ts';

let ingester: FakeDiodeIngester;
let server: FakeServer | undefined;
beforeEach(async () => {
  ingester = await new FakeDiodeIngester().start();
});
afterEach(async () => {
  await ingester.stop();
  await server?.close();
  server = undefined;
});

const tokenUrl = () => `http://127.0.0.1:${ingester.port}/diode/auth/token`;

describe('the Diode token request', () => {
  it('OK: a token was issued, with the credential of agent.yaml', async () => {
    const report = await preflight([], diodeYaml(ingester));
    expect(report).toEqual({
      ok: true,
      policies: [],
      diode: { endpoint: `POST ${tokenUrl()}`, ok: true, status: 200, message: 'a token was issued (scope diode:ingest)' },
    });
    expect(ingester.tokenRequests).toEqual([
      { grant_type: 'client_credentials', client_id: ingester.opts.clientId, client_secret: ingester.opts.clientSecret, scope: 'diode:ingest' },
    ]);
  });

  it('a wrong client secret: 401 and which settings to check', async () => {
    const report = await preflight([], diodeYaml(ingester, { clientSecret: 'not-the-secret' }));
    expect(report.diode).toEqual({
      endpoint: `POST ${tokenUrl()}`,
      ok: false,
      status: 401,
      message: 'HTTP 401: the client credential was refused; check diode.client_id and diode.client_secret (NetBox: Diode → Client Credentials)',
    });
    expect(report.ok).toBe(false);
  });

  it('a target without the Diode path prefix: 404 and what the path should be', async () => {
    const target = `grpc://127.0.0.1:${ingester.port}`;
    const report = await preflight([], diodeYaml(ingester, { target }));
    expect(report.diode).toEqual({
      endpoint: `POST http://127.0.0.1:${ingester.port}/auth/token`,
      ok: false,
      status: 404,
      message: `HTTP 404: nothing answers token requests at this URL; the path of diode.target ("${target}") must be Diode's prefix, e.g. grpcs://netbox.example.com/diode`,
    });
  });

  it('nothing listening', async () => {
    const port = await freePort();
    const report = await preflight([], diodeYaml(ingester, { target: `grpc://127.0.0.1:${port}/diode` }));
    expect(report.diode).toEqual({
      endpoint: `POST http://127.0.0.1:${port}/diode/auth/token`,
      ok: false,
      message: 'no answer (ECONNREFUSED); check diode.target and the route to it, and for grpcs:// diode.ca_file or diode.skip_tls_verify',
    });
  });
});

describe('formatPreflight', () => {
  it('one line per endpoint, a summary, and no secret even when an upstream echoes one', async () => {
    const secret = 'echoed-secret-9f31';
    // A proxy in front of PVE that quotes the Authorization header it refused.
    server = await startFakeHttps((req) => ({ status: 502, statusText: `Bad Gateway (upstream refused ${String(req.headers.authorization)})`, body: '' }));
    const report = await preflight(
      [policyYaml('lab', 'pve', { PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server.port, PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: secret })],
      diodeYaml(ingester),
    );
    const text = formatPreflight(report);
    expect(text).not.toContain(secret);
    expect(JSON.stringify(report)).not.toContain(secret);
    const bad = 'HTTP 502 Bad Gateway (upstream refused PVEAPIToken=root@pam!netbox=[REDACTED])';
    expect(text.split('\n')).toEqual([
      `lab (pve, https://127.0.0.1:${server.port}/api2/json)`,
      `  FAIL  GET /version: ${bad}`,
      `  FAIL  GET /cluster/status: ${bad}`,
      `  FAIL  GET /cluster/resources?type=vm: ${bad}`,
      `  FAIL  GET /nodes: ${bad}`,
      '  skip  GET /nodes/{node}/status: not called: GET /nodes failed',
      '  skip  GET /nodes/{node}/network: not called: GET /nodes failed',
      '  skip  GET /nodes/{node}/qemu/{vmid}/config: not called: GET /cluster/resources?type=vm failed',
      '  skip  GET /nodes/{node}/lxc/{vmid}/config: not called: GET /cluster/resources?type=vm failed',
      '  skip  GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces: not called: GET /cluster/resources?type=vm failed: VM.Monitor (PVE 8) or VM.GuestAgent.Audit (PVE 9) is not checked',
      '  skip  GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo: not called: GET /cluster/resources?type=vm failed: VM.Monitor (PVE 8) or VM.GuestAgent.Audit (PVE 9) is not checked',
      'diode',
      `  ok    POST ${tokenUrl()}: a token was issued (scope diode:ingest)`,
      'preflight failed: 4 of 5 checks, 6 not called: lab: GET /version, lab: GET /cluster/status, lab: GET /cluster/resources?type=vm, lab: GET /nodes',
    ]);
  });

  it('a report that passed', () => {
    const report: PreflightReport = {
      ok: true,
      policies: [
        {
          policy: 'p',
          collector: 'pve',
          ok: true,
          results: [{ endpoint: 'API', ok: false, skipped: true, message: 'BOOTSTRAP is true: the policy makes no API call' }],
        },
      ],
      diode: { endpoint: 'POST http://d/diode/auth/token', ok: true, status: 200, message: 'a token was issued (scope diode:ingest)' },
    };
    expect(formatPreflight(report)).toBe(
      [
        'p (pve)',
        '  skip  API: BOOTSTRAP is true: the policy makes no API call',
        'diode',
        '  ok    POST http://d/diode/auth/token: a token was issued (scope diode:ingest)',
        'preflight passed: 1 check, 1 not called',
      ].join('\n'),
    );
  });
});

describe('validateLive (what `diode-agent validate --live` runs)', () => {
  const TOKEN = { tokenId: 'root@pam!netbox', secret: 'vl-pve-secret-0005' };

  it('exit code 0 when everything answers, 1 when a probe fails, with the text to print', async () => {
    server = await startFakePve(
      {
        nodes: [{ name: 'pve1' }],
        guests: [
          {
            resource: { id: 'qemu/100', type: 'qemu', vmid: 100, name: 'vm100', node: 'pve1', status: 'running', template: 0 },
            config: { agent: 1 },
            agent: { kind: 'ok' },
          },
        ],
      },
      TOKEN,
    );
    const pol = (name: string, secret: string) =>
      policyYaml(name, 'pve', { PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server!.port, PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: secret });
    const { file } = writeAgent([pol('good', TOKEN.secret), pol('bad', 'wrong-secret-0006')], diodeYaml(ingester));

    const good = await validateLive(file, {}, { policies: ['good'] });
    expect(good.code).toBe(0);
    expect(good.text.split('\n').slice(-1)).toEqual(['preflight passed: 10 checks, 1 not called']);
    expect(good.report?.policies.map((p) => p.policy)).toEqual(['good']);

    const both = await validateLive(file, {});
    expect(both.code).toBe(1);
    expect(both.report?.policies.map((p) => [p.policy, p.ok])).toEqual([
      ['good', true],
      ['bad', false],
    ]);
    expect(both.text).toContain(
      '  FAIL  GET /version: HTTP 401 Authentication failed!: the credential was refused; check PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE',
    );
    expect(both.text).not.toContain('wrong-secret-0006');
  });

  it('a policy that does not load, or an unknown --policy, fails the command with its problem', async () => {
    const { dir, file } = writeAgent([], diodeYaml(ingester));
    writeFileSync(join(dir, 'policies', 'broken.yaml'), 'name: broken\ncollector: pve\nconfig: { PROXMOX_HOST: 127.0.0.1 }\n');
    const r = await validateLive(file, {}, { policies: ['nope'] });
    expect(r.code).toBe(1);
    expect(r.text.split('\n')).toEqual([
      `${join(dir, 'policies', 'broken.yaml')}:3:9: config.PROXMOX_TOKEN_NAME: PROXMOX_TOKEN_NAME is required unless BOOTSTRAP is true`,
      `${join(dir, 'policies', 'broken.yaml')}:3:9: config.PROXMOX_TOKEN_VALUE: PROXMOX_TOKEN_VALUE is required unless BOOTSTRAP is true`,
      'no such policy: nope',
      'diode',
      `  ok    POST ${tokenUrl()}: a token was issued (scope diode:ingest)`,
      'preflight passed: 1 check',
    ]);
  });

  it('an invalid agent.yaml: its problems, exit 1, nothing probed', async () => {
    const { file } = writeAgent([], 'diode: { target: "http://nope" }');
    const r = await validateLive(file, {});
    expect(r).toEqual({
      code: 1,
      text: [
        `${file}:2:8: diode.client_id: is required unless dry_run is true`,
        `${file}:2:8: diode.client_secret: is required unless dry_run is true`,
        `${file}:2:18: diode.target: must be grpc://host[:port][/path] or grpcs://host[:port][/path]`,
      ].join('\n'),
    });
    expect(ingester.tokenRequests).toEqual([]);
  });
});
