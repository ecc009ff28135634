import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { packerCollector } from '../agent/collectors/packer/index.ts';
import type { PackerConfig } from '../agent/collectors/packer/config.ts';
import { parsePolicy } from '../agent/config/load.ts';
import { YamlSource } from '../agent/config/yaml-source.ts';
import { formatIssue } from '../agent/errors.ts';
import { orderEntities } from '../mappers/order.ts';
import { FAKE_PVE_TOKEN, startFakeCephPve, type CephPveScenario } from './fakes/ceph-server.ts';
import type { FakeServer } from './fakes/https-server.ts';
import { testCollectContext, type TestCollectContext } from './helpers/collect-context.ts';
import { caseNames, expectGolden } from './helpers/golden.ts';
import { demoPackerFiles } from './fixtures/packer/demo.ts';

/*
 * Golden cases of the packer collector: test/cases/packer/<case>/
 *   policy.yaml    the policy; PACKER_MANIFESTS / PACKER_LOGS are relative to the case
 *   scenario.json  optional: PVE answers ({"routes": {"/cluster/resources": …}}) for the lookup
 *   expected.json  the ordered entities [{kind, value}]   | error.txt  the run's error
 *   warnings.json  the run's warnings                      | issues.txt the loader's report
 * Absolute paths in messages are written as <repo>/…. UPDATE_GOLDEN=1 rewrites the
 * expected files; read every diff before committing it.
 */

const CASES = new URL('./cases/packer/', import.meta.url);
const REPO = fileURLToPath(new URL('../', import.meta.url)).replace(/\/$/, '');
const NOW = new Date('2025-01-01T00:00:00Z');

const normalize = <T>(v: T): T => JSON.parse(JSON.stringify(v).replaceAll(REPO, '<repo>')) as T;

let server: FakeServer | undefined;
let ctx: TestCollectContext<PackerConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

const cases = caseNames(CASES);

describe('packer golden cases', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));

  for (const name of cases) {
    it(name, async () => {
      const dir = new URL(`${name}/`, CASES);
      const dirPath = fileURLToPath(dir);
      const policyFile = new URL('policy.yaml', dir);
      const text = readFileSync(policyFile, 'utf8');

      // Through the real loader, so validation errors are reported as an operator sees them.
      const src = new YamlSource('policy.yaml', text);
      const loaded = parsePolicy(src, src.toJS(), [], new Map([[packerCollector.id, packerCollector]]), {});
      if (existsSync(new URL('issues.txt', dir))) {
        expect(loaded.policy).toBeUndefined();
        expectGolden(dir, 'issues.txt', loaded.issues.map(formatIssue).join('\n'));
        return;
      }
      expect(loaded.issues.map(formatIssue)).toEqual([]);

      const raw = (parseYaml(text) as { config: Record<string, unknown> }).config;
      const abs = (p: unknown) => (typeof p === 'string' && !isAbsolute(p) ? resolve(dirPath, p) : p);
      const paths = (v: unknown) => (Array.isArray(v) ? v.map(abs) : v === undefined ? v : abs(v));
      const overrides: Record<string, unknown> = { PACKER_MANIFESTS: paths(raw.PACKER_MANIFESTS), PACKER_LOGS: paths(raw.PACKER_LOGS) };
      if (existsSync(new URL('scenario.json', dir))) {
        server = await startFakeCephPve(JSON.parse(readFileSync(new URL('scenario.json', dir), 'utf8')) as CephPveScenario);
        Object.assign(overrides, { PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server.port, PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName, PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret });
      }
      const config = packerCollector.configSchema.parse(Object.fromEntries(Object.entries({ ...raw, ...overrides }).filter(([, v]) => v !== undefined)));
      ctx = testCollectContext(config, { policyName: name });
      let snapshot;
      try {
        snapshot = await packerCollector.collect(ctx);
      } catch (err) {
        expectGolden(dir, 'error.txt', normalize((err as Error).message));
        expectGolden(dir, 'warnings.json', normalize(ctx.warnings));
        return;
      }
      expect(existsSync(new URL('error.txt', dir))).toBe(false);
      const entities = orderEntities(packerCollector.map(snapshot, { config, scope: ctx.scope, now: NOW, policyName: name }));
      expectGolden(dir, 'expected.json', normalize(entities));
      expectGolden(dir, 'warnings.json', normalize(ctx.warnings));
    });
  }
});

describe('packer example policy and demo', () => {
  it('policies/packer.example.yaml is a valid policy', () => {
    const file = fileURLToPath(new URL('../policies/packer.example.yaml', import.meta.url));
    const src = new YamlSource(file, readFileSync(file, 'utf8'));
    const r = parsePolicy(src, src.toJS(), [], new Map([[packerCollector.id, packerCollector]]), { PVE_TOKEN: 'secret' });
    expect(r.issues.map(formatIssue)).toEqual([]);
    expect((r.policy?.config as PackerConfig).PACKER_DEFINITIONS.map((d) => d.name)).toEqual(['ubuntu-2404', 'debian-12']);
  });

  it('the demo files produce every build status', async () => {
    const demo = await demoPackerFiles(join(mkdtempSync(join(tmpdir(), 'packer-demo-')), 'packer'));
    const config = packerCollector.configSchema.parse(demo.config);
    ctx = testCollectContext(config);
    const snapshot = await packerCollector.collect(ctx);
    expect(ctx.warnings.map((w) => w.code)).toEqual(['packer_build_unmatched']);
    const vms = packerCollector.map(snapshot, { config, scope: ctx.scope, now: NOW, policyName: 'demo' }).filter((e) => e.kind === 'virtual_machine');
    expect(vms.map((e) => e.kind === 'virtual_machine' && [e.value.name, e.value.status, e.value.custom_fields?.packer_build_status?.selection])).toEqual([
      ['tmpl-ubuntu-2404-20241209', 'offline', 'failed'],
      ['tmpl-debian-12-20241216', 'offline', 'completed'],
      ['rocky-9', 'planned', 'cancelled'],
      ['AlmaLinux 9 base', 'planned', 'running'],
      ['freebsd-14', 'planned', 'pending'],
    ]);
  });
});
