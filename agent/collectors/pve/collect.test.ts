import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { generatePveScenario, pveHandler, startFakePve, type PveScenario } from './fake.ts';
import { mapPve } from './map/index.ts';
import { startFakeHttps, type FakeServer } from '../../../test/fakes/https-server.ts';
import { TlsConfigError } from '../../http/client.ts';
import { testCollectContext, type TestCollectContext } from '../../../test/helpers/collect-context.ts';
import { collectPve, selectGuests, scopeFilter } from './collect.ts';
import { pveConfigSchema, type PveConfig } from './config.ts';
import { ApiUnreachableError } from '../../http/proxmox.ts';

const TOKEN = { tokenId: 'root@pam!netbox', secret: 'b2c1d0e9-0000-4000-8000-000000000001' };
let server: FakeServer | undefined;
let ctx: TestCollectContext<PveConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

function config(port: number, extra: Record<string, unknown> = {}): PveConfig {
  return pveConfigSchema.parse({ PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: port, PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: TOKEN.secret, ...extra });
}

function context(
  port: number,
  opts: { nodes?: string[]; extra?: Record<string, unknown> } = {},
): TestCollectContext<PveConfig> & { progressCalls: Array<[number, number]> } {
  const c = testCollectContext(config(port, opts.extra), { scope: { nodes: opts.nodes ?? ['*'] } });
  const progressCalls: Array<[number, number]> = [];
  c.progress = (d, t) => progressCalls.push([d, t]);
  ctx = c;
  return Object.assign(c, { progressCalls });
}

const paths = (s: FakeServer): string[] => s.requests.map((r) => `${r.path.replace('/api2/json', '')}${r.query.size ? `?${r.query}` : ''}`).sort();

const qemu = (vmid: number, node: string, extra: Record<string, unknown> = {}) => ({
  id: `qemu/${vmid}`,
  type: 'qemu',
  vmid,
  name: `vm${vmid}`,
  node,
  status: 'running',
  template: 0,
  maxcpu: 2,
  maxmem: 4294967296,
  ...extra,
});
const lxc = (vmid: number, node: string, extra: Record<string, unknown> = {}) => ({
  id: `lxc/${vmid}`,
  type: 'lxc',
  vmid,
  name: `ct${vmid}`,
  node,
  status: 'running',
  template: 0,
  maxcpu: 1,
  maxmem: 1073741824,
  ...extra,
});

const base: PveScenario = {
  cluster: 'lab',
  nodes: [
    { name: 'pve1', maxcpu: 16, maxmem: 68719476736, network: [{ iface: 'vmbr0', type: 'bridge', cidr: '10.0.0.1/24', priority: 1 }] },
    { name: 'pve2', pveversion: 'pve-manager/9.0.3/abcdef', network: [] },
  ],
  guests: [
    {
      resource: qemu(100, 'pve1', { tags: 'web;prod', hastate: 'started' }),
      config: {
        agent: 'enabled=1,type=virtio',
        ostype: 'l26',
        onboot: 1,
        description: 'front end',
        net0: 'virtio=BC:24:11:00:01:00,bridge=vmbr0,tag=10',
        scsi0: 'local-lvm:vm-100-disk-0,size=32G',
        ide2: 'none,media=cdrom',
      },
      agent: {
        kind: 'ok',
        osinfo: { id: 'ubuntu', name: 'Ubuntu', 'version-id': '24.04' },
        interfaces: [
          { name: 'ens18', 'hardware-address': 'bc:24:11:00:01:00', 'ip-addresses': [{ 'ip-address': '10.0.0.100', 'ip-address-type': 'ipv4', prefix: 24 }] },
        ],
      },
    },
    { resource: qemu(101, 'pve1', { template: 1 }), config: { agent: 1 } },
    { resource: qemu(102, 'pve2', { name: undefined }), config: {} },
    { resource: qemu(103, 'pve2', { status: 'stopped' }), config: { agent: 1, ostype: 'win11' } },
    {
      resource: lxc(200, 'pve2'),
      config: { ostype: 'debian', net0: 'name=eth0,hwaddr=BC:24:11:00:02:00,ip=10.0.0.200/24,ip6=auto', rootfs: 'local-lvm:vm-200-disk-0,size=8G' },
    },
  ],
  extraResources: [{ id: 'sdn/pve1/localnetwork', type: 'sdn', sdn: 'localnetwork', node: 'pve1', status: 'ok' }],
};

describe('selectGuests and scopeFilter', () => {
  it('keeps qemu/lxc with vmid, name and node in scope, by vmid', () => {
    const rows = [
      { type: 'lxc', vmid: 5, name: 'b', node: 'n1' },
      { type: 'qemu', vmid: 3, name: 'a', node: 'n1' },
      { type: 'qemu', vmid: 4, name: 'x', node: 'n1', template: true },
      { type: 'qemu', vmid: 6, node: 'n1' },
      { type: 'openvz', vmid: 7, name: 'o', node: 'n1' },
      { type: 'qemu', vmid: 8, name: 'c', node: 'n2' },
      { type: 'storage', node: 'n1' },
    ];
    expect(selectGuests(rows, scopeFilter(['n1']))).toEqual({
      guests: [
        { type: 'qemu', vmid: 3, name: 'a', node: 'n1', row: rows[1] },
        { type: 'lxc', vmid: 5, name: 'b', node: 'n1', row: rows[0] },
      ],
      skipped: { templates: 1, incomplete: 1 },
      duplicates: [],
      excluded: [],
    });
    expect(['a', 'b'].map(scopeFilter(['*']))).toEqual([true, true]);
    expect(['a', 'b'].map(scopeFilter([]))).toEqual([false, false]);
  });

  it('leaves out guests the selection excludes, before names are compared, and lists them by vmid with the reason', () => {
    const rows = [
      { type: 'qemu', vmid: 300, name: 'web', node: 'n1', tags: 'No-NetBox;prod' },
      { type: 'qemu', vmid: 301, name: 'web', node: 'n1' },
      { type: 'lxc', vmid: 150, name: 'ct', node: 'n1' },
      { type: 'qemu', vmid: 250, name: 'fin', node: 'n1', pool: 'finance' },
      { type: 'qemu', vmid: 251, name: 'fin2', node: 'n1', pool: 'finance-dev' },
      { type: 'qemu', vmid: 199, name: 'out', node: 'n2', tags: 'no-netbox' },
    ];
    const sel = selectGuests(rows, scopeFilter(['n1']), { EXCLUDE_TAGS: ['no-netbox'], EXCLUDE_VMIDS: [{ from: 100, to: 199 }], EXCLUDE_POOLS: ['finance'] });
    expect(sel.guests.map((g) => [g.vmid, g.name])).toEqual([
      [251, 'fin2'],
      [301, 'web'],
    ]);
    // PVE tags compare case-insensitively; a guest out of scope.nodes is not "excluded" (today's behaviour).
    expect(sel.excluded).toEqual([
      { vmid: 150, name: 'ct', reason: 'EXCLUDE_VMIDS 100-199' },
      { vmid: 250, name: 'fin', reason: 'EXCLUDE_POOLS finance' },
      { vmid: 300, name: 'web', reason: 'EXCLUDE_TAGS no-netbox' },
    ]);
    expect(sel.duplicates).toEqual([]);
  });
});

describe('collectPve', () => {
  it('keeps the lowest vmid of guests sharing a name and warns about the others', async () => {
    server = await startFakePve(
      {
        ...base,
        guests: [
          { resource: qemu(120, 'pve1', { name: 'Web' }), config: { ostype: 'l26' } },
          { resource: lxc(110, 'pve2', { name: 'web' }), config: { ostype: 'debian' } },
          { resource: qemu(130, 'pve1', { name: 'other' }), config: { ostype: 'l26' } },
        ],
      },
      TOKEN,
    );
    const c = context(server.port);
    const snap = await collectPve(c);
    expect(snap.guests.map((g) => [g.vmid, g.name])).toEqual([
      [110, 'web'],
      [130, 'other'],
    ]);
    expect(c.warnings).toEqual([
      {
        code: 'guest_name_duplicate',
        subject: 'qemu 120 on pve1',
        message: 'name "Web" is already used by vmid 110; NetBox needs VM names unique per cluster, so this guest is skipped',
      },
    ]);
    expect(paths(server).filter((p) => p.includes('/120/'))).toEqual([]);
  });

  it('BOOTSTRAP makes no HTTP call at all', async () => {
    server = await startFakePve(base, TOKEN);
    const c = context(server.port, { extra: { BOOTSTRAP: true } });
    expect(await collectPve(c)).toEqual({ bootstrap: true, host: '127.0.0.1', nodes: [], guests: [] });
    expect(c.targets).toHaveLength(0);
    expect(server.requests).toHaveLength(0);
  });

  it('reads nodes and guests into the snapshot, skipping templates and nameless guests', async () => {
    server = await startFakePve(base, TOKEN);
    const c = context(server.port);
    expect(await collectPve(c)).toEqual({
      bootstrap: false,
      host: '127.0.0.1',
      apiVersion: '8.4.1',
      clusterName: 'lab',
      nodes: [
        {
          name: 'pve1',
          status: 'online',
          maxcpu: 16,
          maxmem: 68719476736,
          version: '8.4',
          network: [{ iface: 'vmbr0', type: 'bridge', cidr: '10.0.0.1/24', priority: 1 }],
        },
        { name: 'pve2', status: 'online', maxcpu: 8, maxmem: 34359738368, version: '9.0', network: [] },
      ],
      guests: [
        {
          type: 'qemu',
          vmid: 100,
          name: 'vm100',
          node: 'pve1',
          status: 'running',
          maxcpu: 2,
          maxmem: 4294967296,
          tags: ['web', 'prod'],
          hastate: 'started',
          config: {
            ostype: 'l26',
            description: 'front end',
            onboot: true,
            agentEnabled: true,
            nets: [{ key: 'net0', name: 'net0', mac: 'BC:24:11:00:01:00', vlan: 10 }],
            disks: [
              { key: 'ide2', volume: 'none', cdrom: true, cloudinit: false, none: true },
              { key: 'scsi0', volume: 'local-lvm:vm-100-disk-0', storage: 'local-lvm', sizeMb: 32768, cdrom: false, cloudinit: false, none: false },
            ],
          },
          agent: {
            osinfo: { id: 'ubuntu', name: 'Ubuntu', versionId: '24.04' },
            interfaces: [{ name: 'ens18', mac: 'bc:24:11:00:01:00', addresses: [{ address: '10.0.0.100', family: 'ipv4', prefix: 24 }] }],
          },
        },
        {
          type: 'qemu',
          vmid: 103,
          name: 'vm103',
          node: 'pve2',
          status: 'stopped',
          maxcpu: 2,
          maxmem: 4294967296,
          tags: [],
          config: { ostype: 'win11', onboot: false, agentEnabled: true, nets: [], disks: [] },
        },
        {
          type: 'lxc',
          vmid: 200,
          name: 'ct200',
          node: 'pve2',
          status: 'running',
          maxcpu: 1,
          maxmem: 1073741824,
          tags: [],
          config: {
            ostype: 'debian',
            onboot: false,
            agentEnabled: false,
            nets: [{ key: 'net0', name: 'eth0', mac: 'BC:24:11:00:02:00', ipv4: '10.0.0.200/24' }],
            disks: [{ key: 'rootfs', volume: 'local-lvm:vm-200-disk-0', storage: 'local-lvm', sizeMb: 8192, cdrom: false, cloudinit: false, none: false }],
          },
        },
      ],
    });
    expect(c.warnings).toEqual([]);
    // No config for the template or the nameless guest, no agent call for the stopped VM.
    expect(paths(server)).toEqual([
      '/cluster/resources?type=vm',
      '/cluster/status',
      '/nodes',
      '/nodes/pve1/network',
      '/nodes/pve1/qemu/100/agent/get-osinfo',
      '/nodes/pve1/qemu/100/agent/network-get-interfaces',
      '/nodes/pve1/qemu/100/config',
      '/nodes/pve1/status',
      '/nodes/pve2/lxc/200/config',
      '/nodes/pve2/network',
      '/nodes/pve2/qemu/103/config',
      '/nodes/pve2/status',
      '/version',
    ]);
    expect(c.progressCalls.at(-1)).toEqual([5, 5]);
    expect(c.progressCalls.map(([, t]) => t)).toEqual(Array<number>(c.progressCalls.length).fill(5));
  });

  it('limits nodes and guests to the scope and warns about a scope node that does not exist', async () => {
    server = await startFakePve(base, TOKEN);
    const c = context(server.port, { nodes: ['pve2', 'pve7'] });
    const snap = await collectPve(c);
    expect(snap.nodes.map((n) => n.name)).toEqual(['pve2']);
    expect(snap.guests.map((g) => g.vmid)).toEqual([103, 200]);
    expect(c.warnings).toEqual([{ code: 'scope_node_unknown', subject: 'node pve7', message: 'scope.nodes names "pve7", which GET /nodes does not list' }]);
    expect(paths(server).filter((p) => p.startsWith('/nodes/'))).toEqual([
      '/nodes/pve2/lxc/200/config',
      '/nodes/pve2/network',
      '/nodes/pve2/qemu/103/config',
      '/nodes/pve2/status',
    ]);
  });

  it("skips a node that answers 595 and its guests' details, keeping the guests, with one warning", async () => {
    server = await startFakePve({ ...base, nodes: [base.nodes[0]!, { name: 'pve2', down: true }] }, TOKEN);
    const c = context(server.port);
    const snap = await collectPve(c);
    expect(c.warnings).toEqual([
      {
        code: 'node_unreachable',
        subject: 'node pve2',
        message: "GET /nodes/pve2/status: HTTP 595 No route to host; node data and its guests' details skipped",
      },
    ]);
    expect(snap.nodes[1]).toEqual({ name: 'pve2', status: 'online', maxcpu: 8, maxmem: 34359738368 });
    expect(snap.guests.filter((g) => g.node === 'pve2')).toEqual([
      { type: 'qemu', vmid: 103, name: 'vm103', node: 'pve2', status: 'stopped', maxcpu: 2, maxmem: 4294967296, tags: [] },
      { type: 'lxc', vmid: 200, name: 'ct200', node: 'pve2', status: 'running', maxcpu: 1, maxmem: 1073741824, tags: [] },
    ]);
    expect(paths(server).filter((p) => p.startsWith('/nodes/pve2'))).toEqual(['/nodes/pve2/network', '/nodes/pve2/status']);
  });

  it('does not call a node that /nodes reports offline', async () => {
    server = await startFakePve({ ...base, nodes: [base.nodes[0]!, { name: 'pve2', status: 'offline', down: true }] }, TOKEN);
    const c = context(server.port);
    const snap = await collectPve(c);
    expect(c.warnings).toEqual([
      { code: 'node_unreachable', subject: 'node pve2', message: 'GET /nodes reports status "offline"; node data and its guests\' details skipped' },
    ]);
    expect(snap.nodes[1]).toEqual({ name: 'pve2', status: 'offline' });
    expect(paths(server).filter((p) => p.startsWith('/nodes/pve2'))).toEqual([]);
  });

  it('treats a node that does not answer within PROXMOX_API_TIMEOUT as unreachable', async () => {
    const handler = pveHandler(base, TOKEN);
    server = await startFakeHttps(async (req) => {
      if (req.path.startsWith('/api2/json/nodes/pve2/')) await sleep(1500);
      return handler(req);
    });
    const c = context(server.port, { extra: { PROXMOX_API_TIMEOUT: 1 } });
    const snap = await collectPve(c);
    expect(c.warnings).toEqual([
      {
        code: 'node_unreachable',
        subject: 'node pve2',
        message: "GET /nodes/pve2/status: timed out after 1 s (PROXMOX_API_TIMEOUT); node data and its guests' details skipped",
      },
    ]);
    expect(snap.guests.map((g) => [g.vmid, g.config !== undefined])).toEqual([
      [100, true],
      [103, false],
      [200, false],
    ]);
  });

  // PROXMOX_API_TIMEOUT is a deadline per request, so these time the run (generous margins).
  it('fails the run at PROXMOX_API_TIMEOUT when /version trickles without end (it kept the policy running before)', async () => {
    const handler = pveHandler(base, TOKEN);
    server = await startFakeHttps((req) =>
      req.path === '/api2/json/version' ? { status: 200, body: '{"data":', trickle: { everyMs: 200, endless: true } } : handler(req),
    );
    const c = context(server.port, { extra: { PROXMOX_API_TIMEOUT: 1 } });
    const from = performance.now();
    const err = await collectPve(c).catch((e: unknown) => e);
    expect(performance.now() - from).toBeLessThan(5000);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(`Proxmox VE at 127.0.0.1:${server.port} could not be read: GET /version: timed out after 1 s (PROXMOX_API_TIMEOUT)`);
    expect(c.warnings).toEqual([]);
  }, 20_000);

  it('treats a node whose /network answer trickles past PROXMOX_API_TIMEOUT as unreachable', async () => {
    const handler = pveHandler(base, TOKEN);
    server = await startFakeHttps((req) => {
      const res = handler(req);
      // 40 bytes at 0.5 s each: 20 s, far past the 1 s deadline, but never 1 s without a byte.
      return req.path === '/api2/json/nodes/pve2/network' ? { ...res, body: JSON.stringify({ data: [] }).padEnd(40), trickle: { everyMs: 500 } } : res;
    });
    const c = context(server.port, { extra: { PROXMOX_API_TIMEOUT: 1 } });
    const from = performance.now();
    const snap = await collectPve(c);
    expect(performance.now() - from).toBeLessThan(5000);
    expect(c.warnings).toEqual([
      {
        code: 'node_unreachable',
        subject: 'node pve2',
        message: "GET /nodes/pve2/network: timed out after 1 s (PROXMOX_API_TIMEOUT); node data and its guests' details skipped",
      },
    ]);
    expect(snap.nodes[1]).toEqual({ name: 'pve2', status: 'online', maxcpu: 8, maxmem: 34359738368 });
  }, 30_000);

  it('warns once per guest whose agent is down or forbidden and keeps the guest', async () => {
    server = await startFakePve(
      {
        ...base,
        guests: [
          { resource: qemu(300, 'pve1'), config: { agent: 1, ostype: 'l26' }, agent: { kind: 'agent-not-running' } },
          { resource: qemu(301, 'pve1'), config: { agent: 1, ostype: 'win10' }, agent: { kind: 'forbidden' } },
          { resource: qemu(302, 'pve1'), config: { agent: 'enabled=0', ostype: 'l26' } },
          { resource: qemu(303, 'pve1'), config: { ostype: 'l26' } },
        ],
      },
      TOKEN,
    );
    const c = context(server.port);
    const snap = await collectPve(c);
    expect([...c.warnings].sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([
      {
        code: 'guest_agent_unavailable',
        subject: 'qemu 300 on pve1',
        message: 'GET /nodes/pve1/qemu/300/agent/network-get-interfaces: HTTP 500 QEMU guest agent is not running; platform from ostype, no guest IPs',
      },
      {
        code: 'guest_agent_forbidden',
        subject: 'qemu 301 on pve1',
        message:
          'GET /nodes/pve1/qemu/301/agent/network-get-interfaces: HTTP 403 Permission check failed (/vms/301, VM.GuestAgent.Audit); the token needs VM.GuestAgent.Audit (PVE 9) or VM.Monitor (PVE 8) on /vms; platform from ostype, no guest IPs',
      },
    ]);
    expect(snap.guests.map((g) => [g.vmid, g.agent, g.config?.ostype])).toEqual([
      [300, undefined, 'l26'],
      [301, undefined, 'win10'],
      [302, undefined, 'l26'],
      [303, undefined, 'l26'],
    ]);
    // The 500 and the 403 of network-get-interfaces would be get-osinfo's too: it is not sent.
    expect(paths(server).filter((p) => p.includes('/agent/'))).toEqual([
      '/nodes/pve1/qemu/300/agent/network-get-interfaces',
      '/nodes/pve1/qemu/301/agent/network-get-interfaces',
    ]);
  });

  it('emits a guest without config data when its config fails, and drops only a bad entry', async () => {
    server = await startFakePve(
      {
        ...base,
        guests: [
          { resource: qemu(400, 'pve1'), configError: { status: 500, reason: 'unable to read config' } },
          { resource: qemu(401, 'pve1'), config: 'this is not a config' },
          { resource: lxc(402, 'pve1'), config: { ostype: 'alpine', net0: 'name=eth0,hwaddr=nonsense', net1: 'name=eth1,hwaddr=BC:24:11:00:04:02' } },
          // A value of an unexpected shape under a key the agent reads costs that entry, not the config.
          {
            resource: qemu(403, 'pve1'),
            config: { ostype: 'l26', net0: { model: 'virtio' }, net1: 'virtio=BC:24:11:00:04:03,bridge=vmbr0', lock: { weird: true } },
          },
        ],
      },
      TOKEN,
    );
    const c = context(server.port);
    const snap = await collectPve(c);
    expect([...c.warnings].sort((a, b) => a.subject.localeCompare(b.subject))).toEqual(
      [
        {
          code: 'guest_config_unavailable',
          subject: 'qemu 400 on pve1',
          message: 'GET /nodes/pve1/qemu/400/config: HTTP 500 unable to read config; emitted without interfaces, IPs, disks or platform',
        },
        {
          code: 'guest_config_invalid',
          subject: 'qemu 401 on pve1',
          message:
            'GET /nodes/pve1/qemu/401/config: unexpected response: data: Invalid input: expected object, received string; emitted without interfaces, IPs, disks or platform',
        },
        { code: 'guest_config_invalid', subject: 'lxc 402 on pve1', message: 'net0 "name=eth0,hwaddr=nonsense": not a MAC address; that entry is skipped' },
        { code: 'guest_config_invalid', subject: 'qemu 403 on pve1', message: 'net0 "{"model":"virtio"}": expected a property string; that entry is skipped' },
      ].sort((a, b) => a.subject.localeCompare(b.subject)),
    );
    expect(snap.guests.map((g) => [g.vmid, g.config?.nets])).toEqual([
      [400, undefined],
      [401, undefined],
      [402, [{ key: 'net1', name: 'eth1', mac: 'BC:24:11:00:04:02' }]],
      [403, [{ key: 'net1', name: 'net1', mac: 'BC:24:11:00:04:03' }]],
    ]);
  });

  it("costs only the item when a 200 answer is not JSON: a node's network, a guest config, an agent call", async () => {
    server = await startFakePve(
      {
        ...base,
        rawBodies: {
          '/nodes/pve2/network': '<html><head><title>502 Bad Gateway</title></head></html>',
          '/nodes/pve2/lxc/200/config': '{"data":{"ostype":"l2',
          '/nodes/pve1/qemu/100/agent/get-osinfo': '',
        },
      },
      TOKEN,
    );
    const c = context(server.port);
    const snap = await collectPve(c);
    expect([...c.warnings].sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([
      {
        code: 'guest_config_invalid',
        subject: 'lxc 200 on pve2',
        message:
          'GET /nodes/pve2/lxc/200/config: unexpected response: not JSON (Unterminated string in JSON at position 21 (line 1 column 22)); emitted without interfaces, IPs, disks or platform',
      },
      {
        code: 'node_data_invalid',
        subject: 'node pve2',
        message: 'GET /nodes/pve2/network: unexpected response: not JSON (Unexpected token \'<\', "<html><hea"... is not valid JSON)',
      },
      {
        code: 'guest_agent_unavailable',
        subject: 'qemu 100 on pve1',
        message: 'GET /nodes/pve1/qemu/100/agent/get-osinfo: unexpected response: not JSON (Unexpected end of JSON input); platform from ostype',
      },
    ]);
    expect(snap.nodes.map((n) => [n.name, n.version, n.network?.length])).toEqual([
      ['pve1', '8.4', 1],
      ['pve2', '9.0', undefined],
    ]);
    expect(snap.guests.map((g) => [g.vmid, g.config !== undefined, g.agent?.interfaces?.length, g.agent?.osinfo])).toEqual([
      [100, true, 1, undefined],
      [103, true, undefined, undefined],
      [200, false, undefined, undefined],
    ]);
  });

  it('fails the run when an essential answer is not JSON', async () => {
    server = await startFakePve({ ...base, rawBodies: { '/cluster/resources': '<html><body>Service Unavailable</body></html>' } }, TOKEN);
    const c = context(server.port);
    const err = await collectPve(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox VE at 127.0.0.1:${server.port} could not be read: GET /cluster/resources: unexpected response: not JSON (Unexpected token '<', "<html><bod"... is not valid JSON)`,
    );
    expect(c.warnings).toEqual([]);
  });

  it('costs only the item when its answer is past PROXMOX_API_MAX_RESPONSE_BYTES, and fails the run when an essential one is', async () => {
    const big = (data: unknown) => `${JSON.stringify({ data })}${' '.repeat(5000)}`;
    server = await startFakePve({ ...base, rawBodies: { '/nodes/pve2/network': big([]), '/nodes/pve1/qemu/100/config': big({ ostype: 'l26' }) } }, TOKEN);
    const c = context(server.port, { extra: { PROXMOX_API_MAX_RESPONSE_BYTES: 4096 } });
    const snap = await collectPve(c);
    expect([...c.warnings].sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([
      {
        code: 'node_data_invalid',
        subject: 'node pve2',
        message: 'GET /nodes/pve2/network: unexpected response: larger than 4096 bytes (PROXMOX_API_MAX_RESPONSE_BYTES); not read',
      },
      {
        code: 'guest_config_invalid',
        subject: 'qemu 100 on pve1',
        message:
          'GET /nodes/pve1/qemu/100/config: unexpected response: larger than 4096 bytes (PROXMOX_API_MAX_RESPONSE_BYTES); not read; emitted without interfaces, IPs, disks or platform',
      },
    ]);
    expect(snap.nodes.map((n) => [n.name, n.network?.length])).toEqual([
      ['pve1', 1],
      ['pve2', undefined],
    ]);
    expect(snap.guests.map((g) => [g.vmid, g.config !== undefined])).toEqual([
      [100, false],
      [103, true],
      [200, true],
    ]);
    await c.close();
    await server.close();

    server = await startFakePve({ ...base, rawBodies: { '/cluster/resources': big([]) } }, TOKEN);
    const c2 = context(server.port, { extra: { PROXMOX_API_MAX_RESPONSE_BYTES: 4096 } });
    const err = await collectPve(c2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox VE at 127.0.0.1:${server.port} could not be read: GET /cluster/resources: unexpected response: larger than 4096 bytes (PROXMOX_API_MAX_RESPONSE_BYTES); not read`,
    );
    expect(c2.warnings).toEqual([]);
  });

  it('puts the parsed X.Y version in the snapshot, and none with a warning when pveversion does not parse', async () => {
    server = await startFakePve({ ...base, nodes: [{ ...base.nodes[0]!, pveversion: 'garbage' }, base.nodes[1]!] }, TOKEN);
    const c = context(server.port);
    const snap = await collectPve(c);
    expect(c.warnings.filter((w) => w.code === 'node_data_invalid')).toEqual([
      { code: 'node_data_invalid', subject: 'node pve1', message: 'pveversion "garbage": expected pve-manager/X.Y.Z/<hash>; no platform for this node' },
    ]);
    expect(snap.nodes.map((n) => [n.name, n.version])).toEqual([
      ['pve1', undefined],
      ['pve2', '9.0'],
    ]);
  });

  it('names the missing privilege on a 403 for one node call or guest config, without calling the node down', async () => {
    server = await startFakePve(
      {
        ...base,
        failures: {
          '/nodes/pve2/network': { status: 403, reason: 'Permission check failed (/nodes/pve2, Sys.Audit)' },
          '/nodes/pve1/status': { status: 403, reason: 'Permission check failed' },
          '/nodes/pve2/lxc/200/config': { status: 403, reason: 'Permission check failed (/vms/200, VM.Audit)' },
        },
      },
      TOKEN,
    );
    const c = context(server.port);
    const snap = await collectPve(c);
    expect([...c.warnings].sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([
      {
        code: 'pve_permission_denied',
        subject: 'lxc 200 on pve2',
        message:
          'GET /nodes/pve2/lxc/200/config: HTTP 403 Permission check failed (/vms/200, VM.Audit); the token lacks VM.Audit on /vms/200; emitted without interfaces, IPs, disks or platform',
      },
      {
        code: 'pve_permission_denied',
        subject: 'node pve1',
        message: 'GET /nodes/pve1/status: HTTP 403 Permission check failed; the token lacks Sys.Audit on /nodes/pve1; no PVE version or platform for this node',
      },
      {
        code: 'pve_permission_denied',
        subject: 'node pve2',
        message:
          'GET /nodes/pve2/network: HTTP 403 Permission check failed (/nodes/pve2, Sys.Audit); the token lacks Sys.Audit on /nodes/pve2; no interfaces or IPs for this node',
      },
    ]);
    expect(snap.nodes.map((n) => [n.name, n.version, n.network?.length])).toEqual([
      ['pve1', undefined, 1],
      ['pve2', '9.0', undefined],
    ]);
    // Both nodes answered, so their guests' details were still read.
    expect(snap.guests.map((g) => [g.vmid, g.config !== undefined, g.agent !== undefined])).toEqual([
      [100, true, true],
      [103, true, false],
      [200, false, false],
    ]);
  });

  it("says so when a 403 on a node's network names no privilege, since PVE checks none there", async () => {
    server = await startFakePve({ ...base, failures: { '/nodes/pve1/network': { status: 403, reason: 'Forbidden' } } }, TOKEN);
    const c = context(server.port);
    await collectPve(c);
    expect(c.warnings).toEqual([
      {
        code: 'pve_permission_denied',
        subject: 'node pve1',
        message:
          'GET /nodes/pve1/network: HTTP 403 Forbidden; PVE names no privilege, and it checks none for this call beyond a valid token (pve-manager PVE/API2/Network.pm), so something in front of PVE may have refused it; no interfaces or IPs for this node',
      },
    ]);
  });

  it('fails the run when the target itself cannot be read, without leaking per-item warnings', async () => {
    const handler = pveHandler(base, TOKEN);
    server = await startFakeHttps((req) =>
      req.path.endsWith('/cluster/resources') ? { status: 500, statusText: 'cluster not ready - no quorum?', body: { data: null } } : handler(req),
    );
    const c = context(server.port);
    const err = await collectPve(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox VE at 127.0.0.1:${server.port} could not be read: GET /cluster/resources?type=vm: HTTP 500 cluster not ready - no quorum?`,
    );
    expect(c.warnings).toEqual([]);
  });

  it('names the credentials on a 401', async () => {
    server = await startFakePve(base, { ...TOKEN, secret: 'other' });
    const c = context(server.port);
    await expect(collectPve(c)).rejects.toThrow(
      `Proxmox VE at 127.0.0.1:${server.port} could not be read: GET /version: HTTP 401 Authentication failed! (check PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE)`,
    );
  });

  it('names PROXMOX_CA_FILE, PROXMOX_FINGERPRINT and PROXMOX_SSL_VERIFY when the certificate does not verify', async () => {
    server = await startFakePve(base, TOKEN);
    const c = context(server.port, { extra: { PROXMOX_SSL_VERIFY: true } });
    const err = await collectPve(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(
      `Proxmox VE at 127.0.0.1:${server.port} could not be read: GET /version: TLS: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); set PROXMOX_CA_FILE to the CA that signed it, or pin the certificate with PROXMOX_FINGERPRINT and set PROXMOX_SSL_VERIFY: false`,
    );
  });

  it('fails at once, naming PROXMOX_CA_FILE and its path, when the CA file is missing (a bare ENOENT before)', async () => {
    server = await startFakePve(base, TOKEN);
    const c = context(server.port, { extra: { PROXMOX_SSL_VERIFY: true, PROXMOX_CA_FILE: '/etc/pve/nonexistent-root-ca.pem' } });
    await expect(collectPve(c)).rejects.toThrow(
      new TlsConfigError('PROXMOX_CA_FILE "/etc/pve/nonexistent-root-ca.pem" cannot be read: no such file or directory (ENOENT)'),
    );
    expect(server.requests).toEqual([]);
  });

  it('starts guest work while another node is still answering (no phase barrier)', async () => {
    const events: string[] = [];
    const handler = pveHandler(base, TOKEN);
    server = await startFakeHttps(async (req) => {
      const path = req.path.replace('/api2/json', '');
      events.push(`> ${path}`);
      if (path === '/nodes/pve2/network' || path === '/cluster/status') await sleep(300);
      events.push(`< ${path}`);
      return handler(req);
    });
    const c = context(server.port);
    await collectPve(c);
    const at = (e: string) => events.indexOf(e);
    expect(at('> /nodes/pve1/qemu/100/config')).toBeGreaterThan(-1);
    expect(at('> /nodes/pve1/qemu/100/config')).toBeLessThan(at('< /nodes/pve2/network'));
    expect(at('> /nodes/pve2/lxc/200/config')).toBeLessThan(at('< /nodes/pve2/network'));
    expect(at('> /nodes/pve1/qemu/100/agent/get-osinfo')).toBeLessThan(at('< /cluster/status'));
  });
  it("keeps working on the other nodes' guests while one node's /status is slow (no worker waits on a probe)", async () => {
    const PVE1_GUESTS = Array.from({ length: 10 }, (_, i) => 100 + i);
    // pve1's guests come first in vmid order and outnumber the 8 guest workers of C = 2; its
    // /status holds one of the two slots, the other is free for everything else.
    const slow: PveScenario = {
      cluster: 'lab',
      nodes: [{ name: 'pve1' }, { name: 'pve2' }],
      guests: [
        ...PVE1_GUESTS.map((v) => ({ resource: lxc(v, 'pve1'), config: { ostype: 'debian' } })),
        ...[200, 201, 202].map((v) => ({ resource: lxc(v, 'pve2'), config: { ostype: 'debian' } })),
      ],
    };
    const events: string[] = [];
    const handler = pveHandler(slow, TOKEN);
    server = await startFakeHttps(async (req) => {
      const path = req.path.replace('/api2/json', '');
      if (path === '/nodes/pve1/status') await sleep(400);
      events.push(path);
      return handler(req);
    });
    const c = testCollectContext(config(server.port), { scope: { nodes: ['*'] }, concurrency: 2 });
    ctx = c;
    const snap = await collectPve(c);
    const answered = (p: string) => events.indexOf(p);
    // Every pve2 config is answered before pve1's status; pve1's configs only after it.
    for (const v of [200, 201, 202]) expect(answered(`/nodes/pve2/lxc/${v}/config`)).toBeLessThan(answered('/nodes/pve1/status'));
    for (const v of PVE1_GUESTS) expect(answered(`/nodes/pve1/lxc/${v}/config`)).toBeGreaterThan(answered('/nodes/pve1/status'));
    // The snapshot's guests stay in vmid order.
    expect(snap.guests.map((g) => g.vmid)).toEqual([...PVE1_GUESTS, 200, 201, 202]);
    expect(c.warnings).toEqual([]);
  });
});

describe('generatePveScenario', () => {
  it('is deterministic per seed and has the promised mix', () => {
    const a = generatePveScenario({ guests: 1000, nodes: 7, seed: 11 });
    expect(generatePveScenario({ guests: 1000, nodes: 7, seed: 11 })).toEqual(a);
    expect(generatePveScenario({ guests: 1000, nodes: 7, seed: 12 })).not.toEqual(a);
    expect(a.nodes.map((n) => n.name)).toEqual(['pve1', 'pve2', 'pve3', 'pve4', 'pve5', 'pve6', 'pve7']);
    const qemus = a.guests.filter((g) => g.resource.type === 'qemu');
    const withAgent = qemus.filter((g) => g.resource.status === 'running' && g.agent?.kind === 'ok');
    expect(qemus.length).toBeGreaterThan(650);
    expect(qemus.length).toBeLessThan(750);
    expect(withAgent.length / qemus.length).toBeGreaterThan(0.74);
    expect(withAgent.length / qemus.length).toBeLessThan(0.86);
    for (const g of qemus)
      expect(
        Object.keys(g.config as object)
          .filter((k) => /^(net|scsi)\d$/.test(k))
          .sort(),
      ).toEqual(['net0', 'net1', 'scsi0', 'scsi1']);
    expect(new Set(a.guests.map((g) => g.resource.name)).size).toBe(1000);
  });

  it('collects and maps cleanly: no warnings, every guest a VM, every agent-running VM a primary IPv4', async () => {
    const scenario = generatePveScenario({ guests: 60, nodes: 3, seed: 5 });
    server = await startFakePve(scenario, TOKEN);
    const c = context(server.port);
    const snap = await collectPve(c);
    expect(c.warnings).toEqual([]);
    const entities = mapPve(snap, { config: c.config, scope: c.scope, now: new Date(0), policyName: 'bench' });
    const vms = entities.filter((e) => e.kind === 'virtual_machine').map((e) => e.value);
    expect(vms).toHaveLength(60);
    const agentRunning = new Set(scenario.guests.filter((g) => g.agent?.kind === 'ok' || g.resource.type === 'lxc').map((g) => g.resource.name));
    // The primary IPv4 is set by the address's own entity, on the VM reference it nests.
    const primaries = entities.flatMap((e) =>
      e.kind === 'ip_address' && e.value.assigned_object_vm_interface?.virtual_machine?.primary_ip4
        ? [e.value.assigned_object_vm_interface.virtual_machine.name ?? '']
        : [],
    );
    expect(primaries.sort()).toEqual([...agentRunning].sort());
    expect(server.requests).toHaveLength(4 + 3 * 2 + 60 + 2 * scenario.guests.filter((g) => g.agent?.kind === 'ok').length);
  });
});
