import type { PbsConfig } from '../config.ts';
import { startFakeHttps } from '../../../../test/fakes/https-server.ts';
import { startFakePbs, type PbsScenario } from '../fake.ts';
import type { GoldenHarness } from '../../../../test/golden/harness.ts';

/** A port nothing listens on: a server's, just closed. */
async function closedPort(): Promise<number> {
  const s = await startFakeHttps(() => ({ status: 200 }));
  await s.close();
  return s.port;
}

/**
 * PBS cases: the fake PBS serves scenario.json (case.json `"server": "down"`: nothing listens).
 * The collector reads the fake at 127.0.0.1:<port>; the mapper gets the policy as written.
 */
export const harness: GoldenHarness<PbsConfig> = {
  now: new Date('2025-01-06T12:00:00Z'),
  warningOrder: 'sorted',
  requiredCases: ['failed-jobs', 'multi-datastore-namespaces', 'no-tape', 'unreachable'],
  async start(c) {
    const declared = c.declared as PbsConfig;
    if (c.meta.server === 'down') {
      const port = await closedPort();
      return { port, collectConfig: { ...declared, PBS_HOST: '127.0.0.1', PBS_PORT: port }, mapConfig: declared };
    }
    const server = await startFakePbs(c.scenario as PbsScenario, { tokenId: declared.PBS_TOKEN_ID, secret: declared.PBS_TOKEN_SECRET });
    return { server, collectConfig: { ...declared, PBS_HOST: '127.0.0.1', PBS_PORT: server.port }, mapConfig: declared };
  },
};
