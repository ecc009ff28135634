import { afterEach, describe, expect, it } from 'vitest';
import { startFakeHttps, TEST_CERT_FINGERPRINT, type FakeServer } from '../../../test/fakes/https-server.ts';
import { groupSnapshots, startFakePbs, type PbsScenario } from './fake.ts';
import { testCollectContext, type TestCollectContext } from '../../../test/helpers/collect-context.ts';
import { authorizationHeader, isUnreachable, pbsTargetRequest } from './client.ts';
import { collectPbs, compareIds, summarizeGroups } from './collect.ts';
import { pbsConfigSchema, type PbsConfig } from './config.ts';
import { HttpConnectError, HttpStatusError } from '../../http/client.ts';
import type { SnapshotItem } from './schema.ts';
import { ApiUnreachableError } from '../../http/proxmox.ts';

const TOKEN = { tokenId: 'netbox@pbs!discovery', secret: 'b7c1d2e3-0000-4000-8000-000000000042' };

let server: FakeServer | undefined;
let ctx: TestCollectContext<PbsConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

function config(port: number, extra: Record<string, unknown> = {}): PbsConfig {
  return pbsConfigSchema.parse({ PBS_HOST: '127.0.0.1', PBS_PORT: port, PBS_TOKEN_ID: TOKEN.tokenId, PBS_TOKEN_SECRET: TOKEN.secret, ...extra });
}

async function run(scenario: PbsScenario, extra: Record<string, unknown> = {}) {
  server = await startFakePbs(scenario, TOKEN);
  ctx = testCollectContext(config(server.port, extra));
  const snapshot = await collectPbs(ctx);
  return { snapshot, warnings: ctx.warnings, requests: server.requests.map((r) => `${r.path}${r.query.size ? `?${r.query.toString()}` : ''}`).sort() };
}

const T = 1_736_121_600;

const small: PbsScenario = {
  version: { version: '3.4', release: '1', repoid: 'x' },
  network: [
    { name: 'vmbr0', type: 'bridge', method: 'static', cidr: '192.0.2.10/24', autostart: true, active: true },
    { type: 'eth', method: 'manual' },
  ],
  datastores: [
    {
      name: 'store1',
      path: '/mnt/datastore/store1',
      total: 100,
      used: 40,
      avail: 60,
      gc: { schedule: 'daily', 'last-run-state': 'OK', 'last-run-endtime': T },
      namespaces: [
        { ns: '', snapshots: [...groupSnapshots('vm', '100', { count: 2, last: T, owner: 'root@pam' }), { 'backup-type': 'vm', 'backup-time': T }] },
        { ns: 'a/b', snapshots: groupSnapshots('ct', '200', { count: 1, last: T, size: 10 }) },
      ],
    },
  ],
  jobs: { verify: [{ id: 'v1', store: 'store1', 'last-run-state': 'OK', 'last-run-endtime': T }], prune: [], sync: [], tape: [] },
};

describe('collectPbs', () => {
  it('makes exactly these requests, each with the PBSAPIToken header', async () => {
    const { requests } = await run(small);
    expect(requests).toEqual([
      '/api2/json/admin/datastore/store1/namespace',
      '/api2/json/admin/datastore/store1/snapshots',
      '/api2/json/admin/datastore/store1/snapshots?ns=a%2Fb',
      '/api2/json/admin/gc',
      '/api2/json/admin/prune',
      '/api2/json/admin/sync?sync-direction=all',
      '/api2/json/admin/verify',
      '/api2/json/config/datastore',
      '/api2/json/nodes/localhost/network',
      '/api2/json/nodes/localhost/status',
      '/api2/json/status/datastore-usage',
      '/api2/json/tape/backup',
      '/api2/json/version',
    ]);
    expect(new Set(server?.requests.map((r) => r.headers.authorization))).toEqual(
      new Set(['PBSAPIToken=netbox@pbs!discovery:b7c1d2e3-0000-4000-8000-000000000042']),
    );
  });

  it('reads the snapshot and drops bad items with a warning each', async () => {
    const { snapshot, warnings } = await run(small);
    expect(snapshot).toEqual({
      version: '3.4',
      release: '1',
      fingerprint: TEST_CERT_FINGERPRINT,
      network: [{ iface: 'vmbr0', type: 'bridge', method: 'static', cidr: '192.0.2.10/24' }],
      datastores: [
        {
          name: 'store1',
          path: '/mnt/datastore/store1',
          totalBytes: 100,
          usedBytes: 40,
          availBytes: 60,
          mountStatus: 'nonremovable',
          groups: [
            { namespace: '', type: 'vm', id: '100', count: 2, lastBackupTime: T, owner: 'root@pam', protectedCount: 0 },
            { namespace: 'a/b', type: 'ct', id: '200', count: 1, lastBackupTime: T, lastSizeBytes: 1535, protectedCount: 0 },
          ],
        },
      ],
      jobs: [
        { type: 'gc', id: 'store1', store: 'store1', schedule: 'daily', disabled: false, lastRunState: 'OK', lastRunEndtime: T },
        { type: 'verify', id: 'v1', store: 'store1', disabled: false, lastRunState: 'OK', lastRunEndtime: T },
      ],
    });
    expect(warnings).toEqual([
      { code: 'pbs_item_invalid', subject: 'GET /nodes/localhost/network item 1', message: 'item dropped: name: no interface name' },
      {
        code: 'pbs_item_invalid',
        subject: 'GET /admin/datastore/store1/snapshots item 2',
        message: 'item dropped: backup-id: Invalid input: expected string, received undefined',
      },
    ]);
  });

  it('asks /admin/sync again without sync-direction on a PBS before push sync', async () => {
    const { snapshot, requests, warnings } = await run({
      ...small,
      legacySync: true,
      jobs: { sync: [{ id: 's1', store: 'store1', remote: 'r', 'remote-store': 'x', 'last-run-state': 'WARNINGS: 2' }] },
    });
    expect(requests.filter((r) => r.includes('/admin/sync'))).toEqual(['/api2/json/admin/sync', '/api2/json/admin/sync?sync-direction=all']);
    expect(snapshot.jobs.filter((j) => j.type === 'sync')).toEqual([{ type: 'sync', id: 's1', store: 'store1', disabled: false, lastRunState: 'WARNINGS: 2' }]);
    expect(warnings.filter((w) => w.code !== 'pbs_item_invalid')).toEqual([]);
  });

  it('reads only the root namespace when the namespace list fails, and warns', async () => {
    const { snapshot, warnings } = await run({
      ...small,
      failures: { '/admin/datastore/store1/namespace': { status: 500, message: 'unable to open chunk store' } },
    });
    expect(snapshot.datastores[0]?.groups?.map((g) => `${g.namespace}:${g.type}/${g.id}`)).toEqual([':vm/100']);
    expect(warnings.filter((w) => w.code !== 'pbs_item_invalid')).toEqual([
      {
        code: 'pbs_namespaces_unreadable',
        subject: 'datastore store1',
        message: 'GET /admin/datastore/store1/namespace: HTTP 500 unable to open chunk store; only the root namespace is read',
      },
    ]);
  });

  it('names the privilege the endpoint needs on a 403 (PBS names none), with what is left out', async () => {
    const denied = { status: 403, message: 'permission check failed' };
    const { snapshot, warnings } = await run({
      ...small,
      failures: { '/admin/datastore/store1/namespace': denied, '/nodes/localhost/network': denied, '/tape/backup': denied },
    });
    expect(snapshot.datastores[0]?.groups?.map((g) => `${g.namespace}:${g.type}/${g.id}`)).toEqual([':vm/100']);
    expect(warnings.filter((w) => w.code !== 'pbs_item_invalid')).toEqual([
      {
        code: 'pbs_permission_denied',
        subject: 'node localhost',
        message:
          'GET /nodes/localhost/network: HTTP 403 permission check failed; the token lacks Sys.Audit on /system/network/interfaces; no interfaces or IP addresses',
      },
      {
        code: 'pbs_permission_denied',
        subject: 'tape backup jobs',
        message: 'GET /tape/backup: HTTP 403 permission check failed; the token lacks Tape.Audit on /tape/job; no tape jobs reported',
      },
      {
        code: 'pbs_permission_denied',
        subject: 'datastore store1',
        message:
          'GET /admin/datastore/store1/namespace: HTTP 403 permission check failed; the token lacks Datastore.Audit on /datastore/store1; only the root namespace is read',
      },
    ]);
  });

  it('leaves groups out when no namespace of a store can be read', async () => {
    const { snapshot } = await run({ ...small, failures: { '/admin/datastore/store1/snapshots': { status: 500, message: 'boom' } } });
    expect(snapshot.datastores[0]).not.toHaveProperty('groups');
  });

  it('lists stores from /config/datastore when datastore-usage fails', async () => {
    const { snapshot, warnings } = await run({ ...small, failures: { '/status/datastore-usage': { status: 500, message: 'unable to read rrd' } } });
    expect(snapshot.datastores.map((d) => [d.name, d.path, d.totalBytes])).toEqual([['store1', '/mnt/datastore/store1', undefined]]);
    expect(warnings.filter((w) => w.code === 'pbs_datastores_unreadable')).toEqual([
      {
        code: 'pbs_datastores_unreadable',
        subject: 'datastores',
        message: 'GET /status/datastore-usage: HTTP 500 unable to read rrd; datastores without usage',
      },
    ]);
  });

  it('costs only that list when a 200 answer is not JSON (an HTML page, truncated JSON)', async () => {
    const { snapshot, warnings } = await run({
      ...small,
      rawBodies: { '/nodes/localhost/network': '<html><body>Bad Gateway</body></html>', '/admin/datastore/store1/namespace': '{"data":[{"ns":"a' },
    });
    expect(warnings.filter((w) => w.code !== 'pbs_item_invalid')).toEqual([
      {
        code: 'pbs_network_unreadable',
        subject: 'node localhost',
        message:
          'GET /nodes/localhost/network: unexpected response: not JSON (Unexpected token \'<\', "<html><bod"... is not valid JSON); no interfaces or IP addresses',
      },
      {
        code: 'pbs_namespaces_unreadable',
        subject: 'datastore store1',
        message:
          'GET /admin/datastore/store1/namespace: unexpected response: not JSON (Unterminated string in JSON at position 17 (line 1 column 18)); only the root namespace is read',
      },
    ]);
    expect(snapshot.network).toBeUndefined();
    expect(snapshot.datastores[0]?.groups?.map((g) => `${g.namespace}:${g.type}/${g.id}`)).toEqual([':vm/100']);
  });

  it('costs only that list when its answer is past PBS_API_MAX_RESPONSE_BYTES', async () => {
    const { snapshot, warnings } = await run(
      { ...small, rawBodies: { '/admin/verify': `${JSON.stringify({ data: [] })}${' '.repeat(5000)}` } },
      { PBS_API_MAX_RESPONSE_BYTES: 4096 },
    );
    expect(warnings.filter((w) => w.code !== 'pbs_item_invalid')).toEqual([
      {
        code: 'pbs_jobs_unreadable',
        subject: 'verify jobs',
        message: 'GET /admin/verify: unexpected response: larger than 4096 bytes (PBS_API_MAX_RESPONSE_BYTES); not read; verify jobs are left out of pbs_jobs',
      },
    ]);
    expect(snapshot.jobs.map((j) => `${j.type}/${j.id}`)).toEqual(['gc/store1']);
  });

  it('fails the run when /version is not JSON', async () => {
    server = await startFakePbs({ ...small, rawBodies: { '/version': '<html></html>' } }, TOKEN);
    ctx = testCollectContext(config(server.port));
    const err = await collectPbs(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox Backup Server at 127.0.0.1:${server.port} could not be read: GET /version: unexpected response: not JSON (Unexpected token '<', "<html></html>" is not valid JSON)`,
    );
    expect(ctx.warnings).toEqual([]);
  });

  it('fails the run when the server cannot be reached (gateway errors outlive the retries): nothing to map, no warning', async () => {
    server = await startFakeHttps(() => ({ status: 503, body: 'service unavailable' }));
    ctx = testCollectContext(config(server.port));
    const err = await collectPbs(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox Backup Server at 127.0.0.1:${server.port} could not be read: GET /version: HTTP 503 service unavailable (check PBS_HOST and PBS_PORT; nothing was sent, so NetBox keeps the server as it was)`,
    );
    expect(server.requests).toHaveLength(5);
    expect(ctx.warnings).toEqual([]);
  });

  it('fails the run on a bad token, naming the parameters', async () => {
    server = await startFakePbs(small, { ...TOKEN, secret: 'other' });
    ctx = testCollectContext(config(server.port));
    const err = await collectPbs(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox Backup Server at 127.0.0.1:${server.port} could not be read: GET /version: HTTP 401 authentication failed - invalid token (check PBS_TOKEN_ID and PBS_TOKEN_SECRET)`,
    );
  });

  it('fails the run when the certificate does not verify, naming the settings, instead of calling the server unreachable', async () => {
    server = await startFakePbs(small, TOKEN);
    ctx = testCollectContext(config(server.port, { PBS_SSL_VERIFY: true }));
    const err = await collectPbs(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox Backup Server at 127.0.0.1:${server.port} could not be read: GET /version: TLS: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); set PBS_CA_FILE to the CA that signed it, or pin the certificate with PBS_FINGERPRINT and set PBS_SSL_VERIFY: false`,
    );
    expect(ctx.warnings).toEqual([]);
  });

  it('fails the run when the certificate does not match the pin, instead of calling the server unreachable', async () => {
    server = await startFakePbs(small, TOKEN);
    ctx = testCollectContext(config(server.port, { PBS_FINGERPRINT: TEST_CERT_FINGERPRINT.replace(/^47/, '48') }));
    const err = await collectPbs(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect(ctx.warnings).toEqual([]);
    expect(server.requests).toEqual([]);
  });
});

describe('helpers', () => {
  it('builds the target: PBSAPIToken with a colon, bracketed IPv6, timeout in ms', () => {
    expect(authorizationHeader('a@pbs!t', 's')).toBe('PBSAPIToken=a@pbs!t:s');
    const t = pbsTargetRequest(
      pbsConfigSchema.parse({ PBS_HOST: 'fd00::5', PBS_TOKEN_ID: 'a@pbs!t', PBS_TOKEN_SECRET: 's', PBS_FINGERPRINT: TEST_CERT_FINGERPRINT }),
    );
    expect(t).toEqual({
      baseUrl: 'https://[fd00::5]:8007/api2/json',
      headers: { authorization: 'PBSAPIToken=a@pbs!t:s' },
      tls: { verify: false, caFile: undefined, fingerprint: TEST_CERT_FINGERPRINT },
      timeoutMs: 30_000,
      maxResponseBytes: 67_108_864,
      settings: {
        timeout: 'PBS_API_TIMEOUT',
        maxResponseBytes: 'PBS_API_MAX_RESPONSE_BYTES',
        verify: 'PBS_SSL_VERIFY',
        caFile: 'PBS_CA_FILE',
        fingerprint: 'PBS_FINGERPRINT',
      },
    });
  });

  it('calls connection failures and gateway errors unreachable, not a pin mismatch or a 500', () => {
    expect(isUnreachable(new HttpConnectError('GET', '/version', 'ECONNREFUSED', 'refused'))).toBe(true);
    expect(isUnreachable(new HttpConnectError('GET', '/version', 'TIMEOUT', 'timed out'))).toBe(true);
    expect(isUnreachable(new HttpConnectError('GET', '/version', 'TLS_PIN', 'pin'))).toBe(false);
    expect(isUnreachable(new HttpConnectError('GET', '/version', 'TLS_VERIFY', 'TLS: unable to verify the first certificate'))).toBe(false);
    expect(isUnreachable(new HttpStatusError('GET', '/version', 504, 'gateway'))).toBe(true);
    expect(isUnreachable(new HttpStatusError('GET', '/version', 500, 'error'))).toBe(false);
    expect(isUnreachable(new Error('x'))).toBe(false);
  });

  it('orders backup ids like PBS: numbers numerically and before names', () => {
    expect(['web', '1000', '100', '99', 'db'].sort(compareIds)).toEqual(['99', '100', '1000', 'db', 'web']);
  });

  it('summarizes a group by its newest snapshot, in any input order', () => {
    const snap = (time: number, extra: Partial<SnapshotItem> = {}): SnapshotItem => ({
      'backup-type': 'vm',
      'backup-id': '100',
      'backup-time': time,
      ...extra,
    });
    expect(
      summarizeGroups('prod', [
        snap(3, { size: 30, verification: { state: 'failed' }, comment: 'newest' }),
        snap(1, { protected: true, owner: 'root@pam' }),
        snap(2, { protected: true, verification: { state: 'ok' } }),
        { 'backup-type': 'ct', 'backup-id': '9', 'backup-time': 5 },
      ]),
    ).toEqual([
      { namespace: 'prod', type: 'ct', id: '9', count: 1, lastBackupTime: 5, protectedCount: 0 },
      {
        namespace: 'prod',
        type: 'vm',
        id: '100',
        count: 3,
        lastBackupTime: 3,
        lastSizeBytes: 30,
        owner: 'root@pam',
        protectedCount: 2,
        lastVerification: 'failed',
        comment: 'newest',
      },
    ]);
  });
});

describe('pbsConfigSchema', () => {
  it('applies the issue defaults', () => {
    expect(pbsConfigSchema.parse({ PBS_HOST: 'pbs1', PBS_TOKEN_ID: 'root@pam!netbox', PBS_TOKEN_SECRET: 's' })).toEqual({
      PBS_HOST: 'pbs1',
      PBS_PORT: 8007,
      PBS_TOKEN_ID: 'root@pam!netbox',
      PBS_TOKEN_SECRET: 's',
      PBS_SSL_VERIFY: false,
      PBS_API_TIMEOUT: 30,
      PBS_API_MAX_RESPONSE_BYTES: 67_108_864,
      SITE_NAME: 'Proxmox',
    });
  });

  it('rejects a token id without a token name, a bad fingerprint and unknown keys', () => {
    const r = pbsConfigSchema.safeParse({ PBS_HOST: 'pbs1', PBS_TOKEN_ID: 'root@pam', PBS_TOKEN_SECRET: 's', PBS_FINGERPRINT: 'AA:BB', PBS_PASSWORD: 'x' });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['PBS_TOKEN_ID', 'expected user@realm!tokenname, e.g. root@pam!netbox'],
      ['PBS_FINGERPRINT', 'expected a SHA-256 fingerprint: 32 colon-separated hex bytes, as the dashboard shows it'],
      ['', 'Unrecognized key: "PBS_PASSWORD"'],
    ]);
  });
});
