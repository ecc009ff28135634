import { join } from 'node:path';
import { demoPackerFiles } from '../../../../test/fixtures/packer/demo.ts';
import { CLUSTER, SITE, type CollectorLab, type LabService } from '../../../../test/demo/site.ts';

/** A Packer pipeline: manifest with several runs, machine-readable logs, five definitions. */
async function start(dir: string): Promise<LabService> {
  const files = await demoPackerFiles(join(dir, 'packer'), { cluster: CLUSTER });
  // The PVE policy's SITE_NAME: the cluster is (name, scope site) to Diode.
  return { env: {}, policy: { name: 'packer-lab', collector: 'packer', config: { ...files.config, SITE_NAME: SITE } } };
}

// Packer sends only tags, definitions and its template VMs.
export const lab: CollectorLab = { start, demo: { policy: 'packer-lab', status: 'partial', requests: 3 } };
