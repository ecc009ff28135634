import { TEST_CERT_FINGERPRINT } from '../../../../test/fakes/https-server.ts';
import { generatePveScenario, startFakePve, type PveScenario } from '../fake.ts';
import { CLUSTER, SITE, SITE_MAP, type CollectorLab, type LabService } from '../../../../test/demo/site.ts';

const PVE_TOKEN = { tokenId: 'root@pam!netbox', secret: '5c1f9a1e-demo-4c2b-9f7e-0a1b2c3d4e5f' };

/** A three-node PVE cluster with VMs and containers. */
async function start(): Promise<LabService> {
  const scenario = generatePveScenario({ guests: 18, nodes: 3, seed: 7 });
  scenario.cluster = CLUSTER;
  addDemoBackups(scenario);
  const server = await startFakePve(scenario, PVE_TOKEN);
  return {
    server,
    env: { DEMO_PVE_TOKEN: PVE_TOKEN.secret },
    policy: {
      name: 'pve-lab',
      collector: 'pve',
      config: {
        PROXMOX_HOST: '127.0.0.1',
        PROXMOX_PORT: server.port,
        PROXMOX_TOKEN_NAME: 'netbox',
        PROXMOX_TOKEN_VALUE: '${env:DEMO_PVE_TOKEN}',
        PROXMOX_FINGERPRINT: TEST_CERT_FINGERPRINT,
        SITE_NAME: SITE,
        NODE_SITE_MAP: SITE_MAP,
        BACKUP_STATUS: true,
      },
    },
  };
}

/**
 * Backup status for the demo (issue #17): a shared PBS storage with a nightly job over all
 * guests but one; every covered guest has last night's backup (the first one verified), one
 * guest's newest backup is three days old, and the excluded guest is in no job and has none.
 */
function addDemoBackups(scenario: PveScenario): void {
  const vmids = scenario.guests.map((g) => Number(g.resource.vmid)).sort((a, b) => a - b);
  const unprotected = vmids[vmids.length - 1] ?? 0;
  const old = vmids[1] ?? 0;
  // Six hours before the run, whatever the time of day: within BACKUP_MAX_AGE (26 h) at any
  // hour. (Midnight − 10 h, as it was, is older than 26 h after 16:00 UTC.)
  const night = Math.floor(Date.now() / 1000) - 6 * 3600;
  scenario.extraResources = [
    ...(scenario.extraResources ?? []),
    ...scenario.nodes.map((n) => ({
      id: `storage/${n.name}/pbs-lab`,
      type: 'storage',
      storage: 'pbs-lab',
      node: n.name,
      plugintype: 'pbs',
      content: 'backup',
      shared: 1,
      status: 'available',
      disk: 1,
      maxdisk: 2,
    })),
  ];
  scenario.backupJobs = [
    { id: 'backup-3a1f0c2e-9b7d', type: 'vzdump', schedule: '02:00', storage: 'pbs-lab', all: 1, exclude: String(unprotected), enabled: 1, mode: 'snapshot' },
  ];
  const guest = scenario.guests.find((g) => Number(g.resource.vmid) === unprotected);
  scenario.notBackedUp = [{ vmid: unprotected, type: guest?.resource.type, name: guest?.resource.name }];
  scenario.storageContent = {
    [`${scenario.nodes[0]?.name ?? 'pve1'}/pbs-lab`]: scenario.guests
      .filter((g) => Number(g.resource.vmid) !== unprotected)
      .map((g, i) => {
        const vmid = Number(g.resource.vmid);
        const ctime = vmid === old ? night - 3 * 86_400 : night;
        const kind = g.resource.type === 'qemu' ? 'vm' : 'ct';
        return {
          volid: `pbs-lab:backup/${kind}/${vmid}/${new Date(ctime * 1000).toISOString().replace('.000', '')}`,
          content: 'backup',
          format: `pbs-${kind}`,
          vmid,
          ctime,
          size: 4294967296,
          ...(i === 0 && {
            verification: { state: 'ok', upid: 'UPID:pbs1:0000A1B2:0001C3D4:00000001:00000000:verificationjob:pbs\\x2dlab\\x3av\\x2d1:root@pam:' },
          }),
        };
      }),
  };
}

// The lab's backup picture (one guest's backup three days old, one guest in no job) as the run measures it.
export const lab: CollectorLab = {
  start,
  demo: { policy: 'pve-lab', status: 'success', requests: 5, measures: { guests_without_recent_backup: 2, guests_in_no_backup_job: 1, addresses_dropped: 0 } },
};
