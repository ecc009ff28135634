import { describe, expect, it } from 'vitest';
import { BACKOFF, backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, between half the ceiling and the ceiling', () => {
    const b = { baseMs: 100, maxMs: 1000 };
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
      http: { baseMs: 200, maxMs: 5_000 },
      grpc: { baseMs: 500, maxMs: 30_000 },
      outbox: { baseMs: 5_000, maxMs: 300_000 },
    });
  });
});
