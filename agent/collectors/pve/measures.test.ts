import { describe, expect, it } from 'vitest';
import { pveConfigSchema, type PveConfig } from './config.ts';
import { backupGauges } from './measures.ts';
import type { PveSnapshot } from './snapshot.ts';

const config = (extra: Record<string, unknown> = {}): PveConfig =>
  pveConfigSchema.parse({ PROXMOX_HOST: 'pve.example.com', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 'x', ...extra });

describe('backupGauges (issue #17)', () => {
  const g = (vmid: number, backup?: PveSnapshot['guests'][number]['backup']): PveSnapshot['guests'][number] => ({
    type: 'qemu',
    vmid,
    name: `g${vmid}`,
    node: 'pve1',
    status: 'running',
    tags: [],
    ...(backup && { backup }),
  });
  const now = new Date('2025-06-01T12:00:00Z');
  const at = (hoursAgo: number) => now.getTime() / 1000 - hoursAgo * 3600;
  it('counts guests without a backup newer than BACKUP_MAX_AGE hours, and guests in no job', () => {
    const snap: PveSnapshot = {
      bootstrap: false,
      host: 'h',
      nodes: [],
      backupStatus: true,
      guests: [
        g(100, { last: { time: at(25), storage: 'pbs' }, inJob: true }),
        g(101, { last: { time: at(27), storage: 'pbs' }, inJob: true }),
        g(102, { inJob: false }),
        g(103, { last: { time: at(1), storage: 'local' } }),
      ],
    };
    expect(backupGauges(snap, config({ BACKUP_MAX_AGE: 26 }), now)).toEqual({ withoutRecentBackup: 2, notInJob: 1 });
    expect(backupGauges(snap, config({ BACKUP_MAX_AGE: 24 }), now)).toEqual({ withoutRecentBackup: 3, notInJob: 1 });
    expect(backupGauges({ ...snap, backupStatus: undefined }, config(), now)).toBeUndefined();
  });
});
