import { z } from 'zod';
import { AgentError, isRetryable } from '../errors.ts';
import { HttpBodyError, targetSettings, type HttpTarget, type TargetOptions } from './client.ts';
import { isJsonObject, parseEach, safeParseFast, summarizeIssues, UNSURE, withFastPath } from './loose.ts';

/*
 * The one API layer of the Proxmox family (PVE, PBS, PDM, and Ceph through PVE or its MGR
 * dashboard): the `{"data": …}` envelope, the check of an answer against its schema, lists
 * whose bad items are dropped one by one, the shape error and the "could not be read" error,
 * and the token headers. Each collector's client.ts is one small function per endpoint over
 * it; what differs between the products is named in an ApiService.
 */

/** What differs between the products, for error codes and messages. */
export interface ApiService {
  /** Prefix of the error codes: `<id>_bad_response`, `<id>_unreachable`. */
  readonly id: string;
  /** The product as messages name it: "Proxmox VE". */
  readonly product: string;
  /** What the operator should check when the first calls fail with `err`; '' when nothing in particular. */
  hint(err: unknown): string;
}

/** What a client hands every call: the HTTP target and where a dropped list item is reported. */
export interface ApiSession {
  target: HttpTarget;
  /** A list item that did not match its schema and was dropped. */
  onDrop(path: string, index: number, why: string): void;
}

/**
 * A 2xx answer the collector cannot use: not JSON, past the size cap, no envelope, or data
 * of the wrong shape. It costs the one item (node, guest, list, remote, section) it was for.
 * `path` is the request path without its query.
 */
export class ApiResponseError extends AgentError {
  readonly path: string;
  readonly detail: string;
  constructor(service: Pick<ApiService, 'id'>, path: string, detail: string, options?: { cause?: unknown }) {
    super(`${service.id}_bad_response`, `GET ${path}: unexpected response: ${detail}`, options);
    this.path = path;
    this.detail = detail;
  }
}

/** The first calls failed: the server as a whole could not be read, and the run has nothing to report. */
export class ApiUnreachableError extends AgentError {
  /** `host:port` as the message shows it. */
  readonly endpoint: string;
  constructor(service: ApiService, endpoint: string, cause: unknown) {
    // As retryable as what made it unreachable: refused or timed out may pass, a certificate or a 401 does not.
    super(`${service.id}_unreachable`, `${service.product} at ${endpoint} could not be read: ${describeError(cause)}${service.hint(cause)}`, {
      cause,
      retryable: isRetryable(cause),
    });
    this.endpoint = endpoint;
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/*
 * Token headers. Messages never carry them: HttpStatusError and HttpConnectError name the
 * method, path and reason only, and the secrets are registered with the logger's scrubber.
 * - PVE: `PVEAPIToken=USER@REALM!TOKENID=SECRET`, `=` before the secret (pve-http-server
 *   src/PVE/APIServer/AnyEvent.pm `apitoken_name //= 'PVEAPIToken'`; pve-access-control
 *   src/PVE/AccessControl.pm verify_token).
 * - PBS and PDM: `PBSAPIToken=USER@REALM!TOKENID:SECRET` and `PDMAPIToken=…`, `:` before the
 *   secret (proxmox-rs proxmox-auth-api src/api/mod.rs extract_auth_data; proxmox-backup
 *   src/auth.rs `auth_token_prefix` "PBSAPIToken"; proxmox-datacenter-manager server/src/auth).
 * - The Ceph MGR dashboard: `Bearer JWT` from POST /api/auth (ceph src/pybind/mgr/dashboard
 *   services/auth.py JwtManager).
 */
export type TokenScheme = 'PVEAPIToken' | 'PBSAPIToken' | 'PDMAPIToken';

/** `tokenId` is `USER@REALM!TOKENID`. */
export function apiTokenHeader(scheme: TokenScheme, tokenId: string, secret: string): string {
  return `${scheme}=${tokenId}${scheme === 'PVEAPIToken' ? '=' : ':'}${secret}`;
}

export function bearerHeader(token: string): string {
  return `Bearer ${token}`;
}

/** `host:port` with IPv6 literals bracketed, for URLs and messages. */
export function hostPort(host: string, port: number): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${bracketed}:${port}`;
}

export interface ApiTargetSpec {
  host: string;
  port: number;
  /** The Authorization header (apiTokenHeader). */
  authorization: string;
  tls: TargetOptions['tls'];
  /** Seconds, as the policy gives it. */
  timeoutS: number;
  maxResponseBytes: number;
  /** The policy's setting prefix (`PROXMOX`, `PBS`, `PDM`), for error messages. */
  settingsPrefix: string;
}

/** The target of a Proxmox REST server: https://HOST:PORT/api2/json with token auth. */
export function apiTargetRequest(s: ApiTargetSpec): Omit<TargetOptions, 'concurrency' | 'signal' | 'onRequest'> {
  return {
    baseUrl: `https://${hostPort(s.host, s.port)}/api2/json`,
    headers: { authorization: s.authorization },
    tls: s.tls,
    timeoutMs: s.timeoutS * 1000,
    maxResponseBytes: s.maxResponseBytes,
    settings: targetSettings(s.settingsPrefix),
  };
}

/*
 * Privileges, for a 403. PVE names the one it checked in the reason, "Permission check
 * failed (/nodes/pve1, Sys.Audit)": PVE::RPCEnvironment::check raises
 * raise_perm_exc("$path, $privs") (pve-access-control), which writes "Permission check
 * failed ($what)" (pve-common src/PVE/Exception.pm); check_any joins its privileges with "|".
 * PBS and PDM answer "permission check failed" and name none (proxmox-rest-server).
 */

/** `Sys.Audit on /nodes/pve1` from PVE's reason, or undefined when it names none. */
export function namedPrivilege(reason: string): string | undefined {
  const m = /Permission check failed \((\/[^,)]*), ([^)]+)\)/.exec(reason);
  return m?.[1] !== undefined && m[2] !== undefined ? `${m[2].split('|').join(' or ')} on ${m[1]}` : undefined;
}

/**
 * The envelope of every answer: `{"data": …}`, from PVE (pve-http-server
 * src/PVE/APIServer/Formatter/Standard.pm) and the Rust servers, which may add result
 * attributes such as `total` or `digest` (proxmox-rs proxmox-rest-server src/formatter.rs
 * JsonFormatter). Built once: zod compiles a schema on its first parse.
 */
const envelope = withFastPath(z.object({ data: z.unknown().optional() }), (v) => (isJsonObject(v) ? { data: v.data } : UNSURE));
// The list itself, not a copy: parseEach only reads it.
const rawList = withFastPath(z.array(z.unknown()), (v) => (Array.isArray(v) ? (v as unknown[]) : UNSURE));

/** The zod issues as one line, their paths below `under` (`data` for an enveloped answer). */
function issues(err: z.ZodError, under: string | undefined): string {
  if (under === undefined) return summarizeIssues(err);
  return summarizeIssues(new z.ZodError(err.issues.map((i) => ({ ...i, path: [under, ...i.path] }))));
}

/**
 * Reads and checks the answers of one product. Every method takes the path without its
 * query (messages name it so) and reports a 2xx body it cannot use as ApiResponseError;
 * HTTP failures stay HttpStatusError / HttpConnectError.
 */
export class ProxmoxApi {
  readonly service: ApiService;

  constructor(service: ApiService) {
    this.service = service;
  }

  responseError(path: string, detail: string, cause?: unknown): ApiResponseError {
    return new ApiResponseError(this.service, path, detail, cause === undefined ? undefined : { cause });
  }

  unreachable(endpoint: string, cause: unknown): ApiUnreachableError {
    return new ApiUnreachableError(this.service, endpoint, cause);
  }

  /** The parsed JSON body. A 2xx body that is not JSON or is too large costs the item it was for, not the run. */
  async json(target: HttpTarget, path: string, query?: Record<string, string>): Promise<unknown> {
    try {
      return await target.getJson(path, query);
    } catch (err) {
      throw err instanceof HttpBodyError ? this.responseError(path, err.detail, err) : err;
    }
  }

  /** `data` of the envelope, not checked further. */
  async data(api: ApiSession, path: string, query?: Record<string, string>): Promise<unknown> {
    const body = await this.json(api.target, path, query);
    const env = safeParseFast(envelope, body);
    if (!env.success) throw this.responseError(path, summarizeIssues(env.error), env.error);
    if (env.data.data === undefined) throw this.responseError(path, 'no "data" member');
    return env.data.data;
  }

  /** `data`, checked against `schema`. */
  async get<T extends z.ZodType>(api: ApiSession, path: string, schema: T, query?: Record<string, string>): Promise<z.output<T>> {
    return this.check(path, schema, await this.data(api, path, query), 'data');
  }

  /** `data` as a list: each item that `item` rejects is dropped and reported through onDrop. */
  async list<T extends z.ZodType>(api: ApiSession, path: string, item: T, query?: Record<string, string>): Promise<z.output<T>[]> {
    return this.items(api, path, item, await this.data(api, path, query), 'data');
  }

  /** `value` checked against `schema`; issues are named below `under` (`data` for an envelope's data). */
  check<T extends z.ZodType>(path: string, schema: T, value: unknown, under?: string): z.output<T> {
    const parsed = safeParseFast(schema, value);
    if (!parsed.success) throw this.responseError(path, issues(parsed.error, under), parsed.error);
    return parsed.data as z.output<T>;
  }

  /** `value` as a list of `item`s, the bad ones dropped and reported through onDrop. */
  items<T extends z.ZodType>(api: Pick<ApiSession, 'onDrop'>, path: string, item: T, value: unknown, under?: string): z.output<T>[] {
    return parseEach(item, this.check(path, rawList, value, under), (index, why) => api.onDrop(path, index, why));
  }

  /** A JSON text read by the caller (the Ceph dashboard reads its answers with their headers). */
  parseText(path: string, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw this.responseError(path, `not JSON (${describeError(err)})`, err);
    }
  }
}
