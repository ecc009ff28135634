import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactSecrets } from '../../log.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpStatusError, HttpTarget } from '../../http/client.ts';
import { FAKE_DASHBOARD_USER, dashboardScenarioFromSpec, makeCephSpec, startFakeCephDashboard, type CephDashboardScenario } from './fake.ts';
import type { FakeServer } from '../../../test/fakes/https-server.ts';
import { CephAuthError, CephDashboardClient, cephAbsence, cephMime, versionAfter415 } from './client.ts';

describe('cephAbsence', () => {
  it("recognises PVE's not-installed and not-initialised 500s, old and new wording", () => {
    const e = (status: number, reason: string) => new HttpStatusError('GET', '/cluster/ceph/status', status, reason);
    expect(cephAbsence(e(500, 'binary not installed: /usr/bin/ceph-mon'))).toEqual({
      reason: 'not_installed',
      message: 'binary not installed: /usr/bin/ceph-mon',
    });
    expect(cephAbsence(e(500, 'ceph binaries not installed'))).toEqual({ reason: 'not_installed', message: 'ceph binaries not installed' });
    expect(cephAbsence(e(500, "pveceph configuration not initialized - missing '/etc/pve/ceph.conf'"))?.reason).toBe('not_initialized');
    expect(cephAbsence(e(500, 'pveceph configuration not enabled'))?.reason).toBe('not_initialized');
  });
  it('leaves real failures alone', () => {
    expect(cephAbsence(new HttpStatusError('GET', '/x', 500, 'rados_connect failed - Connection timed out'))).toBeUndefined();
    expect(cephAbsence(new HttpStatusError('GET', '/x', 403, 'Permission check failed (/, Sys.Audit)'))).toBeUndefined();
    expect(cephAbsence(new Error('binary not installed'))).toBeUndefined();
  });
});

describe('versionAfter415', () => {
  it("takes the endpoint version from the dashboard's message", () => {
    expect(versionAfter415("Incorrect version: endpoint is '1.0', client requested '1.1'", '1.1')).toBe('1.0');
    expect(versionAfter415("Incorrect version: endpoint is '2.0', client requested '1.0'", '1.0')).toBe('2.0');
  });
  it("falls back to the same major's .0 when the reason has no version, and gives up after that", () => {
    expect(versionAfter415('Unsupported Media Type', '1.3')).toBe('1.0');
    expect(versionAfter415('Unsupported Media Type', '2.0')).toBeUndefined();
    expect(versionAfter415("Incorrect version: endpoint is '1.1', client requested '1.1'", '1.1')).toBeUndefined();
  });
  it('builds the media type', () => expect(cephMime('1.3')).toBe('application/vnd.ceph.api.v1.3+json'));
});

let server: FakeServer | undefined;
const targets: HttpTarget[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close()));
  await server?.close();
  server = undefined;
});

async function dashboard(
  scenario: Partial<CephDashboardScenario>,
  auth: ConstructorParameters<typeof CephDashboardClient>[1] = { user: FAKE_DASHBOARD_USER.user, password: FAKE_DASHBOARD_USER.password },
) {
  const spec = makeCephSpec({ nodes: ['ceph1', 'ceph2', 'ceph3', 'ceph4'], osdsPerNode: 6 });
  server = await startFakeCephDashboard(dashboardScenarioFromSpec(spec, scenario));
  const t = new HttpTarget({ baseUrl: server.url, tls: { verify: false }, timeoutMs: 2000, concurrency: 4, backoffBaseMs: 1, backoffMaxMs: 5 });
  targets.push(t);
  return new CephDashboardClient(t, auth);
}

const lines = () =>
  (server?.requests ?? []).map(
    (r) =>
      `${r.method} ${r.path}${r.query.size ? `?${decodeURIComponent(r.query.toString())}` : ''} ${String(r.headers.accept)} ${String(r.headers.authorization ?? '-').replace(/^Bearer .*fake-signature-(\d+)$/, 'Bearer #$1')}`,
  );

describe('CephDashboardClient', () => {
  it('logs in once, then sends the bearer token and the endpoint version', async () => {
    const c = await dashboard({});
    await Promise.all([c.get('/api/summary', '1.0'), c.get('/api/monitor', '1.0')]);
    const ls = lines();
    expect(ls[0]).toBe('POST /api/auth application/vnd.ceph.api.v1.0+json -');
    expect(ls.slice(1).sort()).toEqual([
      'GET /api/monitor application/vnd.ceph.api.v1.0+json Bearer #1',
      'GET /api/summary application/vnd.ceph.api.v1.0+json Bearer #1',
    ]);
    expect(JSON.parse(server?.requests[0]?.body ?? '')).toEqual({ username: FAKE_DASHBOARD_USER.user, password: FAKE_DASHBOARD_USER.password });
    // The JWT the dashboard handed out is a credential: scrubbed from every output from now on.
    const jwt = /^Bearer (.*)$/.exec(String(server?.requests[1]?.headers.authorization))?.[1] ?? '';
    expect(jwt).toMatch(/fake-signature/);
    expect(redactSecrets(`echoed ${jwt} back`)).toBe('echoed [REDACTED] back');
  });

  it("retries a 415 once with the endpoint's version and remembers it for the next call", async () => {
    const c = await dashboard({ versions: { '/api/host': '1.2' } });
    await c.get('/api/host', '1.3');
    await c.get('/api/host', '1.3');
    expect(lines()).toEqual([
      'POST /api/auth application/vnd.ceph.api.v1.0+json -',
      'GET /api/host application/vnd.ceph.api.v1.3+json Bearer #1',
      'GET /api/host application/vnd.ceph.api.v1.2+json Bearer #1',
      'GET /api/host application/vnd.ceph.api.v1.2+json Bearer #1',
    ]);
  });

  it('follows the version the 415 names, across majors (crush_rule is 1.0 before Reef)', async () => {
    const c = await dashboard({ versions: { '/api/crush_rule': '1.0' } });
    await c.get('/api/crush_rule', '2.0');
    expect(lines().slice(1)).toEqual([
      'GET /api/crush_rule application/vnd.ceph.api.v2.0+json Bearer #1',
      'GET /api/crush_rule application/vnd.ceph.api.v1.0+json Bearer #1',
    ]);
  });

  it('logs in again once on 401 (expired JWT) and retries the call', async () => {
    const c = await dashboard({ firstTokenUses: 1 });
    await c.get('/api/summary', '1.0');
    await c.get('/api/monitor', '1.0');
    expect(lines()).toEqual([
      'POST /api/auth application/vnd.ceph.api.v1.0+json -',
      'GET /api/summary application/vnd.ceph.api.v1.0+json Bearer #1',
      'GET /api/monitor application/vnd.ceph.api.v1.0+json Bearer #1',
      'POST /api/auth application/vnd.ceph.api.v1.0+json -',
      'GET /api/monitor application/vnd.ceph.api.v1.0+json Bearer #2',
    ]);
  });

  it('re-logs in once for many concurrent 401s', async () => {
    const c = await dashboard({ firstTokenUses: 0 });
    await Promise.all(['/api/summary', '/api/monitor', '/api/pool', '/api/cephfs'].map((p) => c.get(p, '1.0')));
    expect(lines().filter((l) => l.startsWith('POST'))).toHaveLength(2);
    expect(lines().filter((l) => l.endsWith('Bearer #2'))).toHaveLength(4);
  });

  it('reports a refused login without the password', async () => {
    const c = await dashboard({}, { user: 'netbox-ro', password: 'wrong-password' });
    const err = await c.get('/api/summary', '1.0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CephAuthError);
    expect((err as Error).message).toBe('dashboard login as netbox-ro failed: HTTP 400 Invalid credentials');
    expect((err as Error).message).not.toContain('wrong-password');
  });

  it('uses a token from CEPH_TOKEN_FILE, and logs in when the dashboard rejects it', async () => {
    const c = await dashboard({});
    await c.get('/api/summary', '1.0');
    const token = /^Bearer (.*)$/.exec(String(server?.requests[1]?.headers.authorization))?.[1] ?? '';
    const dir = mkdtempSync(join(tmpdir(), 'ceph-token-'));
    writeFileSync(join(dir, 'good'), `${token}\n`);
    writeFileSync(join(dir, 'bad'), 'expired.jwt.token\n');
    const t = server ? new HttpTarget({ baseUrl: server.url, tls: { verify: false }, timeoutMs: 2000, concurrency: 2 }) : undefined;
    if (!t) throw new Error('no server');
    targets.push(t);
    server?.requests.splice(0);
    await new CephDashboardClient(t, { tokenFile: join(dir, 'good') }).get('/api/monitor', '1.0');
    await new CephDashboardClient(t, { tokenFile: join(dir, 'bad'), user: FAKE_DASHBOARD_USER.user, password: FAKE_DASHBOARD_USER.password }).get(
      '/api/monitor',
      '1.0',
    );
    expect(lines()).toEqual([
      'GET /api/monitor application/vnd.ceph.api.v1.0+json Bearer #1',
      'GET /api/monitor application/vnd.ceph.api.v1.0+json Bearer expired.jwt.token',
      'POST /api/auth application/vnd.ceph.api.v1.0+json -',
      'GET /api/monitor application/vnd.ceph.api.v1.0+json Bearer #2',
    ]);
    await expect(new CephDashboardClient(t, { tokenFile: join(dir, 'bad') }).get('/api/monitor', '1.0')).rejects.toThrow(
      `the dashboard rejected the token in ${join(dir, 'bad')} and no CEPH_USER/CEPH_PASSWORD is set to log in`,
    );
  });

  it('reads every OSD with limit=-1 (the default page is 10)', async () => {
    const c = await dashboard({});
    expect(await c.listAll('/api/osd', '1.1')).toHaveLength(24);
    expect(lines().slice(1)).toEqual(['GET /api/osd?limit=-1 application/vnd.ceph.api.v1.1+json Bearer #1']);
  });

  it('pages with offset/limit when the server ignores limit=-1 (X-Total-Count)', async () => {
    const c = await dashboard({ ignoreLimitAll: true });
    const osds = (await c.listAll('/api/osd', '1.1')) as Array<{ osd: number }>;
    expect(osds.map((o) => o.osd)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(lines().slice(1)).toEqual([
      'GET /api/osd?limit=-1 application/vnd.ceph.api.v1.1+json Bearer #1',
      'GET /api/osd?offset=10&limit=10 application/vnd.ceph.api.v1.1+json Bearer #1',
      'GET /api/osd?offset=20&limit=10 application/vnd.ceph.api.v1.1+json Bearer #1',
    ]);
  });
});
