import { readFileSync } from 'node:fs';
import type { PveScenario } from '../../fake.ts';

/*
 * A standalone PVE 8.4.1 host served from DataDog/integrations-core's captures
 * (test/fixtures/pve/NOTICE): /version and /cluster/resources byte for byte (the fake
 * applies `type=vm` to the captured rows, as PVE would). DataDog captured no configs or
 * node network; those are written here in the shapes qemu-server and pve-container write
 * (qemu-server src/PVE/QemuServer/Network.pm `$net_fmt`, Drive.pm `%drivedesc_base`;
 * pve-container src/PVE/LXC/Config.pm).
 */
const fx = (name: string): unknown =>
  (JSON.parse(readFileSync(new URL(`../../../../../test/fixtures/pve/datadog-pve84/${name}`, import.meta.url), 'utf8')) as { data: unknown }).data;

const resources = fx('cluster_resources.json') as Array<Record<string, unknown>>;
const row = (id: string): Record<string, unknown> => {
  const r = resources.find((x) => x.id === id);
  if (!r) throw new Error(`fixture has no ${id}`);
  return r;
};
const NODE = 'ip-122-82-3-112';

const scenario: PveScenario = {
  version: fx('version.json') as PveScenario['version'],
  nodes: [
    {
      name: NODE,
      maxcpu: 72,
      maxmem: 540883783680,
      pveversion: 'pve-manager/8.4.1/2a2fa54b8503f96c',
      network: [
        { iface: 'ens5', type: 'eth', method: 'manual', method6: 'manual', active: 1, exists: 1, families: ['inet'], priority: 2 },
        {
          iface: 'vmbr0',
          type: 'bridge',
          method: 'static',
          method6: 'manual',
          bridge_ports: 'ens5',
          address: '122.82.3.112',
          netmask: '255.255.255.0',
          gateway: '122.82.3.1',
          active: 1,
          autostart: 1,
          families: ['inet'],
          priority: 3,
        },
      ],
    },
  ],
  guests: [
    {
      resource: row('qemu/100'),
      config: {
        name: 'VM 100',
        agent: '1',
        ostype: 'l26',
        memory: '2048',
        cores: 2,
        net0: 'virtio=BC:24:11:D1:5E:01,bridge=vmbr0,firewall=1',
        scsi0: 'local:100/vm-100-disk-0.qcow2,iothread=1,size=32G',
        ide2: 'local:iso/debian-12.10.0-amd64-netinst.iso,media=cdrom,size=633M',
      },
      agent: {
        kind: 'ok',
        osinfo: { id: 'debian', name: 'Debian GNU/Linux', 'pretty-name': 'Debian GNU/Linux 12 (bookworm)', version: '12 (bookworm)', 'version-id': '12' },
        interfaces: [
          { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }] },
          { name: 'ens18', 'hardware-address': 'bc:24:11:d1:5e:01', 'ip-addresses': [{ 'ip-address': '122.82.3.150', 'ip-address-type': 'ipv4', prefix: 24 }] },
        ],
      },
    },
    {
      resource: row('lxc/101'),
      config: {
        hostname: 'test-container',
        ostype: 'debian',
        memory: 512,
        net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:D1:5E:65,ip=dhcp,ip6=auto,type=veth',
        rootfs: 'local:101/vm-101-disk-0.raw,size=8G',
        tags: 'sarah-wiit;test;testtag',
      },
    },
    {
      resource: row('lxc/111'),
      config: {
        hostname: 'CT111',
        ostype: 'ubuntu',
        memory: 512,
        net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:D1:5E:6F,ip=122.82.3.111/24,gw=122.82.3.1,type=veth',
        rootfs: 'local:111/vm-111-disk-0.raw,size=4G',
        tags: 'tag1;test',
      },
    },
  ],
  overrides: { '/cluster/resources': resources },
};
export default scenario;
