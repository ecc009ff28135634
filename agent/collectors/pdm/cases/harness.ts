import { expect } from 'vitest';
import type { PdmConfig } from '../config.ts';
import type { PdmSnapshot } from '../snapshot.ts';
import { startFakePdm, type PdmScenario } from '../fake.ts';
import type { GoldenHarness } from '../../../../test/golden/harness.ts';

/**
 * PDM cases: the fake PDM serves scenario.json with the remote paths of case.json's
 * `generation` (default "new"). The collector reads the fake; the mapper gets the policy as written.
 */
export const harness: GoldenHarness<PdmConfig, PdmSnapshot> = {
  now: new Date('2025-01-06T12:00:00Z'),
  warningOrder: 'sorted',
  requiredCases: ['old-generation', 'pve-pbs-and-failing'],
  async start(c) {
    const declared = c.declared as PdmConfig;
    const generation = c.meta.generation === 'old' ? 'old' : 'new';
    const server = await startFakePdm(c.scenario as PdmScenario, { tokenId: declared.PDM_TOKEN_ID, secret: declared.PDM_TOKEN_SECRET, generation });
    return { server, collectConfig: { ...declared, PDM_HOST: '127.0.0.1', PDM_PORT: server.port }, mapConfig: declared };
  },
  check(c, snapshot, entities) {
    expect(snapshot.generation).toBe(c.meta.generation ?? 'new');
    // The 0.x betas return remote tokens in clear; none may reach the snapshot or NetBox.
    for (const r of (c.scenario as PdmScenario).remotes) {
      if (r.token === undefined) continue;
      expect(JSON.stringify(snapshot)).not.toContain(r.token);
      expect(JSON.stringify(entities)).not.toContain(r.token);
    }
  },
};
