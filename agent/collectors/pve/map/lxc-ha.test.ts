import { describe, expect, it } from 'vitest';
import { pveConfigSchema, type PveConfig } from '../config.ts';
import type { PveGuest, PveSnapshot } from '../snapshot.ts';
import type { MapContext } from '../../../../mappers/types.ts';
import { mapPve } from './index.ts';

/* Issue #17 items 2 and 7 in the mapper: which container addresses each LXC_ADDRESSES takes, and the HA/replication fields. */

const NOW = new Date('2025-01-01T00:00:00Z');

function ctx(extra: Record<string, unknown> = {}): MapContext<PveConfig> {
  const config = pveConfigSchema.parse({ PROXMOX_HOST: 'pve.example.com', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 'x', ...extra });
  return { config, scope: { nodes: ['*'] }, now: NOW, policyName: 'test' };
}

const container: PveGuest = {
  type: 'lxc',
  vmid: 300,
  name: 'ct300',
  node: 'pve1',
  status: 'running',
  tags: [],
  config: {
    onboot: false,
    agentEnabled: false,
    disks: [],
    nets: [
      { key: 'net0', name: 'eth0', mac: 'BC:24:11:00:03:00' },
      { key: 'net1', name: 'eth1', mac: 'BC:24:11:00:03:01', ipv4: '10.1.0.30/24', ipv6: 'fd00::30/64' },
    ],
  },
  lxcRuntime: [
    {
      name: 'eth0',
      mac: 'bc:24:11:00:03:00',
      addresses: [
        { address: '10.0.0.30', prefix: 24, family: 4 },
        { address: 'fe80::1', prefix: 64, family: 6 },
      ],
    },
    // The same host as the config's, another prefix length: one IP address, the config's.
    {
      name: 'eth1',
      mac: 'bc:24:11:00:03:01',
      addresses: [
        { address: '10.1.0.30', prefix: 16, family: 4 },
        { address: '0.0.0.0', prefix: 0, family: 4 },
      ],
    },
  ],
};

const snapshot = (guests: PveGuest[]): PveSnapshot => ({ bootstrap: false, host: 'pve.example.com', clusterName: 'lab', nodes: [], guests });

function ips(extra: Record<string, unknown>, guest: PveGuest = container): Array<[string, string, string | undefined]> {
  return mapPve(snapshot([guest]), ctx(extra)).flatMap((e) => {
    if (e.kind !== 'ip_address') return [];
    const owner = e.value.assigned_object_vm_interface;
    const vm = owner?.virtual_machine;
    return [[e.value.address ?? '', owner?.name ?? '', vm?.primary_ip4?.address ?? vm?.primary_ip6?.address]];
  });
}

describe('LXC_ADDRESSES in the mapper', () => {
  it('config takes the static addresses only, whatever the container reported', () => {
    expect(ips({})).toEqual([
      ['10.1.0.30/24', 'eth1', '10.1.0.30/24'],
      ['fd00::30/64', 'eth1', 'fd00::30/64'],
    ]);
  });

  it('runtime takes what the running container reported instead, without link-local or unspecified addresses', () => {
    expect(ips({ LXC_ADDRESSES: 'runtime' })).toEqual([
      ['10.0.0.30/24', 'eth0', '10.0.0.30/24'],
      ['10.1.0.30/16', 'eth1', undefined],
    ]);
  });

  it('runtime falls back to the config when the container was not asked or did not answer', () => {
    const { lxcRuntime: _, ...unasked } = container;
    expect(ips({ LXC_ADDRESSES: 'runtime' }, unasked)).toEqual([
      ['10.1.0.30/24', 'eth1', '10.1.0.30/24'],
      ['fd00::30/64', 'eth1', 'fd00::30/64'],
    ]);
  });

  it('both takes the config addresses first (they keep the primaries), then the runtime ones whose host the config did not give', () => {
    // In emission order (by address), not the guest's.
    expect(ips({ LXC_ADDRESSES: 'both' })).toEqual([
      ['10.0.0.30/24', 'eth0', undefined],
      ['10.1.0.30/24', 'eth1', '10.1.0.30/24'],
      ['fd00::30/64', 'eth1', 'fd00::30/64'],
    ]);
  });
});

describe('HA and replication fields', () => {
  const vm: PveGuest = { type: 'qemu', vmid: 100, name: 'web01', node: 'pve1', status: 'running', tags: [] };
  const fields = (entities: ReturnType<typeof mapPve>): string[] =>
    entities
      .flatMap((e) => (e.kind === 'custom_field' ? [e.value.name ?? ''] : []))
      .filter((n) => n.startsWith('proxmox_ha_rules') || n.startsWith('proxmox_replication'));
  const values = (guest: PveGuest, extra: Record<string, unknown>) => {
    const e = mapPve(snapshot([guest]), ctx(extra)).find((x) => x.kind === 'virtual_machine');
    const cf = e?.kind === 'virtual_machine' ? (e.value.custom_fields ?? {}) : {};
    return Object.fromEntries(Object.entries(cf).filter(([k]) => k.startsWith('proxmox_ha_rules') || k.startsWith('proxmox_replication')));
  };

  it('defines the fields only while their switch is on, in BOOTSTRAP too', () => {
    expect(fields(mapPve(snapshot([vm]), ctx()))).toEqual([]);
    expect(fields(mapPve(snapshot([vm]), ctx({ HA_STATUS: true })))).toEqual(['proxmox_ha_rules']);
    expect(fields(mapPve(snapshot([vm]), ctx({ REPLICATION_STATUS: true })))).toEqual(['proxmox_replication_jobs', 'proxmox_replication_targets']);
    expect(fields(mapPve({ bootstrap: true, host: '', nodes: [], guests: [] }, ctx({ BOOTSTRAP: true, HA_STATUS: true, REPLICATION_STATUS: true })))).toEqual([
      'proxmox_ha_rules',
      'proxmox_replication_jobs',
      'proxmox_replication_targets',
    ]);
  });

  it('says none for a guest in no rule and no job, and leaves out what was not read', () => {
    expect(values({ ...vm, ha: { rules: [] }, replication: [] }, { HA_STATUS: true, REPLICATION_STATUS: true })).toEqual({
      proxmox_ha_rules: { text: 'none' },
      proxmox_replication_targets: { text: 'none' },
      proxmox_replication_jobs: { json: 'null' },
    });
    expect(values(vm, { HA_STATUS: true, REPLICATION_STATUS: true })).toEqual({});
  });

  it('lists the targets of enabled jobs only, once each, and every job in the JSON', () => {
    const replication = [
      { id: '100-0', target: 'pve3', schedule: '*/15' },
      { id: '100-1', target: 'pve2', schedule: '02:00', disabled: true },
      { id: '100-2', target: 'pve4', schedule: '*/15', removal: 'local' },
      { id: '100-3', target: 'pve2', schedule: '*/30' },
    ];
    expect(values({ ...vm, ha: { rules: ['a', 'b'] }, replication }, { HA_STATUS: true, REPLICATION_STATUS: true })).toEqual({
      proxmox_ha_rules: { text: 'a,b' },
      proxmox_replication_targets: { text: 'pve2,pve3' },
      proxmox_replication_jobs: { json: JSON.stringify(replication) },
    });
  });
});
