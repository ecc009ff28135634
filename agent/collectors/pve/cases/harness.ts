import type { PveConfig } from '../config.ts';
import { pveConfigSchema } from '../config.ts';
import { startFakePve, type PveScenario } from '../fake.ts';
import type { GoldenHarness } from '../../../../test/golden/harness.ts';

/** PVE cases: the fake PVE serves scenario.json; the token is the policy's (default root@pam!netbox). */
export const harness: GoldenHarness<PveConfig> = {
  now: new Date('2025-06-01T12:00:00Z'),
  warningOrder: 'sorted',
  requiredCases: [
    'backup-status',
    'bootstrap',
    'disks',
    'fixtures-datadog-pve84',
    'fixtures-go-proxmox-pve9',
    'guest-agent',
    'host-routes',
    'lxc-ip-methods',
    'multi-node-cluster',
    'ovs-interfaces',
    'partial-failure',
    'scope-nodes',
    'standalone-node',
    'templates-nameless',
    'vlan-dedup',
  ],
  async start(c) {
    const user = typeof c.raw.PROXMOX_USER === 'string' ? c.raw.PROXMOX_USER : 'root@pam';
    const server = await startFakePve(c.scenario as PveScenario, {
      tokenId: `${user}!${String(c.raw.PROXMOX_TOKEN_NAME ?? 'netbox')}`,
      secret: String(c.raw.PROXMOX_TOKEN_VALUE ?? 'golden-secret'),
    });
    const config = pveConfigSchema.parse({ ...c.raw, PROXMOX_PORT: server.port });
    return { server, collectConfig: config, mapConfig: config };
  },
};
