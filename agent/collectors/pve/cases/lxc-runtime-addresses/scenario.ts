import { readFileSync } from 'node:fs';
import type { PveScenario, PveScenarioGuest } from '../../fake.ts';

/*
 * LXC_ADDRESSES: runtime (issue #17). ct 101 is go-proxmox's container (test/fixtures/pve/NOTICE):
 * its config (ip=dhcp) and its GET …/interfaces answer in the older shape (name, hwaddr,
 * inet, inet6; a link-local inet6 and lo) byte for byte. ct 102 answers in the newer shape
 * (`ip-addresses`, every address; pve-container src/PVE/LXC.pm get_interfaces), with a NIC
 * renamed inside the container (matched by MAC) and a docker0 the config does not know.
 * The rest: stopped (not asked), static only (not asked), on a PVE 8.0 node (no endpoint:
 * 501), and stopped between /cluster/resources and the call (`data: null`).
 */
const fx = (name: string): unknown =>
  (JSON.parse(readFileSync(new URL(`../../../../../test/fixtures/pve/go-proxmox/${name}`, import.meta.url), 'utf8')) as { data: unknown }).data;

const resource = (vmid: number, name: string, node: string, status: string): Record<string, unknown> => ({
  id: `lxc/${vmid}`,
  type: 'lxc',
  vmid,
  name,
  node,
  status,
  template: 0,
  maxcpu: 1,
  maxmem: 1073741824,
  maxdisk: 8589934592,
  cpu: 0,
  mem: 0,
  disk: 0,
  uptime: status === 'running' ? 3600 : 0,
  netin: 0,
  netout: 0,
  diskread: 0,
  diskwrite: 0,
});

const guests: PveScenarioGuest[] = [
  {
    resource: resource(101, 'ct-test-2', 'pve1', 'running'),
    config: fx('pve9x/nodes_node1_lxc_101_config.json'),
    interfaces: fx('pve9x/nodes_node1_lxc_101_interfaces.json') as unknown[],
  },
  {
    resource: resource(102, 'ct-multi', 'pve1', 'running'),
    config: {
      hostname: 'ct-multi',
      ostype: 'debian',
      arch: 'amd64',
      memory: 1024,
      net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:50:00:02,ip=dhcp,ip6=auto,type=veth',
      net1: 'name=eth1,bridge=vmbr1,hwaddr=BC:24:11:50:01:02,ip=10.1.0.5/24,type=veth',
      net2: 'name=eth2,bridge=vmbr0,hwaddr=BC:24:11:50:02:02,ip=dhcp,type=veth',
      rootfs: 'local-lvm:vm-102-disk-0,size=8G',
    },
    interfaces: [
      {
        name: 'lo',
        hwaddr: '00:00:00:00:00:00',
        'hardware-address': '00:00:00:00:00:00',
        inet: '127.0.0.1/8',
        inet6: '::1/128',
        'ip-addresses': [
          { 'ip-address': '127.0.0.1', 'ip-address-type': 'inet', prefix: 8 },
          { 'ip-address': '::1', 'ip-address-type': 'inet6', prefix: 128 },
        ],
      },
      {
        name: 'eth0',
        hwaddr: 'bc:24:11:50:00:02',
        'hardware-address': 'bc:24:11:50:00:02',
        inet: '10.0.0.51/24',
        inet6: 'fe80::be24:11ff:fe50:2/64',
        'ip-addresses': [
          { 'ip-address': '10.0.0.50', 'ip-address-type': 'inet', prefix: 24 },
          { 'ip-address': '10.0.0.51', 'ip-address-type': 'inet', prefix: 24 },
          { 'ip-address': '2001:db8:0:1:0:0:0:50', 'ip-address-type': 'inet6', prefix: 64 },
          { 'ip-address': 'fe80::be24:11ff:fe50:2', 'ip-address-type': 'inet6', prefix: 64 },
        ],
      },
      {
        name: 'eth1',
        hwaddr: 'bc:24:11:50:01:02',
        'hardware-address': 'bc:24:11:50:01:02',
        inet: '10.1.0.5/24',
        'ip-addresses': [{ 'ip-address': '10.1.0.5', 'ip-address-type': 'inet', prefix: 24 }],
      },
      {
        name: 'lan0',
        hwaddr: 'bc:24:11:50:02:02',
        'hardware-address': 'bc:24:11:50:02:02',
        inet: '10.2.0.7/24',
        'ip-addresses': [{ 'ip-address': '10.2.0.7', 'ip-address-type': 'inet', prefix: '24' }],
      },
      {
        name: 'docker0',
        hwaddr: '02:42:ac:11:00:01',
        'hardware-address': '02:42:ac:11:00:01',
        inet: '172.17.0.1/16',
        'ip-addresses': [{ 'ip-address': '172.17.0.1', 'ip-address-type': 'inet', prefix: 16 }],
      },
    ],
  },
  {
    resource: resource(103, 'ct-stopped', 'pve1', 'stopped'),
    config: { hostname: 'ct-stopped', ostype: 'debian', net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:50:00:03,ip=dhcp,type=veth' },
  },
  {
    resource: resource(104, 'ct-static', 'pve1', 'running'),
    config: { hostname: 'ct-static', ostype: 'debian', net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:50:00:04,ip=10.0.0.104/24,ip6=manual,type=veth' },
  },
  {
    resource: resource(105, 'ct-old-node', 'pve2', 'running'),
    config: { hostname: 'ct-old-node', ostype: 'alpine', net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:50:00:05,ip=dhcp,ip6=dhcp,type=veth' },
  },
  {
    resource: resource(107, 'ct-gone', 'pve1', 'running'),
    config: { hostname: 'ct-gone', ostype: 'debian', net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:50:00:07,ip=dhcp,type=veth' },
    interfaces: null,
  },
];

const scenario: PveScenario = {
  cluster: 'lab',
  nodes: [
    { name: 'pve1', network: [] },
    { name: 'pve2', pveversion: 'pve-manager/8.0.4/d258a813cfa6b390', network: [] },
  ],
  guests,
};

export default scenario;
