import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { encodeEntity } from './codec.ts';
import type { RetrievePage } from './reconciler.ts';
import { ReadBackSession } from './read-back.ts';

describe('ReadBackSession', () => {
  it('spends one read_back.timeout per run, not one per delivery phase, when Diode never confirms', async () => {
    let clock = 0;
    const listings: number[] = [];
    const session = new ReadBackSession({
      // Every listing costs 40 ms of the fake clock and finds nothing final.
      reader: {
        retrieveIngestionLogs: async (): Promise<RetrievePage> => {
          listings.push(clock);
          clock += 40;
          return { logs: [], nextPageToken: '' };
        },
      },
      timeoutMs: 100,
      pollIntervalMs: 0,
      log: pino({ level: 'silent' }) as Logger,
      now: () => clock,
    });
    const phases = ['a', 'b', 'c'].map((id) => ({ id, entities: [encodeEntity({ kind: 'tag', value: { name: id, slug: id } })], sentAt: 0 }));
    for (const p of phases) {
      session.add(p);
      await session.wait([p.id]);
    }
    await session.wait();
    // The first phase polls at 0, 40 and 80 (past the budget at 120); every later wait polls
    // once and stops: phase b at 120, c at 160, the final wait once, listing the three requests.
    // A budget per wait would poll each phase until 100 ms after its own start.
    expect(listings).toEqual([0, 40, 80, 120, 160, 200, 240, 280]);
    expect(session.summary()).toMatchObject({ status: 'timeout', unconfirmed: 3 });
  });
});
