import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COLLECTORS } from '../collectors/registry.ts';
import { ConfigError } from '../errors.ts';
import { loadAgentConfig, loadPolicies } from './load.ts';

/** Arbitrary input never throws anything but ConfigError, and every issue is positioned. */
const dir = mkdtempSync(join(tmpdir(), 'cfg-prop-'));
let n = 0;

function load(text: string): void {
  const file = join(dir, `agent-${n++}.yaml`);
  writeFileSync(file, text);
  try {
    const cfg = loadAgentConfig(file, { SET: 'value' });
    const set = loadPolicies(cfg, COLLECTORS, { SET: 'value' });
    for (const i of set.issues) expect(i.message.length).toBeGreaterThan(0);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    for (const i of (err as ConfigError).issues) expect(i.file).toBe(file);
  }
}

const keyish = fc.constantFrom(
  'agent',
  'diode',
  'policies',
  'name',
  'target',
  'dry_run',
  'collector',
  'config',
  'schedule',
  'PROXMOX_HOST',
  'BOOTSTRAP',
  'inline',
  'dir',
  'x',
);
const leaf = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('${env:SET}', '${env:UNSET}', '${file:/nonexistent}', 'grpc://h:1/d', '*/5 * * * *'),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(keyish, tie('node'), { maxKeys: 4 })),
})).node;

describe('config loader properties', () => {
  it('arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) => load(t)),
      { numRuns: 300 },
    );
  });
  it('arbitrary YAML structures near the real schema', () => {
    fc.assert(
      fc.property(fc.dictionary(keyish, value, { maxKeys: 5 }), (v) => load(stringify(v))),
      { numRuns: 300 },
    );
  });
});
