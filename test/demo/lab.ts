import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent } from '../../agent/agent.ts';
import { COLLECTORS } from '../../agent/collectors/registry.ts';
import { loadAgentConfig } from '../../agent/config/load.ts';
import { listDryRunFiles } from '../../agent/diode/dry-run.ts';
import { createLogger } from '../../agent/log.ts';
import type { RunResult } from '../../agent/run.ts';
import { TEST_CERT_FINGERPRINT, type FakeServer } from '../fakes/https-server.ts';
import { generatePveScenario, startFakePve, type PveScenario } from '../fakes/pve-server.ts';
import { demoCephScenario, FAKE_PVE_TOKEN, startFakeCephPve } from '../fakes/ceph-server.ts';
import { demoPbsScenario, startFakePbs } from '../fakes/pbs-server.ts';
import { demoPdmScenario, startFakePdm } from '../fakes/pdm-server.ts';
import { demoPackerFiles } from '../fixtures/packer/demo.ts';

/** One fake upstream of the lab and the policy that reads it. */
export interface LabService {
  server: FakeServer;
  policy: Record<string, unknown>;
  env: Record<string, string>;
}

const PVE_TOKEN = { tokenId: 'root@pam!netbox', secret: '5c1f9a1e-demo-4c2b-9f7e-0a1b2c3d4e5f' };
const PBS_TOKEN = { tokenId: 'netbox@pbs!discovery', secret: 'demo-pbs-3b9e1c' };
const PDM_TOKEN = { tokenId: 'netbox@pdm!discovery', secret: 'demo-pdm-8d2f4a' };
const CLUSTER = 'lab-cluster';
const SITE = 'Lab';
const SITE_MAP = 'pve3:Lab-DR';

/** A three-node PVE cluster with VMs and containers. */
export async function startPveLab(): Promise<LabService> {
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
  const night = Math.floor(Date.now() / 86_400_000) * 86_400 - 10 * 3600;
  scenario.extraResources = [
    ...(scenario.extraResources ?? []),
    ...scenario.nodes.map((n) => ({ id: `storage/${n.name}/pbs-lab`, type: 'storage', storage: 'pbs-lab', node: n.name, plugintype: 'pbs', content: 'backup', shared: 1, status: 'available', disk: 1, maxdisk: 2 })),
  ];
  scenario.backupJobs = [{ id: 'backup-3a1f0c2e-9b7d', type: 'vzdump', schedule: '02:00', storage: 'pbs-lab', all: 1, exclude: String(unprotected), enabled: 1, mode: 'snapshot' }];
  const guest = scenario.guests.find((g) => Number(g.resource.vmid) === unprotected);
  scenario.notBackedUp = [{ vmid: unprotected, type: guest?.resource.type, name: guest?.resource.name }];
  scenario.storageContent = {
    [`${scenario.nodes[0]?.name ?? 'pve1'}/pbs-lab`]: scenario.guests.filter((g) => Number(g.resource.vmid) !== unprotected).map((g, i) => {
      const vmid = Number(g.resource.vmid);
      const ctime = vmid === old ? night - 3 * 86_400 : night;
      const kind = g.resource.type === 'qemu' ? 'vm' : 'ct';
      return {
        volid: `pbs-lab:backup/${kind}/${vmid}/${new Date(ctime * 1000).toISOString().replace('.000', '')}`, content: 'backup', format: `pbs-${kind}`, vmid, ctime, size: 4294967296,
        ...(i === 0 && { verification: { state: 'ok', upid: 'UPID:pbs1:0000A1B2:0001C3D4:00000001:00000000:verificationjob:pbs\\x2dlab\\x3av\\x2d1:root@pam:' } }),
      };
    }),
  };
}

/** The backup server PDM also knows, with datastores, namespaces and jobs. */
async function startPbsLab(): Promise<LabService> {
  const server = await startFakePbs(demoPbsScenario, PBS_TOKEN);
  return {
    server,
    env: { DEMO_PBS_SECRET: PBS_TOKEN.secret },
    policy: {
      name: 'pbs-lab', collector: 'pbs',
      config: { PBS_HOST: '127.0.0.1', PBS_PORT: server.port, PBS_TOKEN_ID: PBS_TOKEN.tokenId, PBS_TOKEN_SECRET: '${env:DEMO_PBS_SECRET}', PBS_FINGERPRINT: TEST_CERT_FINGERPRINT, SITE_NAME: SITE, PBS_NAME: 'pbs1.lab.example' },
    },
  };
}

/** A Datacenter Manager with the lab cluster, a standalone node, the PBS and one failing remote. */
async function startPdmLab(): Promise<LabService> {
  const server = await startFakePdm(demoPdmScenario, PDM_TOKEN);
  return {
    server,
    env: { DEMO_PDM_SECRET: PDM_TOKEN.secret },
    policy: {
      name: 'pdm-lab', collector: 'pdm',
      config: { PDM_HOST: '127.0.0.1', PDM_PORT: server.port, PDM_TOKEN_ID: PDM_TOKEN.tokenId, PDM_TOKEN_SECRET: '${env:DEMO_PDM_SECRET}', PDM_FINGERPRINT: TEST_CERT_FINGERPRINT, SITE_NAME: SITE },
    },
  };
}

/** Hyperconverged Ceph read through the PVE API: the same node Devices as the PVE policy. */
async function startCephLab(): Promise<LabService> {
  const server = await startFakeCephPve(demoCephScenario);
  return {
    server,
    env: { DEMO_CEPH_PVE_TOKEN: FAKE_PVE_TOKEN.secret },
    policy: {
      name: 'ceph-lab', collector: 'ceph',
      config: {
        CEPH_SOURCE: 'pve', PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server.port, PROXMOX_USER: FAKE_PVE_TOKEN.user, PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName,
        PROXMOX_TOKEN_VALUE: '${env:DEMO_CEPH_PVE_TOKEN}', PROXMOX_FINGERPRINT: TEST_CERT_FINGERPRINT, SITE_NAME: SITE, NODE_SITE_MAP: SITE_MAP,
      },
    },
  };
}

/** A Packer pipeline: manifest with several runs, machine-readable logs, five definitions. */
async function packerLab(dir: string): Promise<Omit<LabService, 'server'>> {
  const files = await demoPackerFiles(join(dir, 'packer'), { cluster: CLUSTER });
  // The PVE policy's SITE_NAME: the cluster is (name, scope site) to Diode.
  return { env: {}, policy: { name: 'packer-lab', collector: 'packer', config: { ...files.config, SITE_NAME: SITE } } };
}

export interface DemoResult {
  results: RunResult[];
  dryRunDir: string;
  files: string[];
  text: string;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

export function formatDemo(results: readonly RunResult[], dryRunDir: string, files: number): string {
  const out: string[] = ['', 'proxmox-diode-agent demo lab: every policy ran once in dry run', ''];
  for (const r of results) {
    out.push(`■ ${r.policy} (collector ${r.collector}): ${r.status}, ${(r.durationMs / 1000).toFixed(2)} s, ${r.apiRequests} API requests, ${r.warnings.length} warnings`);
    const rows = [['  kind', 'entities'], ...Object.entries(r.collected).map(([k, n]) => [`  ${k}`, String(n)])];
    out.push(table(rows));
    for (const w of r.warnings) out.push(`  ! ${w.subject}: ${w.message}`);
    if (r.error) out.push(`  error: ${r.error}`);
    out.push('');
  }
  out.push(`Dry-run files (Diode IngestRequests as proto3 JSON): ${files} in ${dryRunDir}`);
  return out.join('\n');
}

export interface Lab {
  /** The policies, one per collector, as agent.yaml `policies:` entries. */
  policies: Array<Record<string, unknown>>;
  /** The environment the policies' ${env:} references need. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts every fake upstream on a loopback port (Packer files under `dir`). */
export async function startLab(dir: string): Promise<Lab> {
  const services: Array<Omit<LabService, 'server'> & { server?: FakeServer }> = [
    await startPveLab(), await startPbsLab(), await startPdmLab(), await startCephLab(), await packerLab(dir),
  ];
  return {
    policies: services.map((s) => s.policy),
    env: Object.assign({}, ...services.map((s) => s.env)) as Record<string, string>,
    close: async () => {
      await Promise.all(services.map((s) => s.server?.close()));
    },
  };
}

/** Starts the fakes on loopback ports, runs every policy once in dry run, prints a summary. */
export async function runDemo(opts: { write?: (s: string) => void; quiet?: boolean } = {}): Promise<DemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'diode-agent-demo-'));
  const lab = await startLab(dir);
  const dryRunDir = join(dir, 'dry-run');
  const configFile = join(dir, 'agent.yaml');
  writeFileSync(configFile, JSON.stringify({
    agent: { name: 'proxmox-discovery-demo', state_dir: join(dir, 'state'), status: { enabled: false } },
    diode: { dry_run: true, dry_run_output_dir: dryRunDir },
    policies: lab.policies,
  }, null, 2));
  const env = { ...process.env, ...lab.env } as NodeJS.ProcessEnv;
  const log = opts.quiet ? pino({ level: 'silent' }) : createLogger({ level: 'error', destination: pino.destination(2) });
  const agent = new Agent(loadAgentConfig(configFile, env), COLLECTORS, log, { env });
  try {
    agent.loadPolicies();
    const results = await agent.once();
    await agent.stop(0);
    const files = listDryRunFiles(dryRunDir);
    const text = formatDemo(results, dryRunDir, files.length);
    (opts.write ?? ((s) => process.stdout.write(s)))(`${text}\n`);
    return { results, dryRunDir, files, text };
  } finally {
    await lab.close();
  }
}
