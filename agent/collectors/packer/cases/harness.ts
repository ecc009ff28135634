import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackerConfig } from '../config.ts';
import { packerConfigSchema } from '../config.ts';
import { FAKE_PVE_TOKEN, startFakePveRoutes, type PveRoutesScenario } from '../../pve/fake.ts';
import type { FakeServer } from '../../../../test/fakes/https-server.ts';
import type { GoldenHarness } from '../../../../test/golden/harness.ts';

/**
 * Packer cases: PACKER_MANIFESTS / PACKER_LOGS are relative to the case; scenario.json, when
 * there, is the PVE answers of the template lookup ({"routes": {"/cluster/resources": …}}),
 * served by the PVE fake.
 */
export const harness: GoldenHarness<PackerConfig> = {
  now: new Date('2025-01-01T00:00:00Z'),
  warningOrder: 'emitted',
  async start(c) {
    const dirPath = fileURLToPath(c.dir);
    const abs = (p: unknown) => (typeof p === 'string' && !isAbsolute(p) ? resolve(dirPath, p) : p);
    const paths = (v: unknown) => (Array.isArray(v) ? v.map(abs) : v === undefined ? v : abs(v));
    const overrides: Record<string, unknown> = { PACKER_MANIFESTS: paths(c.raw.PACKER_MANIFESTS), PACKER_LOGS: paths(c.raw.PACKER_LOGS) };
    let server: FakeServer | undefined;
    if (c.scenario !== undefined) {
      server = await startFakePveRoutes(c.scenario as PveRoutesScenario);
      Object.assign(overrides, {
        PROXMOX_HOST: '127.0.0.1',
        PROXMOX_PORT: server.port,
        PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName,
        PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret,
      });
    }
    const config = packerConfigSchema.parse(Object.fromEntries(Object.entries({ ...c.raw, ...overrides }).filter(([, v]) => v !== undefined)));
    return { ...(server && { server }), collectConfig: config, mapConfig: config };
  },
};
