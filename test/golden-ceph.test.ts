import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cephCollector } from '../agent/collectors/ceph/index.ts';
import type { CephConfig } from '../agent/collectors/ceph/config.ts';
import { parsePolicy } from '../agent/config/load.ts';
import { YamlSource } from '../agent/config/yaml-source.ts';
import { orderEntities } from '../mappers/order.ts';
import { naturalKey } from '../mappers/keys.ts';
import { mapPve } from '../mappers/pve/index.ts';
import { pveConfigSchema } from '../agent/collectors/pve/config.ts';
import {
  FAKE_PVE_TOKEN, demoCephDashboardScenario, demoCephScenario, startFakeCephDashboard, startFakeCephPve, FAKE_DASHBOARD_USER,
  type CephDashboardScenario, type CephPveScenario,
} from './fakes/ceph-server.ts';
import type { FakeRequest, FakeServer } from './fakes/https-server.ts';
import { testCollectContext, type TestCollectContext } from './helpers/collect-context.ts';
import { caseNames, expectGolden } from './helpers/golden.ts';

/*
 * Golden cases of the ceph collector: test/cases/ceph/<case>/
 *   policy.yaml    the policy (its config; host, port and URL are pointed at the fake)
 *   scenario.json  the fake's answers: {"kind": "pve" | "dashboard", …scenario}; an object
 *                  {"$file": "<path under test/fixtures/ceph>", "$pick": "data"} stands for
 *                  that file's content (recorded third-party bodies are kept verbatim there)
 *   expected.json  the ordered entities [{kind, value}]
 *   warnings.json  the run's warnings
 *   requests.json  every request the collector made, sorted (parallel calls have no order)
 * UPDATE_GOLDEN=1 rewrites the expected files; read every diff before committing it.
 */

const CASES = new URL('./cases/ceph/', import.meta.url);
const FIXTURES = new URL('./fixtures/ceph/', import.meta.url);
const NOW = new Date('2025-06-01T12:00:00Z');

type Scenario = ({ kind: 'pve'; messageInBody?: boolean } & CephPveScenario) | ({ kind: 'dashboard' } & CephDashboardScenario);

function resolveIncludes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(resolveIncludes);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$file === 'string') {
      let content = JSON.parse(readFileSync(new URL(o.$file, FIXTURES), 'utf8')) as unknown;
      if (typeof o.$pick === 'string') content = (content as Record<string, unknown>)[o.$pick];
      return content;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveIncludes(x)]));
  }
  return v;
}

function requestLine(r: FakeRequest, kind: Scenario['kind']): string {
  const qs = r.query.toString();
  const accept = kind === 'dashboard' ? ` [${String(r.headers.accept)}]` : '';
  return `${r.method} ${r.path}${qs ? `?${decodeURIComponent(qs)}` : ''}${accept}`;
}

let server: FakeServer | undefined;
let ctx: TestCollectContext<CephConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

const cases = caseNames(CASES);

describe('ceph golden cases', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));

  for (const name of cases) {
    it(name, async () => {
      const dir = new URL(`${name}/`, CASES);
      const scenario = resolveIncludes(JSON.parse(readFileSync(new URL('scenario.json', dir), 'utf8'))) as Scenario;
      const policy = parseYaml(readFileSync(new URL('policy.yaml', dir), 'utf8')) as { collector: string; config: Record<string, unknown> };
      expect(policy.collector).toBe('ceph');
      server = scenario.kind === 'pve'
        ? await startFakeCephPve(scenario, { messageInBody: scenario.messageInBody ?? false })
        : await startFakeCephDashboard(scenario);
      const raw = scenario.kind === 'pve'
        ? { ...policy.config, PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server.port }
        : { ...policy.config, CEPH_URL: `${server.url}/` };
      const config = cephCollector.configSchema.parse(raw);
      ctx = testCollectContext(config, { policyName: name });
      const snapshot = await cephCollector.collect(ctx);
      const entities = orderEntities(cephCollector.map(snapshot, { config, scope: ctx.scope, now: NOW, policyName: name }));
      expectGolden(dir, 'expected.json', entities);
      expectGolden(dir, 'warnings.json', ctx.warnings);
      expectGolden(dir, 'requests.json', server.requests.map((r) => requestLine(r, scenario.kind)).sort());
    });
  }
});

describe('ceph example policy and demo', () => {
  it('policies/ceph.example.yaml is a valid policy', () => {
    const file = fileURLToPath(new URL('../policies/ceph.example.yaml', import.meta.url));
    const src = new YamlSource(file, readFileSync(file, 'utf8'));
    const r = parsePolicy(src, src.toJS(), [], new Map([[cephCollector.id, cephCollector]]), { PVE_TOKEN: 'secret' });
    expect(r.issues).toEqual([]);
    expect(r.policy?.config).toMatchObject({ CEPH_SOURCE: 'pve', PROXMOX_HOST: 'pve1.lab.example', PROXMOX_TOKEN_VALUE: 'secret', NODE_SITE_MAP: { pve1: 'London', pve2: 'Amsterdam' } });
  });

  it('the demo scenario reads the same cluster through both sources', async () => {
    const pve = await startFakeCephPve(demoCephScenario);
    const dash = await startFakeCephDashboard(demoCephDashboardScenario);
    const configs = [
      cephCollector.configSchema.parse({ PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: pve.port, PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName, PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret }),
      cephCollector.configSchema.parse({ CEPH_SOURCE: 'dashboard', CEPH_URL: dash.url, CEPH_USER: FAKE_DASHBOARD_USER.user, CEPH_PASSWORD: FAKE_DASHBOARD_USER.password }),
    ];
    const snaps = [];
    for (const config of configs) {
      const c = testCollectContext(config);
      snaps.push(await cephCollector.collect(c));
      expect(c.warnings).toEqual([]);
      await c.close();
    }
    await pve.close();
    await dash.close();
    const [a, b] = snaps;
    if (!a?.present || !b?.present) throw new Error('Ceph absent');
    // Same facts; only what a source cannot tell differs (PVE names rules only; the
    // dashboard shows manager messenger ports not at all).
    expect({ ...b, source: 'pve', crushRules: a.crushRules, daemons: b.daemons.map((d) => ({ ...d, ports: d.type === 'mgr' ? [6801] : d.ports })) }).toEqual(a);
    expect([a.health, a.flags, a.osds.filter((o) => !o.up || !o.in).map((o) => o.name)]).toEqual(['HEALTH_WARN', ['noout'], ['osd.7', 'osd.10']]);
  });
});

describe('hyperconverged convergence', () => {
  it('every host a pve-mode ceph policy references is the Device the pve policy makes', async () => {
    const sites = { SITE_NAME: 'Lab', NODE_SITE_MAP: 'pve1:London,pve2:Amsterdam' };
    const pveConfig = pveConfigSchema.parse({ PROXMOX_HOST: 'pve1.lab.example', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 'x', ...sites });
    const pveEntities = mapPve(
      { bootstrap: false, host: 'pve1.lab.example', clusterName: 'lab', nodes: ['pve1', 'pve2', 'pve3'].map((name) => ({ name, status: 'online' })), guests: [] },
      { config: pveConfig, scope: { nodes: ['*'] }, now: NOW, policyName: 'pve' },
    );
    const pveDevices = new Set(pveEntities.filter((e) => e.kind === 'device').map(naturalKey));
    expect(pveDevices.size).toBe(3);

    const server = await startFakeCephPve(demoCephScenario);
    const config = cephCollector.configSchema.parse({ PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server.port, PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName, PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret, ...sites });
    const c = testCollectContext(config);
    const cephEntities = cephCollector.map(await cephCollector.collect(c), { config, scope: c.scope, now: NOW, policyName: 'ceph' });
    await c.close();
    await server.close();
    const referenced = new Set<string>();
    for (const e of cephEntities) {
      if (e.kind === 'device') referenced.add(naturalKey(e));
      if (e.kind === 'inventory_item' && e.value.device) referenced.add(naturalKey({ kind: 'device', value: e.value.device }));
      if (e.kind === 'service' && e.value.parent_object_device) referenced.add(naturalKey({ kind: 'device', value: e.value.parent_object_device }));
    }
    expect([...referenced].sort()).toEqual([...pveDevices].sort());
  });
});
