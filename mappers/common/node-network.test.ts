import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { networkRowSchema } from '../../agent/collectors/pve/schema.ts';
import { deviceRef, tagRef } from './refs.ts';
import { PVE_NODE } from './vocabulary.ts';
import { canonicalAddress, isLinkLocal, mapNodeNetwork, networkOf, nodeInterfaceType, parseCidrText, withPrefix } from './node-network.ts';
import type { NodeNetworkRow } from '../../agent/collectors/snapshot.ts';

const tags = [tagRef('proxmox-ve'), tagRef('discovered')];
const site = (name: string) => ({ name, slug: name.toLowerCase() });
const fixtureRows = (file: string): NodeNetworkRow[] => {
  const body = JSON.parse(readFileSync(new URL(`../../test/fixtures/pve/go-proxmox/pve9x/${file}`, import.meta.url), 'utf8')) as { data: unknown[] };
  return body.data.map((r) => networkRowSchema.parse(r));
};

describe('nodeInterfaceType', () => {
  it('follows the seed table, everything else is other', () => {
    const pve = ['bridge', 'bond', 'vlan', 'alias', 'OVSBridge', 'OVSBond', 'OVSPort', 'OVSIntPort', 'eth', 'unknown', 'toString', 'ovsbridge'];
    expect(pve.map(nodeInterfaceType)).toEqual([
      'bridge',
      'lag',
      'virtual',
      'virtual',
      'bridge',
      'lag',
      'virtual',
      'virtual',
      'other',
      'other',
      'other',
      'other',
    ]);
  });
});

describe('addresses', () => {
  it('reads CIDRs and address + netmask in both mask forms', () => {
    expect(parseCidrText('192.168.1.101/24')).toEqual({ family: 4, address: '192.168.1.101', prefixLength: 24 });
    expect(withPrefix('10.0.0.5', '255.255.254.0')).toEqual({ family: 4, address: '10.0.0.5', prefixLength: 23 });
    expect(withPrefix('10.0.0.5', '255.0.255.0')).toBeUndefined();
    expect(withPrefix('2001:DB8:0:0:0:0:0:1', '64')).toEqual({ family: 6, address: '2001:db8::1', prefixLength: 64 });
    expect(withPrefix('fe80::1%eth0', '64')).toEqual({ family: 6, address: 'fe80::1', prefixLength: 64 });
    expect(parseCidrText('10.0.0.1/33')).toBeUndefined();
    expect(parseCidrText('not-an-ip/24')).toBeUndefined();
  });
  it('prints IPv6 the way NetBox does (RFC 5952)', () => {
    expect(canonicalAddress('2001:0db8:0000:0000:0001:0000:0000:0001', 6)).toBe('2001:db8::1:0:0:1');
    expect(canonicalAddress('0:0:0:0:0:0:0:0', 6)).toBe('::');
    expect(canonicalAddress('::ffff:192.0.2.1', 6)).toBe('::ffff:192.0.2.1');
    expect(canonicalAddress('2001:db8:0:1:1:1:1:1', 6)).toBe('2001:db8:0:1:1:1:1:1');
  });
  it('agrees with the WHATWG URL serializer on any IPv6 address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const url = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
        fc.pre(!url.startsWith('::ffff:'));
        expect(canonicalAddress(ip, 6)).toBe(url);
      }),
      { numRuns: 2000 },
    );
  });
  it('computes the network of an address', () => {
    expect(networkOf({ family: 4, address: '192.168.1.101', prefixLength: 24 })).toBe('192.168.1.0/24');
    expect(networkOf({ family: 4, address: '10.1.2.3', prefixLength: 0 })).toBe('0.0.0.0/0');
    expect(networkOf({ family: 6, address: '2001:db8:1:2:3:4:5:6', prefixLength: 48 })).toBe('2001:db8:1::/48');
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, len) => {
        const net = networkOf({ family: 4, address: ip, prefixLength: len });
        const c = parseCidrText(net);
        expect(c && networkOf(c)).toBe(net);
      }),
    );
  });
  it('knows link-local', () => {
    expect(['fe80::1', 'febf::1', 'fec0::1'].map((a) => isLinkLocal({ family: 6, address: a, prefixLength: 64 }))).toEqual([true, true, false]);
    expect(isLinkLocal({ family: 4, address: '169.254.3.4', prefixLength: 16 })).toBe(true);
  });
});

describe('mapNodeNetwork', () => {
  it('maps the go-proxmox node1 network: VLANs from vlan rows, no prefix for the /32, first IPv4 primary', () => {
    const device = deviceRef('node1', 'London', PVE_NODE);
    const out = mapNodeNetwork(device, site('London'), fixtureRows('nodes_node1_network.json'), tags);
    const withPrimary = { ...device, primary_ip4: { address: '192.168.2.50/32' } };
    expect(out).toEqual({
      interfaces: [
        { kind: 'interface', value: { device, name: 'eno1.2', type: 'virtual', tags } },
        { kind: 'interface', value: { device, name: 'vmbr2.2', type: 'virtual', tags } },
        { kind: 'interface', value: { device, name: 'vmbr2.8', type: 'virtual', tags } },
      ],
      ipAddresses: [
        {
          kind: 'ip_address',
          value: { address: '192.168.2.50/32', assigned_object_interface: { device: withPrimary, name: 'eno1.2', type: 'virtual' }, status: 'active', tags },
        },
        {
          kind: 'ip_address',
          value: { address: '192.168.22.31/24', assigned_object_interface: { device, name: 'vmbr2.2', type: 'virtual' }, status: 'active', tags },
        },
        // The fixture's address and cidr disagree; the seed says cidr first.
        {
          kind: 'ip_address',
          value: { address: '172.16.20.1/24', assigned_object_interface: { device, name: 'vmbr2.8', type: 'virtual' }, status: 'active', tags },
        },
      ],
      networks: ['192.168.22.0/24', '172.16.20.0/24'],
      conflicts: 0,
      vlans: [
        { kind: 'vlan', value: { vid: 2, name: 'VLAN 2', site: site('London'), status: 'active', tags } },
        { kind: 'vlan', value: { vid: 8, name: 'VLAN 8', site: site('London'), status: 'active', tags } },
      ],
      primaryIp4: '192.168.2.50/32',
    });
    // Only the primary IP's own entity carries primary_ip4 on its device stub.
    expect(out.interfaces.every((i) => i.value.device === device)).toBe(true);
  });

  it('maps the go-proxmox node2 network: a bridge with an address, its port skipped', () => {
    const device = deviceRef('node2', 'Proxmox', PVE_NODE);
    const out = mapNodeNetwork(device, site('Proxmox'), fixtureRows('nodes_node2_network.json'), tags);
    expect(out).toEqual({
      interfaces: [{ kind: 'interface', value: { device, name: 'vmbr0', type: 'bridge', tags } }],
      ipAddresses: [
        {
          kind: 'ip_address',
          value: {
            address: '192.168.1.101/24',
            assigned_object_interface: { device: { ...device, primary_ip4: { address: '192.168.1.101/24' } }, name: 'vmbr0', type: 'bridge' },
            status: 'active',
            tags,
          },
        },
      ],
      networks: ['192.168.1.0/24'],
      conflicts: 0,
      vlans: [],
      primaryIp4: '192.168.1.101/24',
    });
  });

  it('falls back to address+netmask, maps IPv6, speed and MTU, and skips loopback, link-local and claimed addresses', () => {
    const device = deviceRef('pbs', 'DC', PVE_NODE);
    const rows: NodeNetworkRow[] = [
      { iface: 'lo', type: 'loopback', cidr: '127.0.0.1/8', priority: 1 },
      { iface: 'dummy0', type: 'eth', cidr: '127.0.0.2/8', priority: 2 },
      {
        iface: 'bond0',
        type: 'bond',
        cidr: 'garbage',
        address: '10.9.8.7',
        netmask: '255.255.255.0',
        cidr6: '2001:db8::7/64',
        mtu: 9000,
        speedMbps: 25000,
        priority: 3,
      },
      { iface: 'vmbr9', type: 'OVSBridge', address6: 'fe80::1', netmask6: '64', priority: 4 },
      { iface: 'vmbr1', type: 'bridge', cidr: '10.1.1.1/24', cidr6: '2001:db8:1::1/128', priority: 5 },
      { iface: 'vmbr2', type: 'bridge', cidr: '10.2.2.2/24', priority: 6 },
      { iface: 'vlan77', type: 'vlan', vlanId: 77, priority: 7 },
    ];
    const out = mapNodeNetwork(device, site('DC'), rows, tags, { isClaimed: (a) => a === '10.2.2.2/24' });
    expect(out.interfaces.map((i) => i.value)).toEqual([
      { device, name: 'bond0', type: 'lag', mtu: 9000, speed: 25000000, tags },
      { device, name: 'vmbr1', type: 'bridge', tags },
    ]);
    expect(out.ipAddresses.map((i) => [i.value.address, i.value.assigned_object_interface])).toEqual([
      ['10.9.8.7/24', { device: { ...device, primary_ip4: { address: '10.9.8.7/24' } }, name: 'bond0', type: 'lag' }],
      ['2001:db8::7/64', { device: { ...device, primary_ip6: { address: '2001:db8::7/64' } }, name: 'bond0', type: 'lag' }],
      ['10.1.1.1/24', { device, name: 'vmbr1', type: 'bridge' }],
      ['2001:db8:1::1/128', { device, name: 'vmbr1', type: 'bridge' }],
    ]);
    expect(out.networks).toEqual(['10.9.8.0/24', '2001:db8::/64', '10.1.1.0/24']);
    expect(out.vlans.map((v) => v.value.name)).toEqual(['VLAN 77']);
    expect([out.primaryIp4, out.primaryIp6]).toEqual(['10.9.8.7/24', '2001:db8::7/64']);
  });

  it('is deterministic whatever order PVE lists the rows in', () => {
    const rows = fixtureRows('nodes_node1_network.json');
    const device = deviceRef('node1', 'S', PVE_NODE);
    const expected = mapNodeNetwork(device, site('S'), rows, tags);
    fc.assert(
      fc.property(fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }), (shuffled) => {
        expect(mapNodeNetwork(device, site('S'), shuffled, tags)).toEqual(expected);
      }),
    );
  });
});
