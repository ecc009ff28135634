import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { cephCollector } from '../agent/collectors/ceph/index.ts';
import type { PackerConfig } from '../agent/collectors/packer/config.ts';
import { packerCollector } from '../agent/collectors/packer/index.ts';
import { pbsCollector } from '../agent/collectors/pbs/index.ts';
import { pdmCollector } from '../agent/collectors/pdm/index.ts';
import { parsePolicy } from '../agent/config/load.ts';
import { YamlSource } from '../agent/config/yaml-source.ts';
import { formatIssue } from '../agent/errors.ts';
import { TEST_CERT_FINGERPRINT } from './fakes/https-server.ts';
import { collectorFolders, examplePolicy } from './helpers/collectors.ts';

/*
 * The example policies are what operators copy. A pinned fingerprint in them is someone
 * else's certificate (it was the test suite's): pins are commented placeholders. The PVE
 * example's advice on BOOTSTRAP agrees with the README.
 */
const root = new URL('..', import.meta.url).pathname;
const examples = collectorFolders();
const text = (id: string) => readFileSync(examplePolicy(id), 'utf8');

describe('example policies', () => {
  it.each(examples)("%s's example pins no certificate: a *_FINGERPRINT is a commented placeholder, never the test certificate's", (f) => {
    const hex = TEST_CERT_FINGERPRINT.replace(/:/g, '');
    expect(text(f).replace(/:/g, '')).not.toContain(hex);
    expect(
      text(f)
        .split('\n')
        .filter((l) => /^\s*[A-Z]+_FINGERPRINT:/.test(l)),
    ).toEqual([]);
  });

  it('pbs and pdm show where the fingerprint goes', () => {
    expect(text('pbs')).toContain('  # PBS_FINGERPRINT: "AA:BB:CC:…:FF"');
    expect(text('pdm')).toContain('  # PDM_FINGERPRINT: "AA:BB:CC:…:FF"');
  });

  it('pve: BOOTSTRAP is not a step before the first discovery, as the README says', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(
      'Nothing else needs creating by hand: the agent sends the custom fields and tags it uses\n   before the objects that carry them, phase by phase',
    );
    const pve = text('pve');
    expect(pve).not.toMatch(/run it once before the first/);
    expect(pve).toContain('  # first discovery: a normal run sends them itself, before the objects that use them.\n  BOOTSTRAP: false\n');
  });
});

/* What each collector's example policy must say, read through the real loader. */
describe('example policies load', () => {
  describe('agent/collectors/pbs/example.yaml', () => {
    it('is a valid pbs policy', () => {
      const file = new URL('../agent/collectors/pbs/example.yaml', import.meta.url);
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../../policies/policy.schema.json');
      const src = new YamlSource(file.pathname, text);
      const r = parsePolicy(src, src.toJS(), [], new Map([[pbsCollector.id, pbsCollector]]), { PBS_TOKEN_SECRET: 'from-the-environment' });
      expect(r.issues).toEqual([]);
      expect(r.policy?.collector).toBe('pbs');
      expect(r.policy?.config).toMatchObject({ PBS_PORT: 8007, PBS_TOKEN_SECRET: 'from-the-environment', PBS_SSL_VERIFY: false });
    });
  });

  describe('agent/collectors/pdm/example.yaml', () => {
    it('is a valid pdm policy', () => {
      const file = new URL('../agent/collectors/pdm/example.yaml', import.meta.url);
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../../policies/policy.schema.json');
      const src = new YamlSource(file.pathname, text);
      const r = parsePolicy(src, src.toJS(), [], new Map([[pdmCollector.id, pdmCollector]]), { PDM_TOKEN_SECRET: 'from-the-environment' });
      expect(r.issues).toEqual([]);
      expect(r.policy?.collector).toBe('pdm');
      expect(r.policy?.config).toMatchObject({ PDM_PORT: 8443, PDM_TOKEN_SECRET: 'from-the-environment', PDM_SSL_VERIFY: false });
    });
  });

  describe('agent/collectors/ceph/example.yaml', () => {
    it('agent/collectors/ceph/example.yaml is a valid policy', () => {
      const file = fileURLToPath(new URL('../agent/collectors/ceph/example.yaml', import.meta.url));
      const src = new YamlSource(file, readFileSync(file, 'utf8'));
      const r = parsePolicy(src, src.toJS(), [], new Map([[cephCollector.id, cephCollector]]), { PVE_TOKEN: 'secret' });
      expect(r.issues).toEqual([]);
      expect(r.policy?.config).toMatchObject({
        CEPH_SOURCE: 'pve',
        PROXMOX_HOST: 'pve1.lab.example',
        PROXMOX_TOKEN_VALUE: 'secret',
        NODE_SITE_MAP: { pve1: 'London', pve2: 'Amsterdam' },
      });
    });
  });

  describe('agent/collectors/packer/example.yaml', () => {
    it('agent/collectors/packer/example.yaml is a valid policy', () => {
      const file = fileURLToPath(new URL('../agent/collectors/packer/example.yaml', import.meta.url));
      const src = new YamlSource(file, readFileSync(file, 'utf8'));
      const r = parsePolicy(src, src.toJS(), [], new Map([[packerCollector.id, packerCollector]]), { PVE_TOKEN: 'secret' });
      expect(r.issues.map(formatIssue)).toEqual([]);
      expect((r.policy!.config as PackerConfig).PACKER_DEFINITIONS.map((d) => d.name)).toEqual(['ubuntu-2404', 'debian-12']);
    });
  });
});
