import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  agentInterfaceSchema,
  agentOsInfoSchema,
  clusterStatusRowSchema,
  envelope,
  guestConfigSchema,
  lenientList,
  looseBool,
  looseNumber,
  networkRowSchema,
  nodeRowSchema,
  nodeStatusSchema,
  resourceRowSchema,
  versionSchema,
} from './schema.ts';

const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(`../../../test/fixtures/pve/${path}`, import.meta.url), 'utf8'));

function strictList<T extends z.ZodType>(item: T, body: unknown) {
  const dropped: Array<[number, string]> = [];
  const data = envelope(lenientList(item, (i, why) => dropped.push([i, why]))).parse(body).data;
  return { data, dropped };
}

describe('loose scalars', () => {
  it('coerces Perl booleans and numeric strings', () => {
    expect([1, 0, '1', '0', true, false].map((v) => looseBool.parse(v))).toEqual([true, false, true, false, true, false]);
    expect(looseBool.safeParse(2).success).toBe(false);
    expect(looseBool.safeParse('yes').success).toBe(false);
    expect(['2', ' 9000 ', '0.15', 42].map((v) => looseNumber.parse(v))).toEqual([2, 9000, 0.15, 42]);
    expect(looseNumber.safeParse('two').success).toBe(false);
  });
});

describe('lenientList', () => {
  it('drops a bad item, reports it, and keeps the others', () => {
    const { data, dropped } = strictList(nodeRowSchema, { data: [{ node: 'a', status: 'online' }, { status: 'online' }, { node: 'b' }] });
    expect(data).toEqual([
      { node: 'a', status: 'online' },
      { node: 'b', status: 'unknown' },
    ]);
    expect(dropped).toEqual([[1, 'node: Invalid input: expected string, received undefined']]);
  });
  it('still fails when the list itself is not a list', () => {
    expect(envelope(lenientList(nodeRowSchema, () => {})).safeParse({ data: null }).success).toBe(false);
  });
});

describe('real PVE 9 answers (go-proxmox fixtures)', () => {
  it('/cluster/status: the cluster row and four node rows', () => {
    const { data, dropped } = strictList(clusterStatusRowSchema, fixture('go-proxmox/pve9x/cluster_status.json'));
    expect(dropped).toEqual([]);
    expect(data).toEqual([
      { type: 'cluster', name: 'clustername' },
      { type: 'node', name: 'node2' },
      { type: 'node', name: 'node3' },
      { type: 'node', name: 'node1' },
      { type: 'node', name: 'node4' },
    ]);
  });
  it('/nodes', () => {
    const { data, dropped } = strictList(nodeRowSchema, fixture('go-proxmox/pve9x/nodes.json'));
    expect(dropped).toEqual([]);
    expect(data).toEqual([
      { node: 'node1', status: 'online', maxcpu: 12, maxmem: 33568288768 },
      { node: 'node2', status: 'online', maxcpu: 4, maxmem: 16651751424 },
      { node: 'node3', status: 'online', maxcpu: 4, maxmem: 16668868608 },
      { node: 'node4', status: 'online', maxcpu: 8, maxmem: 65919561728 },
    ]);
  });
  it('/cluster/resources: qemu rows with a template, plus node and storage rows', () => {
    const { data, dropped } = strictList(resourceRowSchema, fixture('go-proxmox/pve9x/cluster_resources.json'));
    expect(dropped).toEqual([]);
    expect(data.filter((r) => r.type === 'qemu')).toEqual([
      { type: 'qemu', vmid: 100, name: 'server1', node: 'node2', status: 'running', template: false, maxcpu: 1, maxmem: 1073741824, uptime: 874350 },
      { type: 'qemu', vmid: 101, name: 'leap154', node: 'node1', status: 'stopped', template: true, maxcpu: 4, maxmem: 16777216000, uptime: 0 },
      {
        type: 'qemu',
        vmid: 102,
        name: 'machine-test',
        node: 'node1',
        status: 'stopped',
        template: false,
        maxcpu: 4,
        maxmem: 8388608000,
        tags: 'go-proxmox+cloud-init',
        uptime: 0,
      },
      { type: 'qemu', vmid: 200, name: 'VM 200', node: 'node1', status: 'stopped', template: false, maxcpu: 4, maxmem: 8388608000, uptime: 0 },
    ]);
    expect(data.map((r) => r.type)).toEqual(['qemu', 'qemu', 'qemu', 'qemu', ...Array<string>(4).fill('node'), ...Array<string>(12).fill('storage')]);
  });
  it('/nodes/{node}/network: vlan-id as a string, exists: null, and a /32', () => {
    const { data, dropped } = strictList(networkRowSchema, fixture('go-proxmox/pve9x/nodes_node1_network.json'));
    expect(dropped).toEqual([]);
    expect(data).toEqual([
      { iface: 'eno1', type: 'eth', method: 'manual', priority: 20 },
      { iface: 'eno1.2', type: 'vlan', method: 'static', cidr: '192.168.2.50/32', address: '192.168.2.50', netmask: '32', vlanId: 2, priority: 16 },
      { iface: 'vmbr1', type: 'bridge', method: 'manual', priority: 31 },
      { iface: 'vmbr2.2', type: 'vlan', method: 'static', cidr: '192.168.22.31/24', address: '192.168.22.31', netmask: '24', vlanId: 2, priority: 33 },
      { iface: 'vmbr2.8', type: 'vlan', method: 'static', cidr: '172.16.20.1/24', address: '172.20.0.1', netmask: '24', vlanId: 8, priority: 35 },
    ]);
  });
  it('/nodes/{node}/status (PVE 9 and PVE 8)', () => {
    expect(envelope(nodeStatusSchema).parse(fixture('go-proxmox/pve9x/nodes_node1_status.json')).data).toEqual({ pveversion: 'pve-manager/9.1-1/9a1b2c3d' });
    expect(envelope(nodeStatusSchema).parse(fixture('go-proxmox/pve8x/nodes_node1_status.json')).data).toEqual({ pveversion: 'pve-manager/8.4-1/761609f7' });
  });
  it('guest configs', () => {
    expect(envelope(guestConfigSchema).parse(fixture('go-proxmox/pve9x/nodes_node1_qemu_100_config.json')).data).toMatchObject({
      ostype: 'l26',
      net0: 'virtio=BC:24:11:2E:C5:4A,bridge=vmbr0',
      scsi0: 'local-lvm:vm-100-disk-0,size=32G',
      memory: 2048,
    });
    expect(envelope(guestConfigSchema).parse(fixture('go-proxmox/pve9x/nodes_node1_lxc_101_config.json')).data).toMatchObject({
      ostype: 'ubuntu',
      rootfs: 'local-lvm:vm-101-disk-0,size=8G',
      net0: 'name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:2E:C5:7E,ip=dhcp,type=veth',
    });
  });
  it('guest agent answers', () => {
    expect(envelope(agentOsInfoSchema).parse(fixture('go-proxmox/pve9x/nodes_node1_qemu_101_agent_get-osinfo.json')).data).toEqual({
      id: 'debian',
      name: 'Debian GNU/Linux',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
      versionId: '12',
    });
    const body = fixture('go-proxmox/pve9x/nodes_node1_qemu_101_agent_network-get-interfaces.json');
    expect(envelope(z.object({ result: z.array(agentInterfaceSchema) })).parse(body).data.result).toEqual([
      { name: 'lo', mac: '00:00:00:00:00:00', addresses: [] },
      { name: 'eth0', mac: 'BC:24:11:2E:C5:4A', addresses: [{ address: '10.0.0.10', family: 'ipv4', prefix: 24 }] },
    ]);
  });
  it('an error body is not data', () => {
    expect(envelope(nodeStatusSchema).safeParse(fixture('go-proxmox/pve9x/error_500_nodes_doesntexist_status.json')).success).toBe(false);
  });
});

describe('real PVE 8.4.1 answers (DataDog fixtures)', () => {
  it('/version', () => {
    expect(envelope(versionSchema).parse(fixture('datadog-pve84/version.json')).data).toEqual({ version: '8.4.1', release: '8.4' });
  });
  it('/cluster/resources without a filter: pool, qemu, lxc with tags, node, storage and sdn rows all parse', () => {
    const { data, dropped } = strictList(resourceRowSchema, fixture('datadog-pve84/cluster_resources.json'));
    expect(dropped).toEqual([]);
    expect(data).toEqual([
      { type: 'pool', pool: 'pool-1' },
      { type: 'qemu', vmid: 100, name: 'VM 100', node: 'ip-122-82-3-112', status: 'running', template: false, maxcpu: 2, maxmem: 2147483648, uptime: 12 },
      {
        type: 'lxc',
        vmid: 101,
        name: 'test-container',
        node: 'ip-122-82-3-112',
        status: 'stopped',
        template: false,
        tags: 'sarah-wiit;test;testtag',
        maxcpu: 1,
        maxmem: 536870912,
        pool: 'pool-1',
        uptime: 0,
      },
      {
        type: 'lxc',
        vmid: 111,
        name: 'CT111',
        node: 'ip-122-82-3-112',
        status: 'stopped',
        template: false,
        tags: 'tag1;test',
        maxcpu: 72,
        maxmem: 536870912,
        uptime: 0,
      },
      { type: 'node', node: 'ip-122-82-3-112', status: 'online', maxcpu: 72, maxmem: 540883783680, uptime: 2624 },
      { type: 'storage', node: 'ip-122-82-3-112', status: 'available' },
      { type: 'sdn', node: 'ip-122-82-3-112', status: 'ok' },
    ]);
  });
  it('a PVE 9 network row and a half-written guest do not cost the list', () => {
    const { data, dropped } = strictList(resourceRowSchema, {
      data: [
        { id: 'network/zone/z1', type: 'network', network: 'z1', 'network-type': 'zone', status: 'ok' },
        { id: 'qemu/300', type: 'qemu', vmid: 'three hundred', node: 'pve1' },
        { id: 'qemu/301', type: 'qemu', vmid: '301', name: '', node: 'pve1', template: '0' },
      ],
    });
    expect(data).toEqual([
      { type: 'network', status: 'ok' },
      { type: 'qemu', vmid: 301, node: 'pve1', template: false },
    ]);
    expect(dropped).toEqual([[1, 'vmid: Invalid input']]);
  });
});
