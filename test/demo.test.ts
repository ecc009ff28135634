import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { IngestRequestType } from '../agent/diode/codec.ts';
import { readDryRunFile } from '../agent/diode/dry-run.ts';
import { runDemo } from './demo/lab.ts';

const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe('demo lab', () => {
  it('runs every collector once in dry run and writes files that decode as IngestRequests', async () => {
    const demo = await runDemo({ quiet: true, write: () => {} });
    expect(demo.results.map((r) => [r.policy, r.status])).toEqual([
      ['pve-lab', 'success'], ['pbs-lab', 'success'], ['pdm-lab', 'partial'], ['ceph-lab', 'success'], ['packer-lab', 'partial'],
    ]);
    // One request of definitions (tags, custom fields) and one of the rest per collector.
    // One request per delivery phase a policy has entities in (mappers/order.ts DELIVERY_PHASES):
    // tags, vocabulary, owners, components, addresses; PDM and Ceph send no addresses, Packer
    // only tags, definitions and its template VMs.
    expect(demo.results.map((r) => [r.policy, r.diode.requests])).toEqual([
      ['pve-lab', 5], ['pbs-lab', 5], ['pdm-lab', 4], ['ceph-lab', 4], ['packer-lab', 3],
    ]);
    expect(demo.files).toHaveLength(21);
    // The lab's backup picture (one guest's backup three days old, one guest in no job) as the run measures it.
    expect(demo.results.map((r) => r.measures)).toEqual([
      { guests_without_recent_backup: 2, guests_in_no_backup_job: 1, addresses_dropped: 0 }, undefined, undefined, undefined, undefined,
    ]);
    const decoded = demo.files.map((f) => IngestRequestType.toObject(IngestRequestType.decode(readDryRunFile(f)), { arrays: true }) as { producer_app_name: string; entities: unknown[] });
    expect(decoded.every((r) => r.producer_app_name === 'proxmox-discovery-demo')).toBe(true);
    const total = demo.results.reduce((n, r) => n + Object.values(r.collected).reduce((a, b) => a + b, 0), 0);
    expect(decoded.reduce((n, r) => n + r.entities.length, 0)).toBe(total);
    expect(demo.text).toContain(`Dry-run files (Diode IngestRequests as proto3 JSON): 21 in ${demo.dryRunDir}`);
  });

  it('is what `npm run demo` prints', async () => {
    const r = await exec('npm', ['run', '--silent', 'demo'], { cwd: root });
    expect(r.stdout).toMatch(/■ pve-lab \(collector pve\): success/);
    expect(r.stdout).toMatch(/■ packer-lab \(collector packer\): partial/);
    expect(r.stdout).toMatch(/Dry-run files \(Diode IngestRequests as proto3 JSON\): 21 in \//);
  });
});
