import { afterEach, describe, expect, it } from 'vitest';
import { type HttpStatusError, HttpTarget } from '../../http/client.ts';
import { startFakePve, type PveScenario } from './fake.ts';
import { startFakeHttps, TEST_CERT_FINGERPRINT, type FakeServer } from '../../../test/fakes/https-server.ts';
import {
  getAgentNetworkInterfaces,
  getAgentOsInfo,
  getClusterResources,
  getClusterStatus,
  getLxcConfig,
  getNodeNetwork,
  getNodes,
  getNodeStatus,
  getQemuConfig,
  getVersion,
} from './client.ts';
import { pveAuthorizationHeader as authorizationHeader, pveTargetRequest } from '../proxmox-config.ts';
import { pveConfigSchema } from './config.ts';
import { ApiResponseError, type ApiSession, namedPrivilege } from '../../http/proxmox.ts';

let server: FakeServer | undefined;
const targets: HttpTarget[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close()));
  await server?.close();
  server = undefined;
});

const TOKEN = { tokenId: 'root@pam!netbox', secret: '5f8e9a3c-1111-2222-3333-444455556666' };

function api(url: string, authorization: string | null = authorizationHeader('root@pam', 'netbox', TOKEN.secret)): ApiSession & { dropped: unknown[] } {
  const target = new HttpTarget({
    baseUrl: `${url}/api2/json`,
    ...(authorization !== null && { headers: { authorization } }),
    tls: { verify: false },
    timeoutMs: 2000,
    concurrency: 4,
    backoffBaseMs: 1,
    backoffMaxMs: 2,
  });
  targets.push(target);
  const dropped: unknown[] = [];
  return { target, onDrop: (path, index, why) => dropped.push({ path, index, why }), dropped };
}

const scenario: PveScenario = {
  cluster: 'lab',
  nodes: [
    { name: 'pve1', maxcpu: 16, maxmem: 68719476736, network: [{ iface: 'vmbr0', type: 'bridge', cidr: '10.0.0.1/24', 'vlan-id': null }] },
    { name: 'pve2', down: true },
  ],
  guests: [
    {
      resource: { id: 'qemu/100', type: 'qemu', vmid: 100, name: 'web', node: 'pve1', status: 'running', template: 0 },
      config: { name: 'web', agent: '1', net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0' },
      agent: {
        kind: 'ok',
        osinfo: { id: 'ubuntu', name: 'Ubuntu', 'version-id': '24.04' },
        interfaces: [
          { name: 'eth0', 'hardware-address': 'bc:24:11:00:00:01', 'ip-addresses': [{ 'ip-address': '10.0.0.10', 'ip-address-type': 'ipv4', prefix: 24 }] },
        ],
      },
    },
    { resource: { id: 'qemu/101', type: 'qemu', vmid: 101, name: 'db', node: 'pve1', status: 'running', template: 0 }, config: { agent: 1 } },
    { resource: { id: 'qemu/102', type: 'qemu', vmid: 102, name: 'off', node: 'pve1', status: 'stopped', template: 0 }, config: { agent: 1 } },
    { resource: { id: 'qemu/103', type: 'qemu', vmid: 103, name: 'noagent', node: 'pve1', status: 'running', template: 0 }, config: {} },
    {
      resource: { id: 'qemu/104', type: 'qemu', vmid: 104, name: 'audit', node: 'pve1', status: 'running', template: 0 },
      config: { agent: 1 },
      agent: { kind: 'forbidden' },
    },
    {
      resource: { id: 'lxc/200', type: 'lxc', vmid: 200, name: 'ct', node: 'pve1', status: 'running', template: 0 },
      config: { hostname: 'ct', ostype: 'debian' },
    },
  ],
  extraResources: [{ id: 'storage/pve1/local', type: 'storage', storage: 'local', node: 'pve1', status: 'available' }],
};

describe('pveTargetRequest', () => {
  it('builds the base URL, token header, TLS and timeout from the config', () => {
    const c = pveConfigSchema.parse({
      PROXMOX_HOST: 'fd00::10',
      PROXMOX_TOKEN_NAME: 'netbox',
      PROXMOX_TOKEN_VALUE: 's3cret',
      PROXMOX_API_TIMEOUT: 12,
      PROXMOX_API_MAX_RESPONSE_BYTES: '12345',
      PROXMOX_FINGERPRINT: TEST_CERT_FINGERPRINT,
      PROXMOX_CA_FILE: '/etc/pve-root-ca.pem',
      PROXMOX_USER: 'netbox@pve',
    });
    expect(pveTargetRequest(c)).toEqual({
      baseUrl: 'https://[fd00::10]:8006/api2/json',
      headers: { authorization: 'PVEAPIToken=netbox@pve!netbox=s3cret' },
      tls: { verify: false, caFile: '/etc/pve-root-ca.pem', fingerprint: TEST_CERT_FINGERPRINT },
      timeoutMs: 12000,
      maxResponseBytes: 12_345,
      settings: {
        timeout: 'PROXMOX_API_TIMEOUT',
        maxResponseBytes: 'PROXMOX_API_MAX_RESPONSE_BYTES',
        verify: 'PROXMOX_SSL_VERIFY',
        caFile: 'PROXMOX_CA_FILE',
        fingerprint: 'PROXMOX_FINGERPRINT',
      },
    });
  });
});

describe('namedPrivilege', () => {
  it('reads the path and privileges of PVE\'s "Permission check failed (…)", check_any\'s alternatives too', () => {
    expect(namedPrivilege('Permission check failed (/nodes/pve1, Sys.Audit)')).toBe('Sys.Audit on /nodes/pve1');
    expect(namedPrivilege('Permission check failed (/, Sys.Audit|Datastore.Audit)')).toBe('Sys.Audit or Datastore.Audit on /');
    expect(namedPrivilege('Permission check failed')).toBeUndefined();
    expect(namedPrivilege('Permission check failed (user != root@pam)')).toBeUndefined();
  });
});

describe('PVE client against the fake', () => {
  it('calls each endpoint at its path with the token header and unwraps data', async () => {
    server = await startFakePve(scenario, TOKEN);
    const a = api(server.url);
    expect(await getVersion(a)).toEqual({ version: '8.4.1', release: '8.4' });
    expect(await getClusterStatus(a)).toEqual([
      { type: 'cluster', name: 'lab' },
      { type: 'node', name: 'pve1' },
      { type: 'node', name: 'pve2' },
    ]);
    expect(await getNodes(a)).toEqual([
      { node: 'pve1', status: 'online', maxcpu: 16, maxmem: 68719476736 },
      { node: 'pve2', status: 'online', maxcpu: 8, maxmem: 34359738368 },
    ]);
    expect((await getClusterResources(a)).map((r) => `${r.type}/${r.vmid}`)).toEqual(['qemu/100', 'qemu/101', 'qemu/102', 'qemu/103', 'qemu/104', 'lxc/200']);
    expect(await getNodeStatus(a, 'pve1')).toEqual({ pveversion: 'pve-manager/8.4.1/2a2fa54b8503f96c' });
    expect(await getNodeNetwork(a, 'pve1')).toEqual([{ iface: 'vmbr0', type: 'bridge', cidr: '10.0.0.1/24' }]);
    expect(a.dropped).toEqual([]);
    expect(await getQemuConfig(a, 'pve1', 100)).toEqual({ name: 'web', agent: '1', net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0' });
    expect(await getLxcConfig(a, 'pve1', 200)).toEqual({ hostname: 'ct', ostype: 'debian' });
    expect(await getAgentOsInfo(a, 'pve1', 100)).toEqual({ id: 'ubuntu', name: 'Ubuntu', versionId: '24.04' });
    expect(await getAgentNetworkInterfaces(a, 'pve1', 100)).toEqual([
      { name: 'eth0', mac: 'bc:24:11:00:00:01', addresses: [{ address: '10.0.0.10', family: 'ipv4', prefix: 24 }] },
    ]);
    expect(server.requests.map((r) => `${r.path}${r.query.size ? `?${r.query}` : ''}`)).toEqual([
      '/api2/json/version',
      '/api2/json/cluster/status',
      '/api2/json/nodes',
      '/api2/json/cluster/resources?type=vm',
      '/api2/json/nodes/pve1/status',
      '/api2/json/nodes/pve1/network',
      '/api2/json/nodes/pve1/qemu/100/config',
      '/api2/json/nodes/pve1/lxc/200/config',
      '/api2/json/nodes/pve1/qemu/100/agent/get-osinfo',
      '/api2/json/nodes/pve1/qemu/100/agent/network-get-interfaces',
    ]);
    expect(new Set(server.requests.map((r) => r.headers.authorization))).toEqual(new Set([`PVEAPIToken=root@pam!netbox=${TOKEN.secret}`]));
  });

  it('answers 401 "No ticket" without a token and "Authentication failed!" with a wrong one', async () => {
    server = await startFakePve(scenario, TOKEN);
    await expect(getVersion(api(server.url, null))).rejects.toMatchObject({ status: 401, reason: 'No ticket' });
    await expect(getVersion(api(server.url, authorizationHeader('root@pam', 'netbox', 'wrong')))).rejects.toMatchObject({
      status: 401,
      reason: 'Authentication failed!',
    });
    await expect(getVersion(api(server.url, `PVEAPIToken root@pam!netbox=${TOKEN.secret}`))).resolves.toEqual({ version: '8.4.1', release: '8.4' });
    expect(server.requests).toHaveLength(3);
  });

  it('surfaces the guest agent errors and the 595 of a down node with their status-line reasons', async () => {
    server = await startFakePve({ ...scenario, errorMessageInBody: false }, TOKEN);
    const a = api(server.url);
    const reasons = await Promise.all(
      [
        getAgentOsInfo(a, 'pve1', 101),
        getAgentOsInfo(a, 'pve1', 102),
        getAgentOsInfo(a, 'pve1', 103),
        getAgentOsInfo(a, 'pve1', 104),
        getNodeStatus(a, 'pve2'),
        getQemuConfig(a, 'pve1', 999),
        getNodeStatus(a, 'pve9'),
      ].map((p) =>
        p.then(
          () => 'ok',
          (e: HttpStatusError) => `${e.status} ${e.reason}`,
        ),
      ),
    );
    expect(reasons).toEqual([
      '500 QEMU guest agent is not running',
      '500 VM 102 is not running',
      '500 No QEMU guest agent configured',
      '403 Permission check failed (/vms/104, VM.GuestAgent.Audit)',
      '595 No route to host',
      "500 Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist",
      "500 hostname lookup 'pve9' failed - failed to get address info for: pve9: Name or service not known",
    ]);
  });

  it('reads the reason from the body message of newer PVE too', async () => {
    server = await startFakePve(scenario, TOKEN);
    await expect(getAgentOsInfo(api(server.url), 'pve1', 101)).rejects.toMatchObject({ status: 500, reason: 'QEMU guest agent is not running' });
    expect(server.requests).toHaveLength(1);
  });

  it('returns every row of /cluster/resources without a type filter, as PVE does', async () => {
    server = await startFakePve(scenario, TOKEN);
    const a = api(server.url);
    const body = (await a.target.getJson('/cluster/resources')) as { data: Array<{ type: string }> };
    expect(body.data.map((r) => r.type)).toEqual(['qemu', 'qemu', 'qemu', 'qemu', 'qemu', 'lxc', 'node', 'node', 'storage']);
  });

  it('drops a bad list item through onDrop and rejects a body of the wrong shape', async () => {
    server = await startFakeHttps((req) =>
      req.path.endsWith('/nodes')
        ? { status: 200, body: { data: [{ node: 'pve1', status: 'online' }, { status: 'online' }] } }
        : { status: 200, body: { data: ['not', 'an', 'object'] } },
    );
    const a = api(server.url);
    expect(await getNodes(a)).toEqual([{ node: 'pve1', status: 'online' }]);
    expect(a.dropped).toEqual([{ path: '/nodes', index: 1, why: 'node: Invalid input: expected string, received undefined' }]);
    const err = await getNodeStatus(a, 'pve1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiResponseError);
    expect((err as Error).message).toBe('GET /nodes/pve1/status: unexpected response: data: Invalid input: expected object, received array');
  });
});
