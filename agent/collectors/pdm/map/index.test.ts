import { describe, expect, it } from 'vitest';
import { pdmConfigSchema } from '../config.ts';
import type { PdmRemote, PdmSnapshot } from '../snapshot.ts';
import { mapPdm, PDM_CUSTOM_FIELDS, pdmPlatformName, remoteClusterName, remoteDeviceName, remoteVersion } from './index.ts';

const config = pdmConfigSchema.parse({ PDM_HOST: 'pdm.lab.example', PDM_TOKEN_ID: 'root@pam!netbox', PDM_TOKEN_SECRET: 's', SITE_NAME: 'Lab' });
const ctx = { config, scope: { nodes: ['*'] }, now: new Date('2025-01-06T12:00:00Z'), policyName: 'pdm' };
const tags = [
  { name: 'proxmox-dcm', slug: 'proxmox-dcm' },
  { name: 'discovered', slug: 'discovered' },
];
const remote = (p: Partial<PdmRemote> & Pick<PdmRemote, 'id' | 'type'>): PdmRemote => ({ hosts: [], health: 'ok', ...p });

describe('remote naming', () => {
  it('names a PVE remote by its cluster, a standalone one by its host, an unread one not at all', () => {
    expect(remoteClusterName(remote({ id: 'a', type: 'pve', hosts: ['pve1'], clusterStatusRead: true, clusterName: 'prod' }))).toBe('prod');
    expect(remoteClusterName(remote({ id: 'a', type: 'pve', hosts: ['pve1.lab'], clusterStatusRead: true }))).toBe('pve1.lab');
    expect(remoteClusterName(remote({ id: 'a', type: 'pve', hosts: ['pve1.lab'] }))).toBeUndefined();
  });

  it('names a PBS remote by its first host', () => {
    expect(remoteDeviceName(remote({ id: 'b', type: 'pbs', hosts: ['pbs1.lab', 'pbs2.lab'] }))).toBe('pbs1.lab');
    expect(remoteDeviceName(remote({ id: 'b', type: 'pbs' }))).toBeUndefined();
  });

  it('shows versions the way each product does', () => {
    expect(remoteVersion(remote({ id: 'a', type: 'pve', version: '8.4.1', release: '8.4' }))).toBe('8.4.1');
    expect(remoteVersion(remote({ id: 'b', type: 'pbs', version: '3.4', release: '1' }))).toBe('3.4-1');
    expect(remoteVersion(remote({ id: 'b', type: 'pbs' }))).toBeUndefined();
    expect(pdmPlatformName('1.0')).toBe('Proxmox Datacenter Manager 1.0');
    expect(pdmPlatformName('x')).toBeUndefined();
  });
});

describe('mapPdm', () => {
  const snapshot: PdmSnapshot = {
    version: '1.0',
    release: '2',
    generation: 'new',
    remotes: [
      remote({ id: 'a-prod', type: 'pve', hosts: ['pve1.lab'], clusterStatusRead: true, clusterName: 'prod', version: '8.4.1', release: '8.4' }),
      remote({ id: 'b-prod-again', type: 'pve', hosts: ['pve2.lab'], clusterStatusRead: true, clusterName: 'prod', version: '8.4.1' }),
      remote({ id: 'c-pbs', type: 'pbs', hosts: ['pbs1.lab'], version: '3.4', release: '1', health: 'degraded' }),
      remote({ id: 'd-unread', type: 'pve', hosts: ['10.0.0.9'], health: 'error', error: 'refused' }),
    ],
  };

  it('maps the manager, its service, one cluster per cluster name and the PBS device', () => {
    const out = mapPdm(snapshot, ctx).filter((e) => e.kind !== 'custom_field' && e.kind !== 'tag');
    const fields = (id: string, health: string, version: string) => ({
      pdm_remote_id: { text: id },
      pdm_manager: { text: 'pdm.lab.example' },
      pdm_remote_health: { text: health },
      pdm_remote_version: { text: version },
    });
    expect(out).toEqual([
      // The PVE collector's identity of the cluster: name, type and its scope site.
      {
        kind: 'cluster',
        value: {
          name: 'prod',
          type: { name: 'Proxmox', slug: 'proxmox' },
          scope_site: { name: 'Lab', slug: 'lab' },
          tags,
          custom_fields: fields('a-prod', 'ok', '8.4.1'),
        },
      },
      { kind: 'platform', value: { name: 'Proxmox Datacenter Manager 1.0', slug: 'proxmox-datacenter-manager-1-0', tags } },
      {
        kind: 'device',
        value: {
          name: 'pbs1.lab',
          site: { name: 'Lab', slug: 'lab' },
          device_type: { model: 'Proxmox Backup Server', slug: 'proxmox-backup-server', manufacturer: { name: 'Proxmox', slug: 'proxmox' } },
          role: { name: 'Backup Server', slug: 'backup-server' },
          platform: { name: 'Proxmox Backup Server 3.4', slug: 'proxmox-backup-server-3-4' },
          tags,
          custom_fields: fields('c-pbs', 'degraded', '3.4-1'),
        },
      },
      {
        kind: 'device',
        value: {
          name: 'pdm.lab.example',
          site: { name: 'Lab', slug: 'lab' },
          device_type: { model: 'Proxmox Datacenter Manager', slug: 'proxmox-datacenter-manager', manufacturer: { name: 'Proxmox', slug: 'proxmox' } },
          role: { name: 'Datacenter Manager', slug: 'datacenter-manager' },
          platform: { name: 'Proxmox Datacenter Manager 1.0', slug: 'proxmox-datacenter-manager-1-0' },
          status: 'active',
          tags,
          custom_fields: {
            pdm_version: { text: '1.0-2' },
            pdm_remotes: {
              json: JSON.stringify([
                { id: 'a-prod', type: 'pve', host: 'pve1.lab', health: 'ok', cluster: 'prod', version: '8.4.1' },
                { id: 'b-prod-again', type: 'pve', host: 'pve2.lab', health: 'ok', cluster: 'prod', version: '8.4.1' },
                { id: 'c-pbs', type: 'pbs', host: 'pbs1.lab', health: 'degraded', device: 'pbs1.lab', version: '3.4-1' },
                { id: 'd-unread', type: 'pve', host: '10.0.0.9', health: 'error', cluster: null, version: null },
              ]),
            },
          },
        },
      },
      {
        kind: 'service',
        value: {
          name: 'pdm-api',
          protocol: 'tcp',
          ports: [8443],
          parent_object_device: {
            name: 'pdm.lab.example',
            site: { name: 'Lab', slug: 'lab' },
            device_type: { model: 'Proxmox Datacenter Manager', slug: 'proxmox-datacenter-manager', manufacturer: { name: 'Proxmox', slug: 'proxmox' } },
            role: { name: 'Datacenter Manager', slug: 'datacenter-manager' },
          },
          description: 'Proxmox Datacenter Manager REST API',
          tags,
        },
      },
    ]);
  });

  it('scopes each remote at the site REMOTE_SITE_MAP gives it, else SITE_NAME', () => {
    const mapped = pdmConfigSchema.parse({ ...config, REMOTE_SITE_MAP: 'a-prod:Paris,b-prod-again:Paris,c-pbs:Backup DC' });
    const out = mapPdm(snapshot, { ...ctx, config: mapped });
    expect(out.filter((e) => e.kind === 'cluster').map((e) => [e.value.name, e.value.scope_site])).toEqual([['prod', { name: 'Paris', slug: 'paris' }]]);
    expect(out.filter((e) => e.kind === 'device').map((e) => [e.value.name, e.value.site])).toEqual([
      ['pbs1.lab', { name: 'Backup DC', slug: 'backup-dc' }],
      ['pdm.lab.example', { name: 'Lab', slug: 'lab' }],
    ]);
  });

  it('declares its custom fields hidden, grouped and on the objects it sets them on', () => {
    const out = mapPdm(snapshot, ctx);
    const declared = out.filter((e) => e.kind === 'custom_field').map((e) => e.value);
    expect(declared.map((f) => f.name).sort()).toEqual(PDM_CUSTOM_FIELDS.map((f) => f.name).sort());
    for (const f of declared) expect(f).toMatchObject({ ui_editable: 'hidden', group_name: 'Proxmox Datacenter Manager' });
    const byName = new Map(declared.map((f) => [f.name, f]));
    const objectType: Partial<Record<string, string>> = { device: 'dcim.device', cluster: 'virtualization.cluster' };
    for (const e of out) {
      for (const name of Object.keys((e.value as { custom_fields?: object }).custom_fields ?? {})) {
        expect(byName.get(name)?.object_types).toContain(objectType[e.kind]);
      }
    }
  });
});
