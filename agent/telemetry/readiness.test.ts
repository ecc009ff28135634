import { describe, expect, it } from 'vitest';
import { PolicyReadiness, isSuccess, scheduleIntervalMs, type ReadinessPolicy } from './readiness.ts';

const MIN = 60_000;
const DAY = 86_400_000;

describe('scheduleIntervalMs', () => {
  it('is the longest gap between two ticks, from node-cron', () => {
    expect(scheduleIntervalMs('*/15 * * * *')).toBe(15 * MIN);
    expect(scheduleIntervalMs('*/10 * * * * *')).toBe(10_000);
    expect(scheduleIntervalMs('0 3 * * *')).toBe(DAY);
    // Weekdays at 09:00: Friday to Monday, not the one day between two weekdays.
    expect(scheduleIntervalMs('0 9 * * 1-5')).toBe(3 * DAY);
    expect(scheduleIntervalMs('0 0 1 * *')).toBe(31 * DAY);
    expect(scheduleIntervalMs('30 6 * * *', 'Asia/Tokyo')).toBe(DAY);
  });
});

describe('PolicyReadiness', () => {
  const policy = (over: Partial<ReadinessPolicy> = {}): ReadinessPolicy => ({ name: 'p', schedule: '*/15 * * * *', jitter: 0, enabled: true, ...over });
  const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

  it('overdue once the last success is older than N intervals plus the jitter; a success resets it', () => {
    let now = T0;
    const r = new PolicyReadiness({ maxAgeIntervals: 2, now: () => now });
    const ps = [policy({ jitter: 30_000 })];
    expect(r.stale(ps)).toEqual([]);
    now = T0 + 30 * MIN + 30_000;
    expect(r.stale(ps)).toEqual([]);
    now += 1;
    expect(r.stale(ps)).toEqual([{ policy: 'p', last_success: null, age_seconds: 1830, max_age_seconds: 1830 }]);
    expect(r.record({ policy: 'p', status: 'failed' })).toBeUndefined();
    expect(r.stale(ps)).toHaveLength(1);
    expect(r.record({ policy: 'p', status: 'partial' })).toBe(now);
    expect(r.stale(ps)).toEqual([]);
    const at = now;
    now += 31 * MIN;
    expect(r.stale(ps)).toEqual([{ policy: 'p', last_success: new Date(at).toISOString(), age_seconds: 1860, max_age_seconds: 1830 }]);
    expect(r.lastSuccess('p')).toBe(at);
  });

  it('leaves out disabled policies and policies without a schedule; 0 turns the rule off', () => {
    let now = T0;
    const on = new PolicyReadiness({ maxAgeIntervals: 2, now: () => now });
    const off = new PolicyReadiness({ maxAgeIntervals: 0, now: () => now });
    const ps = [policy({ name: 'disabled', enabled: false }), policy({ name: 'once', schedule: undefined }), policy({ name: 'sched' })];
    on.stale(ps);
    off.stale(ps);
    now += DAY;
    expect(on.stale(ps).map((s) => s.policy)).toEqual(['sched']);
    expect(off.stale(ps)).toEqual([]);
  });

  it('a policy first seen later counts from then; a forgotten one starts over', () => {
    let now = T0;
    const r = new PolicyReadiness({ maxAgeIntervals: 2, now: () => now });
    r.stale([policy({ name: 'a' })]);
    now += 20 * MIN;
    const both = [policy({ name: 'a' }), policy({ name: 'b' })];
    r.stale(both);
    now += 20 * MIN;
    expect(r.stale(both).map((s) => [s.policy, s.age_seconds])).toEqual([['a', 2400]]);
    r.forget('a');
    expect(r.stale(both)).toEqual([]);
  });

  it('success means the snapshot reached Diode', () => {
    expect([isSuccess({ status: 'success' }), isSuccess({ status: 'partial' }), isSuccess({ status: 'failed' })]).toEqual([true, true, false]);
  });
});
