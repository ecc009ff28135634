import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expectGolden, readJson, sortWarnings } from './helpers/golden.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { pbsCollector } from '../agent/collectors/pbs/index.ts';
import type { PbsConfig } from '../agent/collectors/pbs/config.ts';
import { parsePolicy } from '../agent/config/load.ts';
import { YamlSource } from '../agent/config/yaml-source.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { startFakePbs, type PbsScenario } from './fakes/pbs-server.ts';
import { testCollectContext } from './helpers/collect-context.ts';

/*
 * Golden cases: test/cases/pbs/<case>/ holds the scenario the fake PBS serves, the policy,
 * and the contract: expected.json (every entity, in emission order) and warnings.json, and
 * error.txt for a case whose collection fails (the run fails; expected.json is then []).
 * The collector reads the fake at 127.0.0.1:<port>; the mapper gets the policy as written,
 * so host and port in the output are the policy's. UPDATE_GOLDEN=1 rewrites the contract.
 */

const CASES = new URL('./cases/pbs/', import.meta.url);
const NOW = new Date('2025-01-06T12:00:00Z');
const registry = new Map([[pbsCollector.id, pbsCollector]]);

interface CaseMeta {
  description?: string;
  /** "down": nothing listens on the port. */
  server?: 'down';
}

function loadPolicy(file: URL) {
  const src = new YamlSource(file.pathname, readFileSync(file, 'utf8'));
  const r = parsePolicy(src, src.toJS(), [], registry, {});
  if (!r.policy) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return r.policy;
}



/** A port nothing listens on: a server's, just closed. */
async function closedPort(): Promise<number> {
  const s = await startFakeHttps(() => ({ status: 200 }));
  await s.close();
  return s.port;
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('pbs golden cases', () => {
  const names = readdirSync(CASES).filter((n) => existsSync(new URL(`${n}/policy.yaml`, CASES))).sort();
  it('has the cases the issue asks for', () => {
    expect(names).toEqual(['failed-jobs', 'multi-datastore-namespaces', 'no-tape', 'unreachable']);
  });

  for (const name of names) {
    it(name, async () => {
      const dir = new URL(`${name}/`, CASES);
      const policy = loadPolicy(new URL('policy.yaml', dir));
      const declared = policy.config as PbsConfig;
      const meta: CaseMeta = existsSync(new URL('case.json', dir)) ? readJson(new URL('case.json', dir)) : {};
      let port: number;
      if (meta.server === 'down') {
        port = await closedPort();
      } else {
        server = await startFakePbs(readJson<PbsScenario>(new URL('scenario.json', dir)), { tokenId: declared.PBS_TOKEN_ID, secret: declared.PBS_TOKEN_SECRET });
        port = server.port;
      }
      const ctx = testCollectContext<PbsConfig>({ ...declared, PBS_HOST: '127.0.0.1', PBS_PORT: port }, { policyName: policy.name });
      let entities: unknown = [];
      let error: string | undefined;
      try {
        const snapshot = await pbsCollector.collect(ctx);
        entities = JSON.parse(JSON.stringify(pbsCollector.map(snapshot, { config: declared, scope: policy.scope, now: NOW, policyName: policy.name }))) as unknown;
      } catch (err) {
        // A collection that throws is a failed run (agent/run.ts): nothing is mapped or sent.
        error = (err as Error).message.replaceAll(`127.0.0.1:${port}`, '127.0.0.1:PORT');
      } finally {
        await ctx.close();
      }
      // Calls run concurrently, so warnings arrive in any order: compared as a sorted list.
      const warnings = JSON.parse(JSON.stringify(sortWarnings(ctx.warnings)).replaceAll(`127.0.0.1:${port}`, '127.0.0.1:PORT')) as unknown;

      expectGolden(dir, 'expected.json', entities);
      expectGolden(dir, 'warnings.json', warnings);
      if (error !== undefined || existsSync(new URL('error.txt', dir))) expectGolden(dir, 'error.txt', error ?? '(the collection did not fail)');
    });
  }
});

describe('policies/pbs.example.yaml', () => {
  it('is a valid pbs policy', () => {
    const file = new URL('../policies/pbs.example.yaml', import.meta.url);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./policy.schema.json');
    const src = new YamlSource(file.pathname, text);
    const r = parsePolicy(src, src.toJS(), [], registry, { PBS_TOKEN_SECRET: 'from-the-environment' });
    expect(r.issues).toEqual([]);
    expect(r.policy?.collector).toBe('pbs');
    expect(r.policy?.config).toMatchObject({ PBS_PORT: 8007, PBS_TOKEN_SECRET: 'from-the-environment', PBS_SSL_VERIFY: false });
  });
});
