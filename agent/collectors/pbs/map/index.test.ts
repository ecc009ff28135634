import { describe, expect, it } from 'vitest';
import { pbsConfigSchema, type PbsConfig } from '../config.ts';
import type { PbsJob, PbsSnapshot } from '../snapshot.ts';
import type { AnyEntity } from '../../../../mappers/types.ts';
import { formatPbsVersion, hostLabel, pbsPlatformName } from '../../../../mappers/common/vocabulary.ts';
import { gcStatus, groupJson, isoTime, jobJson, jobRunState, mapPbs, PBS_CUSTOM_FIELDS, pbsDeviceName } from './index.ts';

const config: PbsConfig = pbsConfigSchema.parse({ PBS_HOST: 'pbs1.lab.example', PBS_TOKEN_ID: 'root@pam!netbox', PBS_TOKEN_SECRET: 's', SITE_NAME: 'Lab' });
const ctx = { config, scope: { nodes: ['*'] }, now: new Date('2025-01-06T12:00:00Z'), policyName: 'pbs' };
const tags = [
  { name: 'proxmox-backup', slug: 'proxmox-backup' },
  { name: 'discovered', slug: 'discovered' },
];
// The server's reference carries what NetBox needs to create it: site, type and role.
const device = {
  name: 'pbs1.lab.example',
  site: { name: 'Lab', slug: 'lab' },
  device_type: { model: 'Proxmox Backup Server', slug: 'proxmox-backup-server', manufacturer: { name: 'Proxmox', slug: 'proxmox' } },
  role: { name: 'Backup Server', slug: 'backup-server' },
};
const job = (p: Partial<PbsJob>): PbsJob => ({ type: 'verify', id: 'v', disabled: false, ...p });

describe('state vocabularies', () => {
  it('maps last-run-state to the PBSJob choices', () => {
    expect(jobRunState({ lastRunState: 'OK' })).toBe('ok');
    expect(jobRunState({ lastRunState: 'WARNINGS: 3' })).toBe('warning');
    expect(jobRunState({ lastRunState: 'unknown' })).toBe('unknown');
    expect(jobRunState({ lastRunState: 'verification failed - please check the log for details' })).toBe('error');
    expect(jobRunState({ lastRunUpid: 'UPID:pbs1:…' })).toBe('running');
    expect(jobRunState({})).toBe('unknown');
  });

  it('maps a GC job to the PBSDatastore gc_status choices', () => {
    expect(gcStatus(undefined)).toBe('unknown');
    expect(gcStatus(job({ type: 'gc', lastRunState: 'OK' }))).toBe('ok');
    expect(gcStatus(job({ type: 'gc', lastRunState: 'WARNINGS: 1' }))).toBe('error');
    expect(gcStatus(job({ type: 'gc', lastRunState: 'unable to access chunk store' }))).toBe('error');
    expect(gcStatus(job({ type: 'gc', lastRunUpid: 'UPID:…' }))).toBe('running');
    expect(gcStatus(job({ type: 'gc', schedule: 'daily' }))).toBe('pending');
    expect(gcStatus(job({ type: 'gc' }))).toBe('unknown');
  });

  it('formats versions, platforms, names and times', () => {
    expect(formatPbsVersion('3.2', '7')).toBe('3.2-7');
    expect(formatPbsVersion('3.2')).toBe('3.2');
    expect(pbsPlatformName('3.2')).toBe('Proxmox Backup Server 3.2');
    expect(pbsPlatformName('4.0.14')).toBe('Proxmox Backup Server 4.0');
    expect(pbsPlatformName('beta')).toBeUndefined();
    expect(hostLabel('[fd00::5]')).toBe('fd00::5');
    expect(hostLabel('pbs1.lab.example')).toBe('pbs1.lab.example');
    expect(pbsDeviceName({ PBS_HOST: '10.0.0.5', PBS_NAME: 'backup-01' })).toBe('backup-01');
    expect(pbsDeviceName({ PBS_HOST: '10.0.0.5' })).toBe('10.0.0.5');
    expect(isoTime(1_736_121_600)).toBe('2025-01-06T00:00:00Z');
  });

  it('renders a job and a group with every key, null when unknown', () => {
    expect(jobJson(job({ lastRunState: 'x'.repeat(300), lastRunEndtime: 0 }))).toEqual({
      type: 'verify',
      id: 'v',
      store: null,
      schedule: null,
      comment: null,
      disabled: false,
      last_run_state: 'error',
      last_run_endtime: '1970-01-01T00:00:00Z',
      last_run_message: 'x'.repeat(200),
    });
    expect(groupJson({ namespace: '', type: 'vm', id: '1', count: 1, lastBackupTime: 0, protectedCount: 0 })).toEqual({
      namespace: '',
      type: 'vm',
      id: '1',
      count: 1,
      last_backup: '1970-01-01T00:00:00Z',
      last_size_bytes: null,
      owner: null,
      protected_count: 0,
      last_verification: null,
      comment: null,
    });
  });
});

describe('mapPbs', () => {
  const snapshot: PbsSnapshot = {
    version: '3.4',
    release: '1',
    fingerprint: 'AA:BB',
    datastores: [
      { name: 'b', error: 'cannot open', path: '/mnt/b' },
      {
        name: 'a',
        totalBytes: 10,
        usedBytes: 4,
        availBytes: 6,
        comment: 'c'.repeat(250),
        groups: [{ namespace: '', type: 'vm', id: '1', count: 2, lastBackupTime: 0, protectedCount: 1 }],
      },
      { name: 'usb', mountStatus: 'notmounted' },
    ],
    jobs: [job({ type: 'gc', id: 'a', store: 'a', lastRunState: 'OK' }), job({ lastRunState: 'failed' }), job({ id: 'w', lastRunState: 'WARNINGS: 1' })],
  };

  it('maps datastores to inventory items with status, description, usage and groups', () => {
    const items = mapPbs(snapshot, ctx).filter((e) => e.kind === 'inventory_item');
    const role = { name: 'PBS Datastore', slug: 'pbs-datastore' };
    expect(items).toEqual([
      {
        kind: 'inventory_item',
        value: {
          device,
          name: 'a',
          role,
          status: 'active',
          discovered: true,
          description: 'c'.repeat(200),
          tags,
          custom_fields: {
            pbs_gc_status: { text: 'ok' },
            pbs_datastore_total_bytes: { integer: 10 },
            pbs_datastore_used_bytes: { integer: 4 },
            pbs_datastore_avail_bytes: { integer: 6 },
            pbs_backup_groups: {
              json: '[{"namespace":"","type":"vm","id":"1","count":2,"last_backup":"1970-01-01T00:00:00Z","last_size_bytes":null,"owner":null,"protected_count":1,"last_verification":null,"comment":null}]',
            },
          },
        },
      },
      {
        kind: 'inventory_item',
        value: {
          device,
          name: 'b',
          role,
          status: 'failed',
          discovered: true,
          tags,
          custom_fields: { pbs_gc_status: { text: 'unknown' }, pbs_datastore_path: { text: '/mnt/b' } },
        },
      },
      {
        kind: 'inventory_item',
        value: { device, name: 'usb', role, status: 'offline', discovered: true, tags, custom_fields: { pbs_gc_status: { text: 'unknown' } } },
      },
    ]);
  });

  it('counts only errors as failed jobs, and names the platform by major.minor', () => {
    const dev = mapPbs(snapshot, ctx).find((e) => e.kind === 'device');
    expect(dev?.value).toMatchObject({
      status: 'active',
      platform: { name: 'Proxmox Backup Server 3.4', slug: 'proxmox-backup-server-3-4' },
      custom_fields: { pbs_version: { text: '3.4-1' }, pbs_fingerprint: { text: 'AA:BB' }, pbs_status: { text: 'reachable' }, pbs_jobs_failed: { integer: 1 } },
    });
  });

  it('declares every custom field it sets, hidden from edit forms, on the object type it is set on', () => {
    const out: AnyEntity[] = mapPbs({ ...snapshot, network: [{ iface: 'eth0', type: 'eth', cidr: '192.0.2.5/24' }] }, ctx);
    const declared = new Map(out.filter((e) => e.kind === 'custom_field').map((e) => [e.value.name, e.value]));
    expect([...declared.keys()].sort()).toEqual(PBS_CUSTOM_FIELDS.map((f) => f.name).sort());
    for (const f of declared.values()) expect(f).toMatchObject({ ui_editable: 'hidden', group_name: 'Proxmox Backup Server' });
    const objectType: Partial<Record<string, string>> = { device: 'dcim.device', inventory_item: 'dcim.inventoryitem' };
    let used = 0;
    for (const e of out) {
      const fields = (e.value as { custom_fields?: Record<string, unknown> }).custom_fields ?? {};
      for (const name of Object.keys(fields)) {
        used++;
        expect(name.startsWith('pbs_')).toBe(true);
        expect(declared.get(name)?.object_types).toContain(objectType[e.kind]);
      }
    }
    expect(used).toBe(15);
  });

  it('is deterministic and ordered for the same input', () => {
    expect(JSON.stringify(mapPbs(snapshot, ctx))).toBe(JSON.stringify(mapPbs(structuredClone(snapshot), { ...ctx, now: new Date(0) })));
  });
});
