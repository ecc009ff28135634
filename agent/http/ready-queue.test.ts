import { describe, expect, it } from 'vitest';
import { mapWhenReady } from './ready-queue.ts';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every settled promise run its handlers. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Item {
  id: string;
  group: string;
}
const item = (id: string): Item => ({ id, group: id[0] ?? '' });

/** Items whose calls each wait for their own deferred, with the order they started in. */
function harness(ids: string[]) {
  const items = ids.map(item);
  const starts: string[] = [];
  const calls = new Map<string, ReturnType<typeof deferred<string>>>();
  const fn = (x: Item): Promise<string> => {
    starts.push(x.id);
    const d = deferred<string>();
    calls.set(x.id, d);
    return d.promise;
  };
  const finish = async (id: string): Promise<void> => {
    calls.get(id)?.resolve(`done ${id}`);
    await settle();
  };
  return { items, starts, fn, finish };
}

describe('mapWhenReady', () => {
  it('keeps the workers on ready groups while a group waits, and takes the first ready item in input order', async () => {
    const h = harness(['a0', 'a1', 'a2', 'b3', 'a4', 'c5', 'b6']);
    const ready = { a: deferred(), b: deferred() };
    const run = mapWhenReady(
      h.items,
      2,
      (x) => x.group,
      (g) => (g === 'c' ? undefined : ready[g as 'a' | 'b'].promise),
      h.fn,
    );
    await settle();
    // Only c is ready: its one item starts, a second worker stays free instead of parking on a0.
    expect(h.starts).toEqual(['c5']);
    ready.b.resolve();
    await settle();
    expect(h.starts).toEqual(['c5', 'b3']);
    ready.a.resolve();
    await settle();
    // Both workers busy (c5, b3): a's items wait for a free worker, not for each other.
    expect(h.starts).toEqual(['c5', 'b3']);
    await h.finish('c5');
    expect(h.starts).toEqual(['c5', 'b3', 'a0']);
    await h.finish('b3');
    expect(h.starts).toEqual(['c5', 'b3', 'a0', 'a1']);
    await h.finish('a1');
    expect(h.starts).toEqual(['c5', 'b3', 'a0', 'a1', 'a2']);
    await h.finish('a0');
    // b6 is behind a4 in input order, so a4 goes first.
    expect(h.starts).toEqual(['c5', 'b3', 'a0', 'a1', 'a2', 'a4']);
    await h.finish('a2');
    expect(h.starts).toEqual(['c5', 'b3', 'a0', 'a1', 'a2', 'a4', 'b6']);
    await h.finish('b6');
    await h.finish('a4');
    // Results in input order, whatever order they started and ended in.
    await expect(run).resolves.toEqual(['done a0', 'done a1', 'done a2', 'done b3', 'done a4', 'done c5', 'done b6']);
  });

  it("is a plain worker pool's order when every group is ready, and never has more than the limit in flight", async () => {
    const h = harness(['a0', 'b1', 'a2', 'b3', 'c4']);
    const run = mapWhenReady(
      h.items,
      2,
      (x) => x.group,
      () => undefined,
      h.fn,
    );
    await settle();
    expect(h.starts).toEqual(['a0', 'b1']);
    await h.finish('b1');
    expect(h.starts).toEqual(['a0', 'b1', 'a2']);
    await h.finish('a2');
    await h.finish('a0');
    expect(h.starts).toEqual(['a0', 'b1', 'a2', 'b3', 'c4']);
    await h.finish('c4');
    await h.finish('b3');
    await expect(run).resolves.toEqual(['done a0', 'done b1', 'done a2', 'done b3', 'done c4']);
  });

  it('runs a group whose readiness rejected (the caller decides what a failed probe means)', async () => {
    const h = harness(['a0', 'b1']);
    const a = deferred();
    const run = mapWhenReady(
      h.items,
      4,
      (x) => x.group,
      (g) => (g === 'a' ? a.promise : undefined),
      h.fn,
    );
    await settle();
    expect(h.starts).toEqual(['b1']);
    a.reject(new Error('probe failed'));
    await settle();
    expect(h.starts).toEqual(['b1', 'a0']);
    await h.finish('a0');
    await h.finish('b1');
    await expect(run).resolves.toEqual(['done a0', 'done b1']);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const items = ['a0', 'a1', 'a2', 'a3'].map(item);
    const starts: string[] = [];
    const boom = new Error('boom');
    const run = mapWhenReady(
      items,
      1,
      (x) => x.group,
      () => undefined,
      async (x) => {
        starts.push(x.id);
        if (x.id === 'a1') throw boom;
        return x.id;
      },
    );
    await expect(run).rejects.toBe(boom);
    await settle();
    expect(starts).toEqual(['a0', 'a1']);
  });

  it('resolves at once with no items', async () => {
    await expect(
      mapWhenReady(
        [],
        4,
        () => 'a',
        () => new Promise(() => {}),
        async () => 1,
      ),
    ).resolves.toEqual([]);
  });
});
