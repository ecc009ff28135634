import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { IngestRequestType } from '../agent/diode/codec.ts';
import { readDryRunFile } from '../agent/diode/dry-run.ts';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { collectorLabs, runDemo } from './demo/lab.ts';

const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe('demo lab', () => {
  it('runs every collector once in dry run and writes files that decode as IngestRequests', async () => {
    const demo = await runDemo({ quiet: true, write: () => {} });
    // One policy per collector, in registry order, each with what its lab (agent/collectors/<id>/cases/lab.ts) says its run gives:
    // the status, one request per delivery phase it has entities in (mappers/order.ts DELIVERY_PHASES), its measures.
    const labs = (await collectorLabs()).map(({ id, lab }) => ({ id, ...lab.demo }));
    expect(labs.map((l) => l.id)).toEqual([...COLLECTORS.keys()]);
    expect(demo.results.map((r) => [r.policy, r.collector, r.status, r.diode.requests, r.measures])).toEqual(
      labs.map((l) => [l.policy, l.id, l.status, l.requests, l.measures]),
    );
    const files = labs.reduce((n, l) => n + l.requests, 0);
    expect(demo.files).toHaveLength(files);
    const decoded = demo.files.map(
      (f) => IngestRequestType.toObject(IngestRequestType.decode(readDryRunFile(f)), { arrays: true }) as { producer_app_name: string; entities: unknown[] },
    );
    expect(decoded.every((r) => r.producer_app_name === 'proxmox-discovery-demo')).toBe(true);
    const total = demo.results.reduce((n, r) => n + Object.values(r.collected).reduce((a, b) => a + b, 0), 0);
    expect(decoded.reduce((n, r) => n + r.entities.length, 0)).toBe(total);
    expect(demo.text).toContain(`Dry-run files (Diode IngestRequests as proto3 JSON): ${files} in ${demo.dryRunDir}`);
  });

  it('is what `npm run demo` prints', async () => {
    const r = await exec('npm', ['run', '--silent', 'demo'], { cwd: root });
    for (const { id, lab } of await collectorLabs()) expect(r.stdout).toContain(`■ ${lab.demo.policy} (collector ${id}): ${lab.demo.status}`);
    const files = (await collectorLabs()).reduce((n, { lab }) => n + lab.demo.requests, 0);
    expect(r.stdout).toContain(`Dry-run files (Diode IngestRequests as proto3 JSON): ${files} in /`);
  });
});
