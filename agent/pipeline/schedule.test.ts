import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../config/load.ts';
import { Scheduler } from './schedule.ts';

const policy = (name: string, hash: string, schedule?: string): Policy =>
  ({ name, hash, enabled: true, ...(schedule ? { schedule } : {}) }) as unknown as Policy;

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

describe('Scheduler: run_at_start', () => {
  const yearly = (name: string, hash: string, runAtStart?: boolean) =>
    ({ ...policy(name, hash, '0 0 1 1 *'), ...(runAtStart !== undefined ? { run_at_start: runAtStart } : {}) }) as Policy;

  it('runs a scheduled policy as it is scheduled: at start, and again only when a reload changes it', async () => {
    const runs: string[] = [];
    const s = new Scheduler(async (p) => runs.push(`${p.name}@${p.hash}`), pino({ level: 'silent' }));
    s.sync([yearly('a', 'h1')]);
    s.sync([yearly('a', 'h1'), yearly('b', 'h1')]);
    s.sync([yearly('a', 'h2'), yearly('b', 'h1')]);
    await s.oneShotsDone();
    await s.stop();
    expect(runs).toEqual(['a@h1', 'b@h1', 'a@h2']);
  });

  it('not when turned off for the agent, unless the policy turns it on, nor when the policy turns it off', async () => {
    const runs: string[] = [];
    const s = new Scheduler(async (p) => runs.push(p.name), pino({ level: 'silent' }), { runAtStart: false });
    s.sync([yearly('default', 'h'), yearly('on', 'h', true)]);
    const t = new Scheduler(async (p) => runs.push(`t:${p.name}`), pino({ level: 'silent' }));
    t.sync([yearly('off', 'h', false)]);
    await Promise.all([s.oneShotsDone(), t.oneShotsDone()]);
    await Promise.all([s.stop(), t.stop()]);
    expect(runs).toEqual(['on']);
  });

  it('with replicas, one runs it: each asks the coordinator for the same policy version', async () => {
    const asked: Array<[string, number]> = [];
    const granted = new Set<string>();
    const coordinator = {
      shouldRun: (key: string, ttl: number) => {
        asked.push([key, ttl]);
        if (granted.has(key)) return false;
        granted.add(key);
        return true;
      },
    };
    const runs: string[] = [];
    const replicas = [0, 1].map((i) => new Scheduler(async (p) => runs.push(`${i}:${p.name}`), pino({ level: 'silent' }), {}, coordinator));
    for (const s of replicas) s.sync([yearly('a', 'h1')]);
    await Promise.all(replicas.map((s) => s.oneShotsDone()));
    await Promise.all(replicas.map((s) => s.stop()));
    expect(runs).toEqual(['0:a']);
    expect(asked.map(([k]) => k)).toEqual(['start:a:h1', 'start:a:h1']);
  });
});
