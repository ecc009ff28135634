import { holdsAny, type FakeTokenAcl } from '../../../test/fakes/acl.ts';
import { startFakeHttps, type FakeRequest, type FakeResponse, type FakeServer } from '../../../test/fakes/https-server.ts';
import { prng } from '../../../test/helpers/prng.ts';

/*
 * A fake Proxmox VE API over HTTPS, driven by a scenario written as data. It answers
 * the way pveproxy does (pve-http-server src/PVE/APIServer/AnyEvent.pm, Formatter/Standard.pm): token auth with
 * "No ticket" / "Authentication failed!", the error reason in the HTTP status line,
 * 595 with an empty body for a node that is down, the guest agent's three 500s and the
 * 403 of a token without the agent privilege.
 */

export type AgentBehaviour =
  | { kind: 'ok'; osinfo?: Record<string, unknown>; interfaces?: unknown[] }
  | { kind: 'not-configured' | 'not-running' | 'agent-not-running' | 'forbidden' | 'timeout' };

export interface PveScenarioNode {
  name: string;
  /** What GET /nodes reports; default "online" (also for a `down` node PVE has not noticed yet). */
  status?: 'online' | 'offline' | 'unknown';
  ip?: string;
  maxcpu?: number;
  /** Bytes. */
  maxmem?: number;
  /** Default "pve-manager/8.4.1/2a2fa54b8503f96c". */
  pveversion?: string;
  /** Raw `data` of GET /nodes/{node}/status, replacing the generated one. */
  statusData?: unknown;
  /** Raw rows of GET /nodes/{node}/network. */
  network?: unknown[];
  /** Every /nodes/{node}/… call answers 595 with an empty body, as pveproxy does for a dead node. */
  down?: boolean;
  /** Reason phrase of that 595; default "No route to host". */
  downReason?: string;
}

export interface PveScenarioGuest {
  /** The raw /cluster/resources row; `type`, `node` and `vmid` also route the guest's calls. */
  resource: Record<string, unknown>;
  /** Raw `data` of …/config; absent: 500 "Configuration file … does not exist". */
  config?: unknown;
  /** Answer the config call with this error instead. */
  configError?: { status: number; reason: string };
  /**
   * Guest-agent behaviour; absent: derived like qemu-server's assert_agent_available
   * (no `agent` in the config → not-configured, not running → not-running, else agent-not-running).
   */
  agent?: AgentBehaviour;
  /**
   * `data` of GET …/lxc/{vmid}/interfaces; absent: `lo` alone while the container runs, null
   * when it does not (pve-container src/PVE/LXC.pm get_interfaces finds no PID and returns
   * nothing). A node whose pveversion is before 8.1 answers 501: the handler is not there.
   */
  interfaces?: unknown[] | null;
}

export interface PveScenario {
  /** Cluster name; absent for a standalone node. */
  cluster?: string;
  version?: { version: string; release: string; repoid: string };
  nodes: PveScenarioNode[];
  guests: PveScenarioGuest[];
  /** Rows /cluster/resources adds without a type filter (storage, sdn, pool, PVE 9 network). */
  extraResources?: unknown[];
  /**
   * Raw `data` answers by API path (without /api2/json), replacing the generated ones, for
   * captured responses. /cluster/resources still honours `type=`.
   */
  overrides?: Record<string, unknown>;
  /** libpve-http-server-perl ≥ 5.2.0 repeats the reason as `message` in the body; default true. */
  errorMessageInBody?: boolean;
  /** Error answers by API path (without /api2/json), the reason in the status line: a 403 of a token without a privilege. */
  failures?: Record<string, { status: number; reason: string }>;
  /**
   * 200 answers with exactly this body instead of the JSON one, by API path (without
   * /api2/json and query): an HTML page of a proxy in front, a truncated answer.
   */
  rawBodies?: Record<string, string>;
  /** Rows of GET /cluster/backup (vzdump jobs); default none. */
  backupJobs?: unknown[];
  /** Rows of GET /cluster/backup-info/not-backed-up; default none. */
  notBackedUp?: unknown[];
  /**
   * Volumes of GET /nodes/{node}/storage/{storage}/content by "node/storage"; each row's
   * `content` (backup, images, iso…) is what `?content=` filters on. Storages themselves are
   * `extraResources` rows of type storage. A storage not listed here answers [].
   */
  storageContent?: Record<string, unknown[]>;
  /**
   * The token's privileges; absent: all of them (root@pam). With it each call checks what
   * PVE checks (pveCheck) and a missing privilege is a 403 "Permission check failed (path,
   * privilege)"; /cluster/resources leaves out the guests without VM.Audit, as PVE does.
   */
  acl?: FakeTokenAcl;
  /** Rows of GET /cluster/ha/rules; a scenario whose /version is before 9 answers 501 there, as PVE 8 has no such handler. */
  haRules?: unknown[];
  /** Rows of GET /cluster/ha/groups. */
  haGroups?: unknown[];
  /** Rows of GET /cluster/ha/resources. */
  haResources?: unknown[];
  /** Rows of GET /cluster/replication (`guest` is the vmid PVE checks VM.Audit on). */
  replication?: unknown[];
}

/**
 * What PVE checks before answering (the `permissions` of each handler): the ACL path and
 * the privileges, any of which will do (check_any joins them with "|" in its message).
 * - /cluster/status: pve-manager PVE/API2/Cluster.pm get_status, Sys.Audit on /.
 * - /nodes/{node}/status: PVE/API2/Nodes.pm status, Sys.Audit on /nodes/{node}.
 * - guest config: qemu-server PVE/API2/Qemu.pm / pve-container PVE/API2/LXC/Config.pm vm_config, VM.Audit.
 * - guest agent: qemu-server PVE/API2/Qemu/Agent.pm register_command, VM.Monitor up to PVE 8;
 *   VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted from PVE 9 (qemu-server b92a40ce).
 * - Ceph: Sys.Audit or Datastore.Audit on /.
 * /version, /nodes, /cluster/resources and /nodes/{node}/network check none (`user => 'all'`).
 */
export function pveCheck(s: Pick<PveScenario, 'version'>, path: string): { on: string; privileges: string[] } | undefined {
  if (path === '/cluster/status') return { on: '/', privileges: ['Sys.Audit'] };
  // pve-ha-manager src/PVE/API2/HA/{Rules,Groups,Resources}.pm index: Sys.Audit on /.
  if (/^\/cluster\/ha\/(?:rules|groups|resources)$/.test(path)) return { on: '/', privileges: ['Sys.Audit'] };
  // Every Ceph GET: `['perm', '/', ['Sys.Audit', 'Datastore.Audit'], any => 1]` (pve-manager PVE/API2/Ceph.pm, PVE/API2/Ceph/*.pm, PVE/API2/Cluster/Ceph.pm).
  if (path.startsWith('/cluster/ceph/') || /^\/nodes\/[^/]+\/ceph\//.test(path)) return { on: '/', privileges: ['Sys.Audit', 'Datastore.Audit'] };
  const status = /^\/nodes\/([^/]+)\/status$/.exec(path);
  if (status) return { on: `/nodes/${status[1]}`, privileges: ['Sys.Audit'] };
  const guest = /^\/nodes\/[^/]+\/(qemu|lxc)\/(\d+)\/(config|interfaces|agent\/[a-z-]+)$/.exec(path);
  if (!guest) return undefined;
  const on = `/vms/${guest[2]}`;
  // pve-container src/PVE/API2/LXC.pm `ip` (…/interfaces): VM.Audit, like the config.
  if (guest[3] === 'config' || guest[3] === 'interfaces') return { on, privileges: ['VM.Audit'] };
  const major = Number(/^(\d+)/.exec(s.version?.version ?? '8')?.[1] ?? 8);
  return { on, privileges: major >= 9 ? ['VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted'] : ['VM.Monitor'] };
}

export interface FakePveOptions {
  /** `USER@REALM!TOKENID`, e.g. root@pam!netbox. */
  tokenId: string;
  secret: string;
  latencyMs?: number;
  port?: number;
}

const API = '/api2/json';
const DEFAULT_PVEVERSION = 'pve-manager/8.4.1/2a2fa54b8503f96c';

function ok(data: unknown): FakeResponse {
  return { status: 200, body: { data } };
}

/** Starts the fake; `requests` on the result records every request it received. */
export function startFakePve(scenario: PveScenario, opts: FakePveOptions): Promise<FakeServer> {
  return startFakeHttps(pveHandler(scenario, opts), {
    ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
    ...(opts.port !== undefined && { port: opts.port }),
  });
}

/** The request handler alone, for tests that wrap it (extra latency on one path, say). */
export function pveHandler(scenario: PveScenario, opts: Pick<FakePveOptions, 'tokenId' | 'secret'>): (req: FakeRequest) => FakeResponse {
  return (req) => handle(scenario, opts, req);
}

function handle(s: PveScenario, opts: Pick<FakePveOptions, 'tokenId' | 'secret'>, req: FakeRequest): FakeResponse {
  const fail = (status: number, reason: string): FakeResponse => ({
    status,
    statusText: reason,
    body: s.errorMessageInBody === false ? { data: null } : { data: null, message: `${reason}\n` },
  });

  // pve-http-server: token header `PVEAPIToken=USER@REALM!TOKENID=SECRET` (`=` or a space after the prefix).
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^PVEAPIToken[= ](.+)=([^=]*)$/.exec(auth) : null;
  if (!m) return { status: 401, statusText: 'No ticket', body: { data: null } };
  if (m[1] !== opts.tokenId || m[2] !== opts.secret) return { status: 401, statusText: 'Authentication failed!', body: { data: null } };

  if (!req.path.startsWith(`${API}/`)) return fail(501, `Method '${req.method} ${req.path}' not implemented`);
  const path = req.path.slice(API.length);
  if (req.method !== 'GET') return fail(501, `Method '${req.method} ${path}' not implemented`);
  // pve-access-control PVE/RPCEnvironment.pm check / check_any: raise_perm_exc("$path, $privs").
  const denied = (p: string): FakeResponse | undefined => {
    const c = pveCheck(s, p);
    return c === undefined || holdsAny(s.acl, c.on, c.privileges) ? undefined : fail(403, `Permission check failed (${c.on}, ${c.privileges.join('|')})`);
  };
  const override = s.overrides?.[path];
  const failure = s.failures?.[path];
  // A node that is down answers before any check (pveproxy cannot reach it, 595/596); any other
  // failure comes from the handler, which runs only once the privilege check passed.
  if (failure) return (failure.status < 595 ? denied(path) : undefined) ?? fail(failure.status, failure.reason);
  const raw = s.rawBodies?.[path];
  if (raw !== undefined) return { status: 200, body: raw };

  if (path === '/version') return ok(override ?? s.version ?? { version: '8.4.1', release: '8.4', repoid: '2a2fa54b8503f96c' });
  if (path === '/cluster/status') return denied('/cluster/status') ?? ok(override ?? clusterStatus(s));
  if (path === '/nodes') return ok(override ?? nodeList(s));
  if (path === '/cluster/backup') return ok(override ?? s.backupJobs ?? []);
  if (path === '/cluster/backup-info/not-backed-up') return ok(override ?? s.notBackedUp ?? []);
  if (path === '/cluster/ha/rules') {
    // PVE 8 has no rules handler: pveproxy's 501 for an unknown method.
    if (major(s.version?.version ?? '8.4.1') < 9) return fail(501, `Method 'GET ${path}' not implemented`);
    return denied(path) ?? ok(override ?? s.haRules ?? []);
  }
  if (path === '/cluster/ha/groups') return denied(path) ?? ok(override ?? s.haGroups ?? []);
  if (path === '/cluster/ha/resources') return denied(path) ?? ok(override ?? s.haResources ?? []);
  if (path === '/cluster/replication') {
    // pve-manager PVE/API2/ReplicationConfig.pm index: sorted by id, and `$rpcenv->check(…, "/vms/$vmid",
    // ['VM.Audit'])` without noerr, so one guest the token may not audit refuses the whole list.
    const rows = ((override as unknown[] | undefined) ?? s.replication ?? []) as Array<{ id?: string; guest?: unknown }>;
    for (const r of rows) {
      if (!holdsAny(s.acl, `/vms/${String(r.guest)}`, ['VM.Audit'])) return fail(403, `Permission check failed (/vms/${String(r.guest)}, VM.Audit)`);
    }
    return ok([...rows].sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0)));
  }
  if (path === '/cluster/resources') {
    const type = req.query.get('type');
    const all = (override as unknown[] | undefined) ?? [...s.guests.map((g) => g.resource), ...s.nodes.map(nodeResource), ...(s.extraResources ?? [])];
    // pve-manager PVE/API2/Cluster.pm resources: `next if !$rpcenv->check($authuser, "/vms/$vmid", ['VM.Audit'], 1)`.
    const rows = all.filter((r) => {
      const row = r as { type?: string; vmid?: unknown };
      return (row.type !== 'qemu' && row.type !== 'lxc') || holdsAny(s.acl, `/vms/${String(row.vmid)}`, ['VM.Audit']);
    });
    if (type === null) return ok(rows);
    const wanted = type === 'vm' ? ['qemu', 'lxc'] : [type];
    return ok(rows.filter((r) => wanted.includes((r as { type?: string }).type ?? '')));
  }

  // A path the fake does not generate answers its override (recorded bodies, e.g. the Ceph endpoints), else 501.
  const unrouted = (): FakeResponse => (override !== undefined ? (denied(path) ?? ok(override)) : fail(501, `Method 'GET ${path}' not implemented`));
  const nm = /^\/nodes\/([^/]+)(\/.*)$/.exec(path);
  if (!nm || nm[1] === undefined || nm[2] === undefined) return unrouted();
  const nodeName = nm[1];
  const rest = nm[2];
  const node = s.nodes.find((n) => n.name === nodeName);
  if (!node && override !== undefined) return unrouted();
  if (!node) return fail(500, `hostname lookup '${nodeName}' failed - failed to get address info for: ${nodeName}: Name or service not known`);
  // pveproxy proxies to the node; a dead node gives AnyEvent::HTTP's 595 and no body.
  if (node.down) return { status: 595, statusText: node.downReason ?? 'No route to host', body: '' };
  // The handler's permissions are checked on the node, before its code runs.
  const refused = denied(path);
  if (refused) return refused;

  if (rest === '/status') return ok(override ?? node.statusData ?? nodeStatus(node));
  if (rest === '/network') return ok(override ?? node.network ?? []);
  const sm = /^\/storage\/([^/]+)\/content$/.exec(rest);
  if (sm) {
    // pve-storage src/PVE/API2/Storage/Content.pm index: `content` filters by volume type.
    const want = req.query.get('content');
    const rows = (override as unknown[] | undefined) ?? s.storageContent?.[`${nodeName}/${sm[1] ?? ''}`] ?? [];
    return ok(want === null ? rows : rows.filter((r) => (r as { content?: string }).content === want));
  }

  const gm = /^\/(qemu|lxc)\/(\d+)\/(config|interfaces|agent\/([a-z-]+))$/.exec(rest);
  if (!gm) return unrouted();
  const type = gm[1] as 'qemu' | 'lxc';
  const vmid = Number(gm[2]);
  const guest = s.guests.find((g) => g.resource.type === type && g.resource.node === nodeName && Number(g.resource.vmid) === vmid);
  const missing = `Configuration file 'nodes/${nodeName}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf' does not exist`;

  if (gm[3] === 'config') {
    if (!guest || (guest.config === undefined && !guest.configError)) return fail(500, missing);
    if (guest.configError) return fail(guest.configError.status, guest.configError.reason);
    return ok(guest.config);
  }
  if (gm[3] === 'interfaces') {
    // pve-container 3d56c9c (PVE 8.1) added the handler; an older node has none.
    if (type !== 'lxc' || versionBefore(node.pveversion ?? DEFAULT_PVEVERSION, 8, 1)) return fail(501, `Method 'GET ${path}' not implemented`);
    if (!guest) return fail(500, missing);
    if (guest.interfaces !== undefined) return ok(guest.interfaces);
    return ok(guest.resource.status === 'running' ? [{ name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128' }] : null);
  }
  if (type !== 'qemu') return fail(501, `Method 'GET ${path}' not implemented`);
  if (!guest) return fail(500, missing);
  const cmd = gm[4];
  if (cmd !== 'get-osinfo' && cmd !== 'network-get-interfaces') return fail(501, `Method 'GET ${path}' not implemented`);
  const agent = guest.agent ?? derivedAgent(guest);
  switch (agent.kind) {
    // qemu-server src/PVE/API2/Qemu/Agent.pm: VM.GuestAgent.Audit on PVE 9 (VM.Monitor on PVE 8).
    case 'forbidden':
      return fail(403, `Permission check failed (/vms/${vmid}, VM.GuestAgent.Audit)`);
    // qemu-server src/PVE/QemuServer/Agent.pm assert_agent_available, in its order.
    case 'not-configured':
      return fail(500, 'No QEMU guest agent configured');
    case 'not-running':
      return fail(500, `VM ${vmid} is not running`);
    case 'agent-not-running':
      return fail(500, 'QEMU guest agent is not running');
    // The agent answered guest-ping but not the command within 5 s: qemu-server src/PVE/QMPClient.pm
    // cmd dies "VM $vmid qmp command '$execute' failed - got timeout" (mux_timeout sets "got timeout").
    case 'timeout':
      return fail(500, `VM ${vmid} qmp command 'guest-${cmd}' failed - got timeout`);
    case 'ok':
      return ok({ result: cmd === 'get-osinfo' ? (agent.osinfo ?? {}) : (agent.interfaces ?? []) });
  }
}

/** "9.0.3" → 9. */
function major(version: string): number {
  return Number(/^(\d+)/.exec(version)?.[1] ?? 0);
}

/** Whether a pveversion ("pve-manager/8.0.4/…") is before major.minor. */
function versionBefore(pveversion: string, maj: number, min: number): boolean {
  const m = /^pve-manager\/(\d+)\.(\d+)/.exec(pveversion);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a < maj || (a === maj && b < min);
}

function derivedAgent(g: PveScenarioGuest): AgentBehaviour {
  const agent = (g.config as { agent?: unknown } | undefined)?.agent;
  const enabled = agent !== undefined && !/^(?:enabled=)?0(?:,|$)/.test(String(agent));
  if (!enabled) return { kind: 'not-configured' };
  if (g.resource.status !== 'running') return { kind: 'not-running' };
  return { kind: 'agent-not-running' };
}

function isUp(n: PveScenarioNode): boolean {
  return (n.status ?? 'online') === 'online' && !n.down;
}

/** pve-manager PVE/API2/Cluster.pm get_status: a standalone node answers one fake node row. */
function clusterStatus(s: PveScenario): unknown[] {
  if (s.cluster === undefined) {
    const n = s.nodes[0];
    return n ? [{ type: 'node', id: `node/${n.name}`, name: n.name, nodeid: 0, local: 1, online: 1, ip: n.ip ?? '192.0.2.1', level: '' }] : [];
  }
  return [
    { type: 'cluster', id: 'cluster', name: s.cluster, nodes: s.nodes.length, quorate: 1, version: s.nodes.length + 1 },
    ...s.nodes.map((n, i) => ({
      type: 'node',
      id: `node/${n.name}`,
      name: n.name,
      nodeid: i + 1,
      online: isUp(n) ? 1 : 0,
      local: i === 0 ? 1 : 0,
      ip: n.ip ?? `192.0.2.${i + 1}`,
      level: '',
    })),
  ];
}

function fingerprint(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return Array.from({ length: 32 }, (_, i) => ((h >>> ((i % 4) * 8)) ^ (i * 37)) & 255)
    .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
    .join(':');
}

function nodeList(s: PveScenario): unknown[] {
  return s.nodes.map((n) => {
    const status = n.status ?? 'online';
    const base = { node: n.name, status, id: `node/${n.name}`, type: 'node', ssl_fingerprint: fingerprint(n.name) };
    if (status !== 'online') return base;
    return {
      ...base,
      level: '',
      cpu: 0.0123,
      maxcpu: n.maxcpu ?? 8,
      mem: Math.floor((n.maxmem ?? 34359738368) / 4),
      maxmem: n.maxmem ?? 34359738368,
      disk: 10486546432,
      maxdisk: 951055941632,
      uptime: 872854,
    };
  });
}

function nodeResource(n: PveScenarioNode): unknown {
  const status = n.status ?? 'online';
  return {
    id: `node/${n.name}`,
    type: 'node',
    node: n.name,
    status,
    level: '',
    'cgroup-mode': 2,
    ...(status === 'online' && {
      maxcpu: n.maxcpu ?? 8,
      maxmem: n.maxmem ?? 34359738368,
      cpu: 0.0123,
      mem: 2113265664,
      disk: 10486546432,
      maxdisk: 951055941632,
      uptime: 872854,
    }),
  };
}

function nodeStatus(n: PveScenarioNode): unknown {
  return {
    pveversion: n.pveversion ?? DEFAULT_PVEVERSION,
    kversion: 'Linux 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)',
    cpu: 0.0123,
    cpuinfo: { model: 'Intel(R) Xeon(R) CPU E5-2680 v4', cores: Math.max(1, (n.maxcpu ?? 8) / 2), cpus: n.maxcpu ?? 8, sockets: 1 },
    memory: { total: n.maxmem ?? 34359738368, used: 2147483648, free: (n.maxmem ?? 34359738368) - 2147483648 },
    loadavg: ['0.15', '0.25', '0.30'],
    uptime: 872854,
  };
}

// ---------------------------------------------------------------------------
// A large, realistic estate for the benchmark, reproducible from a seed.

const hex2 = (n: number): string => (n & 255).toString(16).toUpperCase().padStart(2, '0');
/** Proxmox's own OUI BC:24:11 plus 24 bits of NIC number: unique for 16M NICs. */
const macOf = (nic: number): string => `BC:24:11:${hex2(nic >>> 16)}:${hex2(nic >>> 8)}:${hex2(nic)}`;
/* Host parts 1..64, so no address is a network or broadcast id (NetBox refuses those on interfaces). */
const v4a = (i: number): string => `10.${64 + ((i >>> 14) & 63)}.${(i >>> 6) & 255}.${(i & 63) + 1}`;
const v4b = (i: number): string => `172.${16 + ((i >>> 14) & 15)}.${(i >>> 6) & 255}.${(i & 63) + 1}`;

const OSES = [
  { id: 'ubuntu', name: 'Ubuntu', 'pretty-name': 'Ubuntu 24.04.1 LTS', version: '24.04.1 LTS (Noble Numbat)', 'version-id': '24.04' },
  { id: 'debian', name: 'Debian GNU/Linux', 'pretty-name': 'Debian GNU/Linux 12 (bookworm)', version: '12 (bookworm)', 'version-id': '12' },
  { id: 'rocky', name: 'Rocky Linux', 'pretty-name': 'Rocky Linux 9.4 (Blue Onyx)', version: '9.4 (Blue Onyx)', 'version-id': '9.4' },
] as const;

/**
 * `guests` guests spread round-robin over `nodes` nodes of cluster "bench": 70% QEMU
 * (two NICs, two disks and a CD-ROM; 80% of them running with the guest agent answering,
 * the rest stopped), 30% LXC (one NIC with a static IPv4, rootfs and a mount point).
 */
export function generatePveScenario(opts: { guests: number; nodes: number; seed: number }): PveScenario {
  const rand = prng(opts.seed);
  const nodeCount = Math.max(1, opts.nodes);
  const nodes: PveScenarioNode[] = Array.from({ length: nodeCount }, (_, i) => ({
    name: `pve${i + 1}`,
    ip: `10.0.${(i + 10) >>> 8}.${(i + 10) & 255}`,
    maxcpu: 64,
    maxmem: 274877906944,
    pveversion: 'pve-manager/8.4.1/2a2fa54b8503f96c',
    network: [
      { iface: 'eno1', type: 'eth', method: 'manual', method6: 'manual', active: 1, exists: 1, families: ['inet'], priority: 3 },
      { iface: 'eno2', type: 'eth', method: 'manual', method6: 'manual', active: 1, exists: 1, families: ['inet'], priority: 4 },
      {
        iface: 'bond0',
        type: 'bond',
        method: 'manual',
        method6: 'manual',
        slaves: 'eno1 eno2',
        bond_mode: '802.3ad',
        active: 1,
        autostart: 1,
        families: ['inet'],
        priority: 5,
      },
      {
        iface: 'vmbr0',
        type: 'bridge',
        method: 'static',
        method6: 'static',
        bridge_ports: 'bond0',
        bridge_vlan_aware: 1,
        bridge_vids: '2-4094',
        cidr: `10.0.${(i + 10) >>> 8}.${(i + 10) & 255}/16`,
        address: `10.0.${(i + 10) >>> 8}.${(i + 10) & 255}`,
        netmask: '16',
        gateway: '10.0.0.1',
        cidr6: `fd00:10::${(i + 10).toString(16)}/64`,
        address6: `fd00:10::${(i + 10).toString(16)}`,
        netmask6: '64',
        active: 1,
        autostart: 1,
        families: ['inet', 'inet6'],
        priority: 6,
        mtu: '9000',
      },
      {
        iface: 'vmbr0.20',
        type: 'vlan',
        method: 'static',
        method6: 'manual',
        'vlan-id': '20',
        'vlan-raw-device': 'vmbr0',
        cidr: `10.20.${(i + 10) >>> 8}.${(i + 10) & 255}/16`,
        active: 1,
        autostart: 1,
        families: ['inet'],
        priority: 7,
      },
    ],
  }));
  const guests: PveScenarioGuest[] = [];
  for (let i = 0; i < opts.guests; i++) {
    const vmid = 100 + i;
    const node = nodes[i % nodeCount]?.name ?? 'pve1';
    const qemu = rand() < 0.7;
    const vlan = [10, 20, 30][Math.floor(rand() * 3)] ?? 10;
    const ha = rand() < 0.1;
    const tags = rand() < 0.3 ? 'prod;web' : rand() < 0.5 ? 'dev' : undefined;
    if (qemu) {
      const running = rand() < 0.8;
      const os = OSES[Math.floor(rand() * OSES.length)] ?? OSES[0];
      const mac0 = macOf(i * 2);
      const mac1 = macOf(i * 2 + 1);
      const name = `vm-${vmid}`;
      guests.push({
        resource: {
          id: `qemu/${vmid}`,
          type: 'qemu',
          vmid,
          name,
          node,
          status: running ? 'running' : 'stopped',
          template: 0,
          maxcpu: 4,
          maxmem: 8589934592,
          maxdisk: 34359738368,
          cpu: running ? 0.02 : 0,
          mem: running ? 2147483648 : 0,
          disk: 0,
          uptime: running ? 86400 : 0,
          netin: 0,
          netout: 0,
          diskread: 0,
          diskwrite: 0,
          ...(tags !== undefined && { tags }),
          ...(ha && { hastate: running ? 'started' : 'stopped' }),
        },
        config: {
          name,
          ostype: 'l26',
          agent: '1',
          cores: 2,
          sockets: 2,
          memory: '8192',
          onboot: running ? 1 : 0,
          scsihw: 'virtio-scsi-single',
          boot: 'order=scsi0;ide2;net0',
          ide2: 'none,media=cdrom',
          net0: `virtio=${mac0},bridge=vmbr0,firewall=1,tag=${vlan}`,
          net1: `virtio=${mac1},bridge=vmbr0,firewall=1`,
          scsi0: `local-lvm:vm-${vmid}-disk-0,iothread=1,discard=on,size=32G`,
          scsi1: `ceph-vm:vm-${vmid}-disk-1,iothread=1,size=100G`,
          smbios1: `uuid=00000000-0000-4000-8000-${vmid.toString(16).padStart(12, '0')}`,
          vmgenid: `00000000-0000-4000-9000-${vmid.toString(16).padStart(12, '0')}`,
          digest: vmid.toString(16).padStart(40, '0'),
          ...(tags !== undefined && { tags }),
        },
        ...(running && {
          agent: {
            kind: 'ok' as const,
            osinfo: { ...os, machine: 'x86_64', 'kernel-release': '6.8.0-45-generic', 'kernel-version': '#45-Ubuntu SMP' },
            interfaces: [
              {
                name: 'lo',
                'hardware-address': '00:00:00:00:00:00',
                'ip-addresses': [
                  { 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 },
                  { 'ip-address': '::1', 'ip-address-type': 'ipv6', prefix: 128 },
                ],
              },
              {
                name: 'ens18',
                'hardware-address': mac0.toLowerCase(),
                'ip-addresses': [
                  { 'ip-address': v4a(i), 'ip-address-type': 'ipv4', prefix: 16 },
                  { 'ip-address': `fd00:64::${(i + 1).toString(16)}`, 'ip-address-type': 'ipv6', prefix: 64 },
                  { 'ip-address': `fe80::be24:11ff:fe${hex2(i >>> 8).toLowerCase()}:${hex2(i).toLowerCase()}00`, 'ip-address-type': 'ipv6', prefix: 64 },
                ],
                statistics: {
                  'rx-bytes': 1000,
                  'tx-bytes': 2000,
                  'rx-packets': 10,
                  'tx-packets': 20,
                  'rx-errs': 0,
                  'tx-errs': 0,
                  'rx-dropped': 0,
                  'tx-dropped': 0,
                },
              },
              { name: 'ens19', 'hardware-address': mac1.toLowerCase(), 'ip-addresses': [{ 'ip-address': v4b(i), 'ip-address-type': 'ipv4', prefix: 16 }] },
            ],
          },
        }),
      });
    } else {
      const running = rand() < 0.9;
      const name = `ct-${vmid}`;
      guests.push({
        resource: {
          id: `lxc/${vmid}`,
          type: 'lxc',
          vmid,
          name,
          node,
          status: running ? 'running' : 'stopped',
          template: 0,
          maxcpu: 2,
          maxmem: 2147483648,
          maxdisk: 8589934592,
          cpu: 0,
          mem: 0,
          disk: 0,
          uptime: running ? 3600 : 0,
          netin: 0,
          netout: 0,
          diskread: 0,
          diskwrite: 0,
          ...(tags !== undefined && { tags }),
          ...(ha && { hastate: running ? 'started' : 'stopped' }),
        },
        config: {
          hostname: name,
          ostype: rand() < 0.5 ? 'debian' : 'ubuntu',
          arch: 'amd64',
          cores: 2,
          memory: 2048,
          swap: 512,
          onboot: 1,
          unprivileged: 1,
          net0: `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${macOf(i * 2)},ip=${v4a(i)}/16,gw=10.64.0.254,ip6=auto,tag=${vlan},type=veth`,
          rootfs: `local-lvm:vm-${vmid}-disk-0,size=8G`,
          mp0: `local-lvm:vm-${vmid}-disk-1,mp=/srv/data,backup=1,size=16G`,
          digest: vmid.toString(16).padStart(40, '0'),
          ...(tags !== undefined && { tags }),
        },
      });
    }
  }
  const extraResources = nodes.flatMap((n) => [
    {
      id: `storage/${n.name}/local`,
      type: 'storage',
      storage: 'local',
      node: n.name,
      plugintype: 'dir',
      content: 'iso,vztmpl,backup',
      shared: 0,
      status: 'available',
      disk: 10486546432,
      maxdisk: 100000000000,
    },
    {
      id: `storage/${n.name}/local-lvm`,
      type: 'storage',
      storage: 'local-lvm',
      node: n.name,
      plugintype: 'lvmthin',
      content: 'images,rootdir',
      shared: 0,
      status: 'available',
      disk: 10486546432,
      maxdisk: 900000000000,
    },
    { id: `sdn/${n.name}/localnetwork`, type: 'sdn', sdn: 'localnetwork', node: n.name, status: 'ok' },
  ]);
  return { cluster: 'bench', version: { version: '8.4.1', release: '8.4', repoid: '2a2fa54b8503f96c' }, nodes, guests, extraResources };
}

/* ------------------------------------------------- a PVE API fed raw routes */

/*
 * For the collectors that read PVE's API besides the PVE collector (ceph's PVE source,
 * packer's template lookup) and for recorded bodies: the answers are given by path, and the
 * fake PVE above serves them with its auth, envelope, errors and ACL checks.
 */

export interface PveError {
  status: number;
  /** PVE's message; it goes in the HTTP status line. */
  reason: string;
}

export interface PveRoutesScenario {
  /** `data` payloads by path under /api2/json (no query string). */
  routes: Record<string, unknown>;
  /** Error answers by path; they win over routes. */
  errors?: Record<string, PveError>;
  /**
   * 200 answers with exactly this body instead of the JSON one, by API path (without
   * /api2/json and query): an HTML page of a proxy in front, a truncated answer.
   */
  rawBodies?: Record<string, string>;
  /**
   * The token's privileges; absent: all of them. PVE's Ceph GETs check `['perm', '/',
   * ['Sys.Audit', 'Datastore.Audit'], any => 1]` (pve-manager PVE/API2/Ceph.pm, Ceph/*.pm;
   * PVE/API2/Cluster/Ceph.pm); /nodes checks none.
   */
  acl?: FakeTokenAcl;
}

export const FAKE_PVE_TOKEN = { user: 'root@pam', tokenName: 'netbox', secret: '5f1d1f2c-0c8e-4a7e-9d6b-2b5e7b0c9a11' } as const;

/** A proxied node that is down: AnyEvent::HTTP's pseudo-status, passed on by pve-http-server src/PVE/APIServer/AnyEvent.pm proxy_request. */
export const NODE_DOWN: PveError = { status: 595, reason: 'No route to host' };

export interface PveRoutesOptions {
  latencyMs?: number;
  port?: number;
  /** libpve-http-server-perl ≥ 5.2.0 also puts the message in the body (fix #6503). */
  messageInBody?: boolean;
}

/** The routes are the fake's overrides, the errors its failures; nothing else is generated but what PVE always answers. */
export function routesAsPveScenario(scenario: PveRoutesScenario, opts: Pick<PveRoutesOptions, 'messageInBody'> = {}): PveScenario {
  return {
    nodes: [],
    guests: [],
    overrides: scenario.routes,
    errorMessageInBody: opts.messageInBody ?? false,
    ...(scenario.errors !== undefined && { failures: scenario.errors }),
    ...(scenario.rawBodies !== undefined && { rawBodies: scenario.rawBodies }),
    ...(scenario.acl !== undefined && { acl: scenario.acl }),
  };
}

export function startFakePveRoutes(scenario: PveRoutesScenario, opts: PveRoutesOptions = {}): Promise<FakeServer> {
  return startFakePve(routesAsPveScenario(scenario, opts), {
    tokenId: `${FAKE_PVE_TOKEN.user}!${FAKE_PVE_TOKEN.tokenName}`,
    secret: FAKE_PVE_TOKEN.secret,
    ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
    ...(opts.port !== undefined && { port: opts.port }),
  });
}
