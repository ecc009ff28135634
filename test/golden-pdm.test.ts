import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expectGolden, readJson, sortWarnings } from './helpers/golden.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { pdmCollector } from '../agent/collectors/pdm/index.ts';
import type { PdmConfig } from '../agent/collectors/pdm/config.ts';
import { parsePolicy } from '../agent/config/load.ts';
import { YamlSource } from '../agent/config/yaml-source.ts';
import type { FakeServer } from './fakes/https-server.ts';
import { startFakePdm, type PdmScenario } from './fakes/pdm-server.ts';
import { testCollectContext } from './helpers/collect-context.ts';

/*
 * Golden cases: test/cases/pdm/<case>/ holds the scenario the fake PDM serves (case.json
 * says which remote-path generation), the policy, and the contract: expected.json (every
 * entity, in emission order) and warnings.json. The collector reads the fake at
 * 127.0.0.1:<port>; the mapper gets the policy as written. UPDATE_GOLDEN=1 rewrites the contract.
 */

const CASES = new URL('./cases/pdm/', import.meta.url);
const NOW = new Date('2025-01-06T12:00:00Z');
const registry = new Map([[pdmCollector.id, pdmCollector]]);

interface CaseMeta {
  description?: string;
  generation?: 'new' | 'old';
}

function loadPolicy(file: URL) {
  const src = new YamlSource(file.pathname, readFileSync(file, 'utf8'));
  const r = parsePolicy(src, src.toJS(), [], registry, {});
  if (!r.policy) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return r.policy;
}



let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('pdm golden cases', () => {
  const names = readdirSync(CASES).filter((n) => existsSync(new URL(`${n}/policy.yaml`, CASES))).sort();
  it('has the cases the issue asks for', () => {
    expect(names).toEqual(['old-generation', 'pve-pbs-and-failing']);
  });

  for (const name of names) {
    it(name, async () => {
      const dir = new URL(`${name}/`, CASES);
      const policy = loadPolicy(new URL('policy.yaml', dir));
      const declared = policy.config as PdmConfig;
      const meta = readJson<CaseMeta>(new URL('case.json', dir));
      const scenario = readJson<PdmScenario>(new URL('scenario.json', dir));
      server = await startFakePdm(scenario, { tokenId: declared.PDM_TOKEN_ID, secret: declared.PDM_TOKEN_SECRET, generation: meta.generation ?? 'new' });
      const ctx = testCollectContext<PdmConfig>({ ...declared, PDM_HOST: '127.0.0.1', PDM_PORT: server.port }, { policyName: policy.name });
      let snapshot;
      let entities;
      try {
        snapshot = await pdmCollector.collect(ctx);
        entities = JSON.parse(JSON.stringify(pdmCollector.map(snapshot, { config: declared, scope: policy.scope, now: NOW, policyName: policy.name }))) as unknown;
      } finally {
        await ctx.close();
      }
      expect(snapshot.generation).toBe(meta.generation ?? 'new');
      // The 0.x betas return remote tokens in clear; none may reach the snapshot or NetBox.
      for (const r of scenario.remotes) {
        if (r.token === undefined) continue;
        expect(JSON.stringify(snapshot)).not.toContain(r.token);
        expect(JSON.stringify(entities)).not.toContain(r.token);
      }
      const warnings = JSON.parse(JSON.stringify(sortWarnings(ctx.warnings))) as unknown;

      expectGolden(dir, 'expected.json', entities);
      expectGolden(dir, 'warnings.json', warnings);
    });
  }
});

describe('policies/pdm.example.yaml', () => {
  it('is a valid pdm policy', () => {
    const file = new URL('../policies/pdm.example.yaml', import.meta.url);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./policy.schema.json');
    const src = new YamlSource(file.pathname, text);
    const r = parsePolicy(src, src.toJS(), [], registry, { PDM_TOKEN_SECRET: 'from-the-environment' });
    expect(r.issues).toEqual([]);
    expect(r.policy?.collector).toBe('pdm');
    expect(r.policy?.config).toMatchObject({ PDM_PORT: 8443, PDM_TOKEN_SECRET: 'from-the-environment', PDM_SSL_VERIFY: false });
  });
});
