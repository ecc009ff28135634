/*
 * The latency scenarios of the benchmark, and the bound each is measured against.
 *
 * A scenario gives every request the time the fake PVE holds it (and, for a hung guest
 * agent, the error it then answers), as a pure function of the request's path and the
 * seed: the same request gets the same latency whatever order the agent sends it in, so
 * the bound is the same for every scheduler and every run.
 */

export const SCENARIO_NAMES = ['fixed', 'lognormal', 'agent-hang', 'slow-node', 'status-3s', 'status-20s', 'queue-4'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioParams {
  /** The base latency L, ms. */
  latencyMs: number;
  seed: number;
  /** The node the slow-node and status scenarios slow down. */
  slowNode: string;
}

export interface RequestTiming {
  ms: number;
  /** Answer this error instead of the estate's answer. */
  fail?: { status: number; reason: string };
}

export interface LatencyScenario {
  name: ScenarioName;
  /** What it models, for the table's legend. */
  summary: string;
  /** `path` with /api2/json, without the query. */
  timing(path: string): RequestTiming;
  /** Requests the server works on at once, the rest queued FIFO; undefined: no limit. */
  serverConcurrency?: number;
}

/** FNV-1a of the text, as a uniform number in (0, 1). */
export function uniform(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche (murmur3 fmix32) so that paths differing in one digit spread out.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) + 0.5) / 2 ** 32;
}

/**
 * Lognormal with median 5 ms and p99 ≈ 100 ms: μ = ln 5, σ = ln(100 / 5) / z₀.₉₉
 * (z₀.₉₉ = 2.3263), so the 99th percentile is exactly 100 ms and the mean
 * e^(μ + σ²/2) ≈ 11.5 ms. The normal deviate comes from two hashed uniforms (Box–Muller).
 */
export const LOGNORMAL = { medianMs: 5, p99Ms: 100, z99: 2.3263478740408408 } as const;
export function lognormalMs(key: string): number {
  const sigma = Math.log(LOGNORMAL.p99Ms / LOGNORMAL.medianMs) / LOGNORMAL.z99;
  const z = Math.sqrt(-2 * Math.log(uniform(`${key}|a`))) * Math.cos(2 * Math.PI * uniform(`${key}|b`));
  return LOGNORMAL.medianMs * Math.exp(sigma * z);
}

const AGENT_PATH = /^\/api2\/json\/nodes\/[^/]+\/qemu\/(\d+)\/agent\/([a-z-]+)$/;
const STATUS_PATH = /^\/api2\/json\/nodes\/([^/]+)\/status$/;

/** Guest-agent calls of the agent-hang scenario, and the share of guests whose agent hangs. */
export const AGENT_HANG = { callMs: 50, share: 0.05 } as const;
/**
 * How long PVE waits for a guest agent that does not answer: qemu-server
 * src/PVE/QMPClient.pm `cmd` uses `$timeout = 5; # default` for guest-* commands not
 * listed (network-get-interfaces and get-osinfo are not).
 */
export const QGA_TIMEOUT_MS = 5000;
/**
 * What PVE answers then: QMPClient.pm `mux_timeout` sets the error "got timeout\n" and
 * `cmd` dies with "VM $vmid qmp command '$cmd->{execute}' failed - $error"; the API's
 * agent_cmd (src/PVE/QemuServer/Agent.pm) passes it on, and pveproxy puts it in the
 * status line of a 500 (reference/proxmox-apis.md §0, error envelope).
 */
export function agentTimeoutReason(vmid: number, command: string): string {
  return `VM ${vmid} qmp command 'guest-${command}' failed - got timeout`;
}

/** Whether the agent of this guest hangs in the agent-hang scenario (5% of guests, by vmid and seed). */
export function agentHangs(seed: number, vmid: number): boolean {
  return uniform(`${seed}|hang|${vmid}`) < AGENT_HANG.share;
}

/**
 * Requests the queue-4 server works on at once. pveproxy forks few workers
 * (pve-manager PVE/Service/pveproxy.pm: `max_workers => 3`), each running one API handler
 * at a time, so a burst of requests queues on the server whatever the client's concurrency.
 */
export const QUEUE_WORKERS = 4;

export function latencyScenario(name: ScenarioName, p: ScenarioParams): LatencyScenario {
  const L = p.latencyMs;
  const slowPrefix = `/api2/json/nodes/${p.slowNode}/`;
  switch (name) {
    case 'fixed':
      return { name, summary: `every request L = ${L} ms`, timing: () => ({ ms: L }) };
    case 'lognormal':
      return {
        name,
        summary: `lognormal, median ${LOGNORMAL.medianMs} ms, p99 ${LOGNORMAL.p99Ms} ms (mean ≈ 11.5 ms)`,
        timing: (path) => ({ ms: lognormalMs(`${p.seed}|${path}`) }),
      };
    case 'agent-hang':
      return {
        name,
        summary: `guest-agent calls ${AGENT_HANG.callMs} ms; ${AGENT_HANG.share * 100}% of agents hang ${QGA_TIMEOUT_MS / 1000} s, then 500 "got timeout"; the rest L`,
        timing: (path) => {
          const m = AGENT_PATH.exec(path);
          if (!m) return { ms: L };
          const vmid = Number(m[1]);
          if (!agentHangs(p.seed, vmid)) return { ms: AGENT_HANG.callMs };
          return { ms: QGA_TIMEOUT_MS, fail: { status: 500, reason: agentTimeoutReason(vmid, m[2] ?? '') } };
        },
      };
    case 'slow-node':
      return { name, summary: `every call of ${p.slowNode} 10 × L, the rest L`, timing: (path) => ({ ms: path.startsWith(slowPrefix) ? 10 * L : L }) };
    case 'status-3s':
    case 'status-20s': {
      const ms = name === 'status-3s' ? 3000 : 20_000;
      return {
        name,
        summary: `GET /nodes/${p.slowNode}/status ${ms / 1000} s, the rest L`,
        timing: (path) => ({ ms: STATUS_PATH.exec(path)?.[1] === p.slowNode ? ms : L }),
      };
    }
    case 'queue-4':
      return {
        name,
        summary: `every request L; the server works on ${QUEUE_WORKERS} at once and queues the rest`,
        timing: () => ({ ms: L }),
        serverConcurrency: QUEUE_WORKERS,
      };
  }
}

// ---------------------------------------------------------------------------
// The bound.

/** One request as the fake recorded it: path (with /api2/json, without the query) and the time it was held, ms. */
export type RequestRecord = [path: string, ms: number];

export interface ScheduleBound {
  /** The bound, ms: no scheduler with these slots can collect faster. */
  ms: number;
  /** Which term it is: total work / slots, work released after some time, or one dependency chain. */
  kind: 'load' | 'release' | 'chain';
  /** Slots used in it: min(agent concurrency, server concurrency). */
  slots: number;
  /** Σ request time, ms. */
  workMs: number;
  /** The longest dependency chain, ms. */
  chainMs: number;
}

const GUEST = /^\/api2\/json\/nodes\/([^/]+)\/(qemu|lxc)\/(\d+)\/(config|agent\/[a-z-]+)$/;
const NODE = /^\/api2\/json\/nodes\/([^/]+)\//;

/**
 * The best a perfect scheduler achieves with `slots` requests in flight on the very
 * request times the fake recorded. Each request gets a release time, the earliest it can
 * be sent if everything it needs were answered at once:
 * - calls that are not under /nodes/{node}/: 0;
 * - every /nodes/{node}/… call but the guests': when GET /nodes has answered (the node
 *   list is what names them);
 * - a guest's config: when GET /cluster/resources (the guest list) has answered and its
 *   node's /status has (the agent's design: a node's guests wait for its liveness probe, so
 *   that a dead node costs one timeout, not one per guest);
 * - a guest's agent calls: when its config has (it says whether the agent is enabled).
 * The bound is the largest of (1) the longest chain, release + own time; (2) for every
 * release time R, R + (Σ time of the requests released at R or later) / slots: those
 * requests cannot start before R and at most `slots` run at once (R = 0 gives total
 * work / slots). Each is a true lower bound because it holds for every schedule of these
 * requests: it only counts work that must be done and dependencies that must be waited
 * for, and leaves out every cost a real client has (its CPU, the network, retries).
 */
export function scheduleBound(records: readonly RequestRecord[], concurrency: number, serverConcurrency?: number): ScheduleBound {
  const slots = Math.max(1, Math.min(concurrency, serverConcurrency ?? Infinity));
  const timeOf = new Map<string, number>();
  for (const [path, ms] of records) timeOf.set(path, Math.max(ms, timeOf.get(path) ?? 0));
  const nodesDone = timeOf.get('/api2/json/nodes') ?? 0;
  const guestsListed = timeOf.get('/api2/json/cluster/resources') ?? 0;
  const nodeReady = (node: string): number => Math.max(guestsListed, nodesDone + (timeOf.get(`/api2/json/nodes/${node}/status`) ?? 0));
  const releases: Array<[release: number, ms: number]> = [];
  let chainMs = 0;
  let workMs = 0;
  for (const [path, ms] of records) {
    let release = 0;
    const g = GUEST.exec(path);
    if (g) {
      release = nodeReady(g[1] ?? '');
      if (g[4] !== 'config') release += timeOf.get(`/api2/json/nodes/${g[1]}/${g[2]}/${g[3]}/config`) ?? 0;
    } else if (NODE.test(path)) {
      release = nodesDone;
    }
    releases.push([release, ms]);
    chainMs = Math.max(chainMs, release + ms);
    workMs += ms;
  }
  releases.sort((a, b) => b[0] - a[0]);
  let best = workMs / slots;
  let kind: ScheduleBound['kind'] = 'load';
  let after = 0;
  for (let i = 0; i < releases.length; i++) {
    const [release, ms] = releases[i] as [number, number];
    after += ms;
    // Only at the last request of a release time is `after` all the work released then or later.
    if (i + 1 < releases.length && (releases[i + 1] as [number, number])[0] === release) continue;
    const b = release + after / slots;
    if (release > 0 && b > best) {
      best = b;
      kind = 'release';
    }
  }
  if (chainMs > best) {
    best = chainMs;
    kind = 'chain';
  }
  return { ms: best, kind, slots, workMs, chainMs };
}

// ---------------------------------------------------------------------------
// Features whose requests the benchmark prices.

/**
 * Each feature is the policy `config:` lines that switch it on; the benchmark runs the
 * policy without any and with each, on the fixed-latency estate, and shows the requests
 * and wall time it adds. A new feature is one line here.
 */
export const FEATURES: ReadonlyArray<{ name: string; config: string }> = [
  { name: 'backups', config: 'BACKUP_STATUS: true' },
  { name: 'lxc-runtime', config: 'LXC_ADDRESSES: runtime' },
  { name: 'ha', config: 'HA_STATUS: true' },
  { name: 'replication', config: 'REPLICATION_STATUS: true' },
];
