import { afterEach, describe, expect, it } from 'vitest';
import { startFakeHttps, type FakeServer } from '../../../test/fakes/https-server.ts';
import { startFakePdm, type PdmScenario } from './fake.ts';
import { testCollectContext, type TestCollectContext } from '../../../test/helpers/collect-context.ts';
import { authorizationHeader, pdmTargetRequest } from './client.ts';
import { collectPdm, resourceHealth } from './collect.ts';
import { pdmConfigSchema, type PdmConfig } from './config.ts';
import { isSubdirListing, nodeHost } from './schema.ts';
import { ApiUnreachableError } from '../../http/proxmox.ts';

const TOKEN = { tokenId: 'netbox@pdm!discovery', secret: 'e1d2c3b4-0000-4000-8000-000000000007' };

let server: FakeServer | undefined;
let ctx: TestCollectContext<PdmConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

function config(port: number, extra: Record<string, unknown> = {}): PdmConfig {
  return pdmConfigSchema.parse({ PDM_HOST: '127.0.0.1', PDM_PORT: port, PDM_TOKEN_ID: TOKEN.tokenId, PDM_TOKEN_SECRET: TOKEN.secret, ...extra });
}

const requested = (s: FakeServer) => s.requests.map((r) => `${r.path}${r.query.size ? `?${r.query.toString()}` : ''}`).sort();

const scenario: PdmScenario = {
  remotes: [
    {
      type: 'pve',
      id: 'prod',
      authid: 'root@pam!pdm',
      cluster: 'prod-cluster',
      nodes: ['hostname=pve1.lab:8006'],
      pveNodes: [
        { name: 'pve1', online: true },
        { name: 'pve2', online: false },
      ],
    },
    { type: 'pbs', id: 'backup', authid: 'root@pam!pdm', nodes: ['hostname=pbs1.lab'] },
    { type: 'pve', id: 'down', authid: 'root@pam!pdm', nodes: ['hostname=10.0.0.9'], error: 'tcp connect error: Connection refused (os error 111)' },
  ],
};

describe('collectPdm', () => {
  it('reads version, remotes (new path), resources and per-remote calls, with the PDMAPIToken header', async () => {
    server = await startFakePdm(scenario, TOKEN);
    ctx = testCollectContext(config(server.port));
    const snapshot = await collectPdm(ctx);
    expect(requested(server)).toEqual([
      '/api2/json/pbs/remotes/backup/status',
      '/api2/json/pve/remotes/prod/cluster-status',
      '/api2/json/remotes/remote',
      '/api2/json/remotes/remote/backup/version',
      '/api2/json/remotes/remote/prod/version',
      '/api2/json/resources/list',
      '/api2/json/version',
    ]);
    expect(new Set(server.requests.map((r) => r.headers.authorization))).toEqual(new Set([`PDMAPIToken=${TOKEN.tokenId}:${TOKEN.secret}`]));
    expect(snapshot).toEqual({
      version: '1.0',
      release: '2',
      generation: 'new',
      remotes: [
        { id: 'backup', type: 'pbs', hosts: ['pbs1.lab'], health: 'ok', version: '3.4', release: '1' },
        { id: 'down', type: 'pve', hosts: ['10.0.0.9'], health: 'error', error: 'tcp connect error: Connection refused (os error 111)' },
        {
          id: 'prod',
          type: 'pve',
          hosts: ['pve1.lab'],
          health: 'degraded',
          version: '8.4.1',
          release: '8.4',
          clusterStatusRead: true,
          clusterName: 'prod-cluster',
        },
      ],
    });
    expect(ctx.warnings).toEqual([
      { code: 'pdm_remote_error', subject: 'remote down', message: 'PDM reports: tcp connect error: Connection refused (os error 111)' },
    ]);
  });

  it('falls back to /remotes when /remotes/remote is a subdirectory listing (0.x betas)', async () => {
    server = await startFakePdm({ remotes: [scenario.remotes[0]!] }, { ...TOKEN, generation: 'old' });
    ctx = testCollectContext(config(server.port));
    const snapshot = await collectPdm(ctx);
    expect(snapshot.generation).toBe('old');
    expect(snapshot.remotes.map((r) => [r.id, r.clusterName, r.version])).toEqual([['prod', 'prod-cluster', '8.4.1']]);
    expect(requested(server).filter((p) => p.includes('/remotes'))).toEqual([
      '/api2/json/pve/remotes/prod/cluster-status',
      '/api2/json/remotes',
      '/api2/json/remotes/prod/version',
      '/api2/json/remotes/remote',
    ]);
  });

  it('falls back to /remotes on a 404 of /remotes/remote', async () => {
    server = await startFakeHttps((req) => {
      if (req.path === '/api2/json/version') return { status: 200, body: { data: { version: '0.9', release: '1' } } };
      if (req.path === '/api2/json/remotes') return { status: 200, body: { data: [] } };
      if (req.path === '/api2/json/resources/list') return { status: 200, body: { data: [] } };
      return { status: 404, body: `Path '${req.path}' not found.` };
    });
    ctx = testCollectContext(config(server.port));
    expect(await collectPdm(ctx)).toEqual({ version: '0.9', release: '1', generation: 'old', remotes: [] });
  });

  it('warns once per remote whose own calls fail, and maps no cluster without its status', async () => {
    server = await startFakePdm(
      {
        remotes: [scenario.remotes[0]!],
        failures: {
          '/pve/remotes/prod/cluster-status': { status: 500, message: 'error trying to connect: operation timed out' },
          '/remotes/remote/prod/version': { status: 500, message: 'error trying to connect: operation timed out' },
        },
      },
      TOKEN,
    );
    ctx = testCollectContext(config(server.port));
    const snapshot = await collectPdm(ctx);
    expect(snapshot.remotes).toEqual([
      {
        id: 'prod',
        type: 'pve',
        hosts: ['pve1.lab'],
        health: 'error',
        error:
          'GET /remotes/remote/prod/version: HTTP 500 error trying to connect: operation timed out; GET /pve/remotes/prod/cluster-status: HTTP 500 error trying to connect: operation timed out',
      },
    ]);
    expect(ctx.warnings).toEqual([{ code: 'pdm_remote_error', subject: 'remote prod', message: snapshot.remotes[0]?.error }]);
  });

  it('costs only that remote when a 200 answer about it is not JSON', async () => {
    server = await startFakePdm(
      { remotes: scenario.remotes.slice(0, 2), rawBodies: { '/pve/remotes/prod/cluster-status': '<html><body>502 Bad Gateway</body></html>' } },
      TOKEN,
    );
    ctx = testCollectContext(config(server.port));
    const snapshot = await collectPdm(ctx);
    expect(snapshot.remotes).toEqual([
      { id: 'backup', type: 'pbs', hosts: ['pbs1.lab'], health: 'ok', version: '3.4', release: '1' },
      {
        id: 'prod',
        type: 'pve',
        hosts: ['pve1.lab'],
        health: 'error',
        version: '8.4.1',
        release: '8.4',
        error: 'GET /pve/remotes/prod/cluster-status: unexpected response: not JSON (Unexpected token \'<\', "<html><bod"... is not valid JSON)',
      },
    ]);
    expect(ctx.warnings).toEqual([{ code: 'pdm_remote_error', subject: 'remote prod', message: snapshot.remotes[1]?.error }]);
  });

  it('costs only that remote when an answer about it is past PDM_API_MAX_RESPONSE_BYTES', async () => {
    server = await startFakePdm(
      {
        remotes: scenario.remotes.slice(0, 2),
        rawBodies: { '/remotes/remote/backup/version': `${JSON.stringify({ data: { version: '3.4' } })}${' '.repeat(5000)}` },
      },
      TOKEN,
    );
    ctx = testCollectContext(config(server.port, { PDM_API_MAX_RESPONSE_BYTES: 4096 }));
    const snapshot = await collectPdm(ctx);
    expect(snapshot.remotes.map((r) => [r.id, r.health, r.version])).toEqual([
      ['backup', 'error', undefined],
      ['prod', 'degraded', '8.4.1'],
    ]);
    expect(ctx.warnings).toEqual([
      {
        code: 'pdm_remote_error',
        subject: 'remote backup',
        message: 'GET /remotes/remote/backup/version: unexpected response: larger than 4096 bytes (PDM_API_MAX_RESPONSE_BYTES); not read',
      },
    ]);
  });

  it('fails the run when the remote list is not JSON', async () => {
    server = await startFakePdm({ ...scenario, rawBodies: { '/remotes/remote': '{"data":[' } }, TOKEN);
    ctx = testCollectContext(config(server.port));
    const err = await collectPdm(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox Datacenter Manager at 127.0.0.1:${server.port} could not be read: GET /remotes/remote: unexpected response: not JSON (Unexpected end of JSON input)`,
    );
    expect(ctx.warnings).toEqual([]);
  });

  it("names the privilege on a 403 about one remote, and leaves its health to PDM's own view", async () => {
    const denied = { status: 403, message: 'permission check failed' };
    server = await startFakePdm(
      { remotes: scenario.remotes.slice(0, 2), failures: { '/pve/remotes/prod/cluster-status': denied, '/remotes/remote/prod/version': denied } },
      TOKEN,
    );
    ctx = testCollectContext(config(server.port));
    const snapshot = await collectPdm(ctx);
    expect(snapshot.remotes.map((r) => [r.id, r.health, r.version, r.clusterStatusRead, r.error])).toEqual([
      ['backup', 'ok', '3.4', undefined, undefined],
      ['prod', 'degraded', undefined, undefined, undefined],
    ]);
    expect(ctx.warnings).toEqual([
      {
        code: 'pdm_permission_denied',
        subject: 'remote prod',
        message:
          'GET /remotes/remote/prod/version: HTTP 403 permission check failed; GET /pve/remotes/prod/cluster-status: HTTP 403 permission check failed; the token lacks Resource.Audit on /resource/prod; no version for this remote, no cluster name for this remote',
      },
    ]);
  });

  it('goes on without /resources/list, health unknown', async () => {
    server = await startFakePdm(
      { remotes: [scenario.remotes[1]!], failures: { '/resources/list': { status: 403, message: 'permission check failed' } } },
      TOKEN,
    );
    ctx = testCollectContext(config(server.port));
    const snapshot = await collectPdm(ctx);
    expect(snapshot.remotes.map((r) => r.health)).toEqual(['unknown']);
    expect(ctx.warnings).toEqual([
      { code: 'pdm_resources_unreadable', subject: 'resources', message: 'GET /resources/list: HTTP 403 permission check failed; remote health unknown' },
    ]);
  });

  it('skips remotes of other types and drops malformed ones with a warning', async () => {
    server = await startFakeHttps((req) => {
      if (req.path === '/api2/json/version') return { status: 200, body: { data: { version: '1.1', release: '3' } } };
      if (req.path === '/api2/json/remotes/remote')
        return {
          status: 200,
          body: {
            data: [
              { type: 'pmg', id: 'mail', nodes: ['mx1'] },
              { type: 'pve', nodes: [] },
            ],
          },
        };
      if (req.path === '/api2/json/resources/list') return { status: 200, body: { data: [] } };
      return { status: 404, body: 'not found' };
    });
    ctx = testCollectContext(config(server.port));
    expect((await collectPdm(ctx)).remotes).toEqual([]);
    expect(ctx.warnings).toEqual([
      { code: 'pdm_item_invalid', subject: 'GET /remotes/remote item 1', message: 'item dropped: id: Invalid input: expected string, received undefined' },
    ]);
  });

  it('names PDM_CA_FILE, PDM_FINGERPRINT and PDM_SSL_VERIFY when the certificate does not verify', async () => {
    server = await startFakePdm(scenario, TOKEN);
    ctx = testCollectContext(config(server.port, { PDM_SSL_VERIFY: true }));
    const err = await collectPdm(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox Datacenter Manager at 127.0.0.1:${server.port} could not be read: GET /version: TLS: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); set PDM_CA_FILE to the CA that signed it, or pin the certificate with PDM_FINGERPRINT and set PDM_SSL_VERIFY: false`,
    );
  });

  it('fails the run when PDM itself cannot be read', async () => {
    server = await startFakePdm(scenario, { ...TOKEN, secret: 'other' });
    ctx = testCollectContext(config(server.port));
    const err = await collectPdm(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox Datacenter Manager at 127.0.0.1:${server.port} could not be read: GET /version: HTTP 401 authentication failed - invalid token (check PDM_TOKEN_ID and PDM_TOKEN_SECRET)`,
    );
  });
});

describe('helpers', () => {
  it('builds the target with PDMAPIToken and port 8443', () => {
    expect(authorizationHeader('a@pdm!t', 's')).toBe('PDMAPIToken=a@pdm!t:s');
    expect(pdmTargetRequest(pdmConfigSchema.parse({ PDM_HOST: 'pdm', PDM_TOKEN_ID: 'a@pdm!t', PDM_TOKEN_SECRET: 's' }))).toEqual({
      baseUrl: 'https://pdm:8443/api2/json',
      headers: { authorization: 'PDMAPIToken=a@pdm!t:s' },
      tls: { verify: false, caFile: undefined, fingerprint: undefined },
      timeoutMs: 30_000,
      maxResponseBytes: 67_108_864,
      settings: {
        timeout: 'PDM_API_TIMEOUT',
        maxResponseBytes: 'PDM_API_MAX_RESPONSE_BYTES',
        verify: 'PDM_SSL_VERIFY',
        caFile: 'PDM_CA_FILE',
        fingerprint: 'PDM_FINGERPRINT',
      },
    });
  });

  it('reads the host of a node property string', () => {
    expect(nodeHost('hostname=10.0.0.1,fingerprint=AA:BB')).toBe('10.0.0.1');
    expect(nodeHost('fingerprint=AA:BB,hostname=pve1.lab:8006')).toBe('pve1.lab');
    expect(nodeHost('hostname=[fd00::1]:8006')).toBe('fd00::1');
    expect(nodeHost('hostname=fd00::1')).toBe('fd00::1');
    expect(nodeHost('pbs1.lab')).toBe('pbs1.lab');
    expect(nodeHost({ hostname: 'pve2:8006' })).toBe('pve2');
    expect(nodeHost('fingerprint=AA:BB')).toBeUndefined();
  });

  it('tells a subdirectory listing from a remote list', () => {
    expect(isSubdirListing([{ subdir: 'version' }])).toBe(true);
    expect(isSubdirListing([])).toBe(false);
    expect(isSubdirListing([{ type: 'pve', id: 'x', nodes: [] }])).toBe(false);
  });

  it('derives health from the node resources', () => {
    const pveNode = (status: string) => ({ type: 'pve-node', status });
    expect(resourceHealth('pve', undefined)).toBe('unknown');
    expect(resourceHealth('pve', { remote: 'r', error: 'x', resources: [] })).toBe('error');
    expect(resourceHealth('pve', { remote: 'r', resources: [pveNode('online'), pveNode('online')] })).toBe('ok');
    expect(resourceHealth('pve', { remote: 'r', resources: [pveNode('online'), pveNode('offline')] })).toBe('degraded');
    expect(resourceHealth('pve', { remote: 'r', resources: [{ type: 'pve-qemu', status: 'running' }] })).toBe('unknown');
    expect(resourceHealth('pbs', { remote: 'r', resources: [{ type: 'pbs-node', uptime: 10 }] })).toBe('ok');
    expect(resourceHealth('pbs', { remote: 'r', resources: [{ type: 'pbs-node', uptime: 0 }] })).toBe('degraded');
  });
});
