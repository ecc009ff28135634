import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeHttps, type FakeServer } from '../../test/fakes/https-server.ts';
import { waitFor } from '../../test/helpers/agent-harness.ts';
import { HttpTarget } from './client.ts';

/*
 * Node 22 warns (MaxListenersExceededWarning) when an AbortSignal has more than 10 abort
 * listeners. Requests used to add one each to the run's signal, and retry waits another:
 * at concurrency 16, or with two policies sharing the agent's signal, every run warned.
 * Not a leak (each was removed when its request ended), but the fix is the same as for
 * one: a target listens once and aborts its own requests.
 */
let server: FakeServer | undefined;
let release: () => void = () => {};
afterEach(async () => {
  release();
  await server?.close();
  server = undefined;
});

const listeners = (s: AbortSignal) => getEventListeners(s, 'abort').length;

describe('HttpTarget and the run signal', () => {
  it('one listener for 32 requests in flight and 32 waiting for a slot, none after close; an abort still ends them all', async () => {
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startFakeHttps(async () => {
      await gate;
      return { status: 200, body: { data: [] } };
    });
    const run = new AbortController();
    const t = new HttpTarget({ baseUrl: `${server.url}/api2/json`, tls: { verify: false }, timeoutMs: 30_000, concurrency: 32, signal: run.signal });
    const requests = Array.from({ length: 64 }, (_, i) =>
      t.getJson(`/r/${i}`).then(
        () => 'ok',
        (e: unknown) => e,
      ),
    );
    await waitFor(() => server!.requests.length === 32);
    expect(listeners(run.signal)).toBe(1);
    run.abort(new Error('agent stopping'));
    const outcomes = await Promise.all(requests);
    expect(outcomes.every((o) => o === run.signal.reason)).toBe(true);
    await t.close();
    expect(listeners(run.signal)).toBe(0);
  });

  it('one listener while 20 requests wait to retry a 503; the abort ends the waits', async () => {
    server = await startFakeHttps(() => ({ status: 503, statusText: 'busy' }));
    const run = new AbortController();
    const t = new HttpTarget({
      baseUrl: `${server.url}/api2/json`,
      tls: { verify: false },
      timeoutMs: 30_000,
      concurrency: 20,
      signal: run.signal,
      backoffBaseMs: 60_000,
      backoffMaxMs: 60_000,
    });
    const requests = Array.from({ length: 20 }, (_, i) =>
      t.getJson(`/r/${i}`).then(
        () => 'ok',
        (e: unknown) => e,
      ),
    );
    await waitFor(() => server!.requests.length === 20);
    expect(listeners(run.signal)).toBe(1);
    run.abort(new Error('agent stopping'));
    const outcomes = await Promise.all(requests);
    expect(outcomes.map((o) => (o as { cause?: unknown }).cause ?? o).every((o) => o === run.signal.reason)).toBe(true);
    await t.close();
    expect(listeners(run.signal)).toBe(0);
  });

  it('a target that cannot open (unreadable CA file) leaves no listener', () => {
    const run = new AbortController();
    expect(
      () =>
        new HttpTarget({
          baseUrl: 'https://127.0.0.1:1/api2/json',
          tls: { verify: true, caFile: '/nonexistent/ca.pem' },
          timeoutMs: 1000,
          concurrency: 4,
          signal: run.signal,
        }),
    ).toThrow();
    expect(listeners(run.signal)).toBe(0);
  });
});
