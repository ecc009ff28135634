import { pveTargetRequest } from '../proxmox-config.ts';
import { namedPrivilege, type ApiSession, ApiResponseError } from '../../http/proxmox.ts';
import { HttpConnectError, HttpStatusError } from '../../http/client.ts';
import type { CollectContext } from '../types.ts';
import type { CephConfig } from './config.ts';
import {
  CephDashboardClient,
  cephAbsence,
  DASHBOARD_SCOPES,
  dashboardTarget,
  PVE_CEPH_PRIVILEGE,
  getDashCephfs,
  getDashCrushRules,
  getDashFlags,
  getDashFsid,
  getDashHealth,
  getDashMonitor,
  getDashPools,
  getDashSummary,
  getPveCephFlags,
  getPveCephStatus,
  getPveFilesystems,
  getPveMgrs,
  getPveMons,
  getPveNodes,
  getPveOsdTree,
  getPvePools,
  getPveRules,
  listDashHosts,
  listDashOsds,
  type OnDrop,
} from './client.ts';
import {
  dashHealthCheckSchema,
  dashMonSchema,
  parseHealthCheck,
  pveOsdNodeSchema,
  summarizeIssues,
  type DashCrushRule,
  type DashHost,
  type PveDaemon,
} from './schema.ts';
import type { CephClusterSnapshot, CephCrushRule, CephDaemon, CephFilesystem, CephHealthCheck, CephOsd, CephPool, CephSnapshot } from './snapshot.ts';

/*
 * Orchestration: which calls, in which order, and what a failure of each costs. Only the
 * cluster status (PVE) or health + fsid (dashboard) are required; every other section
 * degrades to a warning, so one missing permission scope does not lose the cluster.
 */

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const sortedUnique = (xs: Iterable<string>) => [...new Set(xs)].sort();

/**
 * Ports of Ceph messenger addresses: `10.0.0.1:6789/0`, `[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]`,
 * `[2001:db8::1]:6789/0` (`ceph mon dump` addr formats, entity_addrvec_t).
 */
export function parsePorts(addrs: ReadonlyArray<string | undefined>): number[] {
  const ports = new Set<number>();
  for (const raw of addrs) {
    if (!raw) continue;
    const inner = /^\[(v[12]:.*)\]$/.exec(raw.trim())?.[1] ?? raw.trim();
    for (const part of inner.split(',')) {
      const addr = part
        .trim()
        .replace(/^v[12]:/, '')
        .replace(/\/\d+$/, '');
      const m = /:(\d{1,5})$/.exec(addr);
      const port = m ? Number(m[1]) : NaN;
      if (port > 0 && port <= 65535) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** "ceph version 18.2.4 (e7ad…) reef (stable)" → { version: "18.2.4", release: "reef" } (dashboard summary.py). */
export function parseCephVersion(s: string | undefined): { version?: string; release?: string } {
  if (!s) return {};
  const m = /(?:ceph version\s+)?(\d+\.\d+\.\d+(?:-\d+)?)(?:\s+\([0-9a-f]+\))?(?:\s+([a-z]+)\s+\()?/i.exec(s);
  if (!m) return {};
  return { ...(m[1] !== undefined && { version: m[1] }), ...(m[2] !== undefined && { release: m[2].toLowerCase() }) };
}

/** One version string for the cluster: "18.2.4 (reef)", or "18.2.2, 18.2.4" mid-upgrade. */
export function clusterVersion(versions: ReadonlyArray<string | undefined>, release: string | undefined): string | undefined {
  const distinct = sortedUnique(versions.filter((v): v is string => !!v));
  if (distinct.length === 0) return release;
  return distinct.length === 1 && release ? `${distinct[0]} (${release})` : distinct.join(', ');
}

/* CRUSH rule `type` is pg_pool_t's TYPE_REPLICATED = 1, TYPE_ERASURE = 3 (src/osd/osd_types.h). */
const RULE_TYPES: Record<string, string> = { 1: 'replicated', 3: 'erasure' };

/** id, name, type, the root and device class it takes from, and its failure domain. */
export function summarizeCrushRule(r: DashCrushRule): CephCrushRule {
  const take = r.steps.find((s) => s.op === 'take' && s.item_name);
  const [root, deviceClass] = (take?.item_name ?? '').split('~');
  const choose = r.steps.find((s) => /^choose(leaf)?_(firstn|indep)$/.test(s.op) && s.type);
  const type = r.type === undefined ? undefined : (RULE_TYPES[String(r.type)] ?? String(r.type));
  return {
    name: r.rule_name,
    ...(r.rule_id !== undefined && { id: r.rule_id }),
    ...(type !== undefined && { type }),
    ...(root && { root }),
    ...(deviceClass && { deviceClass }),
    ...(choose?.type !== undefined && { failureDomain: choose.type }),
  };
}

function healthChecksFromRecord(checks: Record<string, unknown>, onDrop: (name: string, why: string) => void): CephHealthCheck[] {
  const out: CephHealthCheck[] = [];
  for (const [name, raw] of Object.entries(checks)) {
    const p = parseHealthCheck(raw);
    if (!p.success) {
      onDrop(name, summarizeIssues(p.error));
      continue;
    }
    out.push({
      name,
      severity: p.data.severity,
      summary: p.data.summary.message,
      ...(p.data.summary.count !== undefined && { count: p.data.summary.count }),
      muted: p.data.muted,
    });
  }
  return out.sort(byName);
}

/** Rules by id; rules PVE names without an id (used by no pool) after them, by name. */
const byRuleId = (a: CephCrushRule, b: CephCrushRule) => (a.id ?? Infinity) - (b.id ?? Infinity) || byName(a, b);

/**
 * Flags that mark a release's on-disk features, set once and never cleared
 * (src/osd/OSDMap.cc get_flag_string); the dashboard lists them, PVE's flag list does not.
 * Left out so both sources agree and the field shows what an operator set.
 */
export const FEATURE_FLAGS: ReadonlySet<string> = new Set([
  'sortbitwise',
  'recovery_deletes',
  'purged_snapdirs',
  'pglog_hardlimit',
  'require_jewel_osds',
  'require_kraken_osds',
  'require_luminous_osds',
]);

export function operationalFlags(flags: readonly string[]): string[] {
  const set = new Set(flags.filter((f) => !FEATURE_FLAGS.has(f)));
  // `ceph osd set pause` sets both; the dashboard folds them, PVE lists `pause` itself.
  if (set.has('pauserd') && set.has('pausewr')) {
    set.delete('pauserd');
    set.delete('pausewr');
    set.add('pause');
  }
  return [...set].sort();
}

/** A 403: the token (PVE) or the dashboard user's role may not read this. */
function isForbidden(err: unknown): err is HttpStatusError {
  return err instanceof HttpStatusError && err.status === 403;
}

/** Who lacks what, for a 403: what PVE named, else what the endpoint checks (PVE), or the dashboard scope. */
function missingPermission(ctx: CollectContext<CephConfig>, err: HttpStatusError, path: string): string {
  if (ctx.config.CEPH_SOURCE === 'pve') return `the token lacks ${namedPrivilege(err.reason) ?? PVE_CEPH_PRIVILEGE}`;
  const scope = DASHBOARD_SCOPES[path];
  return scope === undefined ? "the dashboard user's role may not read it" : `the dashboard user's role lacks read on the ${scope} scope`;
}

/**
 * Runs an optional section; a failure becomes a warning and the fallback: on a 403
 * `ceph_permission_denied` naming the permission and what is `lost`, else
 * `ceph_section_unavailable`.
 */
async function optional<T>(ctx: CollectContext<CephConfig>, path: string, lost: string, fallback: T, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (isForbidden(err)) {
      ctx.warn({ code: 'ceph_permission_denied', subject: `GET ${path}`, message: `${err.message}; ${missingPermission(ctx, err, path)}; ${lost}` });
    } else {
      ctx.warn({ code: 'ceph_section_unavailable', subject: `GET ${path}`, message: (err as Error).message });
    }
    return fallback;
  }
}

export async function collectCeph(ctx: CollectContext<CephConfig>): Promise<CephSnapshot> {
  return ctx.config.CEPH_SOURCE === 'pve' ? collectFromPve(ctx) : collectFromDashboard(ctx);
}

/* ------------------------------------- PVE (pve-manager PVE/API2/Ceph.pm, Ceph/*.pm) */

/**
 * A node that cannot answer (down: 595 or no route; Ceph not on this node) or answers a
 * body that cannot be read (an HTML page, truncated JSON) is skipped for the next.
 */
function nodeUnusable(err: unknown): boolean {
  if (err instanceof HttpConnectError || err instanceof ApiResponseError) return true;
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 404;
  return false;
}

async function collectFromPve(ctx: CollectContext<CephConfig>): Promise<CephSnapshot> {
  const c = ctx.config;
  const api: ApiSession = {
    target: ctx.target(pveTargetRequest(c)),
    onDrop: (path, index, why) => ctx.warn({ code: 'ceph_item_dropped', subject: `GET ${path} item ${index}`, message: why }),
  };
  let status;
  try {
    status = await getPveCephStatus(api);
  } catch (err) {
    const absent = cephAbsence(err);
    if (!absent) throw err;
    ctx.warn({
      code: absent.reason === 'not_installed' ? 'ceph_not_installed' : 'ceph_not_initialized',
      subject: `PVE ${c.PROXMOX_HOST ?? ''}`,
      message: `Ceph is ${absent.reason === 'not_installed' ? 'not installed' : 'not initialised'} on this cluster (${absent.message}); nothing to inventory`,
    });
    return { source: 'pve', present: false, reason: absent.reason, message: absent.message };
  }

  const healthChecks = healthChecksFromRecord(status.health.checks, (name, why) =>
    ctx.warn({ code: 'ceph_item_dropped', subject: `health check ${name}`, message: why }),
  );
  const [flags, nodes] = await Promise.all([
    optional(ctx, '/cluster/ceph/flags', 'no flags', [] as string[], async () => (await getPveCephFlags(api)).filter((f) => f.value).map((f) => f.name)),
    getPveNodes(api),
  ]);

  // Per-node calls answer for the whole cluster; any node with Ceph will do. Online nodes
  // first, by name, so the choice is stable from run to run.
  const candidates = [...nodes]
    .sort((a, b) => Number(b.status === 'online') - Number(a.status === 'online') || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((n) => n.node);
  let node: string | undefined;
  let tree: Awaited<ReturnType<typeof getPveOsdTree>> | undefined;
  let denied = false;
  for (const candidate of candidates) {
    try {
      tree = await getPveOsdTree(api, candidate);
      node = candidate;
      break;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // The ACL is on /, the same for every node: asking the next one would only repeat the 403.
      if (isForbidden(err)) {
        ctx.warn({
          code: 'ceph_permission_denied',
          subject: `GET /nodes/${candidate}/ceph/osd`,
          message: `${err.message}; ${missingPermission(ctx, err, '')}; OSDs, pools, file systems, rules and daemons are left out`,
        });
        denied = true;
        break;
      }
      if (!nodeUnusable(err)) throw err;
      ctx.warn({ code: 'ceph_node_unavailable', subject: `node ${candidate}`, message: `${(err as Error).message}; asking the next node` });
    }
  }
  if (!denied && (node === undefined || tree === undefined)) {
    ctx.warn({
      code: 'ceph_section_unavailable',
      subject: 'per-node Ceph calls',
      message: 'no node answered GET /nodes/{node}/ceph/osd; OSDs, pools, file systems, rules and daemons are left out',
    });
  }

  const osds = tree ? osdsFromTree(ctx, tree.root) : [];
  const [pools, fsRows, rules, mons, mgrs] =
    node === undefined
      ? ([[], [], [], [], []] as const)
      : await Promise.all([
          optional(ctx, `/nodes/${node}/ceph/pool`, 'no pools', [], () => getPvePools(api, node)),
          optional(ctx, `/nodes/${node}/ceph/fs`, 'no file systems', [], () => getPveFilesystems(api, node)),
          optional(ctx, `/nodes/${node}/ceph/rules`, 'no CRUSH rules', [], () => getPveRules(api, node)),
          optional(ctx, `/nodes/${node}/ceph/mon`, 'no monitors', [], () => getPveMons(api, node)),
          optional(ctx, `/nodes/${node}/ceph/mgr`, 'no managers', [], () => getPveMgrs(api, node)),
        ]);

  const cephPools: CephPool[] = pools
    .map((p) => ({
      id: p.pool,
      name: p.pool_name,
      ...(p.type && p.type !== 'unknown' && { type: p.type }),
      ...(p.size !== undefined && { size: p.size }),
      ...(p.min_size !== undefined && { minSize: p.min_size }),
      ...(p.pg_num !== undefined && { pgNum: p.pg_num }),
      ...(p.pg_autoscale_mode && { pgAutoscaleMode: p.pg_autoscale_mode }),
      ...((p.crush_rule_name ?? p.crush_rule) !== undefined && { crushRule: String(p.crush_rule_name ?? p.crush_rule) }),
      applications: Object.keys(p.application_metadata ?? {}).sort(),
    }))
    .sort((a, b) => a.id - b.id);

  // /ceph/rules names only; the pools tell each used rule's id.
  const ruleIds = new Map(pools.filter((p) => p.crush_rule_name && p.crush_rule !== undefined).map((p) => [p.crush_rule_name, p.crush_rule]));
  const crushRules: CephCrushRule[] = rules
    .map((r) => {
      const id = ruleIds.get(r.name);
      return { name: r.name, ...(id !== undefined && { id }) };
    })
    .sort(byRuleId);

  const filesystems: CephFilesystem[] = fsRows
    .map((f) => ({ name: f.name, ...(f.metadata_pool && { metadataPool: f.metadata_pool }), dataPools: f.data_pools ?? (f.data_pool ? [f.data_pool] : []) }))
    .sort(byName);

  const monAddrs = new Map((status.monmap?.mons ?? []).map((m) => [m.name, [...(m.public_addrs?.addrvec.map((a) => a.addr) ?? []), m.addr]]));
  const quorum = new Set(status.quorum_names);
  const daemons: CephDaemon[] = [
    ...mons.map((m) => pveDaemon(ctx, 'mon', m, monAddrs.get(m.name) ?? [m.addr], (m.quorum ?? quorum.has(m.name)) ? 'in-quorum' : 'out-of-quorum')),
    ...mgrs.map((m) => pveDaemon(ctx, 'mgr', m, [m.addr], m.state)),
  ].filter((d): d is CephDaemon => d !== undefined);

  return {
    source: 'pve',
    present: true,
    fsid: status.fsid,
    health: status.health.status,
    healthChecks,
    flags: operationalFlags(flags),
    ...withVersion(
      clusterVersion(
        mons.map((m) => m.ceph_version_short),
        status.monmap?.min_mon_release_name,
      ),
    ),
    quorum: sortedUnique(status.quorum_names),
    pools: cephPools,
    crushRules,
    filesystems,
    osds,
    daemons: sortDaemons(daemons),
    hosts: sortedUnique([...osds.map((o) => o.host), ...daemons.map((d) => d.host)]),
  };
}

function urlPort(u: string | undefined): number | undefined {
  if (!u) return undefined;
  try {
    const url = new URL(u);
    return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  } catch {
    return undefined;
  }
}

function withVersion(version: string | undefined): { version?: string } {
  return version === undefined ? {} : { version };
}

function sortDaemons(ds: CephDaemon[]): CephDaemon[] {
  return ds.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function pveDaemon(
  ctx: CollectContext<CephConfig>,
  type: 'mon' | 'mgr',
  d: PveDaemon,
  addrs: Array<string | undefined>,
  state: string | undefined,
): CephDaemon | undefined {
  const ports = parsePorts(addrs);
  if (ports.length === 0) {
    ctx.warn({ code: 'ceph_item_dropped', subject: `${type}.${d.name}`, message: 'no address with a port; NetBox needs at least one port for a service' });
    return undefined;
  }
  return {
    type,
    id: d.name,
    // PVE names mons and mgrs after their node; `host` is the authoritative one when given.
    host: d.host ?? d.name,
    ports,
    ...(state && { state }),
    ...(d.ceph_version_short && { version: d.ceph_version_short }),
  };
}

/** Walks the CRUSH tree of /nodes/{node}/ceph/osd; each OSD takes the nearest `host` bucket above it. */
function osdsFromTree(ctx: CollectContext<CephConfig>, root: unknown): CephOsd[] {
  const out: CephOsd[] = [];
  const seen = new Set<number>();
  const walk = (raw: unknown, host: string | undefined, where: string): void => {
    const p = pveOsdNodeSchema.safeParse(raw);
    if (!p.success) {
      ctx.warn({ code: 'ceph_item_dropped', subject: `OSD tree ${where}`, message: summarizeIssues(p.error) });
      return;
    }
    const n = p.data;
    if (n.type === 'osd') {
      const osdHost = n.host ?? host;
      if (osdHost === undefined) {
        ctx.warn({ code: 'ceph_item_dropped', subject: n.name, message: 'OSD is under no host bucket and names no host' });
        return;
      }
      // An OSD can appear under several roots (custom CRUSH maps); one item per OSD.
      if (seen.has(n.id)) return;
      seen.add(n.id);
      const crushWeight = n.crush_weight ?? n.weight;
      out.push({
        id: n.id,
        name: `osd.${n.id}`,
        host: osdHost,
        up: n.status === 'up',
        in: n.in ?? n.status === 'up',
        ...(n.device_class && { deviceClass: n.device_class }),
        ...(crushWeight !== undefined && { crushWeight }),
        ...(n.reweight !== undefined && { reweight: n.reweight }),
        // A down OSD reports 0 bytes; 0 would flip the size on every outage.
        ...(n.total_space !== undefined && n.total_space > 0 && { sizeBytes: n.total_space }),
      });
      return;
    }
    for (const [i, child] of (n.children ?? []).entries()) walk(child, n.type === 'host' ? n.name : host, `${where}/${n.name}[${i}]`);
  };
  walk(root, undefined, 'root');
  return out.sort((a, b) => a.id - b.id);
}

/* ------------------------------- Dashboard (ceph src/pybind/mgr/dashboard/openapi.yaml) */

async function collectFromDashboard(ctx: CollectContext<CephConfig>): Promise<CephSnapshot> {
  const c = ctx.config;
  const client = new CephDashboardClient(ctx.target(dashboardTarget(c)), { user: c.CEPH_USER, password: c.CEPH_PASSWORD, tokenFile: c.CEPH_TOKEN_FILE });
  const onDrop: OnDrop = (path, index, why) => ctx.warn({ code: 'ceph_item_dropped', subject: `GET ${path} item ${index}`, message: why });

  // Log in once before the parallel calls, so a bad password is one clear error.
  const [health, fsid] = await Promise.all([getDashHealth(client), getDashFsid(client)]);
  const [summary, osdsRaw, flags, pools, hostsRaw, rulesRaw, fsRaw, monitor] = await Promise.all([
    optional(ctx, '/api/summary', 'no version; the manager port comes from CEPH_URL', {} as { version?: string; mgr_host?: string }, () =>
      getDashSummary(client),
    ),
    optional(ctx, '/api/osd', 'no OSDs', [], () => listDashOsds(client, onDrop)),
    optional(ctx, '/api/osd/flags', 'no flags', [] as string[], () => getDashFlags(client)),
    optional(ctx, '/api/pool', 'no pools', [], () => getDashPools(client, onDrop)),
    optional(ctx, '/api/host', 'no hosts or daemon placement', [] as DashHost[], () => listDashHosts(client, onDrop)),
    optional(ctx, '/api/crush_rule', 'no CRUSH rules', [], () => getDashCrushRules(client, onDrop)),
    optional(ctx, '/api/cephfs', 'no file systems', [], () => getDashCephfs(client, onDrop)),
    optional(ctx, '/api/monitor', 'no monitors', { in_quorum: [], out_quorum: [] }, () => getDashMonitor(client)),
  ]);

  const healthChecks: CephHealthCheck[] = [];
  for (const [i, raw] of health.health.checks.entries()) {
    const p = dashHealthCheckSchema.safeParse(raw);
    if (!p.success) {
      onDrop('/api/health/minimal checks', i, summarizeIssues(p.error));
      continue;
    }
    healthChecks.push({
      name: p.data.type,
      severity: p.data.severity,
      summary: p.data.summary.message,
      ...(p.data.summary.count !== undefined && { count: p.data.summary.count }),
      muted: p.data.muted,
    });
  }

  const osds: CephOsd[] = [];
  for (const o of osdsRaw) {
    if (!o.host) {
      ctx.warn({ code: 'ceph_item_dropped', subject: `osd.${o.osd}`, message: 'OSD has no host in the CRUSH map' });
      continue;
    }
    osds.push({
      id: o.osd,
      name: `osd.${o.osd}`,
      host: o.host.name,
      up: o.up,
      in: o.in,
      ...(o.tree?.device_class && { deviceClass: o.tree.device_class }),
      ...(o.tree?.crush_weight !== undefined && { crushWeight: o.tree.crush_weight }),
      ...(o.tree?.reweight !== undefined && { reweight: o.tree.reweight }),
      ...(o.stats?.stat_bytes !== undefined && o.stats.stat_bytes > 0 && { sizeBytes: o.stats.stat_bytes }),
    });
  }
  osds.sort((a, b) => a.id - b.id);

  const poolNames = new Map(pools.map((p) => [p.pool, p.pool_name]));
  const cephPools: CephPool[] = pools
    .map((p) => ({
      id: p.pool,
      name: p.pool_name,
      ...(p.type && { type: p.type }),
      ...(p.size !== undefined && { size: p.size }),
      ...(p.min_size !== undefined && { minSize: p.min_size }),
      ...(p.pg_num !== undefined && { pgNum: p.pg_num }),
      ...(p.pg_autoscale_mode && { pgAutoscaleMode: p.pg_autoscale_mode }),
      ...(p.crush_rule !== undefined && { crushRule: String(p.crush_rule) }),
      applications: (Array.isArray(p.application_metadata) ? [...p.application_metadata] : Object.keys(p.application_metadata ?? {})).sort(),
    }))
    .sort((a, b) => a.id - b.id);

  const filesystems: CephFilesystem[] = fsRaw
    .map((f) => {
      const pool = (id: number) => poolNames.get(id) ?? String(id);
      return {
        name: f.mdsmap.fs_name,
        ...(f.mdsmap.metadata_pool !== undefined && { metadataPool: pool(f.mdsmap.metadata_pool) }),
        dataPools: f.mdsmap.data_pools.map(pool),
      };
    })
    .sort(byName);

  // Which host runs which daemon: /api/host `services: [{type, id}]`.
  const hostOf = new Map<string, string>();
  const versionOf = new Map<string, string | undefined>();
  for (const h of hostsRaw) {
    versionOf.set(h.hostname, parseCephVersion(h.ceph_version).version);
    for (const s of h.services) hostOf.set(`${s.type}.${s.id}`, h.hostname);
  }
  const daemonHost = (type: string, id: string) => hostOf.get(`${type}.${id}`) ?? id.split('.')[0] ?? id;

  const quorum: string[] = [];
  const daemons: CephDaemon[] = [];
  const addMon = (raw: unknown, i: number, state: 'in-quorum' | 'out-of-quorum') => {
    const p = dashMonSchema.safeParse(raw);
    if (!p.success) return onDrop(`/api/monitor ${state}`, i, summarizeIssues(p.error));
    const m = p.data;
    if (state === 'in-quorum') quorum.push(m.name);
    const ports = parsePorts([...(m.public_addrs?.addrvec.map((a) => a.addr) ?? []), m.public_addr, m.addr]);
    if (ports.length === 0)
      return ctx.warn({ code: 'ceph_item_dropped', subject: `mon.${m.name}`, message: 'no address with a port; NetBox needs at least one port for a service' });
    const host = daemonHost('mon', m.name);
    const version = versionOf.get(host);
    daemons.push({ type: 'mon', id: m.name, host, ports, state, ...(version && { version }) });
  };
  for (const [i, m] of monitor.in_quorum.entries()) addMon(m, i, 'in-quorum');
  for (const [i, m] of monitor.out_quorum.entries()) addMon(m, i, 'out-of-quorum');

  // The dashboard shows no manager's messenger address; the one port the agent knows a
  // manager listens on is the dashboard's, as the active manager reports it in `mgr_host`
  // (CEPH_URL may go through a proxy). The setting is cluster-wide, so standbys share it.
  const dashboardPort = urlPort(summary.mgr_host) ?? urlPort(c.CEPH_URL) ?? 8443;
  const mgrMap = health.mgr_map;
  const mgrs = [
    ...(mgrMap?.active_name ? [{ id: mgrMap.active_name, state: 'active' }] : []),
    ...(mgrMap?.standbys ?? []).map((s) => ({ id: s.name, state: 'standby' })),
  ];
  for (const m of mgrs) {
    const host = daemonHost('mgr', m.id);
    const version = versionOf.get(host);
    daemons.push({ type: 'mgr', id: m.id, host, ports: [dashboardPort], state: m.state, ...(version && { version }) });
  }

  const { version, release } = parseCephVersion(summary.version);
  return {
    source: 'dashboard',
    present: true,
    fsid,
    health: health.health.status,
    healthChecks: healthChecks.sort(byName),
    flags: operationalFlags(flags),
    ...withVersion(clusterVersion([version], release)),
    quorum: sortedUnique(quorum),
    pools: cephPools,
    crushRules: rulesRaw.map(summarizeCrushRule).sort(byRuleId),
    filesystems,
    osds,
    daemons: sortDaemons(daemons),
    hosts: sortedUnique([...hostsRaw.map((h) => h.hostname), ...osds.map((o) => o.host), ...daemons.map((d) => d.host)]),
  } satisfies CephClusterSnapshot;
}
