import { describe, expect, it } from 'vitest';
import { attemptsLeft, BACKOFF, backoffDelay } from './backoff.ts';
import { diodeSchema } from './config/schema.ts';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, between half the ceiling and the ceiling', () => {
    const b = { baseMs: 100, maxMs: 1000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, b, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, b, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect(backoffDelay(3, b, () => 0.5)).toBe(300);
  });

  it('stays at the cap for any attempt count (no overflow to Infinity or NaN)', () => {
    expect(backoffDelay(10_000, BACKOFF.outbox, () => 1)).toBe(BACKOFF.outbox.maxMs);
    expect(backoffDelay(0, BACKOFF.http, () => 1)).toBe(BACKOFF.http.baseMs);
  });

  it('is the one configuration of the HTTP, gRPC and outbox retries', () => {
    expect(BACKOFF).toEqual({
      http: { baseMs: 200, maxMs: 5_000, jitter: 0.5, attempts: 5 },
      grpc: { baseMs: 500, maxMs: 30_000, jitter: 0.5, attempts: 5 },
      outbox: { baseMs: 5_000, maxMs: 300_000, jitter: 0.5, attempts: Infinity },
    });
  });

  it('takes the random share of each wait from jitter: none waits the ceiling, all waits 0 to the ceiling', () => {
    const none = { baseMs: 100, maxMs: 1000, jitter: 0 };
    expect([backoffDelay(3, none, () => 0), backoffDelay(3, none, () => 1)]).toEqual([400, 400]);
    const all = { baseMs: 100, maxMs: 1000, jitter: 1 };
    expect([backoffDelay(3, all, () => 0), backoffDelay(3, all, () => 0.25), backoffDelay(3, all, () => 1)]).toEqual([0, 100, 400]);
  });

  it('counts attempts with the first one: 5 attempts allow a retry after the 4th failure, not after the 5th', () => {
    expect([1, 4, 5, 6].map((n) => attemptsLeft(n, BACKOFF.http))).toEqual([true, true, false, false]);
    expect(attemptsLeft(1_000_000, BACKOFF.outbox)).toBe(true);
  });

  it('is where the diode.max_attempts and diode.backoff_max defaults come from', () => {
    const diode = diodeSchema.parse({ dry_run: true });
    expect({ max_attempts: diode.max_attempts, backoff_max: diode.backoff_max }).toEqual({
      max_attempts: BACKOFF.grpc.attempts,
      backoff_max: BACKOFF.grpc.maxMs,
    });
  });
});
