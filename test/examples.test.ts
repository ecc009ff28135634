import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_CERT_FINGERPRINT } from './fakes/https-server.ts';

/*
 * The example policies are what operators copy. A pinned fingerprint in them is someone
 * else's certificate (it was the test suite's): pins are commented placeholders. The PVE
 * example's advice on BOOTSTRAP agrees with the README.
 */
const root = new URL('..', import.meta.url).pathname;
const examples = readdirSync(join(root, 'policies')).filter((f) => f.endsWith('.example.yaml')).sort();
const text = (f: string) => readFileSync(join(root, 'policies', f), 'utf8');

describe('example policies', () => {
  it.each(examples)('%s pins no certificate: a *_FINGERPRINT is a commented placeholder, never the test certificate\'s', (f) => {
    const hex = TEST_CERT_FINGERPRINT.replace(/:/g, '');
    expect(text(f).replace(/:/g, '')).not.toContain(hex);
    expect(text(f).split('\n').filter((l) => /^\s*[A-Z]+_FINGERPRINT:/.test(l))).toEqual([]);
  });

  it('pbs and pdm show where the fingerprint goes', () => {
    expect(text('pbs.example.yaml')).toContain('  # PBS_FINGERPRINT: "AA:BB:CC:…:FF"');
    expect(text('pdm.example.yaml')).toContain('  # PDM_FINGERPRINT: "AA:BB:CC:…:FF"');
  });

  it('pve: BOOTSTRAP is not a step before the first discovery, as the README says', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('Nothing else needs creating by hand: the agent sends the custom fields and tags it uses\n   before the objects that carry them, phase by phase');
    const pve = text('pve.example.yaml');
    expect(pve).not.toMatch(/run it once before the first/);
    expect(pve).toContain('  # first discovery: a normal run sends them itself, before the objects that use them.\n  BOOTSTRAP: false\n');
  });
});
