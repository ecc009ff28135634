import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Policy } from './config/load.ts';
import { Scheduler } from './scheduler.ts';

const policy = (name: string, hash: string, schedule?: string): Policy => ({ name, hash, enabled: true, ...(schedule ? { schedule } : {}) }) as unknown as Policy;

describe('Scheduler', () => {
  it('runs a schedule-less policy once per version, not again on an unchanged reload', async () => {
    const runs: string[] = [];
    const s = new Scheduler(async (p) => runs.push(`${p.name}@${p.hash}`), pino({ level: 'silent' }));
    s.sync([policy('a', 'h1')]);
    s.sync([policy('a', 'h1')]);
    s.sync([policy('a', 'h2')]);
    await s.oneShotsDone();
    expect(runs).toEqual(['a@h1', 'a@h2']);
  });

  it('keeps an unchanged scheduled task, replaces a changed one and removes a deleted one', async () => {
    const s = new Scheduler(async () => {}, pino({ level: 'silent' }));
    s.sync([policy('a', 'h1', '0 0 1 1 *'), policy('b', 'h1', '0 0 1 1 *')]);
    const next = s.nextRun('a');
    expect(next?.getMonth()).toBe(0);
    s.sync([policy('a', 'h1', '0 0 1 1 *'), policy('b', 'h2', '0 0 2 2 *')]);
    expect(s.nextRun('b')?.getMonth()).toBe(1);
    s.sync([policy('b', 'h2', '0 0 2 2 *')]);
    expect(s.nextRun('a')).toBeNull();
    expect(s.size).toBe(1);
    await s.stop();
  });
});
