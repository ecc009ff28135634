import { describe, expect, it } from 'vitest';
import { cephConfigSchema, type CephConfig } from '../config.ts';
import type { CephClusterSnapshot } from '../snapshot.ts';
import { orderEntities } from '../../../../mappers/order.ts';
import { CEPH_CUSTOM_FIELDS, KNOWN_OSD_FLAGS, cephClusterName, mapCeph, osdStatus, siteForHost } from './index.ts';

const pveConfig: CephConfig = cephConfigSchema.parse({
  PROXMOX_HOST: 'pve',
  PROXMOX_TOKEN_NAME: 'n',
  PROXMOX_TOKEN_VALUE: 'v',
  SITE_NAME: 'Lab',
  NODE_SITE_MAP: 'pve1:London',
});
const dashConfig: CephConfig = cephConfigSchema.parse({
  CEPH_SOURCE: 'dashboard',
  CEPH_URL: 'https://mgr:8443',
  CEPH_USER: 'u',
  CEPH_PASSWORD: 'p',
  CEPH_CLUSTER_NAME: 'ceph-prod',
});
const ctx = (config: CephConfig) => ({ config, scope: { nodes: ['*'] }, now: new Date('2025-06-01T00:00:00Z'), policyName: 't' });

const snapshot: CephClusterSnapshot = {
  source: 'pve',
  present: true,
  fsid: 'D11C6EA1-7ab2-41fa-99c5-b85f4d7ffd49',
  health: 'HEALTH_WARN',
  healthChecks: [{ name: 'OSDMAP_FLAGS', severity: 'HEALTH_WARN', summary: 'noout flag(s) set', count: 1, muted: false }],
  flags: ['noout', 'noautoscale'],
  version: '18.2.4 (reef)',
  quorum: ['pve1'],
  pools: [{ id: 2, name: 'rbd', type: 'replicated', size: 3, minSize: 2, pgNum: 32, crushRule: 'replicated_rule', applications: ['rbd'] }],
  crushRules: [{ name: 'replicated_rule', id: 0 }],
  filesystems: [],
  osds: [{ id: 1, name: 'osd.1', host: 'pve1', up: false, in: true, deviceClass: 'ssd', crushWeight: 0.87329 }],
  daemons: [{ type: 'mon', id: 'pve1', host: 'pve1', ports: [3300, 6789], state: 'in-quorum', version: '18.2.4' }],
  hosts: ['pve1'],
};

const TAGS = [
  { name: 'ceph', slug: 'ceph' },
  { name: 'discovered', slug: 'discovered' },
];
// The PVE collector's node reference, type and role included (a hyperconverged node is one Device).
const PVE1 = {
  name: 'pve1',
  site: { name: 'London', slug: 'london' },
  device_type: { model: 'Proxmox Node', slug: 'proxmox-node', manufacturer: { name: 'Proxmox', slug: 'proxmox' } },
  role: { name: 'Hypervisor', slug: 'hypervisor' },
};

describe('siteForHost', () => {
  it('is NODE_SITE_MAP[host] ?? SITE_NAME', () => {
    const c = { SITE_NAME: 'Lab', NODE_SITE_MAP: { pve1: 'London' } };
    expect([siteForHost(c, 'pve1'), siteForHost(c, 'pve2'), siteForHost(c, 'constructor')]).toEqual(['London', 'Lab', 'Lab']);
  });
});

describe('osdStatus', () => {
  it('maps the four up/in combinations', () => {
    expect([
      osdStatus({ up: true, in: true }),
      osdStatus({ up: false, in: true }),
      osdStatus({ up: true, in: false }),
      osdStatus({ up: false, in: false }),
    ]).toEqual(['active', 'failed', 'decommissioning', 'offline']);
  });
});

describe('cephClusterName', () => {
  it('is CEPH_CLUSTER_NAME, else ceph-<first 8 hex of the fsid>', () => {
    expect(cephClusterName({ CEPH_CLUSTER_NAME: 'prod' }, 'x')).toBe('prod');
    expect(cephClusterName({}, 'D11C6EA1-7ab2-41fa-99c5-b85f4d7ffd49')).toBe('ceph-d11c6ea1');
  });
});

describe('mapCeph', () => {
  it('maps nothing when Ceph is absent', () => {
    expect(mapCeph({ source: 'pve', present: false, reason: 'not_installed', message: 'binary not installed: /usr/bin/ceph-mon' }, ctx(pveConfig))).toEqual([]);
  });

  it('maps a pve-mode cluster onto the PVE node stub', () => {
    const out = orderEntities(mapCeph(snapshot, ctx(pveConfig)));
    const cfs = out.filter((e) => e.kind === 'custom_field');
    expect(cfs).toHaveLength(CEPH_CUSTOM_FIELDS.length);
    expect(cfs.find((e) => e.value.name === 'ceph_flags')?.value).toEqual({
      name: 'ceph_flags',
      label: 'Ceph OSD Flags',
      type: 'multiselect',
      description: 'OSD map flags that are set (noout, noscrub, …)',
      object_types: ['virtualization.cluster'],
      group_name: 'Ceph',
      ui_editable: 'hidden',
      // The whole choice set: applied before the choice set's own entity, the field creates it.
      choice_set: { name: 'ceph_osd_flags', description: 'Ceph OSD map flags', extra_choices: [...KNOWN_OSD_FLAGS, 'none', 'noautoscale'] },
    });
    expect(out.filter((e) => e.kind !== 'custom_field')).toEqual([
      { kind: 'tag', value: { name: 'ceph', slug: 'ceph', color: 'ef5c55' } },
      { kind: 'tag', value: { name: 'discovered', slug: 'discovered', color: '198754' } },
      {
        kind: 'custom_field_choice_set',
        value: { name: 'ceph_osd_flags', description: 'Ceph OSD map flags', extra_choices: [...KNOWN_OSD_FLAGS, 'none', 'noautoscale'] },
      },
      { kind: 'cluster_type', value: { name: 'Ceph', slug: 'ceph', tags: TAGS } },
      {
        kind: 'cluster',
        value: {
          name: 'ceph-d11c6ea1',
          type: { name: 'Ceph', slug: 'ceph' },
          status: 'active',
          tags: TAGS,
          custom_fields: {
            ceph_fsid: { text: 'D11C6EA1-7ab2-41fa-99c5-b85f4d7ffd49' },
            ceph_health: { text: 'HEALTH_WARN' },
            ceph_health_checks: { json: '[{"name":"OSDMAP_FLAGS","severity":"HEALTH_WARN","summary":"noout flag(s) set","count":1,"muted":false}]' },
            ceph_flags: { multiple_selection: ['noout', 'noautoscale'] },
            ceph_version: { text: '18.2.4 (reef)' },
            ceph_quorum: { json: '["pve1"]' },
            ceph_pools: {
              json: '[{"id":2,"name":"rbd","type":"replicated","size":3,"min_size":2,"pg_num":32,"crush_rule":"replicated_rule","applications":["rbd"]}]',
            },
            ceph_crush_rules: { json: '[{"id":0,"name":"replicated_rule"}]' },
            // Empty lists are JSON null: what a create stores, so the next run is no change.
            ceph_filesystems: { json: 'null' },
          },
        },
      },
      { kind: 'device', value: PVE1 },
      {
        kind: 'inventory_item',
        value: {
          device: PVE1,
          name: 'osd.1',
          status: 'failed',
          role: { name: 'Ceph OSD', slug: 'ceph-osd' },
          discovered: true,
          tags: TAGS,
          custom_fields: { ceph_osd_id: { integer: 1 }, ceph_device_class: { text: 'ssd' }, ceph_crush_weight: { decimal: 0.87329 } },
        },
      },
      {
        kind: 'service',
        value: {
          parent_object_device: PVE1,
          name: 'mon.pve1',
          protocol: 'tcp',
          ports: [3300, 6789],
          description: 'Ceph monitor',
          tags: TAGS,
          custom_fields: { ceph_daemon_state: { text: 'in-quorum' }, ceph_version: { text: '18.2.4' } },
        },
      },
    ]);
  });

  it('makes dashboard-mode hosts full devices: a generic type, the "Ceph Node" role and the Ceph cluster, the same reference everywhere', () => {
    const out = mapCeph({ ...snapshot, source: 'dashboard' }, ctx(dashConfig));
    const site = { name: 'Proxmox', slug: 'proxmox' };
    // NetBox requires a device type; the dashboard does not say the hardware.
    const host = {
      name: 'pve1',
      site,
      device_type: { model: 'Ceph Node', slug: 'ceph-node', manufacturer: { name: 'Generic', slug: 'generic' } },
      role: { name: 'Ceph Node', slug: 'ceph-node' },
    };
    expect(out.filter((e) => e.kind === 'device')).toEqual([
      { kind: 'device', value: { ...host, cluster: { name: 'ceph-prod', type: { name: 'Ceph', slug: 'ceph' } }, tags: TAGS } },
    ]);
    const item = out.find((e) => e.kind === 'inventory_item');
    expect(item?.kind === 'inventory_item' && item.value.device).toEqual(host);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(mapCeph(snapshot, ctx(pveConfig)))).toBe(JSON.stringify(mapCeph(structuredClone(snapshot), ctx(pveConfig))));
  });
});
