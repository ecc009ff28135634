import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_PVE_TOKEN, NODE_DOWN, startFakePveRoutes } from '../pve/fake.ts';
import { FAKE_DASHBOARD_USER, dashboardScenarioFromSpec, makeCephSpec, pveScenarioFromSpec, startFakeCephDashboard } from './fake.ts';
import type { FakeServer } from '../../../test/fakes/https-server.ts';
import { testCollectContext, type TestCollectContext } from '../../../test/helpers/collect-context.ts';
import { clusterVersion, collectCeph, operationalFlags, parseCephVersion, parsePorts, summarizeCrushRule } from './collect.ts';
import { cephConfigSchema, type CephConfig } from './config.ts';

describe('parsePorts', () => {
  it('reads the messenger address formats', () => {
    expect(parsePorts(['10.0.0.1:6789/0'])).toEqual([6789]);
    expect(parsePorts(['[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]'])).toEqual([3300, 6789]);
    expect(parsePorts(['[2001:db8::1]:6789/0', '192.168.105.90:3300', undefined])).toEqual([3300, 6789]);
    expect(parsePorts(['10.0.0.1', '', 'host:99999/0'])).toEqual([]);
  });
});

describe('parseCephVersion / clusterVersion', () => {
  it("parses the dashboard's version banner", () => {
    expect(parseCephVersion('ceph version 18.2.4 (e7ad5345525c7aa95470c26863873b581076945d) reef (stable)')).toEqual({ version: '18.2.4', release: 'reef' });
    expect(parseCephVersion('ceph version 19.2.0-1 (abc) squid (stable)')).toEqual({ version: '19.2.0-1', release: 'squid' });
    expect(parseCephVersion('garbage')).toEqual({});
    expect(parseCephVersion(undefined)).toEqual({});
  });
  it('names the release when the daemons agree, lists versions mid-upgrade', () => {
    expect(clusterVersion(['18.2.4', '18.2.4'], 'reef')).toBe('18.2.4 (reef)');
    expect(clusterVersion(['18.2.4', '18.2.2', undefined], 'reef')).toBe('18.2.2, 18.2.4');
    expect(clusterVersion([], 'reef')).toBe('reef');
    expect(clusterVersion([undefined], undefined)).toBeUndefined();
  });
});

describe('summarizeCrushRule', () => {
  it('keeps id, name, type, root, device class and failure domain', () => {
    expect(
      summarizeCrushRule({
        rule_id: 3,
        rule_name: 'ec-hdd',
        type: 3,
        steps: [
          { op: 'set_chooseleaf_tries', num: 5 },
          { op: 'take', item: -2, item_name: 'default~hdd' },
          { op: 'chooseleaf_indep', num: 0, type: 'host' },
          { op: 'emit' },
        ],
      }),
    ).toEqual({ id: 3, name: 'ec-hdd', type: 'erasure', root: 'default', deviceClass: 'hdd', failureDomain: 'host' });
    expect(summarizeCrushRule({ rule_name: 'odd', type: 'replicated', steps: [] })).toEqual({ name: 'odd', type: 'replicated' });
  });
});

describe('operationalFlags', () => {
  it('drops release-feature flags and folds pauserd+pausewr', () => {
    expect(operationalFlags(['sortbitwise', 'pausewr', 'noout', 'pauserd', 'recovery_deletes', 'pglog_hardlimit', 'purged_snapdirs'])).toEqual([
      'noout',
      'pause',
    ]);
    expect(operationalFlags(['pauserd'])).toEqual(['pauserd']);
  });
});

let server: FakeServer | undefined;
let ctx: TestCollectContext<CephConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

const pveConfig = (port: number) =>
  cephConfigSchema.parse({
    CEPH_SOURCE: 'pve',
    PROXMOX_HOST: '127.0.0.1',
    PROXMOX_PORT: port,
    PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName,
    PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret,
  });

describe('collectCeph (pve)', () => {
  const spec = makeCephSpec({ nodes: ['pve1', 'pve2'], osdsPerNode: 1 });

  it('fails the run when the cluster status itself fails for another reason', async () => {
    server = await startFakePveRoutes(
      pveScenarioFromSpec(spec, { errors: { '/cluster/ceph/status': { status: 403, reason: 'Permission check failed (/, Sys.Audit)' } } }),
    );
    ctx = testCollectContext(pveConfig(server.port));
    await expect(collectCeph(ctx)).rejects.toThrow('GET /cluster/ceph/status: HTTP 403 Permission check failed (/, Sys.Audit)');
  });

  it('keeps the cluster when no node answers the per-node calls', async () => {
    server = await startFakePveRoutes(
      pveScenarioFromSpec(spec, {
        errors: { '/nodes/pve1/ceph/osd': NODE_DOWN, '/nodes/pve2/ceph/osd': { status: 500, reason: 'binary not installed: /usr/bin/ceph-osd' } },
      }),
    );
    ctx = testCollectContext(pveConfig(server.port));
    const snap = await collectCeph(ctx);
    expect(snap.present && [snap.osds, snap.daemons, snap.pools, snap.hosts, snap.fsid]).toEqual([[], [], [], [], spec.fsid]);
    expect(ctx.warnings).toEqual([
      { code: 'ceph_node_unavailable', subject: 'node pve1', message: 'GET /nodes/pve1/ceph/osd: HTTP 595 No route to host; asking the next node' },
      {
        code: 'ceph_node_unavailable',
        subject: 'node pve2',
        message: 'GET /nodes/pve2/ceph/osd: HTTP 500 binary not installed: /usr/bin/ceph-osd; asking the next node',
      },
      {
        code: 'ceph_section_unavailable',
        subject: 'per-node Ceph calls',
        message: 'no node answered GET /nodes/{node}/ceph/osd; OSDs, pools, file systems, rules and daemons are left out',
      },
    ]);
  });

  it('asks the next node when an OSD tree is not JSON, and loses only the section whose answer is not', async () => {
    server = await startFakePveRoutes(
      pveScenarioFromSpec(spec, { rawBodies: { '/nodes/pve1/ceph/osd': '<html><body>Bad Gateway</body></html>', '/nodes/pve2/ceph/pool': '[{"data":' } }),
    );
    ctx = testCollectContext(pveConfig(server.port));
    const snap = await collectCeph(ctx);
    expect(snap.present && [snap.osds.map((o) => o.name), snap.pools, snap.filesystems.length]).toEqual([['osd.0', 'osd.1'], [], 1]);
    expect(ctx.warnings).toEqual([
      {
        code: 'ceph_node_unavailable',
        subject: 'node pve1',
        message: 'GET /nodes/pve1/ceph/osd: unexpected response: not JSON (Unexpected token \'<\', "<html><bod"... is not valid JSON); asking the next node',
      },
      {
        code: 'ceph_section_unavailable',
        subject: 'GET /nodes/pve2/ceph/pool',
        message: 'GET /nodes/pve2/ceph/pool: unexpected response: not JSON (Unexpected end of JSON input)',
      },
    ]);
  });

  it('names the privilege on a 403: a section costs only itself, the OSD tree stops the per-node calls', async () => {
    server = await startFakePveRoutes(
      pveScenarioFromSpec(spec, { errors: { '/nodes/pve1/ceph/pool': { status: 403, reason: 'Permission check failed (/, Sys.Audit|Datastore.Audit)' } } }),
    );
    ctx = testCollectContext(pveConfig(server.port));
    const snap = await collectCeph(ctx);
    expect(snap.present && [snap.pools, snap.osds.length]).toEqual([[], 2]);
    expect(ctx.warnings).toEqual([
      {
        code: 'ceph_permission_denied',
        subject: 'GET /nodes/pve1/ceph/pool',
        message:
          'GET /nodes/pve1/ceph/pool: HTTP 403 Permission check failed (/, Sys.Audit|Datastore.Audit); the token lacks Sys.Audit or Datastore.Audit on /; no pools',
      },
    ]);
    await ctx.close();
    await server.close();

    server = await startFakePveRoutes(pveScenarioFromSpec(spec, { errors: { '/nodes/pve1/ceph/osd': { status: 403, reason: 'Permission check failed' } } }));
    ctx = testCollectContext(pveConfig(server.port));
    const snap2 = await collectCeph(ctx);
    expect(snap2.present && [snap2.osds, snap2.pools, snap2.fsid]).toEqual([[], [], spec.fsid]);
    expect(ctx.warnings).toEqual([
      {
        code: 'ceph_permission_denied',
        subject: 'GET /nodes/pve1/ceph/osd',
        message:
          'GET /nodes/pve1/ceph/osd: HTTP 403 Permission check failed; the token lacks Sys.Audit or Datastore.Audit on /; OSDs, pools, file systems, rules and daemons are left out',
      },
    ]);
    expect(server.requests.map((r) => r.path).filter((p) => p.startsWith('/api2/json/nodes/pve2/'))).toEqual([]);
  });

  it('drops a malformed pool, health check or OSD with a warning and keeps the rest', async () => {
    const sc = pveScenarioFromSpec(spec);
    const pools = sc.routes['/nodes/pve1/ceph/pool'] as unknown[];
    pools.push({ pool_name: 'no-id' });
    const status = sc.routes['/cluster/ceph/status'] as { health: { checks: Record<string, unknown> } };
    status.health.checks.BROKEN = { severity: 42 };
    const tree = sc.routes['/nodes/pve1/ceph/osd'] as { root: { children: Array<{ children: unknown[] }> } };
    tree.root.children[0]?.children.push({ id: 'x', type: 'osd' });
    server = await startFakePveRoutes(sc);
    ctx = testCollectContext(pveConfig(server.port));
    const snap = await collectCeph(ctx);
    expect(snap.present && [snap.pools.length, snap.osds.map((o) => o.name), snap.healthChecks]).toEqual([4, ['osd.0', 'osd.1'], []]);
    expect(ctx.warnings.map((w) => `${w.code} ${w.subject}`).sort()).toEqual([
      'ceph_item_dropped GET /nodes/pve1/ceph/pool item 4',
      'ceph_item_dropped OSD tree root/default[0]/pve1[1]',
      'ceph_item_dropped health check BROKEN',
    ]);
  });
});

describe('collectCeph (dashboard)', () => {
  const spec = makeCephSpec({ nodes: ['ceph1', 'ceph2', 'ceph3'], osdsPerNode: 1 });
  const dashConfig = () =>
    cephConfigSchema.parse({
      CEPH_SOURCE: 'dashboard',
      CEPH_URL: server?.url,
      CEPH_USER: FAKE_DASHBOARD_USER.user,
      CEPH_PASSWORD: FAKE_DASHBOARD_USER.password,
    });

  it('degrades a section the user may not read (403) to a warning naming the scope', async () => {
    server = await startFakeCephDashboard(dashboardScenarioFromSpec(spec, { errors: { '/api/pool': { status: 403, detail: 'Access denied' } } }));
    ctx = testCollectContext(dashConfig());
    const snap = await collectCeph(ctx);
    expect(snap.present && [snap.pools, snap.osds.length, snap.filesystems]).toEqual([[], 3, [{ name: 'cephfs', metadataPool: '4', dataPools: ['3'] }]]);
    expect(ctx.warnings).toEqual([
      {
        code: 'ceph_permission_denied',
        subject: 'GET /api/pool',
        message: "GET /api/pool: HTTP 403 Access denied; the dashboard user's role lacks read on the pool scope; no pools",
      },
    ]);
  });

  it('degrades a section whose 200 answer is not JSON to a warning', async () => {
    server = await startFakeCephDashboard(dashboardScenarioFromSpec(spec, { rawBodies: { '/api/osd': '<html><body>Bad Gateway</body></html>' } }));
    ctx = testCollectContext(dashConfig());
    const snap = await collectCeph(ctx);
    expect(snap.present && [snap.osds, snap.pools.length]).toEqual([[], 4]);
    expect(ctx.warnings).toEqual([
      {
        code: 'ceph_section_unavailable',
        subject: 'GET /api/osd',
        message: 'GET /api/osd: unexpected response: not JSON (Unexpected token \'<\', "<html><bod"... is not valid JSON)',
      },
    ]);
  });

  it('degrades a section whose answer is past CEPH_API_MAX_RESPONSE_BYTES to a warning', async () => {
    server = await startFakeCephDashboard(
      dashboardScenarioFromSpec(spec, { rawBodies: { '/api/monitor': `{"in_quorum":[],"out_quorum":[]}${' '.repeat(5000)}` } }),
    );
    ctx = testCollectContext(cephConfigSchema.parse({ ...dashConfig(), CEPH_API_MAX_RESPONSE_BYTES: 4096 }));
    const snap = await collectCeph(ctx);
    expect(snap.present && [snap.osds.length, snap.daemons.filter((d) => d.type === 'mon')]).toEqual([3, []]);
    expect(ctx.warnings).toEqual([
      {
        code: 'ceph_section_unavailable',
        subject: 'GET /api/monitor',
        message: 'GET /api/monitor: unexpected response: larger than 4096 bytes (CEPH_API_MAX_RESPONSE_BYTES); not read',
      },
    ]);
  });

  it('fails at once, naming CEPH_CA_FILE and its path, when the CA file is missing', async () => {
    server = await startFakeCephDashboard(dashboardScenarioFromSpec(spec));
    ctx = testCollectContext(cephConfigSchema.parse({ ...dashConfig(), CEPH_SSL_VERIFY: true, CEPH_CA_FILE: '/etc/ceph/nonexistent-ca.pem' }));
    await expect(collectCeph(ctx)).rejects.toThrow('CEPH_CA_FILE "/etc/ceph/nonexistent-ca.pem" cannot be read: no such file or directory (ENOENT)');
    expect(server.requests).toEqual([]);
  });

  it('fails the run when the login is refused', async () => {
    server = await startFakeCephDashboard(dashboardScenarioFromSpec(spec, { users: { other: 'x' } }));
    ctx = testCollectContext(dashConfig());
    await expect(collectCeph(ctx)).rejects.toThrow('dashboard login as netbox-ro failed: HTTP 400 Invalid credentials');
  });
});
