import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cephCollector } from '../agent/collectors/ceph/index.ts';
import { packerCollector } from '../agent/collectors/packer/index.ts';
import type { PackerConfig } from '../agent/collectors/packer/config.ts';
import { pveConfigSchema } from '../agent/collectors/pve/config.ts';
import { naturalKey } from '../mappers/keys.ts';
import { mapPve } from '../agent/collectors/pve/map/index.ts';
import { FAKE_PVE_TOKEN, startFakePveRoutes } from '../agent/collectors/pve/fake.ts';
import { FAKE_DASHBOARD_USER, demoCephDashboardScenario, demoCephScenario, startFakeCephDashboard } from '../agent/collectors/ceph/fake.ts';
import { testCollectContext, type TestCollectContext } from './helpers/collect-context.ts';
import { demoPackerFiles } from './fixtures/packer/demo.ts';

/* The demo lab's Ceph and Packer inputs, and how a hyperconverged Ceph meets the PVE policy's devices. */

const NOW = new Date('2025-06-01T12:00:00Z');
const PACKER_NOW = new Date('2025-01-01T00:00:00Z');

let ctx: TestCollectContext<PackerConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

describe('ceph demo', () => {
  it('the demo scenario reads the same cluster through both sources', async () => {
    const pve = await startFakePveRoutes(demoCephScenario);
    const dash = await startFakeCephDashboard(demoCephDashboardScenario);
    const configs = [
      cephCollector.configSchema.parse({
        PROXMOX_HOST: '127.0.0.1',
        PROXMOX_PORT: pve.port,
        PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName,
        PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret,
      }),
      cephCollector.configSchema.parse({
        CEPH_SOURCE: 'dashboard',
        CEPH_URL: dash.url,
        CEPH_USER: FAKE_DASHBOARD_USER.user,
        CEPH_PASSWORD: FAKE_DASHBOARD_USER.password,
      }),
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
      {
        bootstrap: false,
        host: 'pve1.lab.example',
        clusterName: 'lab',
        nodes: ['pve1', 'pve2', 'pve3'].map((name) => ({ name, status: 'online' })),
        guests: [],
      },
      { config: pveConfig, scope: { nodes: ['*'] }, now: NOW, policyName: 'pve' },
    );
    const pveDevices = new Set(pveEntities.filter((e) => e.kind === 'device').map(naturalKey));
    expect(pveDevices.size).toBe(3);

    const server = await startFakePveRoutes(demoCephScenario);
    const config = cephCollector.configSchema.parse({
      PROXMOX_HOST: '127.0.0.1',
      PROXMOX_PORT: server.port,
      PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName,
      PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret,
      ...sites,
    });
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

describe('packer demo', () => {
  it('the demo files produce every build status', async () => {
    const demo = await demoPackerFiles(join(mkdtempSync(join(tmpdir(), 'packer-demo-')), 'packer'));
    const config = packerCollector.configSchema.parse(demo.config);
    ctx = testCollectContext(config);
    const snapshot = await packerCollector.collect(ctx);
    expect(ctx.warnings.map((w) => w.code)).toEqual(['packer_build_unmatched']);
    const vms = packerCollector.map(snapshot, { config, scope: ctx.scope, now: PACKER_NOW, policyName: 'demo' }).filter((e) => e.kind === 'virtual_machine');
    expect(vms.map((e) => e.kind === 'virtual_machine' && [e.value.name, e.value.status, e.value.custom_fields?.packer_build_status?.selection])).toEqual([
      // In emission order (mappers/types.ts): by natural key.
      ['AlmaLinux 9 base', 'planned', 'running'],
      ['freebsd-14', 'planned', 'pending'],
      ['rocky-9', 'planned', 'cancelled'],
      ['tmpl-debian-12-20241216', 'offline', 'completed'],
      ['tmpl-ubuntu-2404-20241209', 'offline', 'failed'],
    ]);
  });
});
