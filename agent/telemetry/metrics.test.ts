import { describe, expect, it } from 'vitest';
import type { RunResult } from '../pipeline/result.ts';
import { Metrics } from './metrics.ts';

const run = (over: Partial<RunResult>): RunResult => ({
  policy: 'pve',
  collector: 'pve',
  runId: 'r',
  status: 'success',
  startedAt: '2026-12-03T00:00:00Z',
  durationMs: 1,
  warnings: [],
  collected: {},
  sent: {},
  apiRequests: 0,
  apiByStatus: {},
  diode: { requests: 0, entities: 0, bytes: 0, errors: [] },
  delivery: { full: true, reason: 'first run', planned: 0, stale: 0, pending: false },
  ...over,
});

const value = async (m: Metrics, name: string): Promise<number | undefined> => {
  const line = (await m.registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{policy="pve"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

describe('inventory measures', () => {
  it('become per-policy gauges; a measure the run did not report leaves no series', async () => {
    const m = new Metrics();
    m.recordRun(run({ measures: { addresses_dropped: 3, guests_without_recent_backup: 2, guests_in_no_backup_job: 1 } }));
    expect(await value(m, 'diode_agent_inventory_addresses_dropped')).toBe(3);
    expect(await value(m, 'diode_agent_inventory_guests_without_recent_backup')).toBe(2);
    expect(await value(m, 'diode_agent_inventory_guests_in_no_backup_job')).toBe(1);
    const other = new Metrics();
    other.recordRun(run({ measures: { addresses_dropped: 0 } }));
    expect(await value(other, 'diode_agent_inventory_addresses_dropped')).toBe(0);
    expect(await value(other, 'diode_agent_inventory_guests_without_recent_backup')).toBeUndefined();
  });
});
