import { defineCollector } from '../types.ts';
import { CEPH_WARNINGS } from './warnings.ts';
import type { PreflightContext, PrivilegeCheck, ProbeSpec } from '../../preflight/types.ts';
import { HttpConnectError, HttpStatusError } from '../../http/client.ts';
import { pveTargetRequest } from '../proxmox-config.ts';
import { mapCeph } from './map/index.ts';
import { cephConfigSchema, type CephConfig } from './config.ts';
import {
  CephAuthError,
  CephDashboardClient,
  cephAbsence,
  DASHBOARD_SCOPES,
  dashboardTarget,
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
} from './client.ts';
import { collectCeph } from './collect.ts';

import type { CephSnapshot } from './snapshot.ts';
import { ApiResponseError, type ApiSession } from '../../http/proxmox.ts';

export type { CephConfig } from './config.ts';
export type { CephSnapshot } from './snapshot.ts';

/*
 * Preflight probes: each endpoint collectCeph calls, once.
 * - PVE source: every Ceph GET checks `['perm', '/', ['Sys.Audit', 'Datastore.Audit'], any => 1]`
 *   (pve-manager PVE/API2/Ceph.pm, Ceph/*.pm, Cluster/Ceph.pm; client.ts PVE_CEPH_PRIVILEGE), and
 *   PVE names it in its 403; /nodes checks none (PVE/API2/Nodes.pm index, `user => 'all'`).
 *   "Ceph not installed / not initialised" is a 500 after the check passed.
 * - Dashboard source: POST /api/auth, then each GET; a 403 means the user's role lacks `read`
 *   on the controller's security scope (client.ts DASHBOARD_SCOPES, dashboard controllers/*.py
 *   `@APIRouter(path, Scope.X)`); the health and summary controllers have none.
 */

const PVE_CEPH: PrivilegeCheck = { name: 'Sys.Audit or Datastore.Audit', on: '/' };

async function cephPveProbes(ctx: PreflightContext<CephConfig>): Promise<void> {
  const c = ctx.config;
  const api: ApiSession = { target: ctx.target(pveTargetRequest(c)), onDrop: () => {} };
  const hint = `grant it (PVEAuditor on / has both); a privilege-separated token (privsep=1) needs it on the token itself: pveum acl modify / --tokens ${c.PROXMOX_USER}!${c.PROXMOX_TOKEN_NAME ?? ''} --roles PVEAuditor`;
  const spec = <T>(endpoint: string, extra: Partial<ProbeSpec<T>> = {}): ProbeSpec<T> => ({ endpoint, privilege: PVE_CEPH, hint, ...extra });

  let absent: string | undefined;
  await ctx.probe(
    spec('GET /cluster/ceph/status', {
      accept: (err) => {
        const a = cephAbsence(err);
        if (!a) return undefined;
        absent = a.reason === 'not_installed' ? 'Ceph is not installed on this cluster' : 'Ceph is not initialised on this cluster';
        return `${absent} (HTTP 500 ${a.message}); the policy reports it absent`;
      },
    }),
    () => getPveCephStatus(api),
  );
  if (absent !== undefined) {
    for (const e of ['GET /cluster/ceph/flags', 'GET /nodes', 'GET /nodes/{node}/ceph/osd']) ctx.skip(e, `not called: ${absent}, the collector stops there`);
    return;
  }
  await ctx.probe(spec('GET /cluster/ceph/flags'), () => getPveCephFlags(api));
  const nodes = await ctx.probe({ endpoint: 'GET /nodes' }, () => getPveNodes(api));

  // As the collector: online nodes first, by name; a node that cannot answer (down, no Ceph) gives way to the next.
  const candidates = [...(nodes ?? [])]
    .sort((a, b) => Number(b.status === 'online') - Number(a.status === 'online') || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((n) => n.node);
  const passed: string[] = [];
  let node: string | undefined;
  let outcome: { value: Awaited<ReturnType<typeof getPveOsdTree>> } | { err: unknown } | undefined;
  for (const candidate of candidates) {
    node = candidate;
    try {
      outcome = { value: await getPveOsdTree(api, candidate) };
      break;
    } catch (err) {
      outcome = { err };
      const unusable = err instanceof HttpStatusError ? err.status >= 500 || err.status === 404 : err instanceof ApiResponseError;
      if (!unusable || candidate === candidates[candidates.length - 1]) break;
      passed.push(`${candidate} (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  if (node === undefined || outcome === undefined) {
    ctx.skip('GET /nodes/{node}/ceph/osd', nodes === undefined ? 'not called: GET /nodes failed' : 'no node listed');
    return;
  }
  const asked = passed.length ? `; nodes that could not answer first: ${passed.join(', ')}` : '';
  const o = outcome;
  const tree = await ctx.probe(spec(`GET /nodes/${node}/ceph/osd`, { check: () => ({ ok: true, message: `OSD tree read${asked}` }) }), async () => {
    if ('err' in o) throw o.err;
    return o.value;
  });
  const n = node;
  const rest = ['pool', 'fs', 'rules', 'mon', 'mgr'];
  if (tree === undefined) {
    for (const r of rest) ctx.skip(`GET /nodes/${n}/ceph/${r}`, `not called: GET /nodes/${n}/ceph/osd failed`);
    return;
  }
  await ctx.probe(spec(`GET /nodes/${n}/ceph/pool`), () => getPvePools(api, n));
  await ctx.probe(spec(`GET /nodes/${n}/ceph/fs`), () => getPveFilesystems(api, n));
  await ctx.probe(spec(`GET /nodes/${n}/ceph/rules`), () => getPveRules(api, n));
  await ctx.probe(spec(`GET /nodes/${n}/ceph/mon`), () => getPveMons(api, n));
  await ctx.probe(spec(`GET /nodes/${n}/ceph/mgr`), () => getPveMgrs(api, n));
}

async function cephDashboardProbes(ctx: PreflightContext<CephConfig>): Promise<void> {
  const c = ctx.config;
  const client = new CephDashboardClient(ctx.target(dashboardTarget(c)), { user: c.CEPH_USER, password: c.CEPH_PASSWORD, tokenFile: c.CEPH_TOKEN_FILE });
  const drop = (): void => {};
  const spec = <T>(path: string): ProbeSpec<T> => {
    const scope = DASHBOARD_SCOPES[path];
    return {
      endpoint: `GET ${path}`,
      ...(scope !== undefined && {
        privilege: { name: 'read', on: `the ${scope} scope` },
        hint: `give the dashboard user's role read on ${scope}: ceph dashboard ac-role-add-scope-perms <role> ${scope} read`,
      }),
    };
  };
  // The first call logs in (or reads CEPH_TOKEN_FILE); the login is a call of its own.
  let first: { value: Awaited<ReturnType<typeof getDashHealth>> } | { err: unknown };
  try {
    first = { value: await getDashHealth(client) };
  } catch (err) {
    first = { err };
  }
  const f = first;
  const login: ProbeSpec<void> = {
    endpoint: c.CEPH_TOKEN_FILE !== undefined ? `token file ${c.CEPH_TOKEN_FILE}` : 'POST /api/auth',
    check: () => ({ ok: true, message: c.CEPH_TOKEN_FILE !== undefined ? 'the dashboard took the token' : `logged in as ${c.CEPH_USER ?? ''}` }),
  };
  await ctx.probe(login, async () => {
    if ('err' in f && (f.err instanceof CephAuthError || (f.err instanceof HttpStatusError && f.err.status === 401) || f.err instanceof HttpConnectError))
      throw f.err;
  });
  await ctx.probe(spec('/api/health/minimal'), async () => {
    if ('err' in f) throw f.err;
    return f.value;
  });
  await ctx.probe(spec('/api/health/get_cluster_fsid'), () => getDashFsid(client));
  await ctx.probe(spec('/api/summary'), () => getDashSummary(client));
  await ctx.probe(spec('/api/osd'), () => listDashOsds(client, drop));
  await ctx.probe(spec('/api/osd/flags'), () => getDashFlags(client));
  await ctx.probe(spec('/api/pool'), () => getDashPools(client, drop));
  await ctx.probe(spec('/api/host'), () => listDashHosts(client, drop));
  await ctx.probe(spec('/api/crush_rule'), () => getDashCrushRules(client, drop));
  await ctx.probe(spec('/api/cephfs'), () => getDashCephfs(client, drop));
  await ctx.probe(spec('/api/monitor'), () => getDashMonitor(client));
}

/** Ceph through a PVE cluster's API (`CEPH_SOURCE: pve`) or the MGR dashboard (`dashboard`). */
export const cephCollector = defineCollector<CephConfig, CephSnapshot>({
  id: 'ceph',
  secretKeys: ['PROXMOX_TOKEN_VALUE', 'CEPH_PASSWORD'],
  warnings: CEPH_WARNINGS,
  configSchema: cephConfigSchema,
  collect: collectCeph,
  map: mapCeph,
  preflight: {
    credentials: (c) =>
      c.CEPH_SOURCE === 'pve'
        ? 'PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE'
        : c.CEPH_TOKEN_FILE !== undefined
          ? 'CEPH_TOKEN_FILE (and CEPH_USER/CEPH_PASSWORD)'
          : 'CEPH_USER and CEPH_PASSWORD',
    probes: (ctx) => (ctx.config.CEPH_SOURCE === 'pve' ? cephPveProbes(ctx) : cephDashboardProbes(ctx)),
  },
});
