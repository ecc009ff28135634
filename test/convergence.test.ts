import { afterEach, describe, expect, it } from 'vitest';
import { pbsCollector } from '../agent/collectors/pbs/index.ts';
import type { PbsConfig } from '../agent/collectors/pbs/config.ts';
import { pdmCollector } from '../agent/collectors/pdm/index.ts';
import type { PdmConfig } from '../agent/collectors/pdm/config.ts';
import { pveConfigSchema } from '../agent/collectors/pve/config.ts';
import type { PveSnapshot } from '../agent/collectors/pve/snapshot.ts';
import { naturalKey } from '../mappers/keys.ts';
import { mapPve } from '../agent/collectors/pve/map/index.ts';
import { DISCOVERED_TAG as PVE_DISCOVERED_TAG } from '../agent/collectors/pve/map/static.ts';
import type { AnyEntity, EntityOf } from '../mappers/types.ts';
import type { FakeServer } from './fakes/https-server.ts';
import { demoPbsScenario, startFakePbs, type PbsScenario } from '../agent/collectors/pbs/fake.ts';
import { demoPdmScenario, startFakePdm, type PdmScenario } from '../agent/collectors/pdm/fake.ts';
import { testCollectContext } from './helpers/collect-context.ts';

/*
 * A PVE policy and a PDM policy that see the same cluster must name the same Cluster, and a
 * PBS policy and a PDM policy that see the same backup server the same Device: Diode merges
 * objects by natural key (mappers/keys.ts), so equal keys are what makes them one object.
 * PDM and PBS go through their collectors and fakes; the PVE side is mapPve over a snapshot.
 */

const NOW = new Date('2025-01-06T12:00:00Z');
const TOKEN = { tokenId: 'root@pam!netbox', secret: 'a3f1c2d4-0000-4000-8000-000000000001' };
const scope = { nodes: ['*'] };

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function only<K extends AnyEntity['kind']>(entities: AnyEntity[], kind: K, where: (e: EntityOf<K>) => boolean = () => true): EntityOf<K> {
  const found = entities.filter((e) => e.kind === kind && where(e as unknown as EntityOf<K>));
  expect(found).toHaveLength(1);
  return found[0] as unknown as EntityOf<K>;
}

function pve(host: string, clusterName: string | undefined): AnyEntity[] {
  const config = pveConfigSchema.parse({ PROXMOX_HOST: host, PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 'x', SITE_NAME: 'Lab' });
  const snapshot: PveSnapshot = { bootstrap: false, host, apiVersion: '8.4.1', ...(clusterName !== undefined && { clusterName }), nodes: [], guests: [] };
  return mapPve(snapshot, { config, scope, now: NOW, policyName: 'pve' });
}

async function pdm(scenario: PdmScenario, generation: 'new' | 'old' = 'new', warnings: unknown[] = []): Promise<AnyEntity[]> {
  const server = await startFakePdm(scenario, { ...TOKEN, generation });
  servers.push(server);
  const declared = pdmCollector.configSchema.parse({
    PDM_HOST: 'pdm.lab.example',
    PDM_TOKEN_ID: TOKEN.tokenId,
    PDM_TOKEN_SECRET: TOKEN.secret,
    SITE_NAME: 'Lab',
  });
  const ctx = testCollectContext<PdmConfig>({ ...declared, PDM_HOST: '127.0.0.1', PDM_PORT: server.port });
  try {
    const snapshot = await pdmCollector.collect(ctx);
    expect(ctx.warnings).toEqual(warnings);
    return pdmCollector.map(snapshot, { config: declared, scope, now: NOW, policyName: 'pdm' });
  } finally {
    await ctx.close();
  }
}

async function pbs(
  config: Record<string, unknown>,
  scenario: PbsScenario = { version: { version: '3.4', release: '1', repoid: 'x' }, datastores: [] },
): Promise<AnyEntity[]> {
  const server = await startFakePbs(scenario, TOKEN);
  servers.push(server);
  const declared = pbsCollector.configSchema.parse({ PBS_TOKEN_ID: TOKEN.tokenId, PBS_TOKEN_SECRET: TOKEN.secret, SITE_NAME: 'Lab', ...config });
  const ctx = testCollectContext<PbsConfig>({ ...declared, PBS_HOST: '127.0.0.1', PBS_PORT: server.port });
  try {
    const snapshot = await pbsCollector.collect(ctx);
    expect(ctx.warnings).toEqual([]);
    return pbsCollector.map(snapshot, { config: declared, scope, now: NOW, policyName: 'pbs' });
  } finally {
    await ctx.close();
  }
}

describe('PVE and PDM converge on the Cluster', () => {
  it('by the real cluster name of a clustered remote', async () => {
    const fromPve = only(pve('pve1.lab.example', 'prod-cluster'), 'cluster');
    const fromPdm = only(
      await pdm({ remotes: [{ type: 'pve', id: 'prod', authid: 'root@pam!pdm', cluster: 'prod-cluster', nodes: ['hostname=pve1.lab.example'] }] }),
      'cluster',
    );
    expect(naturalKey(fromPdm)).toBe('Lab/prod-cluster');
    expect(naturalKey(fromPdm)).toBe(naturalKey(fromPve));
    expect(fromPdm.value.type).toEqual(fromPve.value.type);
  });

  it('by the host of a standalone node, with a port in PDM and on the old path generation', async () => {
    const fromPve = only(pve('pve-solo.lab.example', undefined), 'cluster');
    const fromPdm = only(
      await pdm({ remotes: [{ type: 'pve', id: 'solo', authid: 'root@pam!pdm', nodes: ['hostname=pve-solo.lab.example:8006,fingerprint=AA:BB'] }] }, 'old'),
      'cluster',
    );
    expect(naturalKey(fromPdm)).toBe('Lab/pve-solo.lab.example');
    expect(naturalKey(fromPdm)).toBe(naturalKey(fromPve));
  });
});

describe('PBS and PDM converge on the backup-server Device', () => {
  const remote: PdmScenario = { remotes: [{ type: 'pbs', id: 'backup', authid: 'root@pam!pdm', nodes: ['hostname=pbs1.lab.example:8007,fingerprint=AA:BB'] }] };
  const isPbs = (e: EntityOf<'device'>) => e.value.device_type?.model === 'Proxmox Backup Server';

  it('with the device named after PBS_HOST (the default)', async () => {
    const fromPbs = only(await pbs({ PBS_HOST: 'pbs1.lab.example' }), 'device');
    const fromPdm = only(await pdm(remote), 'device', isPbs);
    expect(naturalKey(fromPdm)).toBe('Lab/pbs1.lab.example');
    expect(naturalKey(fromPdm)).toBe(naturalKey(fromPbs));
    // Both sides describe the server alike, so neither run rewrites the other's fields.
    expect([fromPdm.value.device_type, fromPdm.value.role, fromPdm.value.platform]).toEqual([
      fromPbs.value.device_type,
      fromPbs.value.role,
      fromPbs.value.platform,
    ]);
  });

  it('with PBS_NAME set to the host PDM knows the server by', async () => {
    const fromPbs = only(await pbs({ PBS_HOST: '10.10.0.20', PBS_NAME: 'pbs1.lab.example' }), 'device');
    const fromPdm = only(await pdm(remote), 'device', isPbs);
    expect(naturalKey(fromPdm)).toBe(naturalKey(fromPbs));
  });

  it('and every collector emits the shared discovered tag identically', async () => {
    const tag = (es: AnyEntity[]) => only(es, 'tag', (e) => e.value.name === 'discovered').value;
    const expected = { name: PVE_DISCOVERED_TAG.name, slug: 'discovered', color: PVE_DISCOVERED_TAG.color };
    expect(tag(await pbs({ PBS_HOST: 'pbs1.lab.example' }))).toEqual(expected);
    expect(tag(await pdm(remote))).toEqual(expected);
    expect(tag(pve('pve1.lab.example', 'prod-cluster'))).toEqual(expected);
  });
});

describe('the demo lab', () => {
  it('lands its PDM remote on its PBS when the pbs policy sets PBS_NAME pbs1.lab.example', async () => {
    const fromPbs = only(await pbs({ PBS_HOST: '127.0.0.1', PBS_NAME: 'pbs1.lab.example' }, demoPbsScenario), 'device');
    const fromPdm = await pdm(demoPdmScenario, 'new', [
      {
        code: 'pdm_remote_error',
        subject: 'remote edge',
        message: 'PDM reports: error trying to connect: tcp connect error: Connection refused (os error 111)',
      },
    ]);
    expect(naturalKey(only(fromPdm, 'device', (e) => e.value.name === 'pbs1.lab.example'))).toBe(naturalKey(fromPbs));
    expect(fromPdm.filter((e) => e.kind === 'cluster').map(naturalKey)).toEqual(['Lab/lab-cluster', 'Lab/pve-dev.lab.example']);
  });
});
