import { describe, expect, it } from 'vitest';
import { pveConfigSchema, type PveConfig } from '../config.ts';
import type { PveGuest, PveSnapshot } from '../snapshot.ts';
import { orderEntities } from '../../../../mappers/order.ts';
import type { MapContext } from '../../../../mappers/types.ts';
import { clusterName, deviceStatus, mapPve, mapPveEach, vmStatus } from './index.ts';
import { guestPlatformName, nodePlatformName, ostypePlatform, titleCase } from './platforms.ts';

const NOW = new Date('2025-01-01T00:00:00Z');

function ctx(extra: Record<string, unknown> = {}): MapContext<PveConfig> {
  const config = pveConfigSchema.parse({ PROXMOX_HOST: 'pve.example.com', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 'x', ...extra });
  return { config, scope: { nodes: ['*'] }, now: NOW, policyName: 'test' };
}

const T = (name: string, slug = name) => ({ name, slug });
const STATIC_TAGS = [T('proxmox-ve'), T('discovered')];
const TAGS = [...STATIC_TAGS, T('proxmox-pve.example.com', 'proxmox-pve-example-com')];
const site = (name: string) => ({ name, slug: name.toLowerCase() });

const CUSTOM_FIELDS = [
  {
    name: 'proxmox_cpu_count',
    label: 'Proxmox CPU Count',
    type: 'integer',
    description: 'Total number of logical CPU cores available on this Proxmox VE node',
    object_types: ['dcim.device'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_ha_state',
    label: 'Proxmox HA State',
    type: 'text',
    description: 'High-availability state as reported by the Proxmox VE HA manager (e.g. started, stopped, fence)',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_memory_mb',
    label: 'Proxmox Memory (MB)',
    type: 'integer',
    description: 'Total physical memory installed on this Proxmox VE node, in megabytes',
    object_types: ['dcim.device'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_node',
    label: 'Proxmox Node',
    type: 'text',
    description: 'The Proxmox VE cluster node that this VM or container is running on',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_storage_pool',
    label: 'Proxmox Storage Pool',
    type: 'text',
    description: 'Proxmox VE storage pool (e.g. local-lvm, ceph) from which this virtual disk is allocated',
    object_types: ['virtualization.virtualdisk'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_vm_type',
    label: 'Proxmox VM Type',
    type: 'text',
    description: 'Proxmox VE virtualisation type: qemu for KVM VMs or lxc for Linux containers',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_vmid',
    label: 'Proxmox VM ID',
    type: 'text',
    description: 'The unique numeric ID assigned to this VM or container by Proxmox VE',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
  // Issue #17: beyond the seed, same group; proxmox_vm_uid is unique (Diode's CustomFieldMatcher).
  {
    name: 'proxmox_vm_uid',
    label: 'Proxmox VM UID',
    type: 'text',
    description: 'Cluster name and VMID (<cluster>/<vmid>): identifies the guest across renames and migrations between nodes',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
    unique: true,
  },
  {
    name: 'proxmox_last_backup',
    label: 'Proxmox Last Backup',
    type: 'datetime',
    description: 'Creation time of the newest backup volume of this guest on any backup storage the agent can read',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_backup_storage',
    label: 'Proxmox Backup Storage',
    type: 'text',
    description: 'Storage holding the newest backup of this guest',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_backup_verification',
    label: 'Proxmox Backup Verification',
    type: 'text',
    description: 'Verification state of the newest backup (ok, failed; none when not verified or not on Proxmox Backup Server)',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
  {
    name: 'proxmox_backup_job',
    label: 'Proxmox Backup Job',
    type: 'boolean',
    description: 'True when a backup job covers this guest (Proxmox VE: guests not in GET /cluster/backup-info/not-backed-up)',
    object_types: ['virtualization.virtualmachine'],
    group_name: 'Proxmox VE',
  },
]
  .sort((a, b) => (a.name < b.name ? -1 : 1))
  .map((value) => ({ kind: 'custom_field', value }));

const STATIC = [
  { kind: 'tag', value: { name: 'discovered', slug: 'discovered', color: '198754' } },
  { kind: 'tag', value: { name: 'proxmox-ve', slug: 'proxmox-ve', color: 'e57000' } },
  ...CUSTOM_FIELDS,
  { kind: 'cluster_type', value: { name: 'Proxmox', slug: 'proxmox', tags: STATIC_TAGS } },
];

describe('status, name and platform rules', () => {
  it('maps statuses per the seed tables', () => {
    expect(['running', 'stopped', 'paused', 'unknown', 'prelaunch'].map(vmStatus)).toEqual(['active', 'offline', 'staged', 'staged', 'staged']);
    expect(['online', 'offline', 'unknown'].map(deviceStatus)).toEqual(['active', 'offline', 'offline']);
  });

  it('resolves the cluster name: CLUSTER_NAME, then /cluster/status, then PROXMOX_HOST', () => {
    const snap: PveSnapshot = { bootstrap: false, host: 'pve.example.com', clusterName: 'prod', nodes: [], guests: [] };
    expect(clusterName(snap, ctx({ CLUSTER_NAME: 'Override' }).config)).toBe('Override');
    expect(clusterName(snap, ctx().config)).toBe('prod');
    expect(clusterName({ ...snap, clusterName: undefined }, ctx().config)).toBe('pve.example.com');
  });

  it('maps every ostype of the seed table, title-cases unknown ones, and none for unmanaged/other', () => {
    const seed: Record<string, string | undefined> = {
      l24: 'Linux',
      l26: 'Linux',
      w2k: 'Windows 2000',
      w2k3: 'Windows Server 2003',
      w2k8: 'Windows Server 2008',
      wvista: 'Windows Vista',
      win7: 'Windows 7',
      win8: 'Windows 8/2012',
      win10: 'Windows 10/2016/2019',
      win11: 'Windows 11/2022',
      solaris: 'Solaris',
      debian: 'Debian',
      ubuntu: 'Ubuntu',
      centos: 'CentOS',
      fedora: 'Fedora',
      opensuse: 'openSUSE',
      archlinux: 'Arch Linux',
      alpine: 'Alpine Linux',
      gentoo: 'Gentoo',
      nixos: 'NixOS',
      unmanaged: undefined,
      other: undefined,
      wxp: 'Wxp',
      'my-os2': 'My-Os2',
      toString: 'Tostring',
    };
    expect(Object.fromEntries(Object.keys(seed).map((k) => [k, ostypePlatform(k)]))).toEqual(seed);
    expect(ostypePlatform(undefined)).toBeUndefined();
    expect(titleCase('w2k19 x_y')).toBe('W2K19 X_Y');
  });

  it('prefers the guest agent for QEMU and always uses ostype for LXC', () => {
    const g = (type: 'qemu' | 'lxc', osinfo?: PveGuest['agent']): PveGuest => ({
      type,
      vmid: 1,
      name: 'g',
      node: 'n',
      status: 'running',
      tags: [],
      config: { ostype: 'l26', onboot: false, agentEnabled: true, nets: [], disks: [] },
      ...(osinfo && { agent: osinfo }),
    });
    expect(guestPlatformName(g('qemu', { osinfo: { name: 'Ubuntu', versionId: '24.04', prettyName: 'Ubuntu 24.04.1 LTS' } }))).toBe('Ubuntu 24.04');
    expect(guestPlatformName(g('qemu', { osinfo: { name: 'Microsoft Windows', versionId: '2022' } }))).toBe('Microsoft Windows 2022');
    expect(guestPlatformName(g('qemu', { osinfo: { name: 'Arch Linux' } }))).toBe('Arch Linux');
    expect(guestPlatformName(g('qemu', { osinfo: { prettyName: 'nameless' } }))).toBe('Linux');
    expect(guestPlatformName(g('qemu'))).toBe('Linux');
    expect(guestPlatformName(g('lxc', { osinfo: { name: 'Ubuntu', versionId: '24.04' } }))).toBe('Linux');
    expect(nodePlatformName('9.0')).toBe('Proxmox VE 9.0');
    expect(nodePlatformName(undefined)).toBeUndefined();
  });
});

describe('mapPve', () => {
  it('emits only the static entities in BOOTSTRAP mode', () => {
    expect(mapPve({ bootstrap: true, host: '', nodes: [], guests: [] }, ctx({ BOOTSTRAP: true }))).toEqual(STATIC);
  });

  it('maps a cluster: nodes, guests, IPs, primaries, VLANs, prefixes, disks and tags', () => {
    const snapshot: PveSnapshot = {
      bootstrap: false,
      host: 'pve.example.com',
      apiVersion: '8.2.4',
      clusterName: 'prod',
      nodes: [
        {
          name: 'pve1',
          status: 'online',
          maxcpu: 8,
          maxmem: 17179869184,
          version: '8.2',
          network: [
            { iface: 'vmbr0', type: 'bridge', cidr: '192.0.2.10/24', priority: 1 },
            { iface: 'vmbr0.30', type: 'vlan', vlanId: 30, priority: 2 },
          ],
        },
        { name: 'pve2', status: 'offline' },
      ],
      guests: [
        {
          type: 'qemu',
          vmid: 100,
          name: 'web',
          node: 'pve1',
          status: 'running',
          maxcpu: 2,
          maxmem: 2147483648,
          tags: ['prod', 'discovered', 'Prod'],
          hastate: 'started',
          config: {
            ostype: 'l26',
            description: 'Web server\n',
            onboot: true,
            agentEnabled: true,
            nets: [
              { key: 'net0', name: 'net0', mac: 'BC:24:11:00:00:AA', vlan: 30 },
              { key: 'net1', name: 'net1', mac: 'BC:24:11:00:00:BB' },
            ],
            disks: [
              { key: 'ide0', volume: 'local-lvm:vm-100-cloudinit', storage: 'local-lvm', cdrom: true, cloudinit: true, none: false },
              { key: 'ide2', volume: 'none', cdrom: true, cloudinit: false, none: true },
              { key: 'scsi0', volume: 'local-lvm:vm-100-disk-0', storage: 'local-lvm', sizeMb: 32768, cdrom: false, cloudinit: false, none: false },
              { key: 'scsi1', volume: '/dev/disk/by-id/ata-X', cdrom: false, cloudinit: false, none: false },
            ],
          },
          agent: {
            osinfo: { id: 'ubuntu', name: 'Ubuntu', versionId: '24.04' },
            interfaces: [
              { name: 'lo', mac: '00:00:00:00:00:00', addresses: [{ address: '127.0.0.1', family: 'ipv4', prefix: 8 }] },
              {
                name: 'eth0',
                mac: 'bc:24:11:00:00:aa',
                addresses: [
                  { address: '192.0.2.50', family: 'ipv4', prefix: 24 },
                  { address: 'fe80::be24:11ff:fe00:aa', family: 'ipv6', prefix: 64 },
                  { address: '2001:DB8:0::50', family: 'ipv6', prefix: 64 },
                ],
              },
              { name: 'docker0', mac: 'bc:24:11:00:00:aa', addresses: [{ address: '172.17.0.1', family: 'ipv4', prefix: 16 }] },
              { name: 'eth1', mac: 'bc:24:11:00:00:bb', addresses: [{ address: '198.51.100.7', family: 'ipv4', prefix: 24 }] },
              { name: 'wg0', addresses: [{ address: '10.99.0.1', family: 'ipv4', prefix: 24 }] },
            ],
          },
        },
        { type: 'qemu', vmid: 101, name: 'legacy', node: 'pve1', status: 'paused', tags: [] },
        {
          type: 'qemu',
          vmid: 102,
          name: 'dup-ip',
          node: 'pve1',
          status: 'running',
          maxcpu: 1,
          maxmem: 1073741824,
          tags: [],
          config: { onboot: false, agentEnabled: true, nets: [{ key: 'net0', name: 'net0', mac: 'BC:24:11:00:00:DD' }], disks: [] },
          agent: { interfaces: [{ name: 'eth0', mac: 'BC:24:11:00:00:DD', addresses: [{ address: '192.0.2.10', family: 'ipv4', prefix: 24 }] }] },
        },
        {
          type: 'lxc',
          vmid: 200,
          name: 'ct',
          node: 'pve2',
          status: 'stopped',
          maxcpu: 1,
          maxmem: 536870912,
          tags: [],
          config: {
            ostype: 'alpine',
            onboot: false,
            agentEnabled: false,
            nets: [{ key: 'net0', name: 'eth0', mac: 'BC:24:11:00:00:CC', vlan: 40, ipv4: '203.0.113.5/24', ipv6: 'fe80::5/64' }],
            disks: [{ key: 'rootfs', volume: 'local:200/vm-200-disk-0.raw', storage: 'local', sizeMb: 8192, cdrom: false, cloudinit: false, none: false }],
          },
        },
      ],
    };
    const c = ctx({ SITE_NAME: 'Main', NODE_SITE_MAP: 'pve2:Edge' });
    // Every reference carries what its object needs to be created and matched on its own.
    const deviceBase = {
      device_type: { model: 'Proxmox Node', slug: 'proxmox-node', manufacturer: { name: 'Proxmox', slug: 'proxmox' } },
      role: { name: 'Hypervisor', slug: 'hypervisor' },
    };
    const pve1 = { name: 'pve1', site: site('Main'), ...deviceBase };
    const pve2 = { name: 'pve2', site: site('Edge'), ...deviceBase };
    const vm = (name: string) => ({
      name,
      cluster: { name: 'prod', type: { name: 'Proxmox', slug: 'proxmox' }, scope_site: site('Main') },
      site: site('Main'),
    });
    const expected = [
      { kind: 'tag', value: { name: 'discovered', slug: 'discovered', color: '198754' } },
      { kind: 'tag', value: { name: 'prod', slug: 'prod' } },
      { kind: 'tag', value: { name: 'proxmox-pve.example.com', slug: 'proxmox-pve-example-com', color: 'fd7e14' } },
      { kind: 'tag', value: { name: 'proxmox-ve', slug: 'proxmox-ve', color: 'e57000' } },
      ...CUSTOM_FIELDS,
      { kind: 'cluster_type', value: { name: 'Proxmox', slug: 'proxmox', tags: STATIC_TAGS } },
      { kind: 'cluster', value: { name: 'prod', type: { name: 'Proxmox', slug: 'proxmox' }, scope_site: site('Main'), status: 'active', tags: TAGS } },
      { kind: 'platform', value: { name: 'Alpine Linux', slug: 'alpine-linux', tags: TAGS } },
      { kind: 'platform', value: { name: 'Proxmox VE 8.2', slug: 'proxmox-ve-8-2', tags: TAGS } },
      { kind: 'platform', value: { name: 'Ubuntu 24.04', slug: 'ubuntu-24-04', tags: TAGS } },
      { kind: 'vlan', value: { vid: 40, name: 'VLAN 40', site: site('Edge'), status: 'active', tags: TAGS } },
      { kind: 'vlan', value: { vid: 30, name: 'VLAN 30', site: site('Main'), status: 'active', tags: TAGS } },
      // The container's node is in Edge but the VM sits in the cluster's site: VLAN kept, link dropped.
      { kind: 'vm_interface', value: { virtual_machine: vm('ct'), name: 'eth0', primary_mac_address: { mac_address: 'BC:24:11:00:00:CC' }, tags: TAGS } },
      { kind: 'vm_interface', value: { virtual_machine: vm('dup-ip'), name: 'net0', primary_mac_address: { mac_address: 'BC:24:11:00:00:DD' }, tags: TAGS } },
      {
        kind: 'vm_interface',
        value: {
          virtual_machine: vm('web'),
          name: 'net0',
          primary_mac_address: { mac_address: 'BC:24:11:00:00:AA' },
          mode: 'access',
          untagged_vlan: { vid: 30, name: 'VLAN 30', site: site('Main') },
          tags: TAGS,
        },
      },
      { kind: 'vm_interface', value: { virtual_machine: vm('web'), name: 'net1', primary_mac_address: { mac_address: 'BC:24:11:00:00:BB' }, tags: TAGS } },
      { kind: 'interface', value: { device: pve1, name: 'vmbr0', type: 'bridge', tags: TAGS } },
      {
        kind: 'ip_address',
        value: {
          address: '192.0.2.10/24',
          assigned_object_interface: { device: { ...pve1, primary_ip4: { address: '192.0.2.10/24' } }, name: 'vmbr0', type: 'bridge' },
          status: 'active',
          tags: TAGS,
        },
      },
      {
        kind: 'ip_address',
        value: {
          address: '192.0.2.50/24',
          assigned_object_vm_interface: { virtual_machine: { ...vm('web'), primary_ip4: { address: '192.0.2.50/24' } }, name: 'net0' },
          status: 'active',
          tags: TAGS,
        },
      },
      {
        kind: 'ip_address',
        value: { address: '198.51.100.7/24', assigned_object_vm_interface: { virtual_machine: vm('web'), name: 'net1' }, status: 'active', tags: TAGS },
      },
      {
        kind: 'ip_address',
        value: {
          address: '2001:db8::50/64',
          assigned_object_vm_interface: { virtual_machine: { ...vm('web'), primary_ip6: { address: '2001:db8::50/64' } }, name: 'net0' },
          status: 'active',
          tags: TAGS,
        },
      },
      {
        kind: 'ip_address',
        value: {
          address: '203.0.113.5/24',
          assigned_object_vm_interface: { virtual_machine: { ...vm('ct'), primary_ip4: { address: '203.0.113.5/24' } }, name: 'eth0' },
          status: 'active',
          tags: TAGS,
        },
      },
      // Only pve1 (Main) carries the network: scoped to Main.
      { kind: 'prefix', value: { prefix: '192.0.2.0/24', scope_site: site('Main'), status: 'active', tags: TAGS } },
      {
        kind: 'virtual_machine',
        value: {
          ...vm('ct'),
          status: 'offline',
          platform: { name: 'Alpine Linux', slug: 'alpine-linux' },
          vcpus: 1,
          memory: 512,
          start_on_boot: 'off',
          tags: TAGS,
          custom_fields: {
            proxmox_vmid: { text: '200' },
            proxmox_node: { text: 'pve2' },
            proxmox_vm_type: { text: 'lxc' },
            proxmox_vm_uid: { text: 'prod/200' },
          },
        },
      },
      {
        kind: 'virtual_machine',
        value: {
          ...vm('dup-ip'),
          status: 'active',
          vcpus: 1,
          memory: 1024,
          start_on_boot: 'off',
          tags: TAGS,
          custom_fields: {
            proxmox_vmid: { text: '102' },
            proxmox_node: { text: 'pve1' },
            proxmox_vm_type: { text: 'qemu' },
            proxmox_vm_uid: { text: 'prod/102' },
          },
        },
      },
      {
        kind: 'virtual_machine',
        value: {
          ...vm('legacy'),
          status: 'staged',
          tags: TAGS,
          custom_fields: {
            proxmox_vmid: { text: '101' },
            proxmox_node: { text: 'pve1' },
            proxmox_vm_type: { text: 'qemu' },
            proxmox_vm_uid: { text: 'prod/101' },
          },
        },
      },
      {
        kind: 'virtual_machine',
        value: {
          ...vm('web'),
          status: 'active',
          platform: { name: 'Ubuntu 24.04', slug: 'ubuntu-24-04' },
          vcpus: 2,
          memory: 2048,
          comments: 'Web server',
          start_on_boot: 'on',
          tags: [...TAGS, T('prod')],
          custom_fields: {
            proxmox_vmid: { text: '100' },
            proxmox_node: { text: 'pve1' },
            proxmox_vm_type: { text: 'qemu' },
            proxmox_ha_state: { text: 'started' },
            proxmox_vm_uid: { text: 'prod/100' },
          },
        },
      },
      {
        kind: 'virtual_disk',
        value: { virtual_machine: vm('ct'), name: 'rootfs', size: 8192, custom_fields: { proxmox_storage_pool: { text: 'local' } }, tags: TAGS },
      },
      {
        kind: 'virtual_disk',
        value: { virtual_machine: vm('web'), name: 'scsi0', size: 32768, custom_fields: { proxmox_storage_pool: { text: 'local-lvm' } }, tags: TAGS },
      },
      // No primary_ip4 on the Device: the primary IP's own entity sets it.
      { kind: 'device', value: { ...pve2, status: 'offline', tags: TAGS } },
      {
        kind: 'device',
        value: {
          ...pve1,
          platform: { name: 'Proxmox VE 8.2', slug: 'proxmox-ve-8-2' },
          status: 'active',
          custom_fields: { proxmox_cpu_count: { integer: 8 }, proxmox_memory_mb: { integer: 16384 } },
          tags: TAGS,
        },
      },
    ];
    const out = mapPve(snapshot, c);
    // dup-ip reports 192.0.2.10, which pve1 holds: the one address left out, counted.
    const it = mapPveEach(snapshot, c);
    let step = it.next();
    while (!step.done) step = it.next();
    expect(step.value).toEqual({ measures: { addresses_dropped: 1 } });
    expect(out).toStrictEqual(expected);
    // Deterministic and already in emission order.
    expect(mapPve(structuredClone(snapshot), c)).toStrictEqual(out);
    expect(orderEntities(out)).toStrictEqual(out);
  });

  it('never merges two guests of one name into one VM', () => {
    const guest = (vmid: number, name: string, mac: string): PveGuest => ({
      type: 'qemu',
      vmid,
      name,
      node: 'n1',
      status: 'stopped',
      tags: [],
      config: { onboot: false, agentEnabled: false, nets: [{ key: 'net0', name: 'net0', mac }], disks: [] },
    });
    const out = mapPve(
      { bootstrap: false, host: 'h', clusterName: 'c', nodes: [], guests: [guest(1, 'Same', 'BC:24:11:00:00:01'), guest(2, 'same', 'BC:24:11:00:00:02')] },
      ctx(),
    );
    expect(out.filter((e) => e.kind === 'virtual_machine' || e.kind === 'vm_interface').map((e) => [e.kind, e.value.name])).toEqual([
      ['vm_interface', 'net0'],
      ['virtual_machine', 'Same'],
    ]);
    expect(out.find((e) => e.kind === 'vm_interface')?.value).toMatchObject({ primary_mac_address: { mac_address: 'BC:24:11:00:00:01' } });
  });

  it('puts the untagged VLAN on a guest NIC when node and cluster share the site, and uses CLUSTER_NAME', () => {
    const out = mapPve(
      {
        bootstrap: false,
        host: 'h',
        clusterName: 'ignored',
        nodes: [],
        guests: [
          {
            type: 'lxc',
            vmid: 7,
            name: 'c7',
            node: 'n1',
            status: 'running',
            tags: [],
            config: { onboot: true, agentEnabled: false, nets: [{ key: 'net3', name: 'net3', vlan: 5 }], disks: [] },
          },
        ],
      },
      ctx({ CLUSTER_NAME: 'Named', NODE_SITE_MAP: 'n1:Proxmox' }),
    );
    expect(out.filter((e) => e.kind === 'vm_interface' || e.kind === 'vlan').map((e) => e.value)).toEqual([
      { vid: 5, name: 'VLAN 5', site: site('Proxmox'), status: 'active', tags: TAGS },
      {
        virtual_machine: { name: 'c7', cluster: { name: 'Named', type: T('Proxmox', 'proxmox'), scope_site: site('Proxmox') }, site: site('Proxmox') },
        name: 'net3',
        mode: 'access',
        untagged_vlan: { vid: 5, name: 'VLAN 5', site: site('Proxmox') },
        tags: TAGS,
      },
    ]);
  });

  it('emits one Prefix per network, global when nodes at two sites carry it, scoped when one site does', () => {
    const node = (name: string, cidrs: string[]) => ({
      name,
      status: 'online',
      network: cidrs.map((cidr, i) => ({ iface: `vmbr${i}`, type: 'bridge', cidr, priority: i })),
    });
    const out = mapPve(
      {
        bootstrap: false,
        host: 'h',
        clusterName: 'c',
        guests: [],
        nodes: [node('a', ['10.0.0.1/24', '10.1.0.1/24']), node('b', ['10.0.0.2/24']), node('c', ['10.2.0.3/24'])],
      },
      ctx({ NODE_SITE_MAP: 'a:London,b:Paris,c:Paris' }),
    );
    expect(out.filter((e) => e.kind === 'prefix').map((e) => e.value)).toEqual([
      { prefix: '10.0.0.0/24', status: 'active', tags: TAGS },
      { prefix: '10.1.0.0/24', scope_site: site('London'), status: 'active', tags: TAGS },
      { prefix: '10.2.0.0/24', scope_site: site('Paris'), status: 'active', tags: TAGS },
    ]);
  });
});
