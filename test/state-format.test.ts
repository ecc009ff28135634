import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiodeIngester, GrpcCode } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler } from '../agent/collectors/pve/fake.ts';
import { entitiesOf, harness, PVE_TOKEN } from './helpers/agent-harness.ts';

/*
 * A damaged state file (agent/state/format.ts, version 2) through the whole agent: the run
 * warns, naming the file and what is wrong, resyncs everything, and writes a good state, so
 * the run after it is a delta run again.
 */
let ingester: FakeDiodeIngester;
let pve: FakeServer;
beforeEach(async () => {
  ingester = await new FakeDiodeIngester().start();
  pve = await startFakeHttps(pveHandler(generatePveScenario({ guests: 6, nodes: 2, seed: 5 }), PVE_TOKEN));
});
afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

const accepted = () => entitiesOf(ingester.ingests.filter((r) => r.code === GrpcCode.OK).map((r) => r.bytes));

describe('a damaged state file', () => {
  it('is a warning naming the file, and a full resync; the state written then makes the next run a delta run', async () => {
    const h = harness(ingester, pve);
    const lines: Array<Record<string, unknown>> = [];
    const a = h.agent({ log: pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) }) });
    const [r1] = await a.once();
    expect(r1?.delivery).toMatchObject({ full: true, reason: 'first run' });
    const everything = accepted().length;
    const file = join(h.dir, 'state', 'pve.state');
    const good = readFileSync(file);
    // A torn write: the end of the file is missing.
    writeFileSync(file, good.subarray(0, good.length >> 1));
    const [r2] = await a.once();
    expect(r2).toMatchObject({ status: 'success', delivery: { full: true, reason: 'state unreadable', planned: everything } });
    expect(accepted().length).toBe(2 * everything);
    expect(lines.filter((l) => l.msg === 'state unreadable, doing a full resync').map((l) => l.reason)).toEqual([
      `${file} is corrupt: checksum mismatch (truncated or damaged)`,
    ]);
    const [r3] = await a.once();
    expect(r3?.delivery).toMatchObject({ full: false, reason: 'delta', planned: 0 });
    expect(accepted().length).toBe(2 * everything);
    await a.stop(0);
  });
});
