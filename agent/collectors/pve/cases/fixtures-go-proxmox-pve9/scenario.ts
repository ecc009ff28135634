import { readFileSync } from 'node:fs';
import type { PveScenario, PveScenarioGuest } from '../../fake.ts';

/*
 * A cluster served from luthermonson/go-proxmox's PVE 9 captures (test/fixtures/pve/NOTICE):
 * /cluster/status, /nodes, /cluster/resources and two nodes' /network come byte for byte
 * from the fixtures; the fake only routes them. The fixtures hold one QEMU config and
 * guest-agent pair, used for qemu/100; the other guests' configs are written here.
 */
const fx = (name: string): unknown =>
  (JSON.parse(readFileSync(new URL(`../../../../../test/fixtures/pve/go-proxmox/${name}`, import.meta.url), 'utf8')) as { data: unknown }).data;

const resources = fx('pve9x/cluster_resources.json') as Array<Record<string, unknown>>;
const row = (id: string): Record<string, unknown> => {
  const r = resources.find((x) => x.id === id);
  if (!r) throw new Error(`fixture has no ${id}`);
  return r;
};
const osinfo = fx('pve9x/nodes_node1_qemu_101_agent_get-osinfo.json') as { result: Record<string, unknown> };
const ifaces = fx('pve9x/nodes_node1_qemu_101_agent_network-get-interfaces.json') as { result: unknown[] };

const guests: PveScenarioGuest[] = [
  {
    resource: row('qemu/100'),
    // The captured config has no `agent` key; the captured agent answers belong to a VM with one.
    config: { ...(fx('pve9x/nodes_node1_qemu_100_config.json') as Record<string, unknown>), agent: '1' },
    agent: { kind: 'ok', osinfo: osinfo.result, interfaces: ifaces.result },
  },
  { resource: row('qemu/101'), config: { name: 'leap154', ostype: 'l26', template: 1, scsi0: 'local-zfs:base-101-disk-0,size=64G' } },
  {
    resource: row('qemu/102'),
    config: {
      name: 'machine-test',
      ostype: 'l26',
      tags: 'go-proxmox+cloud-init',
      net0: 'virtio=BC:24:11:9A:00:66,bridge=vmbr1,tag=2',
      scsi0: 'local-zfs:vm-102-disk-0,size=50G',
      ide2: 'local-zfs:vm-102-cloudinit,media=cdrom',
    },
  },
  { resource: row('qemu/200'), config: { name: 'VM 200', ostype: 'other', scsi0: 'local-zfs:vm-200-disk-0,size=50G' } },
];

const scenario: PveScenario = {
  cluster: 'clustername',
  nodes: [
    { name: 'node1', statusData: fx('pve9x/nodes_node1_status.json'), network: fx('pve9x/nodes_node1_network.json') as unknown[] },
    { name: 'node2', statusData: fx('pve8x/nodes_node1_status.json'), network: fx('pve9x/nodes_node2_network.json') as unknown[] },
    { name: 'node3', pveversion: 'pve-manager/9.0.6/49c767b70aeb6648', network: [] },
    { name: 'node4', pveversion: 'pve-manager/9.0.6/49c767b70aeb6648', network: [] },
  ],
  guests,
  overrides: { '/cluster/status': fx('pve9x/cluster_status.json'), '/nodes': fx('pve9x/nodes.json'), '/cluster/resources': resources },
};
export default scenario;
