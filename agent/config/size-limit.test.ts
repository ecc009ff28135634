import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLLECTORS } from '../collectors/registry.ts';
import { ConfigError } from '../errors.ts';
import { loadAgentConfig, loadPolicies, MAX_CONFIG_FILE_BYTES } from './load.ts';

/** A valid policy padded with a comment to exactly `size` bytes. */
function policyOfSize(name: string, size: number): string {
  const head = `name: ${name}\ncollector: pve\nconfig: { BOOTSTRAP: true }\n# `;
  return `${head}${'x'.repeat(size - head.length - 1)}\n`;
}

function setup(): { dir: string; configFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'size-limit-'));
  mkdirSync(join(dir, 'policies'));
  const configFile = join(dir, 'agent.yaml');
  writeFileSync(configFile, 'diode:\n  dry_run: true\npolicies:\n  dir: ./policies\n');
  return { dir, configFile };
}

describe('configuration file size limit', () => {
  it('is 1 MiB', () => {
    expect(MAX_CONFIG_FILE_BYTES).toBe(1024 * 1024);
  });

  it('refuses a policy file over it before parsing, and loads one exactly at it', () => {
    const { dir, configFile } = setup();
    writeFileSync(join(dir, 'policies', 'at.yaml'), policyOfSize('at', MAX_CONFIG_FILE_BYTES));
    // Not even YAML: refused on its size, not parsed.
    writeFileSync(join(dir, 'policies', 'over.yaml'), `name: [${'x'.repeat(2 * MAX_CONFIG_FILE_BYTES)}`);
    const set = loadPolicies(loadAgentConfig(configFile, {}), COLLECTORS, {});
    expect(set.policies.map((p) => p.name)).toEqual(['at']);
    expect(set.issues).toEqual([
      { file: join(dir, 'policies', 'over.yaml'), path: '', message: 'file is too large (2097159 bytes; configuration files are limited to 1 MiB)' },
    ]);
  });

  it('refuses agent.yaml over it', () => {
    const { configFile } = setup();
    const text = `diode:\n  dry_run: true\n# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`;
    writeFileSync(configFile, text);
    expect(text.length).toBe(1048602);
    expect(() => loadAgentConfig(configFile, {})).toThrow(
      new ConfigError([{ file: configFile, path: '', message: 'file is too large (1048602 bytes; configuration files are limited to 1 MiB)' }]),
    );
  });

  it('refuses a ${file:} value over it', () => {
    const { dir, configFile } = setup();
    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(MAX_CONFIG_FILE_BYTES + 1));
    writeFileSync(
      join(dir, 'policies', 'p.yaml'),
      'name: p\ncollector: pve\nconfig:\n  PROXMOX_HOST: h\n  PROXMOX_TOKEN_NAME: n\n  PROXMOX_TOKEN_VALUE: ${file:../big.txt}\n',
    );
    const set = loadPolicies(loadAgentConfig(configFile, {}), COLLECTORS, {});
    expect(set.policies).toEqual([]);
    expect(set.issues).toEqual([
      {
        file: join(dir, 'policies', 'p.yaml'),
        line: 6,
        col: 24,
        path: 'config.PROXMOX_TOKEN_VALUE',
        message: 'cannot read ../big.txt (1048577 bytes; values read with ${file:} are limited to 1 MiB)',
      },
    ]);
  });
});
