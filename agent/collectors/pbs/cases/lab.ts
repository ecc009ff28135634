import { TEST_CERT_FINGERPRINT } from '../../../../test/fakes/https-server.ts';
import { demoPbsScenario, startFakePbs } from '../fake.ts';
import { SITE, type CollectorLab, type LabService } from '../../../../test/demo/site.ts';

const PBS_TOKEN = { tokenId: 'netbox@pbs!discovery', secret: 'demo-pbs-3b9e1c' };

/** The backup server PDM also knows, with datastores, namespaces and jobs. */
async function start(): Promise<LabService> {
  const server = await startFakePbs(demoPbsScenario, PBS_TOKEN);
  return {
    server,
    env: { DEMO_PBS_SECRET: PBS_TOKEN.secret },
    policy: {
      name: 'pbs-lab',
      collector: 'pbs',
      config: {
        PBS_HOST: '127.0.0.1',
        PBS_PORT: server.port,
        PBS_TOKEN_ID: PBS_TOKEN.tokenId,
        PBS_TOKEN_SECRET: '${env:DEMO_PBS_SECRET}',
        PBS_FINGERPRINT: TEST_CERT_FINGERPRINT,
        SITE_NAME: SITE,
        PBS_NAME: 'pbs1.lab.example',
      },
    },
  };
}

export const lab: CollectorLab = { start, demo: { policy: 'pbs-lab', status: 'success', requests: 5 } };
