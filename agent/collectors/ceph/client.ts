import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AgentError } from '../../errors.ts';
import { registerSecret } from '../../log.ts';
import { HttpBodyError, HttpStatusError, targetSettings, type HttpResponse, type HttpTarget } from '../../http/client.ts';
import { bearerHeader, describeError, ProxmoxApi, type ApiService, type ApiSession } from '../../http/proxmox.ts';
import type { TargetRequest } from '../types.ts';
import type { CephConfig } from './config.ts';
import {
  dashAuthSchema,
  dashCephfsSchema,
  dashCrushRuleSchema,
  dashFlagsSchema,
  dashFsidSchema,
  dashHealthSchema,
  dashHostSchema,
  dashMonitorSchema,
  dashOsdSchema,
  dashPoolSchema,
  dashSummarySchema,
  pveDaemonSchema,
  pveFlagSchema,
  pveFsSchema,
  pveNodeSchema,
  pveOsdTreeSchema,
  pvePoolSchema,
  pveRuleSchema,
  pveStatusSchema,
} from './schema.ts';

/*
 * One function per endpoint, over the shared Proxmox API layer (agent/http/proxmox.ts).
 * PVE's Ceph endpoints go through the PVE envelope and token (pve-manager PVE/API2/Ceph.pm,
 * PVE/API2/Ceph/*.pm); the MGR dashboard needs a login, a bearer JWT and a per-endpoint
 * versioned Accept header (ceph src/pybind/mgr/dashboard controllers/_version.py).
 */

const seg = encodeURIComponent;

/** Ceph, for the code of its shape errors (`ceph_bad_response`), through PVE or the dashboard. */
export const CEPH_SERVICE: ApiService = { id: 'ceph', product: 'Ceph', hint: () => '' };

const CEPH = new ProxmoxApi(CEPH_SERVICE);

/* ------------------------------------------------------------------ PVE */

function pveGet<T extends z.ZodType>(api: ApiSession, path: string, schema: T): Promise<z.output<T>> {
  return CEPH.get(api, path, schema);
}

function pveList<T extends z.ZodType>(api: ApiSession, path: string, item: T): Promise<z.output<T>[]> {
  return CEPH.list(api, path, item);
}

/**
 * What PVE's Ceph GETs check, for a 403 whose reason names nothing: `['perm', '/',
 * ['Sys.Audit', 'Datastore.Audit'], any => 1]` (pve-manager PVE/API2/Ceph.pm and Ceph/*.pm).
 * A reason that names it wins (agent/http/proxmox.ts namedPrivilege).
 */
export const PVE_CEPH_PRIVILEGE = 'Sys.Audit or Datastore.Audit on /';

export const CEPH_ABSENCE = ['not_installed', 'not_initialized'] as const;
export type CephAbsence = (typeof CEPH_ABSENCE)[number];

/**
 * PVE's two "no Ceph here" answers, both HTTP 500 with the reason in the status line
 * (pve-manager PVE/Ceph/Tools.pm check_ceph_installed / check_ceph_inited): `binary not installed: /usr/bin/ceph-mon` and
 * `pveceph configuration not initialized - missing '/etc/pve/ceph.conf', …`.
 */
export function cephAbsence(err: unknown): { reason: CephAbsence; message: string } | undefined {
  if (!(err instanceof HttpStatusError) || err.status !== 500) return undefined;
  // Older pve-manager says "ceph binaries not installed" and "pveceph configuration not enabled".
  if (/binar(?:y|ies) not installed/i.test(err.reason)) return { reason: 'not_installed', message: err.reason };
  if (/pveceph configuration not (?:initiali[sz]ed|enabled)/i.test(err.reason)) return { reason: 'not_initialized', message: err.reason };
  return undefined;
}

export const getPveCephStatus = (api: ApiSession) => pveGet(api, '/cluster/ceph/status', pveStatusSchema);
export const getPveNodes = (api: ApiSession) => pveList(api, '/nodes', pveNodeSchema);
export const getPveCephFlags = (api: ApiSession) => pveList(api, '/cluster/ceph/flags', pveFlagSchema);
export const getPveOsdTree = (api: ApiSession, node: string) => pveGet(api, `/nodes/${seg(node)}/ceph/osd`, pveOsdTreeSchema);
export const getPvePools = (api: ApiSession, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/pool`, pvePoolSchema);
export const getPveFilesystems = (api: ApiSession, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/fs`, pveFsSchema);
export const getPveRules = (api: ApiSession, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/rules`, pveRuleSchema);
export const getPveMons = (api: ApiSession, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/mon`, pveDaemonSchema);
export const getPveMgrs = (api: ApiSession, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/mgr`, pveDaemonSchema);

/* ------------------------------- Dashboard (ceph src/pybind/mgr/dashboard/openapi.yaml) */

/** Login refused, or a token nobody can renew. Never carries the password. */
export class CephAuthError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ceph_auth_failed', message, options);
  }
}

/** `Accept: application/vnd.ceph.api.vX.Y+json` (dashboard controllers/_version.py to_mime_type). */
export function cephMime(version: string): string {
  return `application/vnd.ceph.api.v${version}+json`;
}

/**
 * The version to retry with after a 415. The dashboard accepts a request when the majors
 * are equal and the client's minor is not above the endpoint's (controllers/_version.py
 * `supports`); its 415 says `Incorrect version: endpoint is 'X.Y', client requested 'Z.W'`
 * (controllers/_base_controller.py). When the reason does not carry the body's text, the
 * same major's .0 is the one version every endpoint of that major accepts.
 */
export function versionAfter415(reason: string, requested: string): string | undefined {
  const m = /endpoint is '(\d+)\.(\d+)'/.exec(reason);
  if (m) {
    const offered = `${Number(m[1])}.${Number(m[2])}`;
    return offered === requested ? undefined : offered;
  }
  const [major, minor] = requested.split('.');
  return minor !== undefined && minor !== '0' ? `${major}.0` : undefined;
}

export interface DashboardAuth {
  user?: string | undefined;
  password?: string | undefined;
  tokenFile?: string | undefined;
}

export interface DashboardResponse {
  body: unknown;
  headers: HttpResponse['headers'];
}

/**
 * The MGR dashboard REST API: `POST /api/auth` for a JWT (or a token from a file), the
 * bearer token on every call, one re-login on 401 (the token's lifetime is
 * `jwt_token_ttl`, 8 h by default), and one retry with the endpoint's version on 415.
 */
export class CephDashboardClient {
  readonly target: HttpTarget;
  private readonly auth: DashboardAuth;
  private token: Promise<string> | undefined;
  /** Versions learnt from 415 answers, by path, so the next call asks right at once. */
  private readonly versions = new Map<string, string>();
  private readonly readToken: (file: string) => Promise<string>;

  constructor(target: HttpTarget, auth: DashboardAuth, readToken: (file: string) => Promise<string> = (f) => readFile(f, 'utf8')) {
    this.target = target;
    this.auth = auth;
    this.readToken = readToken;
  }

  private async login(previous: string | undefined): Promise<string> {
    if (this.auth.tokenFile) {
      let fromFile: string | undefined;
      try {
        fromFile = (await this.readToken(this.auth.tokenFile)).trim();
      } catch (err) {
        if (!this.auth.user) throw new CephAuthError(`cannot read CEPH_TOKEN_FILE ${this.auth.tokenFile}: ${describeError(err)}`, { cause: err });
      }
      if (fromFile && fromFile !== previous) {
        // A bearer token is a credential: scrubbed from every output like the configured secrets.
        registerSecret(fromFile);
        return fromFile;
      }
      if (!this.auth.user)
        throw new CephAuthError(`the dashboard rejected the token in ${this.auth.tokenFile} and no CEPH_USER/CEPH_PASSWORD is set to log in`);
    }
    let res: HttpResponse;
    try {
      res = await this.target.request('POST', '/api/auth', {
        body: JSON.stringify({ username: this.auth.user, password: this.auth.password }),
        headers: { 'content-type': 'application/json', accept: cephMime('1.0') },
      });
    } catch (err) {
      if (err instanceof HttpStatusError && (err.status === 400 || err.status === 401 || err.status === 403)) {
        throw new CephAuthError(`dashboard login as ${this.auth.user ?? '?'} failed: HTTP ${err.status} ${err.reason}`, { cause: err });
      }
      throw err;
    }
    const { token } = CEPH.check('/api/auth', dashAuthSchema, CEPH.parseText('/api/auth', res.text));
    registerSecret(token);
    return token;
  }

  private currentToken(): Promise<string> {
    this.token ??= this.login(undefined);
    return this.token;
  }

  /** Drops `stale` unless another caller already replaced it, so concurrent 401s log in once. */
  private renewToken(stale: Promise<string>, staleValue: string): Promise<string> {
    if (this.token === stale) this.token = this.login(staleValue);
    return this.token ?? this.currentToken();
  }

  async get(path: string, version: string, query?: Record<string, string | number>): Promise<DashboardResponse> {
    let v = this.versions.get(path) ?? version;
    let reauthed = false;
    let reversioned = false;
    let tokenPromise = this.currentToken();
    for (;;) {
      const token = await tokenPromise;
      try {
        const res = await this.target.request('GET', path, { query, headers: { authorization: bearerHeader(token), accept: cephMime(v) } });
        return { body: CEPH.parseText(path, res.text), headers: res.headers };
      } catch (err) {
        // An answer past CEPH_API_MAX_RESPONSE_BYTES costs its section, like a body of the wrong shape.
        if (err instanceof HttpBodyError) throw CEPH.responseError(path, err.detail, err);
        if (!(err instanceof HttpStatusError)) throw err;
        if (err.status === 401 && !reauthed) {
          reauthed = true;
          tokenPromise = this.renewToken(tokenPromise, token);
          continue;
        }
        if (err.status === 415 && !reversioned) {
          const next = versionAfter415(err.reason, v);
          if (next) {
            reversioned = true;
            v = next;
            this.versions.set(path, next);
            continue;
          }
        }
        throw err;
      }
    }
  }

  async getParsed<T extends z.ZodType>(path: string, version: string, schema: T, query?: Record<string, string | number>): Promise<z.output<T>> {
    const { body } = await this.get(path, version, query);
    return CEPH.check(path, schema, body);
  }

  /**
   * A paginated list: `limit=-1` asks for everything ("'-1' is a special number to refer to
   * all items", dashboard tools.py ListPaginator); `/api/osd` defaults to 10 items and
   * `/api/host` (v1.3) to 5. `X-Total-Count` tells whether a server that ignored -1 left
   * some out; then the rest is paged with offset/limit.
   */
  async listAll(path: string, version: string): Promise<unknown[]> {
    const first = await this.get(path, version, { limit: -1 });
    const items = asArray(first.body, path);
    const total = totalCount(first.headers);
    const pageSize = Math.max(items.length, 1);
    while (total !== undefined && items.length < total) {
      const page = asArray((await this.get(path, version, { offset: items.length, limit: pageSize })).body, path);
      if (page.length === 0) break;
      items.push(...page);
    }
    return items;
  }
}

const rawList = z.array(z.unknown());

/** A list answer, copied (listAll appends the next pages to it). */
function asArray(body: unknown, path: string): unknown[] {
  return [...CEPH.check(path, rawList, body)];
}

function totalCount(headers: HttpResponse['headers']): number | undefined {
  const raw = headers['x-total-count'];
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The dashboard target of a policy: CEPH_URL with its TLS settings. */
export function dashboardTarget(c: CephConfig): TargetRequest {
  return {
    baseUrl: (c.CEPH_URL ?? '').replace(/\/+$/, ''),
    tls: { verify: c.CEPH_SSL_VERIFY, caFile: c.CEPH_CA_FILE, fingerprint: c.CEPH_FINGERPRINT },
    timeoutMs: c.CEPH_API_TIMEOUT * 1000,
    maxResponseBytes: c.CEPH_API_MAX_RESPONSE_BYTES,
    settings: targetSettings('CEPH'),
  };
}

/**
 * The dashboard security scope each endpoint's controller is registered under
 * (`@APIRouter('/host', Scope.HOSTS)`, `@APIRouter('/monitor', Scope.MONITOR)`,
 * `@APIRouter('/crush_rule', Scope.POOL)`, … in src/pybind/mgr/dashboard/controllers/);
 * a 403 means the user's role has no `read` on it.
 */
export const DASHBOARD_SCOPES: Readonly<Record<string, string>> = {
  '/api/osd': 'osd',
  '/api/osd/flags': 'osd',
  '/api/pool': 'pool',
  '/api/host': 'hosts',
  '/api/crush_rule': 'pool',
  '/api/cephfs': 'cephfs',
  '/api/monitor': 'monitor',
};

/* Endpoint versions from the dashboard's openapi.yaml (ceph src/pybind/mgr/dashboard/openapi.yaml). */

export const getDashHealth = (c: CephDashboardClient) => c.getParsed('/api/health/minimal', '1.0', dashHealthSchema);
export const getDashFsid = (c: CephDashboardClient) => c.getParsed('/api/health/get_cluster_fsid', '1.0', dashFsidSchema);
export const getDashSummary = (c: CephDashboardClient) => c.getParsed('/api/summary', '1.0', dashSummarySchema);
export const getDashFlags = (c: CephDashboardClient) => c.getParsed('/api/osd/flags', '1.0', dashFlagsSchema);
export const getDashMonitor = (c: CephDashboardClient) => c.getParsed('/api/monitor', '1.0', dashMonitorSchema);

export type OnDrop = (path: string, index: number, why: string) => void;

function lenient<T extends z.ZodType>(path: string, item: T, items: unknown[], onDrop: OnDrop): z.output<T>[] {
  return CEPH.items({ onDrop }, path, item, items);
}

export async function listDashOsds(c: CephDashboardClient, onDrop: OnDrop) {
  return lenient('/api/osd', dashOsdSchema, await c.listAll('/api/osd', '1.1'), onDrop);
}

export async function listDashHosts(c: CephDashboardClient, onDrop: OnDrop) {
  return lenient('/api/host', dashHostSchema, await c.listAll('/api/host', '1.3'), onDrop);
}

export async function getDashPools(c: CephDashboardClient, onDrop: OnDrop) {
  const { body } = await c.get('/api/pool', '1.0');
  return lenient('/api/pool', dashPoolSchema, asArray(body, '/api/pool'), onDrop);
}

export async function getDashCrushRules(c: CephDashboardClient, onDrop: OnDrop) {
  const { body } = await c.get('/api/crush_rule', '2.0');
  return lenient('/api/crush_rule', dashCrushRuleSchema, asArray(body, '/api/crush_rule'), onDrop);
}

export async function getDashCephfs(c: CephDashboardClient, onDrop: OnDrop) {
  const { body } = await c.get('/api/cephfs', '1.0');
  return lenient('/api/cephfs', dashCephfsSchema, asArray(body, '/api/cephfs'), onDrop);
}
