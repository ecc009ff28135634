import { readFileSync } from 'node:fs';
import type { PveScenario } from '../../fake.ts';

/*
 * HA_STATUS and REPLICATION_STATUS on PVE 8 (issue #17): HA groups and the resources that
 * name them (GET /cluster/ha/groups, /cluster/ha/resources; go-proxmox's resource row for
 * vm:100, test/fixtures/pve/NOTICE), and replication jobs as pve-manager
 * PVE/API2/ReplicationConfig.pm index lists them (the stored section config plus `id`,
 * `guest`, `jobnum`; pve-guest-common src/PVE/ReplicationConfig.pm).
 */
const fx = (name: string): unknown =>
  (JSON.parse(readFileSync(new URL(`../../../../../test/fixtures/pve/go-proxmox/${name}`, import.meta.url), 'utf8')) as { data: unknown }).data;

const vm = (vmid: number, name: string, node: string, hastate?: string): Record<string, unknown> => ({
  id: `qemu/${vmid}`,
  type: 'qemu',
  vmid,
  name,
  node,
  status: 'running',
  template: 0,
  maxcpu: 2,
  maxmem: 2147483648,
  ...(hastate !== undefined && { hastate }),
});

const scenario: PveScenario = {
  cluster: 'prod',
  version: { version: '8.4.1', release: '8.4', repoid: '2a2fa54b8503f96c' },
  nodes: [
    { name: 'pve1', network: [] },
    { name: 'pve2', network: [] },
    { name: 'pve3', network: [] },
  ],
  guests: [
    { resource: vm(100, 'web01', 'pve1', 'started'), config: { name: 'web01', ostype: 'l26' } },
    {
      resource: {
        id: 'lxc/101',
        type: 'lxc',
        vmid: 101,
        name: 'ct01',
        node: 'pve2',
        status: 'running',
        template: 0,
        maxcpu: 1,
        maxmem: 1073741824,
        hastate: 'started',
      },
      config: { hostname: 'ct01', ostype: 'debian' },
    },
    { resource: vm(102, 'db01', 'pve1', 'stopped'), config: { name: 'db01', ostype: 'l26' } },
    { resource: vm(103, 'plain', 'pve3'), config: { name: 'plain', ostype: 'l26' } },
  ],
  haGroups: [
    { group: 'test-group', type: 'group', nodes: 'pve1:2,pve2:1', restricted: 0, nofailback: 0, digest: '6c2d6f2b7a1e8f0c3d4b5a69788796a5b4c3d2e1' },
    { group: 'unused', type: 'group', nodes: 'pve3', restricted: 1, digest: '6c2d6f2b7a1e8f0c3d4b5a69788796a5b4c3d2e1' },
  ],
  haResources: [
    ...(fx('pve9x/cluster_ha_resources.json') as unknown[]),
    // Resources.pm index: a group that does not exist is reported, not dropped.
    {
      sid: 'ct:101',
      type: 'ct',
      state: 'started',
      group: 'gone',
      max_restart: 1,
      max_relocate: 1,
      digest: '0d9a',
      errors: { group: "group 'gone' does not exist" },
    },
    { sid: 'vm:102', type: 'vm', state: 'stopped', max_restart: 1, max_relocate: 1, digest: '0d9a' },
  ],
  replication: [
    { id: '100-0', type: 'local', target: 'pve2', guest: 100, jobnum: 0, schedule: '*/5', source: 'pve1' },
    { id: '100-1', type: 'local', target: 'pve3', guest: 100, jobnum: 1, disable: 1, comment: 'paused for maintenance' },
    { id: '101-0', type: 'local', target: 'pve1', guest: 101, jobnum: 0, rate: 50 },
  ],
};

export default scenario;
