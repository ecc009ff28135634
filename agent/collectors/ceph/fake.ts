import { startFakeHttps, type FakeRequest, type FakeResponse, type FakeServer } from '../../../test/fakes/https-server.ts';
import type { PveError, PveRoutesScenario } from '../pve/fake.ts';

/*
 * Fakes of the two Ceph APIs the ceph collector reads:
 * - PVE's Ceph endpoints (pve-manager PVE/API2/Cluster/Ceph.pm, PVE/API2/Ceph*.pm): PVE token auth, `{"data": …}`,
 *   errors with the reason in the HTTP status line and `{"data":null}` as body;
 * - the Ceph MGR dashboard (ceph src/pybind/mgr/dashboard): POST /api/auth → JWT, bearer auth with 401 when the
 *   token is unknown or used up, the per-endpoint versioned Accept header with 415 on a
 *   mismatch (controllers/_version.py `supports`), and ListPaginator pagination with
 *   `X-Total-Count` (/api/osd 10 items, /api/host 5, unless `limit=-1`).
 * Both can be fed raw routes (golden cases, recorded bodies) or generated from one
 * CephSpec, so the same cluster reads the same through either source.
 */

/* -------------------------------------------------------------------- PVE side */

/*
 * PVE's Ceph endpoints are the PVE API's: the fake PVE serves them from routes
 * (agent/collectors/pve/fake.ts startFakePveRoutes), one fake per upstream API.
 */

/** pve-manager PVE/Ceph/Tools.pm check_ceph_installed. */
export const CEPH_NOT_INSTALLED: PveError = { status: 500, reason: 'binary not installed: /usr/bin/ceph-mon' };

/* -------------------------------------------------------------- Dashboard side */

/** Endpoint versions of the dashboard's openapi.yaml (ceph src/pybind/mgr/dashboard/openapi.yaml). */
export const DASHBOARD_VERSIONS: Readonly<Record<string, string>> = {
  '/api/auth': '1.0',
  '/api/health/minimal': '1.0',
  '/api/health/get_cluster_fsid': '1.0',
  '/api/summary': '1.0',
  '/api/osd': '1.1',
  '/api/osd/flags': '1.0',
  '/api/pool': '1.0',
  '/api/host': '1.3',
  '/api/crush_rule': '2.0',
  '/api/cephfs': '1.0',
  '/api/monitor': '1.0',
};

/** ListPaginator's default page sizes: controllers/osd.py list (10), controllers/host.py list v1.3 (5). */
export const DASHBOARD_PAGE_SIZES: Readonly<Record<string, number>> = { '/api/osd': 10, '/api/host': 5 };

export interface CephDashboardScenario {
  /** Bodies by path. */
  routes: Record<string, unknown>;
  /** Overrides of DASHBOARD_VERSIONS, e.g. an older release whose /api/osd is still 1.0. */
  versions?: Record<string, string>;
  users?: Record<string, string>;
  /** The first token issued stops working after this many authenticated requests (a JWT that expires mid-run). */
  firstTokenUses?: number;
  /** An older dashboard that ignores `limit=-1` and always pages. */
  ignoreLimitAll?: boolean;
  errors?: Record<string, { status: number; detail: string }>;
  /** 200 answers with exactly this body instead of the JSON one, by path: an HTML page of a proxy, a truncated answer. */
  rawBodies?: Record<string, string>;
}

export const FAKE_DASHBOARD_USER = { user: 'netbox-ro', password: 'ro-secret' } as const;

const MIME = /^application\/vnd\.ceph\.api\.v(\d+)\.(\d+)\+json$/;

function dashError(status: number, statusText: string, detail: string): FakeResponse {
  // cherrypy's json_error_page as the dashboard installs it (dashboard/tools.py).
  return { status, statusText, body: { status: `${status} ${statusText}`, detail, traceback: null, version: '18.2.4' } };
}

export function cephDashboardHandler(scenario: CephDashboardScenario) {
  const users = scenario.users ?? { [FAKE_DASHBOARD_USER.user]: FAKE_DASHBOARD_USER.password };
  const versions = { ...DASHBOARD_VERSIONS, ...scenario.versions };
  const tokens = new Map<string, number>();
  let issued = 0;
  return (req: FakeRequest): FakeResponse => {
    const endpoint = versions[req.path];
    if (endpoint === undefined) return dashError(404, 'Not Found', `The path '${req.path}' was not found.`);
    const m = MIME.exec(String(req.headers.accept ?? ''));
    if (!m) return dashError(415, 'Unsupported Media Type', 'Unable to find version in request header');
    const [eMajor, eMinor] = endpoint.split('.').map(Number);
    const client = `${Number(m[1])}.${Number(m[2])}`;
    if (Number(m[1]) !== eMajor || Number(m[2]) > (eMinor ?? 0)) {
      return dashError(415, 'Unsupported Media Type', `Incorrect version: endpoint is '${endpoint}', client requested '${client}'`);
    }
    const headers = { 'content-type': `application/vnd.ceph.api.v${endpoint}+json` };
    if (req.path === '/api/auth') {
      if (req.method !== 'POST') return dashError(405, 'Method Not Allowed', 'The path /api/auth does not allow GET.');
      let creds: { username?: unknown; password?: unknown } = {};
      try {
        creds = JSON.parse(req.body) as typeof creds;
      } catch {
        return dashError(400, 'Bad Request', 'Invalid JSON document');
      }
      if (typeof creds.username !== 'string' || users[creds.username] !== creds.password) {
        return dashError(400, 'Bad Request', 'Invalid credentials');
      }
      issued += 1;
      const token = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ username: creds.username, jti: issued })).toString('base64url')}.fake-signature-${issued}`;
      tokens.set(token, 0);
      return {
        status: 201,
        headers,
        body: { token, username: creds.username, permissions: {}, pwdExpirationDate: null, sso: false, pwdUpdateRequired: false },
      };
    }
    const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const uses = auth === undefined ? undefined : tokens.get(auth);
    const expired = scenario.firstTokenUses !== undefined && auth?.endsWith('fake-signature-1') === true && (uses ?? 0) >= scenario.firstTokenUses;
    if (auth === undefined || uses === undefined || expired) {
      return dashError(401, 'Unauthorized', 'You are not authorized to access that resource');
    }
    tokens.set(auth, uses + 1);
    const err = scenario.errors?.[req.path];
    if (err) return dashError(err.status, err.status === 403 ? 'Forbidden' : 'Internal Server Error', err.detail);
    const raw = scenario.rawBodies?.[req.path];
    if (raw !== undefined) return { status: 200, headers, body: raw };
    if (!Object.hasOwn(scenario.routes, req.path)) return dashError(404, 'Not Found', `The path '${req.path}' was not found.`);
    const body = scenario.routes[req.path];
    const pageSize = DASHBOARD_PAGE_SIZES[req.path];
    if (pageSize !== undefined && Array.isArray(body)) {
      const offset = Number(req.query.get('offset') ?? 0);
      let limit = Number(req.query.get('limit') ?? pageSize);
      if (limit === -1 && scenario.ignoreLimitAll) limit = pageSize;
      const page = limit === -1 ? body.slice(offset) : body.slice(offset, offset + limit);
      return { status: 200, headers: { ...headers, 'x-total-count': String(body.length) }, body: page };
    }
    // The dashboard JSON-encodes every answer, a bare string too (get_cluster_fsid).
    return { status: 200, headers, body: typeof body === 'string' ? JSON.stringify(body) : body };
  };
}

export function startFakeCephDashboard(scenario: CephDashboardScenario, opts: { latencyMs?: number; port?: number } = {}): Promise<FakeServer> {
  return startFakeHttps(cephDashboardHandler(scenario), opts);
}

/* ------------------------------------------------------------- Cluster spec */

export interface CephSpecOsd {
  id: number;
  host: string;
  deviceClass: string;
  sizeBytes: number;
  crushWeight: number;
  reweight: number;
  up: boolean;
  in: boolean;
}

export interface CephSpec {
  fsid: string;
  version: string;
  release: string;
  nodes: Array<{ name: string; ip: string }>;
  osds: CephSpecOsd[];
  mons: string[];
  /** Mons out of quorum (still in the monmap). */
  monsDown?: string[];
  mgrActive: string;
  mgrStandbys: string[];
  health: { status: string; checks: Record<string, { severity: string; message: string; count: number; detail?: string[] }> };
  /** Settable flags that are set (PVE's /cluster/ceph/flags list). */
  flags: string[];
  pools: Array<{ id: number; name: string; type: 'replicated' | 'erasure'; size: number; minSize: number; pgNum: number; rule: string; apps: string[] }>;
  rules: Array<{ id: number; name: string; root: string; deviceClass?: string; failureDomain: string }>;
  filesystems: Array<{ id: number; name: string; metadataPool: string; dataPools: string[] }>;
}

/** The settable flags PVE lists in /cluster/ceph/flags (pve-manager PVE/API2/Cluster/Ceph.pm $possible_flags). */
const PVE_FLAGS: Array<[string, string]> = [
  ['nobackfill', 'Backfilling of PGs is suspended.'],
  ['nodeep-scrub', 'Deep Scrubbing is disabled.'],
  ['nodown', 'OSD failure reports are being ignored, such that the monitors will not mark OSDs down.'],
  ['noin', 'OSDs that were previously marked out will not be marked back in when they start.'],
  ['noout', 'OSDs will not automatically be marked out after the configured interval.'],
  ['norebalance', 'Rebalancing of PGs is suspended.'],
  ['norecover', 'Recovery of PGs is suspended.'],
  ['noscrub', 'Scrubbing is disabled.'],
  ['notieragent', 'Cache tiering activity is suspended.'],
  ['noup', 'OSDs are not allowed to start.'],
  ['pause', 'Pauses read and writes.'],
];
/** Flags every Luminous+ cluster carries (OSDMap.cc get_flag_string); the dashboard lists them. */
const PERMANENT_FLAGS = ['sortbitwise', 'recovery_deletes', 'purged_snapdirs', 'pglog_hardlimit'];

const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

/** A hyperconverged cluster of `nodes`, `osdsPerNode` OSDs each (nvme for the first, ssd after), mons on the first three nodes. */
export function makeCephSpec(opts: {
  fsid?: string;
  nodes: string[];
  osdsPerNode: number;
  down?: number[];
  out?: number[];
  flags?: string[];
  health?: CephSpec['health'];
}): CephSpec {
  const nodes = opts.nodes.map((name, i) => ({ name, ip: `10.10.10.${11 + i}` }));
  const osds: CephSpecOsd[] = [];
  nodes.forEach((n, ni) => {
    for (let k = 0; k < opts.osdsPerNode; k++) {
      const id = ni * opts.osdsPerNode + k;
      const nvme = k === 0;
      const sizeBytes = nvme ? 1600 * GiB : 3840 * GiB;
      osds.push({
        id,
        host: n.name,
        deviceClass: nvme ? 'nvme' : 'ssd',
        sizeBytes,
        crushWeight: Math.round((sizeBytes / TiB) * 1e5) / 1e5,
        reweight: 1,
        up: !(opts.down ?? []).includes(id),
        in: !(opts.out ?? []).includes(id),
      });
    }
  });
  const mons = nodes.slice(0, 3).map((n) => n.name);
  return {
    fsid: opts.fsid ?? '4f7a2c1e-9b3d-4e8a-a6c2-1d5e8f3b7a90',
    version: '18.2.4',
    release: 'reef',
    nodes,
    osds,
    mons,
    mgrActive: mons[0] ?? '',
    mgrStandbys: mons.slice(1, 2),
    health: opts.health ?? { status: 'HEALTH_OK', checks: {} },
    flags: opts.flags ?? [],
    pools: [
      { id: 1, name: '.mgr', type: 'replicated', size: 3, minSize: 2, pgNum: 1, rule: 'replicated_rule', apps: ['mgr'] },
      { id: 2, name: 'vm-disks', type: 'replicated', size: 3, minSize: 2, pgNum: 128, rule: 'replicated_ssd', apps: ['rbd'] },
      { id: 3, name: 'cephfs_data', type: 'replicated', size: 3, minSize: 2, pgNum: 64, rule: 'replicated_rule', apps: ['cephfs'] },
      { id: 4, name: 'cephfs_metadata', type: 'replicated', size: 3, minSize: 2, pgNum: 16, rule: 'replicated_nvme', apps: ['cephfs'] },
    ],
    rules: [
      { id: 0, name: 'replicated_rule', root: 'default', failureDomain: 'host' },
      { id: 1, name: 'replicated_ssd', root: 'default', deviceClass: 'ssd', failureDomain: 'host' },
      { id: 2, name: 'replicated_nvme', root: 'default', deviceClass: 'nvme', failureDomain: 'host' },
    ],
    filesystems: [{ id: 1, name: 'cephfs', metadataPool: 'cephfs_metadata', dataPools: ['cephfs_data'] }],
  };
}

const ipOf = (spec: CephSpec, node: string) => spec.nodes.find((n) => n.name === node)?.ip ?? '10.10.10.250';
const monAddrvec = (ip: string) => ({
  addrvec: [
    { type: 'v2', addr: `${ip}:3300`, nonce: 0 },
    { type: 'v1', addr: `${ip}:6789`, nonce: 0 },
  ],
});
const inQuorum = (spec: CephSpec) => spec.mons.filter((m) => !(spec.monsDown ?? []).includes(m));

/** The PVE side of a spec: every route the ceph collector reads, answered for every node. */
export function pveScenarioFromSpec(spec: CephSpec, extra: Partial<PveRoutesScenario> = {}): PveRoutesScenario {
  const osdLeaf = (o: CephSpecOsd) => ({
    id: o.id,
    name: `osd.${o.id}`,
    type: 'osd',
    leaf: 1,
    host: o.host,
    status: o.up ? 'up' : 'down',
    in: o.in ? 1 : 0,
    crush_weight: o.crushWeight,
    reweight: o.reweight,
    device_class: o.deviceClass,
    osdtype: 'bluestore',
    total_space: o.up ? o.sizeBytes : 0,
    bytes_used: o.up ? Math.round(o.sizeBytes * 0.41) : 0,
    percent_used: o.up ? 41.02 : 0,
    pgs: o.up ? 97 : 0,
    commit_latency_ms: 1,
    apply_latency_ms: 1,
    blfsdev: '/dev/nvme0n1',
    ceph_version: `ceph version ${spec.version} (e7ad5345525c7aa95470c26863873b581076945d) ${spec.release} (stable)`,
    ceph_version_short: spec.version,
  });
  const tree = {
    flags: [...PERMANENT_FLAGS, ...spec.flags.filter((f) => f !== 'pause')].join(','),
    root: {
      id: -1,
      name: 'default',
      type: 'root',
      leaf: 0,
      children: spec.nodes.map((n, i) => ({
        id: -3 - i,
        name: n.name,
        type: 'host',
        leaf: 0,
        version: spec.version,
        children: spec.osds.filter((o) => o.host === n.name).map(osdLeaf),
      })),
    },
  };
  const ruleId = new Map(spec.rules.map((r) => [r.name, r.id]));
  const perNode: Record<string, unknown> = {};
  for (const n of spec.nodes) {
    const base = `/nodes/${n.name}/ceph`;
    perNode[`${base}/osd`] = tree;
    perNode[`${base}/pool`] = spec.pools.map((p) => ({
      pool: p.id,
      pool_name: p.name,
      type: p.type,
      size: p.size,
      min_size: p.minSize,
      pg_num: p.pgNum,
      pg_num_final: p.pgNum,
      pg_autoscale_mode: 'on',
      crush_rule: ruleId.get(p.rule) ?? 0,
      crush_rule_name: p.rule,
      percent_used: 0.0873,
      bytes_used: 2_347_113_984 * p.id,
      application_metadata: Object.fromEntries(p.apps.map((a) => [a, {}])),
      autoscale_status: { would_adjust: false },
    }));
    perNode[`${base}/fs`] = spec.filesystems.map((f) => ({ name: f.name, metadata_pool: f.metadataPool, data_pool: f.dataPools[0] }));
    perNode[`${base}/rules`] = spec.rules.map((r) => ({ name: r.name }));
    perNode[`${base}/mon`] = spec.mons.map((m, rank) => ({
      name: m,
      addr: `${ipOf(spec, m)}:6789/0`,
      host: m,
      rank,
      quorum: inQuorum(spec).includes(m) ? 1 : 0,
      state: (spec.monsDown ?? []).includes(m) ? 'stopped' : 'running',
      ceph_version_short: spec.version,
      direxists: 1,
      service: 1,
    }));
    perNode[`${base}/mgr`] = [spec.mgrActive, ...spec.mgrStandbys].map((m) => ({
      name: m,
      addr: `${ipOf(spec, m)}:6801/3242`,
      host: m,
      state: m === spec.mgrActive ? 'active' : 'standby',
      ceph_version_short: spec.version,
      direxists: 1,
      service: 1,
    }));
  }
  const up = spec.osds.filter((o) => o.up).length;
  const inn = spec.osds.filter((o) => o.in).length;
  return {
    routes: {
      '/cluster/ceph/status': {
        fsid: spec.fsid,
        health: {
          status: spec.health.status,
          checks: Object.fromEntries(
            Object.entries(spec.health.checks).map(([k, v]) => [
              k,
              { severity: v.severity, summary: { message: v.message, count: v.count }, detail: (v.detail ?? []).map((message) => ({ message })), muted: false },
            ]),
          ),
          mutes: [],
        },
        election_epoch: 42,
        quorum: inQuorum(spec).map((m) => spec.mons.indexOf(m)),
        quorum_names: inQuorum(spec),
        quorum_age: 1_234_567,
        monmap: {
          epoch: 3,
          fsid: spec.fsid,
          min_mon_release: 18,
          min_mon_release_name: spec.release,
          mons: spec.mons.map((m, rank) => ({
            rank,
            name: m,
            public_addrs: monAddrvec(ipOf(spec, m)),
            addr: `${ipOf(spec, m)}:6789/0`,
            public_addr: `${ipOf(spec, m)}:6789/0`,
            priority: 0,
            weight: 0,
          })),
        },
        osdmap: {
          epoch: 812,
          num_osds: spec.osds.length,
          num_up_osds: up,
          osd_up_since: 1_733_000_000,
          num_in_osds: inn,
          osd_in_since: 1_733_000_000,
          num_remapped_pgs: 0,
        },
        pgmap: {
          pgs_by_state: [{ state_name: 'active+clean', count: 209 }],
          num_pgs: 209,
          num_pools: spec.pools.length,
          num_objects: 812_331,
          data_bytes: 3_101_155_553_280,
          bytes_used: 9_377_431_060_480,
          bytes_avail: 18_000_000_000_000,
          bytes_total: 27_377_431_060_480,
        },
        fsmap: {
          epoch: 12,
          id: 1,
          up: 1,
          in: 1,
          max: 1,
          by_rank: [{ filesystem_id: 1, rank: 0, name: spec.mons[0], status: 'up:active', gid: 24107 }],
          'up:standby': 1,
        },
        mgrmap: {
          available: true,
          num_standbys: spec.mgrStandbys.length,
          active_name: spec.mgrActive,
          standbys: spec.mgrStandbys.map((name) => ({ name, gid: 4100 })),
          modules: ['iostat', 'restful'],
        },
        servicemap: { epoch: 1, modified: '2025-01-01T00:00:00.000000+0000', services: {} },
        progress_events: {},
      },
      '/nodes': spec.nodes.map((n) => ({ node: n.name, status: 'online', type: 'node', id: `node/${n.name}`, level: '', maxcpu: 32, maxmem: 137_438_953_472 })),
      '/cluster/ceph/flags': PVE_FLAGS.map(([name, description]) => ({ name, description, value: spec.flags.includes(name) ? 1 : 0 })),
      ...perNode,
      ...extra.routes,
    },
    ...(extra.errors && { errors: extra.errors }),
    ...(extra.rawBodies && { rawBodies: extra.rawBodies }),
    ...(extra.acl && { acl: extra.acl }),
  };
}

/** The dashboard side of a spec. */
export function dashboardScenarioFromSpec(spec: CephSpec, extra: Partial<CephDashboardScenario> = {}): CephDashboardScenario {
  const versionString = `ceph version ${spec.version} (e7ad5345525c7aa95470c26863873b581076945d) ${spec.release} (stable)`;
  const poolId = new Map(spec.pools.map((p) => [p.name, p.id]));
  const mon = (m: string, rank: number) => ({
    rank,
    name: m,
    public_addrs: monAddrvec(ipOf(spec, m)),
    addr: `${ipOf(spec, m)}:6789/0`,
    public_addr: `${ipOf(spec, m)}:6789/0`,
    priority: 0,
    weight: 0,
    stats: { num_sessions: [[1_733_000_000, 12]] },
  });
  return {
    routes: {
      '/api/health/minimal': {
        client_perf: { read_bytes_sec: 1024, read_op_per_sec: 3, recovering_bytes_per_sec: 0, write_bytes_sec: 4096, write_op_per_sec: 10 },
        df: { stats: { total_avail_bytes: 18_000_000_000_000, total_bytes: 27_377_431_060_480, total_used_raw_bytes: 9_377_431_060_480 } },
        fs_map: { filesystems: [], standbys: [] },
        health: {
          status: spec.health.status,
          checks: Object.entries(spec.health.checks).map(([type, v]) => ({
            type,
            severity: v.severity,
            summary: { message: v.message, count: v.count },
            muted: false,
          })),
          mutes: [],
        },
        hosts: spec.nodes.length,
        iscsi_daemons: { up: 0, down: 0 },
        mgr_map: { active_name: spec.mgrActive, standbys: spec.mgrStandbys.map((name) => ({ gid: 4100, name, available: true })) },
        mon_status: { monmap: { mons: spec.mons.map(() => ({})) }, quorum: inQuorum(spec).map((m) => spec.mons.indexOf(m)) },
        osd_map: { osds: spec.osds.map((o) => ({ in: o.in ? 1 : 0, up: o.up ? 1 : 0, state: o.up ? ['exists', 'up'] : ['exists'] })) },
        pg_info: {
          object_stats: { num_objects: 812_331, num_object_copies: 2_436_993, num_objects_degraded: 0, num_objects_misplaced: 0, num_objects_unfound: 0 },
          pgs_per_osd: 97,
          statuses: { 'active+clean': 209 },
        },
        pools: spec.pools.map(() => ({})),
        rgw: 0,
        scrub_status: 'Inactive',
      },
      '/api/health/get_cluster_fsid': spec.fsid,
      '/api/summary': {
        health_status: spec.health.status,
        mgr_id: spec.mgrActive,
        mgr_host: `https://${spec.mgrActive}:8443/`,
        have_mon_connection: true,
        executing_tasks: [],
        finished_tasks: [],
        version: versionString,
      },
      '/api/osd': spec.osds.map((o) => ({
        osd: o.id,
        id: o.id,
        up: o.up ? 1 : 0,
        in: o.in ? 1 : 0,
        weight: o.in ? 1 : 0,
        primary_affinity: 1,
        uuid: `0b3a${String(o.id).padStart(4, '0')}-5a1e-4c7d-9f20-6c1d2e3f4a5b`,
        state: o.up ? ['exists', 'up'] : ['exists'],
        public_addr: `${ipOf(spec, o.host)}:6802/1000`,
        cluster_addr: `${ipOf(spec, o.host)}:6803/1000`,
        tree: {
          id: o.id,
          name: `osd.${o.id}`,
          type: 'osd',
          type_id: 0,
          device_class: o.deviceClass,
          crush_weight: o.crushWeight,
          depth: 2,
          pool_weights: {},
          exists: 1,
          status: o.up ? 'up' : 'down',
          reweight: o.reweight,
          primary_affinity: 1,
        },
        host: { id: -3 - spec.nodes.findIndex((n) => n.name === o.host), name: o.host, type: 'host', type_id: 1 },
        stats: {
          op_w: 12.5,
          op_in_bytes: 51_200,
          op_r: 3.1,
          op_out_bytes: 12_288,
          numpg: o.up ? 97 : 0,
          stat_bytes: o.up ? o.sizeBytes : 0,
          stat_bytes_used: o.up ? Math.round(o.sizeBytes * 0.41) : 0,
        },
        stats_history: { op_w: [], op_out_bytes: [], op_in_bytes: [], op_r: [] },
        operational_status: 'working',
      })),
      '/api/osd/flags': [...PERMANENT_FLAGS, ...spec.flags].sort(),
      '/api/pool': spec.pools.map((p) => ({
        pool: p.id,
        pool_name: p.name,
        type: p.type,
        size: p.size,
        min_size: p.minSize,
        pg_num: p.pgNum,
        pg_placement_num: p.pgNum,
        pg_autoscale_mode: 'on',
        crush_rule: p.rule,
        application_metadata: p.apps,
        erasure_code_profile: '',
        flags_names: 'hashpspool',
        quota_max_bytes: 0,
        quota_max_objects: 0,
        options: {},
        create_time: '2024-10-11T11:47:35.121704+0000',
      })),
      '/api/host': spec.nodes.map((n) => ({
        hostname: n.name,
        addr: n.ip,
        ceph_version: versionString,
        labels: [],
        status: '',
        sources: { ceph: true, orchestrator: false },
        services: [
          ...(spec.mons.includes(n.name) ? [{ type: 'mon', id: n.name }] : []),
          ...([spec.mgrActive, ...spec.mgrStandbys].includes(n.name) ? [{ type: 'mgr', id: n.name }] : []),
          ...spec.osds.filter((o) => o.host === n.name).map((o) => ({ type: 'osd', id: String(o.id) })),
        ],
        service_instances: [{ type: 'osd', count: spec.osds.filter((o) => o.host === n.name).length }],
      })),
      '/api/crush_rule': spec.rules.map((r) => ({
        rule_id: r.id,
        rule_name: r.name,
        ruleset: r.id,
        type: 1,
        min_size: 1,
        max_size: 10,
        steps: [
          { op: 'take', item: -1, item_name: r.deviceClass ? `${r.root}~${r.deviceClass}` : r.root },
          { op: 'chooseleaf_firstn', num: 0, type: r.failureDomain },
          { op: 'emit' },
        ],
      })),
      '/api/cephfs': spec.filesystems.map((f) => ({
        id: f.id,
        mdsmap: {
          fs_name: f.name,
          metadata_pool: poolId.get(f.metadataPool) ?? -1,
          data_pools: f.dataPools.map((d) => poolId.get(d) ?? -1),
          max_mds: 1,
          enabled: true,
        },
      })),
      '/api/monitor': {
        mon_status: {
          name: spec.mons[0],
          rank: 0,
          state: 'leader',
          quorum: inQuorum(spec).map((m) => spec.mons.indexOf(m)),
          monmap: { epoch: 3, fsid: spec.fsid, mons: spec.mons.map(mon) },
        },
        in_quorum: inQuorum(spec).map((m) => mon(m, spec.mons.indexOf(m))),
        out_quorum: (spec.monsDown ?? []).map((m) => mon(m, spec.mons.indexOf(m))),
      },
      ...extra.routes,
    },
    ...(extra.versions && { versions: extra.versions }),
    ...(extra.users && { users: extra.users }),
    ...(extra.firstTokenUses !== undefined && { firstTokenUses: extra.firstTokenUses }),
    ...(extra.ignoreLimitAll !== undefined && { ignoreLimitAll: extra.ignoreLimitAll }),
    ...(extra.errors && { errors: extra.errors }),
    ...(extra.rawBodies && { rawBodies: extra.rawBodies }),
  };
}

/**
 * The demo cluster: three hyperconverged PVE nodes (pve1-pve3, the PVE demo's node names
 * so Ceph hosts converge with its Devices), four OSDs each, `noout` set for maintenance,
 * osd.7 down and osd.10 out.
 */
export const DEMO_CEPH_SPEC: CephSpec = makeCephSpec({
  nodes: ['pve1', 'pve2', 'pve3'],
  osdsPerNode: 4,
  down: [7],
  out: [10],
  flags: ['noout'],
  health: {
    status: 'HEALTH_WARN',
    checks: {
      OSDMAP_FLAGS: { severity: 'HEALTH_WARN', message: 'noout flag(s) set', count: 1 },
      OSD_DOWN: { severity: 'HEALTH_WARN', message: '1 osds down', count: 1, detail: ['osd.7 (root=default,host=pve2) is down'] },
    },
  },
});

export const demoCephScenario: PveRoutesScenario = pveScenarioFromSpec(DEMO_CEPH_SPEC);
export const demoCephDashboardScenario: CephDashboardScenario = dashboardScenarioFromSpec(DEMO_CEPH_SPEC);
