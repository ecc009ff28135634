import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CEPH_NOT_INSTALLED,
  DEMO_CEPH_SPEC,
  FAKE_DASHBOARD_USER,
  dashboardScenarioFromSpec,
  pveScenarioFromSpec,
  startFakeCephDashboard,
} from '../collectors/ceph/fake.ts';
import { startFakePve, FAKE_PVE_TOKEN, NODE_DOWN, startFakePveRoutes } from '../collectors/pve/fake.ts';
import type { FakeServer } from '../../test/fakes/https-server.ts';
import { policyYaml, preflight, received } from '../../test/helpers/preflight.ts';
import type { ProbeResult } from './types.ts';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('Ceph preflight (PVE source)', () => {
  const config = (port: number) => ({
    CEPH_SOURCE: 'pve',
    PROXMOX_HOST: '127.0.0.1',
    PROXMOX_PORT: port,
    PROXMOX_USER: FAKE_PVE_TOKEN.user,
    PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName,
    PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret,
  });
  const ALL_OK: ProbeResult[] = [
    { endpoint: 'GET /cluster/ceph/status', ok: true, message: 'OK' },
    { endpoint: 'GET /cluster/ceph/flags', ok: true, message: 'OK' },
    { endpoint: 'GET /nodes', ok: true, message: 'OK' },
    { endpoint: 'GET /nodes/pve1/ceph/osd', ok: true, message: 'OSD tree read' },
    ...['pool', 'fs', 'rules', 'mon', 'mgr'].map((r) => ({ endpoint: `GET /nodes/pve1/ceph/${r}`, ok: true, message: 'OK' })),
  ];

  it('calls each endpoint once and reports each OK', async () => {
    server = await startFakePveRoutes(pveScenarioFromSpec(DEMO_CEPH_SPEC, { acl: { user: { '/': ['Datastore.Audit'] } } }));
    const report = await preflight([policyYaml('ceph', 'ceph', config(server.port))]);
    expect(report.policies[0]).toEqual({ policy: 'ceph', collector: 'ceph', target: `https://127.0.0.1:${server.port}/api2/json`, ok: true, results: ALL_OK });
    expect(received(server)).toEqual(ALL_OK.map((r) => r.endpoint));
  });

  it('a token with neither Sys.Audit nor Datastore.Audit: PVE names both, the node calls are not made', async () => {
    server = await startFakePveRoutes(pveScenarioFromSpec(DEMO_CEPH_SPEC, { acl: { user: { '/': ['VM.Audit'] } } }));
    const report = await preflight([policyYaml('ceph', 'ceph', config(server.port))]);
    const hint =
      'grant it (PVEAuditor on / has both); a privilege-separated token (privsep=1) needs it on the token itself: pveum acl modify / --tokens root@pam!netbox --roles PVEAuditor';
    const denied = (endpoint: string): ProbeResult => ({
      endpoint,
      ok: false,
      status: 403,
      privilege: 'Sys.Audit or Datastore.Audit on /',
      message: `HTTP 403 Permission check failed (/, Sys.Audit|Datastore.Audit): the token lacks Sys.Audit or Datastore.Audit on /; ${hint}`,
    });
    expect(report.policies[0]!.results).toEqual([
      denied('GET /cluster/ceph/status'),
      denied('GET /cluster/ceph/flags'),
      ALL_OK[2],
      denied('GET /nodes/pve1/ceph/osd'),
      ...['pool', 'fs', 'rules', 'mon', 'mgr'].map((r) => ({
        endpoint: `GET /nodes/pve1/ceph/${r}`,
        ok: false,
        skipped: true,
        message: 'not called: GET /nodes/pve1/ceph/osd failed',
      })),
    ]);
    expect(report.ok).toBe(false);
  });

  it('Ceph not installed passes (the check came first) and stops there; a down node gives way to the next', async () => {
    server = await startFakePveRoutes(pveScenarioFromSpec(DEMO_CEPH_SPEC, { errors: { '/cluster/ceph/status': CEPH_NOT_INSTALLED } }));
    const report = await preflight([policyYaml('ceph', 'ceph', config(server.port))]);
    expect(report.policies[0]!.results).toEqual([
      {
        endpoint: 'GET /cluster/ceph/status',
        ok: true,
        status: 500,
        message: 'Ceph is not installed on this cluster (HTTP 500 binary not installed: /usr/bin/ceph-mon); the policy reports it absent',
      },
      ...['GET /cluster/ceph/flags', 'GET /nodes', 'GET /nodes/{node}/ceph/osd'].map((endpoint) => ({
        endpoint,
        ok: false,
        skipped: true,
        message: 'not called: Ceph is not installed on this cluster, the collector stops there',
      })),
    ]);
    expect(report.ok).toBe(true);
    await server.close();

    server = await startFakePveRoutes(pveScenarioFromSpec(DEMO_CEPH_SPEC, { errors: { '/nodes/pve1/ceph/osd': NODE_DOWN } }));
    const down = await preflight([policyYaml('ceph', 'ceph', config(server.port))]);
    expect(down.policies[0]!.results.slice(3)).toEqual([
      {
        endpoint: 'GET /nodes/pve2/ceph/osd',
        ok: true,
        message: 'OSD tree read; nodes that could not answer first: pve1 (GET /nodes/pve1/ceph/osd: HTTP 595 No route to host)',
      },
      ...['pool', 'fs', 'rules', 'mon', 'mgr'].map((r) => ({ endpoint: `GET /nodes/pve2/ceph/${r}`, ok: true, message: 'OK' })),
    ]);
  });
});

describe('Ceph preflight (dashboard source)', () => {
  const config = (port: number, password: string = FAKE_DASHBOARD_USER.password) => ({
    CEPH_SOURCE: 'dashboard',
    CEPH_URL: `https://127.0.0.1:${port}`,
    CEPH_USER: FAKE_DASHBOARD_USER.user,
    CEPH_PASSWORD: password,
  });
  const paths = [
    '/api/health/minimal',
    '/api/health/get_cluster_fsid',
    '/api/summary',
    '/api/osd',
    '/api/osd/flags',
    '/api/pool',
    '/api/host',
    '/api/crush_rule',
    '/api/cephfs',
    '/api/monitor',
  ];

  it('logs in, calls each endpoint once, and names the role scope a 403 is about', async () => {
    server = await startFakeCephDashboard(dashboardScenarioFromSpec(DEMO_CEPH_SPEC, { errors: { '/api/osd': { status: 403, detail: 'Access denied' } } }));
    const report = await preflight([policyYaml('ceph', 'ceph', config(server.port))]);
    expect(report.policies[0]!.results).toEqual([
      { endpoint: 'POST /api/auth', ok: true, message: 'logged in as netbox-ro' },
      ...paths.map(
        (p): ProbeResult =>
          p === '/api/osd'
            ? {
                endpoint: 'GET /api/osd',
                ok: false,
                status: 403,
                privilege: 'read on the osd scope',
                message:
                  "HTTP 403 Access denied: the token lacks read on the osd scope; give the dashboard user's role read on osd: ceph dashboard ac-role-add-scope-perms <role> osd read",
              }
            : { endpoint: `GET ${p}`, ok: true, message: 'OK' },
      ),
    ]);
    expect(received(server).map((r) => r.replace(/\?.*$/, ''))).toEqual(['POST /api/auth', ...paths.map((p) => `GET ${p}`)]);
  });

  it('a refused login fails the login and nothing else is called', async () => {
    server = await startFakeCephDashboard(dashboardScenarioFromSpec(DEMO_CEPH_SPEC));
    const report = await preflight([policyYaml('ceph', 'ceph', config(server.port, 'wrong-password'))]);
    expect(report.policies[0]!.results).toEqual([
      {
        endpoint: 'POST /api/auth',
        ok: false,
        message: 'dashboard login as netbox-ro failed: HTTP 400 Invalid credentials; check CEPH_USER and CEPH_PASSWORD',
      },
      ...paths.map((p) => ({ endpoint: `GET ${p}`, ok: false, skipped: true, message: 'not called: POST /api/auth failed' })),
    ]);
    expect(received(server)).toEqual(['POST /api/auth']);
  });
});

describe('Packer preflight', () => {
  const manifest = new URL('../../test/fixtures/packer/multi-run/packer-manifest.json', import.meta.url).pathname;
  const definitions = [{ name: 'Ubuntu 24.04', builder_type: 'proxmox-iso', iso_url: 'https://releases.ubuntu.com/noble.iso', target_cluster: 'lab' }];

  it('checks every file the policy names; a missing one fails, a glob without match is only noted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'packer-pf-'));
    const log = join(dir, 'build.log');
    writeFileSync(log, '');
    const report = await preflight([
      policyYaml('images', 'packer', {
        PACKER_DEFINITIONS: definitions,
        PACKER_MANIFESTS: [manifest, join(dir, 'missing.json')],
        PACKER_LOGS: [log, join(dir, 'none-*.log')],
      }),
    ]);
    expect(report.policies[0]).toEqual({
      policy: 'images',
      collector: 'packer',
      ok: false,
      results: [
        { endpoint: `manifest ${manifest}`, ok: true, message: 'readable' },
        { endpoint: `manifest ${join(dir, 'missing.json')}`, ok: false, message: 'file not found; the run fails on it' },
        {
          endpoint: `log ${join(dir, 'none-*.log')}`,
          ok: false,
          skipped: true,
          message: `no file matches yet (relative to ${process.cwd()}); runs warn packer_glob_empty until one does`,
        },
        { endpoint: `log ${log}`, ok: true, message: 'readable' },
        { endpoint: 'GET /cluster/resources?type=vm', ok: false, skipped: true, message: 'no PROXMOX_HOST: template names come from the build records' },
      ],
    });
  });

  it('the template lookup: a token without VM.Audit finds no guest and is told so', async () => {
    const token = { tokenId: 'root@pam!packer', secret: 'pf-packer-secret-0004' };
    server = await startFakePve(
      {
        nodes: [{ name: 'pve1' }],
        guests: [{ resource: { id: 'qemu/9000', type: 'qemu', vmid: 9000, name: 'ubuntu-2404', node: 'pve1', status: 'stopped', template: 1 } }],
        acl: { user: { '/': ['Sys.Audit'] } },
      },
      token,
    );
    const report = await preflight([
      policyYaml('images', 'packer', {
        PACKER_DEFINITIONS: definitions,
        PACKER_MANIFESTS: [manifest],
        PROXMOX_HOST: '127.0.0.1',
        PROXMOX_PORT: server.port,
        PROXMOX_TOKEN_NAME: 'packer',
        PROXMOX_TOKEN_VALUE: token.secret,
      }),
    ]);
    expect(report.policies[0]!.results[1]).toEqual({
      endpoint: 'GET /cluster/resources?type=vm',
      ok: false,
      privilege: 'VM.Audit on /vms',
      message:
        'no guest visible: PVE lists only the guests the token has VM.Audit on (/vms/{vmid}), so the token likely lacks VM.Audit on /vms and no template would be found',
    });
    await server.close();
    server = await startFakePve(
      {
        nodes: [{ name: 'pve1' }],
        guests: [{ resource: { id: 'qemu/9000', type: 'qemu', vmid: 9000, name: 'ubuntu-2404', node: 'pve1', status: 'stopped', template: 1 } }],
      },
      token,
    );
    const ok = await preflight([
      policyYaml('images', 'packer', {
        PACKER_DEFINITIONS: definitions,
        PACKER_MANIFESTS: [manifest],
        PROXMOX_HOST: '127.0.0.1',
        PROXMOX_PORT: server.port,
        PROXMOX_TOKEN_NAME: 'packer',
        PROXMOX_TOKEN_VALUE: token.secret,
      }),
    ]);
    expect(ok.policies[0]!.results[1]).toEqual({ endpoint: 'GET /cluster/resources?type=vm', ok: true, message: '1 guest visible, 1 template' });
    expect(ok.ok).toBe(true);
  });
});
