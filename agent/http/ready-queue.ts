/**
 * Runs `fn` over `items` with at most `limit` in flight, like a plain worker pool, but an item starts
 * only once its group is ready (`readyOf(group)` settled, fulfilled or rejected; undefined
 * is ready at once). Items of a group that is not ready wait in that group's queue
 * without holding one of the `limit` workers, so a group that is slow to become ready
 * (a node whose liveness probe answers late) delays only its own items, never the other
 * groups' ones behind it. A free worker takes, of the items whose group is ready, the one
 * first in `items`: when everything is ready this is a plain pool's order. Results come back in
 * `items` order whatever order things start or end in. The first rejection of `fn` rejects
 * the whole and nothing more is started (what is running goes on).
 *
 * A group whose readiness never settles never runs: the caller's probes settle (they are
 * HTTP calls with a deadline).
 */
export function mapWhenReady<T, R>(
  items: readonly T[],
  limit: number,
  groupOf: (item: T) => string,
  readyOf: (group: string) => PromiseLike<unknown> | undefined,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  if (items.length === 0) return Promise.resolve(out);
  const max = Math.max(1, limit);
  // Per group, its items' indexes in order, and how many were taken.
  const queues = new Map<string, { indexes: number[]; taken: number }>();
  items.forEach((item, i) => {
    const g = groupOf(item);
    const q = queues.get(g);
    if (q) q.indexes.push(i);
    else queues.set(g, { indexes: [i], taken: 0 });
  });
  // Groups that are ready and still have items; few (one per node), so a scan finds the next.
  const ready: Array<{ indexes: number[]; taken: number }> = [];
  let active = 0;
  let finished = 0;
  let failed = false;
  return new Promise<R[]>((resolve, reject) => {
    const next = (): number | undefined => {
      let best = -1;
      for (let k = 0; k < ready.length; k++) {
        const q = ready[k] as { indexes: number[]; taken: number };
        if (best < 0 || (q.indexes[q.taken] as number) < ((ready[best] as typeof q).indexes[(ready[best] as typeof q).taken] as number)) best = k;
      }
      if (best < 0) return undefined;
      const q = ready[best] as { indexes: number[]; taken: number };
      const i = q.indexes[q.taken++] as number;
      if (q.taken === q.indexes.length) ready.splice(best, 1);
      return i;
    };
    const pump = (): void => {
      while (!failed && active < max) {
        const i = next();
        if (i === undefined) return;
        active++;
        let started: Promise<R>;
        try {
          started = fn(items[i] as T, i);
        } catch (err) {
          started = Promise.reject(err);
        }
        started.then(
          (r) => {
            out[i] = r;
            active--;
            if (++finished === items.length) resolve(out);
            else pump();
          },
          (err: unknown) => {
            active--;
            if (failed) return;
            failed = true;
            reject(err);
          },
        );
      }
    };
    for (const [g, q] of queues) {
      const p = readyOf(g);
      if (p === undefined) {
        ready.push(q);
        continue;
      }
      const release = (): void => {
        ready.push(q);
        pump();
      };
      p.then(release, release);
    }
    pump();
  });
}
