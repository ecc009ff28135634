import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { agentJsonSchema, policyJsonSchema, SCHEMA_FILES } from '../agent/config/json-schema.ts';
import { loadAgentConfig, loadPolicies } from '../agent/config/load.ts';
import { collectorFolders, examplePolicy } from './helpers/collectors.ts';

const root = new URL('..', import.meta.url).pathname;

describe('example policies', () => {
  it('all validate, with their ${env:} variables set', () => {
    // Each collector's example, as an operator would gather them in one policy directory.
    const dir = mkdtempSync(join(tmpdir(), 'examples-'));
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'agent.yaml'), `diode:\n  dry_run: true\npolicies:\n  dir: ${join(dir, 'policies')}\n`);
    const env: NodeJS.ProcessEnv = {};
    for (const id of collectorFolders()) {
      const text = readFileSync(examplePolicy(id), 'utf8');
      writeFileSync(join(dir, 'policies', `${id}.yaml`), text);
      for (const m of text.matchAll(/\$\{env:([A-Z0-9_]+)\}/g)) env[m[1]!] = 'example-value';
    }
    const set = loadPolicies(loadAgentConfig(join(dir, 'agent.yaml'), env), COLLECTORS, env);
    expect(set.issues).toEqual([]);
    expect(set.policies.map((p) => p.collector).sort()).toEqual([...COLLECTORS.keys()].sort());
  });

  it('point editors at the committed JSON Schema, which is up to date', () => {
    for (const id of collectorFolders()) {
      expect(readFileSync(examplePolicy(id), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../../../policies/policy.schema.json');
    }
    const committed = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));
    expect(committed(SCHEMA_FILES.policy), 'run `npx diode-agent schema --write`').toEqual(policyJsonSchema(COLLECTORS));
    expect(committed(SCHEMA_FILES.agent), 'run `npx diode-agent schema --write`').toEqual(agentJsonSchema());
  });
});

describe('deploy/example (the README docker run configuration)', () => {
  it('validates', () => {
    const env = { DIODE_CLIENT_ID: 'id', DIODE_CLIENT_SECRET: 'secret', PVE_TOKEN: 'token' };
    const cfg = loadAgentConfig(join(root, 'deploy/example/agent.yaml'), env);
    const set = loadPolicies(cfg, COLLECTORS, env);
    expect(set.issues).toEqual([]);
    expect(set.policies.map((p) => p.name)).toEqual(['pve-lab']);
  });
});
