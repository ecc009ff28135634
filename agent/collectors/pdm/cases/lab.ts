import { TEST_CERT_FINGERPRINT } from '../../../../test/fakes/https-server.ts';
import { demoPdmScenario, startFakePdm } from '../fake.ts';
import { SITE, type CollectorLab, type LabService } from '../../../../test/demo/site.ts';

const PDM_TOKEN = { tokenId: 'netbox@pdm!discovery', secret: 'demo-pdm-8d2f4a' };

/** A Datacenter Manager with the lab cluster, a standalone node, the PBS and one failing remote. */
async function start(): Promise<LabService> {
  const server = await startFakePdm(demoPdmScenario, PDM_TOKEN);
  return {
    server,
    env: { DEMO_PDM_SECRET: PDM_TOKEN.secret },
    policy: {
      name: 'pdm-lab',
      collector: 'pdm',
      config: {
        PDM_HOST: '127.0.0.1',
        PDM_PORT: server.port,
        PDM_TOKEN_ID: PDM_TOKEN.tokenId,
        PDM_TOKEN_SECRET: '${env:DEMO_PDM_SECRET}',
        PDM_FINGERPRINT: TEST_CERT_FINGERPRINT,
        SITE_NAME: SITE,
      },
    },
  };
}

// PDM sends no addresses; one remote fails.
export const lab: CollectorLab = { start, demo: { policy: 'pdm-lab', status: 'partial', requests: 4 } };
