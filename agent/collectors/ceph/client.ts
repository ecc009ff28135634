import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AgentError } from '../../errors.ts';
import { registerSecret } from '../../log.ts';
import { HttpBodyError, HttpStatusError, targetSettings, type HttpResponse, type HttpTarget } from '../../http/client.ts';
import type { TargetRequest } from '../types.ts';
import type { CephConfig } from './config.ts';
import {
  CephResponseError, dashAuthSchema, dashCephfsSchema, dashCrushRuleSchema, dashFlagsSchema, dashFsidSchema, dashHealthSchema,
  dashHostSchema, dashMonitorSchema, dashOsdSchema, dashPoolSchema, dashSummarySchema, lenientList, pveDaemonSchema, pveFlagSchema,
  pveFsSchema, pveNodeSchema, pveOsdTreeSchema, pvePoolSchema, pveRuleSchema, pveStatusSchema, summarizeIssues,
} from './schema.ts';

/*
 * One function per endpoint. PVE's Ceph endpoints (reference/proxmox-apis.md §4b) go through
 * the PVE envelope and token; the dashboard (§4a) needs a login, a bearer JWT and a
 * per-endpoint versioned Accept header.
 */

const seg = encodeURIComponent;

/* ------------------------------------------------------------------ PVE (§4b) */


export interface CephPveApi {
  target: HttpTarget;
  /** A list item that did not match its schema and was dropped. */
  onDrop(path: string, index: number, why: string): void;
}

async function pveGet<T extends z.ZodType>(api: CephPveApi, path: string, schema: T): Promise<z.output<T>> {
  let body: unknown;
  try {
    body = await api.target.getJson(path);
  } catch (err) {
    // A 2xx body that is not JSON is an answer of the wrong shape: it costs that section only.
    throw err instanceof HttpBodyError ? new CephResponseError(path, err.detail, { cause: err }) : err;
  }
  const parsed = z.object({ data: schema }).safeParse(body);
  if (!parsed.success) throw new CephResponseError(path, summarizeIssues(parsed.error), { cause: parsed.error });
  return (parsed.data as { data: z.output<T> }).data;
}

function pveList<T extends z.ZodType>(api: CephPveApi, path: string, item: T) {
  return pveGet(api, path, lenientList(item, (i, why) => api.onDrop(path, i, why)));
}

/**
 * What PVE's Ceph GETs check, for a 403 whose reason names nothing: `['perm', '/',
 * ['Sys.Audit', 'Datastore.Audit'], any => 1]` (pve-manager PVE/API2/Ceph.pm and Ceph/*.pm;
 * reference/proxmox-apis.md §4b). A reason that names it wins (pve/client.ts namedPrivilege).
 */
export const PVE_CEPH_PRIVILEGE = 'Sys.Audit or Datastore.Audit on /';

export const CEPH_ABSENCE = ['not_installed', 'not_initialized'] as const;
export type CephAbsence = (typeof CEPH_ABSENCE)[number];

/**
 * PVE's two "no Ceph here" answers, both HTTP 500 with the reason in the status line
 * (pve-manager PVE/Ceph/Tools.pm check_ceph_installed / check_ceph_inited;
 * reference/proxmox-apis.md §4b): `binary not installed: /usr/bin/ceph-mon` and
 * `pveceph configuration not initialized - missing '/etc/pve/ceph.conf', …`.
 */
export function cephAbsence(err: unknown): { reason: CephAbsence; message: string } | undefined {
  if (!(err instanceof HttpStatusError) || err.status !== 500) return undefined;
  // Older pve-manager says "ceph binaries not installed" and "pveceph configuration not enabled".
  if (/binar(?:y|ies) not installed/i.test(err.reason)) return { reason: 'not_installed', message: err.reason };
  if (/pveceph configuration not (?:initiali[sz]ed|enabled)/i.test(err.reason)) return { reason: 'not_initialized', message: err.reason };
  return undefined;
}

export const getPveCephStatus = (api: CephPveApi) => pveGet(api, '/cluster/ceph/status', pveStatusSchema);
export const getPveNodes = (api: CephPveApi) => pveList(api, '/nodes', pveNodeSchema);
export const getPveCephFlags = (api: CephPveApi) => pveList(api, '/cluster/ceph/flags', pveFlagSchema);
export const getPveOsdTree = (api: CephPveApi, node: string) => pveGet(api, `/nodes/${seg(node)}/ceph/osd`, pveOsdTreeSchema);
export const getPvePools = (api: CephPveApi, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/pool`, pvePoolSchema);
export const getPveFilesystems = (api: CephPveApi, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/fs`, pveFsSchema);
export const getPveRules = (api: CephPveApi, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/rules`, pveRuleSchema);
export const getPveMons = (api: CephPveApi, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/mon`, pveDaemonSchema);
export const getPveMgrs = (api: CephPveApi, node: string) => pveList(api, `/nodes/${seg(node)}/ceph/mgr`, pveDaemonSchema);

/* ---------------------------------------------------------------- Dashboard (§4a) */

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
        if (!this.auth.user) throw new CephAuthError(`cannot read CEPH_TOKEN_FILE ${this.auth.tokenFile}: ${(err as Error).message}`, { cause: err });
      }
      if (fromFile && fromFile !== previous) {
        // A bearer token is a credential: scrubbed from every output like the configured secrets.
        registerSecret(fromFile);
        return fromFile;
      }
      if (!this.auth.user) throw new CephAuthError(`the dashboard rejected the token in ${this.auth.tokenFile} and no CEPH_USER/CEPH_PASSWORD is set to log in`);
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
    const parsed = dashAuthSchema.safeParse(parseBody(res.text, '/api/auth'));
    if (!parsed.success) throw new CephResponseError('/api/auth', summarizeIssues(parsed.error));
    registerSecret(parsed.data.token);
    return parsed.data.token;
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
        const res = await this.target.request('GET', path, { query, headers: { authorization: `Bearer ${token}`, accept: cephMime(v) } });
        return { body: parseBody(res.text, path), headers: res.headers };
      } catch (err) {
        // An answer past CEPH_API_MAX_RESPONSE_BYTES costs its section, like a body of the wrong shape.
        if (err instanceof HttpBodyError) throw new CephResponseError(path, err.detail, { cause: err });
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
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new CephResponseError(path, summarizeIssues(parsed.error), { cause: parsed.error });
    return parsed.data as z.output<T>;
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

function parseBody(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CephResponseError(path, `not JSON (${(err as Error).message})`, { cause: err });
  }
}

function asArray(body: unknown, path: string): unknown[] {
  if (!Array.isArray(body)) throw new CephResponseError(path, `expected a list, got ${body === null ? 'null' : typeof body}`);
  return [...body];
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
  '/api/osd': 'osd', '/api/osd/flags': 'osd', '/api/pool': 'pool', '/api/host': 'hosts',
  '/api/crush_rule': 'pool', '/api/cephfs': 'cephfs', '/api/monitor': 'monitor',
};

/* Endpoint versions from the dashboard's openapi.yaml (reference/proxmox-apis.md §4a table). */

export const getDashHealth = (c: CephDashboardClient) => c.getParsed('/api/health/minimal', '1.0', dashHealthSchema);
export const getDashFsid = (c: CephDashboardClient) => c.getParsed('/api/health/get_cluster_fsid', '1.0', dashFsidSchema);
export const getDashSummary = (c: CephDashboardClient) => c.getParsed('/api/summary', '1.0', dashSummarySchema);
export const getDashFlags = (c: CephDashboardClient) => c.getParsed('/api/osd/flags', '1.0', dashFlagsSchema);
export const getDashMonitor = (c: CephDashboardClient) => c.getParsed('/api/monitor', '1.0', dashMonitorSchema);

export type OnDrop = (path: string, index: number, why: string) => void;

function lenient<T extends z.ZodType>(path: string, item: T, items: unknown[], onDrop: OnDrop): z.output<T>[] {
  return lenientList(item, (i, why) => onDrop(path, i, why)).parse(items) as z.output<T>[];
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
