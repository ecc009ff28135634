import { afterEach, describe, expect, it } from 'vitest';
import { startFakePve, type PveScenario } from './fake.ts';
import type { FakeServer } from '../../../test/fakes/https-server.ts';
import { sortWarnings } from '../../../test/helpers/golden.ts';
import { testCollectContext, type TestCollectContext } from '../../../test/helpers/collect-context.ts';
import { collectPve } from './collect.ts';
import { pveConfigSchema, type PveConfig } from './config.ts';

/*
 * Issue #17 items 2 and 7 against the fake PVE: the requests each switch adds, and the
 * warnings a failure of them gives (the run goes on). Golden cases lxc-runtime-addresses
 * and ha-replication-pve{8,9} hold the entities.
 */

const TOKEN = { tokenId: 'root@pam!netbox', secret: 'b2c1d0e9-0000-4000-8000-000000000017' };
let server: FakeServer | undefined;
let ctx: TestCollectContext<PveConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

function context(port: number, extra: Record<string, unknown> = {}): TestCollectContext<PveConfig> {
  const config = pveConfigSchema.parse({
    PROXMOX_HOST: '127.0.0.1',
    PROXMOX_PORT: port,
    PROXMOX_TOKEN_NAME: 'netbox',
    PROXMOX_TOKEN_VALUE: TOKEN.secret,
    ...extra,
  });
  ctx = testCollectContext(config, { scope: { nodes: ['*'] } });
  return ctx;
}

const paths = (s: FakeServer): string[] => s.requests.map((r) => `${r.path.replace('/api2/json', '')}${r.query.size ? `?${r.query}` : ''}`).sort();
/** The requests every run makes for this one-node scenario with its guests' configs. */
const FIRST = ['/cluster/resources?type=vm', '/cluster/status', '/nodes', '/nodes/pve1/network', '/nodes/pve1/status', '/version'];

const lxc = (vmid: number, status = 'running') => ({
  id: `lxc/${vmid}`,
  type: 'lxc',
  vmid,
  name: `ct${vmid}`,
  node: 'pve1',
  status,
  template: 0,
  maxcpu: 1,
  maxmem: 1073741824,
});
const qemu = (vmid: number) => ({
  id: `qemu/${vmid}`,
  type: 'qemu',
  vmid,
  name: `vm${vmid}`,
  node: 'pve1',
  status: 'running',
  template: 0,
  maxcpu: 2,
  maxmem: 2147483648,
});

const containers: PveScenario = {
  cluster: 'lab',
  nodes: [{ name: 'pve1', network: [] }],
  guests: [
    { resource: lxc(200), config: { ostype: 'debian', net0: 'name=eth0,hwaddr=BC:24:11:00:02:00,ip=dhcp,type=veth' } },
    {
      resource: lxc(201),
      config: { ostype: 'debian', net0: 'name=eth0,hwaddr=BC:24:11:00:02:01,ip=10.0.0.201/24,ip6=auto,type=veth' },
      interfaces: [
        { name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128' },
        { name: 'eth0', hwaddr: 'bc:24:11:00:02:01', inet: '10.0.0.201/24', inet6: '2001:db8::201/64' },
      ],
    },
    { resource: lxc(202), config: { ostype: 'debian', net0: 'name=eth0,hwaddr=BC:24:11:00:02:02,ip=10.0.0.202/24,ip6=manual,type=veth' } },
    { resource: lxc(203, 'stopped'), config: { ostype: 'debian', net0: 'name=eth0,hwaddr=BC:24:11:00:02:03,ip=dhcp,type=veth' } },
  ],
  failures: { '/nodes/pve1/lxc/200/interfaces': { status: 403, reason: 'Permission check failed (/vms/200, VM.Audit)' } },
};
const CONFIGS = ['/nodes/pve1/lxc/200/config', '/nodes/pve1/lxc/201/config', '/nodes/pve1/lxc/202/config', '/nodes/pve1/lxc/203/config'];

describe('LXC_ADDRESSES', () => {
  it('config (the default) asks no container for its addresses', async () => {
    server = await startFakePve(containers, TOKEN);
    const c = context(server.port);
    const snap = await collectPve(c);
    expect(paths(server)).toEqual([...FIRST, ...CONFIGS].sort());
    expect(c.warnings).toEqual([]);
    expect(snap.guests.map((g) => g.lxcRuntime)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('runtime asks each running container with a dhcp/auto NIC once, and a 403 names VM.Audit and costs only that container', async () => {
    server = await startFakePve(containers, TOKEN);
    const c = context(server.port, { LXC_ADDRESSES: 'runtime' });
    const snap = await collectPve(c);
    // 202 is static only, 203 is stopped: neither is asked.
    expect(paths(server)).toEqual([...FIRST, ...CONFIGS, '/nodes/pve1/lxc/200/interfaces', '/nodes/pve1/lxc/201/interfaces'].sort());
    expect(c.warnings).toEqual([
      {
        code: 'pve_permission_denied',
        subject: 'lxc 200 on pve1',
        message:
          'GET /nodes/pve1/lxc/200/interfaces: HTTP 403 Permission check failed (/vms/200, VM.Audit); the token lacks VM.Audit on /vms/200; addresses from its config only',
      },
    ]);
    expect(snap.guests.map((g) => [g.vmid, g.lxcRuntime])).toEqual([
      [200, undefined],
      [
        201,
        [
          {
            name: 'lo',
            mac: '00:00:00:00:00:00',
            addresses: [
              { address: '127.0.0.1', prefix: 8, family: 4 },
              { address: '::1', prefix: 128, family: 6 },
            ],
          },
          {
            name: 'eth0',
            mac: 'bc:24:11:00:02:01',
            addresses: [
              { address: '10.0.0.201', prefix: 24, family: 4 },
              { address: '2001:db8::201', prefix: 64, family: 6 },
            ],
          },
        ],
      ],
      [202, undefined],
      [203, undefined],
    ]);
  });

  it('a node that answers 595 on the call is down, as for any other node call', async () => {
    server = await startFakePve({ ...containers, failures: { '/nodes/pve1/lxc/201/interfaces': { status: 595, reason: 'Connection timed out' } } }, TOKEN);
    const c = context(server.port, { LXC_ADDRESSES: 'both' });
    await collectPve(c);
    expect(c.warnings).toEqual([
      {
        code: 'node_unreachable',
        subject: 'node pve1',
        message: "GET /nodes/pve1/lxc/201/interfaces: HTTP 595 Connection timed out; node data and its guests' details skipped",
      },
    ]);
  });

  it('drops an interface of the wrong shape and keeps the others', async () => {
    const guest = containers.guests[1]!;
    server = await startFakePve(
      { ...containers, failures: {}, guests: [{ ...guest, interfaces: [{ hwaddr: 'bc:24:11:00:02:01' }, { name: 'eth0', inet: '10.0.0.9/24' }] }] },
      TOKEN,
    );
    const c = context(server.port, { LXC_ADDRESSES: 'runtime' });
    const snap = await collectPve(c);
    expect(c.warnings).toEqual([
      {
        code: 'pve_item_invalid',
        subject: 'GET /nodes/pve1/lxc/201/interfaces item 0',
        message: 'item dropped: name: Invalid input: expected string, received undefined',
      },
    ]);
    expect(snap.guests[0]?.lxcRuntime).toEqual([{ name: 'eth0', addresses: [{ address: '10.0.0.9', prefix: 24, family: 4 }] }]);
  });
});

const cluster: PveScenario = {
  cluster: 'prod',
  version: { version: '9.0.3', release: '9.0', repoid: '025864202ebb6109' },
  nodes: [{ name: 'pve1', network: [] }],
  guests: [
    { resource: qemu(100), config: { ostype: 'l26' } },
    { resource: qemu(105), config: { ostype: 'l26' } },
  ],
  haRules: [{ rule: 'keep-apart', type: 'resource-affinity', affinity: 'negative', resources: 'vm:100,vm:105', order: 1 }],
  haGroups: [{ group: 'prod', nodes: 'pve1' }],
  haResources: [{ sid: 'vm:100', type: 'vm', state: 'started', group: 'prod' }],
  replication: [
    { id: '100-0', type: 'local', target: 'pve2', guest: 100, jobnum: 0 },
    { id: '105-0', type: 'local', target: 'pve2', guest: 105, jobnum: 0 },
  ],
};
const GUEST_CONFIGS = ['/nodes/pve1/qemu/100/config', '/nodes/pve1/qemu/105/config'];

describe('HA_STATUS and REPLICATION_STATUS', () => {
  it('are off by default: no HA or replication call, no fields', async () => {
    server = await startFakePve(cluster, TOKEN);
    const c = context(server.port);
    const snap = await collectPve(c);
    expect(paths(server)).toEqual([...FIRST, ...GUEST_CONFIGS].sort());
    expect(snap.guests.map((g) => [g.ha, g.replication])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it('PVE 9: one rules call; a rules call that answers 501 falls back to groups and resources', async () => {
    server = await startFakePve(cluster, TOKEN);
    let c = context(server.port, { HA_STATUS: true });
    let snap = await collectPve(c);
    expect(paths(server)).toEqual([...FIRST, ...GUEST_CONFIGS, '/cluster/ha/rules'].sort());
    expect(snap.guests.map((g) => g.ha)).toEqual([{ rules: ['keep-apart'] }, { rules: ['keep-apart'] }]);
    await ctx?.close();
    await server.close();

    server = await startFakePve(
      { ...cluster, failures: { '/cluster/ha/rules': { status: 501, reason: "Method 'GET /cluster/ha/rules' not implemented" } } },
      TOKEN,
    );
    c = context(server.port, { HA_STATUS: true });
    snap = await collectPve(c);
    expect(paths(server)).toEqual([...FIRST, ...GUEST_CONFIGS, '/cluster/ha/groups', '/cluster/ha/resources', '/cluster/ha/rules'].sort());
    expect(c.warnings).toEqual([]);
    expect(snap.guests.map((g) => g.ha)).toEqual([{ rules: ['ha-group-prod'] }, { rules: [] }]);
  });

  it('a 403 on an HA list names Sys.Audit on /, leaves the HA field out this run and keeps replication', async () => {
    server = await startFakePve(
      {
        ...cluster,
        version: { version: '8.4.1', release: '8.4', repoid: '2a2fa54b8503f96c' },
        failures: { '/cluster/ha/groups': { status: 403, reason: 'Permission check failed' } },
      },
      TOKEN,
    );
    const c = context(server.port, { HA_STATUS: true, REPLICATION_STATUS: true });
    const snap = await collectPve(c);
    expect(paths(server)).toEqual([...FIRST, ...GUEST_CONFIGS, '/cluster/ha/groups', '/cluster/ha/resources', '/cluster/replication'].sort());
    expect(c.warnings).toEqual([
      {
        code: 'pve_ha_unavailable',
        subject: 'GET /cluster/ha/groups',
        message: 'GET /cluster/ha/groups: HTTP 403 Permission check failed; the token lacks Sys.Audit on /; proxmox_ha_rules is not set this run',
      },
    ]);
    expect(snap.guests.map((g) => [g.vmid, g.ha, g.replication])).toEqual([
      [100, undefined, [{ id: '100-0', target: 'pve2', schedule: '*/15' }]],
      [105, undefined, [{ id: '105-0', target: 'pve2', schedule: '*/15' }]],
    ]);
  });

  it('replication: one guest the token may not audit makes PVE refuse the whole list; HA is still read', async () => {
    // VM.Audit on /vms/100 only: /cluster/resources leaves 105 out, /cluster/replication refuses.
    server = await startFakePve({ ...cluster, acl: { user: { '/': ['Sys.Audit'], '/vms/100': ['VM.Audit'] } } }, TOKEN);
    const c = context(server.port, { HA_STATUS: true, REPLICATION_STATUS: true });
    const snap = await collectPve(c);
    expect(paths(server)).toEqual([...FIRST, '/nodes/pve1/qemu/100/config', '/cluster/ha/rules', '/cluster/replication'].sort());
    expect(sortWarnings(c.warnings)).toEqual([
      {
        code: 'pve_replication_unavailable',
        subject: 'GET /cluster/replication',
        message:
          'GET /cluster/replication: HTTP 403 Permission check failed (/vms/105, VM.Audit); the token lacks VM.Audit on /vms/105; proxmox_replication_targets and proxmox_replication_jobs are not set this run',
      },
    ]);
    expect(snap.guests.map((g) => [g.vmid, g.ha, g.replication])).toEqual([[100, { rules: ['keep-apart'] }, undefined]]);
  });
});
