import { TEST_CERT_FINGERPRINT } from '../../../../test/fakes/https-server.ts';
import { FAKE_PVE_TOKEN, startFakePveRoutes } from '../../pve/fake.ts';
import { demoCephScenario } from '../fake.ts';
import { SITE, SITE_MAP, type CollectorLab, type LabService } from '../../../../test/demo/site.ts';

/** Hyperconverged Ceph read through the PVE API: the same node Devices as the PVE policy. */
async function start(): Promise<LabService> {
  const server = await startFakePveRoutes(demoCephScenario);
  return {
    server,
    env: { DEMO_CEPH_PVE_TOKEN: FAKE_PVE_TOKEN.secret },
    policy: {
      name: 'ceph-lab',
      collector: 'ceph',
      config: {
        CEPH_SOURCE: 'pve',
        PROXMOX_HOST: '127.0.0.1',
        PROXMOX_PORT: server.port,
        PROXMOX_USER: FAKE_PVE_TOKEN.user,
        PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName,
        PROXMOX_TOKEN_VALUE: '${env:DEMO_CEPH_PVE_TOKEN}',
        PROXMOX_FINGERPRINT: TEST_CERT_FINGERPRINT,
        SITE_NAME: SITE,
        NODE_SITE_MAP: SITE_MAP,
      },
    },
  };
}

// Ceph sends no addresses.
export const lab: CollectorLab = { start, demo: { policy: 'ceph-lab', status: 'success', requests: 4 } };
