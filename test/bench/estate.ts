import { pveHandler, type PveScenario, type PveScenarioGuest } from '../../agent/collectors/pve/fake.ts';
import type { FakeRequest, FakeResponse } from '../fakes/https-server.ts';
import type { RequestRecord, ScenarioName } from './scenarios.ts';

/* The benchmark estate: its request formula, and a fake PVE handler that scales to it. */

export interface PveProcessArgs {
  guests: number;
  nodes: number;
  seed: number;
  latencyMs: number;
  /** How each request's latency is chosen (scenarios.ts); 'fixed' is L for every request. */
  scenario: ScenarioName;
  tokenId: string;
  secret: string;
}

/** What the estate is made of, and the requests one collection of it must make. */
export interface EstateStats {
  guests: number;
  nodes: number;
  qemu: number;
  lxc: number;
  /** Running QEMU guests with the agent configured: two agent calls each. */
  qemuAgentCalls: number;
  /** 4 cluster-wide calls + 2 per node + 1 config per guest + 2 per running QEMU guest with the agent. */
  expectedRequests: number;
}

export interface RequestCounts {
  total: number;
  cluster: number;
  node: number;
  config: number;
  agent: number;
  /** Answers other than 200: the benchmark estate should produce none. */
  errors: number;
  /** CPU (user + system) the fake spent since the last count, ms. */
  fakeCpuMs: number;
  /** Mean time the fake held a request (handling + the added latency), ms. */
  heldMs: number;
  /** Mean time a request waited for one of the server's workers (queue-4 scenario), ms. */
  queuedMs: number;
}

export type PveProcessMessage =
  | { type: 'ready'; port: number; estate: EstateStats }
  | { type: 'count'; counts: RequestCounts }
  | { type: 'paths'; paths: string[] }
  | { type: 'records'; records: RequestRecord[] };

export function estateStats(s: PveScenario): EstateStats {
  let qemu = 0;
  let qemuAgentCalls = 0;
  for (const g of s.guests) {
    if (g.resource.type !== 'qemu') continue;
    qemu++;
    const agent = (g.config as { agent?: unknown } | undefined)?.agent;
    const enabled = agent !== undefined && !/^(?:enabled=)?0(?:,|$)/.test(String(agent));
    if (enabled && g.resource.status === 'running') qemuAgentCalls++;
  }
  const nodes = s.nodes.length;
  return {
    guests: s.guests.length,
    nodes,
    qemu,
    lxc: s.guests.length - qemu,
    qemuAgentCalls,
    expectedRequests: 4 + 2 * nodes + s.guests.length + 2 * qemuAgentCalls,
  };
}

const GUEST_PATH = /^\/api2\/json\/nodes\/([^/]+)\/(qemu|lxc)\/(\d+)\//;

/**
 * pveHandler looks guests up with a linear scan, which at 50,000 guests makes the fake,
 * not the agent, the bottleneck. Guest calls go to a handler over a one-guest scenario
 * found by key instead; everything else to the handler over the whole estate.
 */
export function indexedPveHandler(s: PveScenario, auth: { tokenId: string; secret: string }): (req: FakeRequest) => FakeResponse {
  const whole = pveHandler(s, auth);
  const byKey = new Map<string, PveScenarioGuest>();
  for (const g of s.guests) byKey.set(`${String(g.resource.node)}/${String(g.resource.type)}/${Number(g.resource.vmid)}`, g);
  const { guests: _all, ...rest } = s;
  return (req) => {
    const m = GUEST_PATH.exec(req.path);
    if (!m) return whole(req);
    const g = byKey.get(`${m[1]}/${m[2]}/${m[3]}`);
    return pveHandler({ ...rest, guests: g ? [g] : [] }, auth)(req);
  };
}

export function classify(path: string): 'cluster' | 'node' | 'config' | 'agent' {
  if (GUEST_PATH.test(path)) return path.includes('/agent/') ? 'agent' : 'config';
  return path.startsWith('/api2/json/nodes/') ? 'node' : 'cluster';
}

export function emptyCounts(): RequestCounts {
  return { total: 0, cluster: 0, node: 0, config: 0, agent: 0, errors: 0, fakeCpuMs: 0, heldMs: 0, queuedMs: 0 };
}

/** An error answer as pveproxy writes it: the reason in the status line and, from libpve-http-server-perl 5.2.0, in the body. */
export function pveFailure(status: number, reason: string): FakeResponse {
  return { status, statusText: reason, body: { data: null, message: `${reason}\n` } };
}

/**
 * The estate with what BACKUP_STATUS reads: one vzdump job of every guest to each node's
 * `local` storage (content iso,vztmpl,backup), and there one backup volume per guest, named
 * as vzdump names them (pve-manager PVE/VZDump.pm: vzdump-{qemu,lxc}-VMID-YYYY_MM_DD-HH_MM_SS).
 * Without BACKUP_STATUS none of it is asked, so the other runs are unchanged.
 */
export function withBackups(s: PveScenario): PveScenario {
  const storageContent: Record<string, unknown[]> = {};
  const ctime = 1_735_696_800;
  for (const g of s.guests) {
    const { node, type, vmid } = g.resource as { node: string; type: string; vmid: number };
    const ext = type === 'qemu' ? 'vma.zst' : 'tar.zst';
    const volumes = storageContent[`${node}/local`] ?? [];
    storageContent[`${node}/local`] = volumes;
    volumes.push({ volid: `local:backup/vzdump-${type}-${vmid}-2025_01_01-02_00_00.${ext}`, content: 'backup', format: ext, vmid, ctime, size: 1_073_741_824 });
  }
  return {
    ...s,
    backupJobs: [{ id: 'backup-bench', type: 'vzdump', enabled: 1, all: 1, storage: 'local', schedule: '02:00', mode: 'snapshot' }],
    notBackedUp: [],
    storageContent,
  };
}
