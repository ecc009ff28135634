import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, buildConnector, errors as undiciErrors, type Dispatcher } from 'undici';
import { AgentError, errorCode } from '../errors.ts';
import { BACKOFF, backoffDelay } from '../backoff.ts';
import { parseRetryAfter, retryableConnectError, retryableStatus, shouldRetryHttp } from './retry.ts';
import { Semaphore } from './semaphore.ts';

/** An HTTP answer outside 2xx. `reason` is what the API said: PVE's status line or JSON
 * `message` (pve-http-server src/PVE/APIServer/Formatter/Standard.pm), PBS/PDM's plain-text
 * body (proxmox-rs proxmox-rest-server/src/formatter.rs error_to_response). */
export class HttpStatusError extends AgentError {
  readonly status: number;
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  constructor(method: string, path: string, status: number, reason: string) {
    super('http_status', `${method} ${path}: HTTP ${status} ${reason}`.trim(), { retryable: retryableStatus(status) });
    this.status = status;
    this.reason = reason;
    this.method = method;
    this.path = path;
  }
}

/** No HTTP answer at all: refused, reset, timed out, TLS failure. */
export class HttpConnectError extends AgentError {
  readonly method: string;
  readonly path: string;
  readonly errorCode: string;
  constructor(method: string, path: string, errorCode: string, message: string, cause?: unknown) {
    super('http_connect', `${method} ${path}: ${message}`, { cause, retryable: retryableConnectError(errorCode) });
    this.method = method;
    this.path = path;
    this.errorCode = errorCode;
  }
}

/**
 * A 2xx answer whose body cannot be used. It costs the one item it was for, like a body
 * of the wrong shape: each collector's client turns it into its own response error, with
 * `detail` as the reason.
 */
export class HttpBodyError extends AgentError {
  readonly method: string;
  readonly path: string;
  readonly detail: string;
  constructor(code: string, method: string, path: string, detail: string, options?: { cause?: unknown }) {
    super(code, `${method} ${path}: response is ${detail}`, options);
    this.method = method;
    this.path = path;
    this.detail = detail;
  }
}

/** An HTML error page of a proxy, a truncated or empty body. */
export class HttpBadJsonError extends HttpBodyError {
  constructor(method: string, path: string, cause: unknown) {
    super('http_bad_json', method, path, `not JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

/** A 2xx answer past TargetOptions.maxResponseBytes; the rest of it was not read. */
export class HttpTooLargeError extends HttpBodyError {
  readonly limit: number;
  constructor(method: string, path: string, limit: number, setting: string | undefined) {
    super('http_too_large', method, path, `larger than ${formatBytes(limit)}${setting ? ` (${setting})` : ''}; not read`);
    this.limit = limit;
  }
}

export class TlsPinError extends AgentError {
  constructor(host: string, expected: string, actual: string, setting: string | undefined) {
    super('tls_pin_mismatch', `certificate of ${host} has SHA-256 fingerprint ${actual}, expected ${expected}${setting ? ` (${setting})` : ''}`);
  }
}

/** The TLS settings cannot be used as given (a CA file that cannot be read): the target is not opened. */
export class TlsConfigError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('tls_config_invalid', message, options);
  }
}

export interface TlsOptions {
  verify: boolean;
  caFile?: string | undefined;
  /** SHA-256 of the leaf certificate as colon hex, checked even when verify is false. */
  fingerprint?: string | undefined;
}

/** The policy settings behind a target's options, so an error can say which one to change. */
export interface TargetSettings {
  timeout: string;
  maxResponseBytes: string;
  verify: string;
  caFile: string;
  fingerprint: string;
}

/** Every collector names its connection settings `<PREFIX>_API_TIMEOUT`, `<PREFIX>_SSL_VERIFY`, … */
export function targetSettings(prefix: string): TargetSettings {
  return {
    timeout: `${prefix}_API_TIMEOUT`,
    maxResponseBytes: `${prefix}_API_MAX_RESPONSE_BYTES`,
    verify: `${prefix}_SSL_VERIFY`,
    caFile: `${prefix}_CA_FILE`,
    fingerprint: `${prefix}_FINGERPRINT`,
  };
}

export interface TargetOptions {
  baseUrl: string;
  headers?: Record<string, string>;
  tls: TlsOptions;
  /**
   * Deadline of one attempt, whole: connecting, the headers and the last byte of the body.
   * Each retry gets a fresh one.
   */
  timeoutMs: number;
  /**
   * Bytes one 2xx body may have (default DEFAULT_MAX_RESPONSE_BYTES); reading stops past it
   * and the request fails with HttpTooLargeError, so one huge answer cannot take the heap.
   */
  maxResponseBytes?: number;
  /** Names of the policy settings, for error messages. */
  settings?: TargetSettings;
  concurrency: number;
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  retryAfterCapMs?: number;
  signal?: AbortSignal;
  onRequest?: (event: RequestEvent) => void;
}

/**
 * 64 MiB: a PVE /cluster/resources of 100 000 guests is about 50 MB; one 200 MB answer
 * took the agent to 1.34 GB (issue #14).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** An error answer is read for its reason only; PVE, PBS and PDM reasons are one line. */
const ERROR_BODY_BYTES = 64 * 1024;

export interface RequestEvent {
  method: string;
  path: string;
  status: number | 'error';
  attempt: number;
  retried: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

/** Reason text of an error answer, whichever of the two Proxmox shapes it has. */
export function errorReason(statusText: string, body: string): string {
  const trimmed = body.trim();
  if (trimmed) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed && typeof parsed === 'object') {
        const o = parsed as { message?: unknown; errors?: unknown; detail?: unknown };
        if (typeof o.message === 'string' && o.message.trim()) return o.message.trim();
        // The Ceph dashboard answers {status, detail, traceback, version}
        // (src/pybind/mgr/dashboard/services/exception.py).
        if (typeof o.detail === 'string' && o.detail.trim()) return o.detail.trim();
        if (o.errors && typeof o.errors === 'object') {
          return Object.entries(o.errors as Record<string, unknown>)
            .map(([k, v]) => `${k}: ${String(v).trim()}`)
            .join('; ');
        }
      } else if (typeof parsed === 'string') {
        return parsed.slice(0, 500);
      }
    } catch {
      // PBS and PDM send the raw error text with a JSON content type.
      return trimmed.slice(0, 500);
    }
  }
  return statusText;
}

/**
 * One upstream API endpoint (a PVE cluster, a PBS, …): a kept-alive connection pool,
 * a concurrency cap, timeouts, TLS verification or pinning, and the retry rule.
 */
export class HttpTarget {
  readonly baseUrl: URL;
  private readonly pool: Pool;
  private readonly sem: Semaphore;
  private readonly opts: TargetOptions;
  private readonly basePath: string;
  /** The headers of every request, built once (undici only reads them). */
  private readonly headers: Record<string, string>;
  /**
   * The abort controllers of the attempts and retry waits under way. The run signal gets
   * one listener per target, which aborts them all, instead of one per attempt: a run
   * signal carried `concurrency` listeners plus one per waiting retry, more than Node 22's
   * default limit of 10 for any concurrency above 10, or for two policies running at once
   * (MaxListenersExceededWarning). Node 24 no longer warns for AbortSignal; the count is
   * the same.
   */
  private readonly inflight = new Set<AbortController>();
  private readonly onRunAbort = (): void => {
    for (const ac of this.inflight) ac.abort(this.opts.signal?.reason);
  };
  /**
   * Milliseconds requests held a concurrency slot, summed: busyMs / (concurrency × wall)
   * is how well the cap was used (1 = a request in every slot all the time).
   */
  busyMs = 0;

  /** Requests this target keeps in flight at most (the policy's `concurrency`). */
  get concurrency(): number {
    return this.opts.concurrency;
  }

  constructor(opts: TargetOptions) {
    this.opts = opts;
    this.baseUrl = new URL(opts.baseUrl);
    this.basePath = this.baseUrl.pathname.replace(/\/$/, '');
    this.headers = { accept: 'application/json', ...opts.headers };
    this.sem = new Semaphore(opts.concurrency);
    const pin = opts.tls.fingerprint ? normalizeFingerprint(opts.tls.fingerprint) : undefined;
    const ca = opts.tls.caFile ? readCaFile(opts.tls.caFile, opts.settings?.caFile) : undefined;
    // A resumed TLS session carries no peer certificate to check, so pinning turns
    // session resumption off: every connection shows its certificate.
    const base = buildConnector({
      rejectUnauthorized: opts.tls.verify,
      ...(ca ? { ca } : {}),
      timeout: opts.timeoutMs,
      ...(pin ? { maxCachedSessions: 0 } : {}),
    });
    const host = this.baseUrl.host;
    const connect: buildConnector.connector = (o, cb) => {
      base(o, (err, socket) => {
        if (err || !socket) return cb(err ?? new Error('no socket'), null);
        if (pin && 'getPeerCertificate' in socket) {
          const actual = normalizeFingerprint((socket as TLSSocket).getPeerCertificate().fingerprint256 ?? '');
          if (actual !== pin) {
            socket.destroy();
            return cb(new TlsPinError(host, pin, actual, opts.settings?.fingerprint), null);
          }
        }
        return cb(null, socket);
      });
    };
    this.pool = new Pool(this.baseUrl.origin, {
      connections: opts.concurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect,
    });
    // Last: a constructor that threw (a CA file that cannot be read) leaves no listener behind.
    opts.signal?.addEventListener('abort', this.onRunAbort, { once: true });
  }

  /** GET and parse JSON; throws HttpStatusError / HttpConnectError, or HttpBadJsonError for a 2xx that is not JSON. */
  async getJson(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<unknown> {
    const res = await this.request('GET', path, { query });
    try {
      return JSON.parse(res.text);
    } catch (err) {
      throw new HttpBadJsonError('GET', pathWithQuery(path, query), err);
    }
  }

  async request(
    method: string,
    path: string,
    init: { query?: Record<string, string | number | boolean | undefined> | undefined; body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResponse> {
    const shown = pathWithQuery(path, init.query);
    const fullPath = `${this.basePath}${shown}`;
    const maxAttempts = this.opts.maxAttempts ?? BACKOFF.http.attempts;
    for (let attempt = 1; ; attempt++) {
      this.opts.signal?.throwIfAborted();
      let outcome: HttpResponse | HttpStatusError | HttpConnectError | HttpTooLargeError;
      let status: number | 'error' = 'error';
      await this.sem.acquire();
      const slotFrom = performance.now();
      const deadline = this.deadline();
      try {
        const res = await this.pool.request({
          method: method as 'GET',
          path: fullPath,
          headers: init.headers ? { ...this.headers, ...init.headers } : this.headers,
          body: init.body,
          signal: deadline.signal,
        });
        status = res.statusCode;
        outcome = await this.answer(method, shown, res);
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        status = 'error';
        outcome = deadline.expired() || isUndiciTimeout(err) ? this.timeoutError(method, shown, err) : toConnectError(method, shown, err, this.opts);
      } finally {
        deadline.clear();
        this.busyMs += performance.now() - slotFrom;
        this.sem.release();
      }
      const retry =
        outcome instanceof HttpStatusError || outcome instanceof HttpConnectError
          ? shouldRetryHttp({
              method,
              attempt,
              maxAttempts,
              ...(outcome instanceof HttpStatusError ? { status: outcome.status } : { errorCode: outcome.errorCode }),
            })
          : false;
      this.opts.onRequest?.({ method, path: shown, status, attempt, retried: retry });
      if (!(outcome instanceof HttpStatusError || outcome instanceof HttpConnectError || outcome instanceof HttpTooLargeError)) return outcome;
      if (!retry) throw outcome;
      const hinted = (outcome as { retryAfter?: number }).retryAfter;
      const delay =
        hinted ??
        backoffDelay(attempt, {
          ...BACKOFF.http,
          ...(this.opts.backoffBaseMs !== undefined && { baseMs: this.opts.backoffBaseMs }),
          ...(this.opts.backoffMaxMs !== undefined && { maxMs: this.opts.backoffMaxMs }),
        });
      const wait = this.linked();
      try {
        await sleep(delay, undefined, { signal: wait.signal });
      } finally {
        this.inflight.delete(wait);
      }
    }
  }

  /** A controller aborted with the run signal (through onRunAbort); the caller removes it from `inflight`. */
  private linked(): AbortController {
    const ac = new AbortController();
    const run = this.opts.signal;
    if (run?.aborted) ac.abort(run.reason);
    else this.inflight.add(ac);
    return ac;
  }

  /**
   * Reads an answer within the byte caps: a 2xx body up to maxResponseBytes (past it the
   * read stops, which drops the connection, and the answer is HttpTooLargeError); an error
   * body up to ERROR_BODY_BYTES, enough for its reason. A Content-Length past the cap is
   * refused before any of the body is read. (undici's own `maxResponseSize` would apply
   * one cap to both and fail the error answers too.)
   */
  private async answer(method: string, path: string, res: Dispatcher.ResponseData): Promise<HttpResponse | HttpStatusError | HttpTooLargeError> {
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const limit = ok ? (this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES) : ERROR_BODY_BYTES;
    const declared = Number(res.headers['content-length']);
    const body = ok && declared > limit ? undefined : await readCapped(res.body, limit);
    if (body === undefined || (ok && body.truncated)) {
      // Not read to its end: undici's body stream reports its destruction as an abort error.
      res.body.on('error', () => {}).destroy();
      return new HttpTooLargeError(method, path, limit, this.opts.settings?.maxResponseBytes);
    }
    const text = body.bytes.toString('utf8');
    if (ok) return { status: res.statusCode, headers: res.headers, text };
    const err = new HttpStatusError(method, path, res.statusCode, errorReason(res.statusText ?? '', text));
    // RFC 9110 §10.2.3: Retry-After comes with 429 and with 503 (a proxy or node in maintenance).
    if (err.status === 429 || err.status === 503) {
      (err as HttpStatusError & { retryAfter?: number }).retryAfter = parseRetryAfter(res.headers['retry-after'], this.opts.retryAfterCapMs ?? 30_000);
    }
    return err;
  }

  /**
   * The abort signal of one attempt: it fires at the deadline or when the run is aborted.
   * undici's headersTimeout and bodyTimeout only bound the wait between two pieces of the
   * answer ("Monitors time between receiving body data", undici docs/docs/api/Client.md), so
   * a body trickled one byte per gap never timed out; aborting the request also destroys
   * its body stream, which ends a read that is under way.
   */
  private deadline(): { signal: AbortSignal; expired(): boolean; clear(): void } {
    const ac = this.linked();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      ac.abort(new Error(`deadline of ${this.opts.timeoutMs} ms passed`));
    }, this.opts.timeoutMs);
    return {
      signal: ac.signal,
      expired: () => expired,
      clear: () => {
        clearTimeout(timer);
        this.inflight.delete(ac);
      },
    };
  }

  private timeoutError(method: string, path: string, cause: unknown): HttpConnectError {
    const setting = this.opts.settings?.timeout;
    return new HttpConnectError(method, path, 'TIMEOUT', `timed out after ${formatMs(this.opts.timeoutMs)}${setting ? ` (${setting})` : ''}`, cause);
  }

  async close(): Promise<void> {
    this.opts.signal?.removeEventListener('abort', this.onRunAbort);
    await this.pool.close();
  }
}

/**
 * The first `limit` bytes of a body; `truncated` when there was more (the rest is not read).
 * Read with 'data' events rather than `for await`: the async iterator costs a promise and a
 * result object per chunk, on every answer of a run.
 */
function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limit) {
        chunks.push(chunk.subarray(0, limit - size));
        body.off('data', onData);
        body.off('end', onEnd);
        // Destroying the stream makes undici close the connection: nothing more is read.
        // It reports that as an abort error, which the listener below swallows once settled.
        body.destroy();
        resolve({ bytes: Buffer.concat(chunks, limit), truncated: true });
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = (): void => {
      resolve({ bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), truncated: false });
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.on('error', reject);
  });
}

/** "64 MiB", or bytes when not whole MiB. */
function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

/** `/path?k=v`: the request target below the base path, as messages show it. */
function pathWithQuery(path: string, query: Record<string, string | number | boolean | undefined> | undefined): string {
  const qs = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  return `${path}${qs ? `?${qs}` : ''}`;
}

/** "2 s", or "1500 ms" when not whole seconds. */
function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** undici's own timers (the gap between two pieces, the TCP connect) are set to the deadline too. */
function isUndiciTimeout(err: unknown): boolean {
  return err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || errorCode(err) === 'UND_ERR_CONNECT_TIMEOUT';
}

function toConnectError(method: string, path: string, err: unknown, opts: Pick<TargetOptions, 'tls' | 'settings'>): HttpConnectError {
  if (err instanceof TlsPinError) return new HttpConnectError(method, path, 'TLS_PIN', err.message, err);
  const e = err as { code?: string; message?: string };
  const code = e.code ?? 'UNKNOWN';
  const advice = tlsAdvice(code, opts);
  if (advice !== undefined) {
    // Node ends some of these with "if the root CA is installed locally, try running Node.js
    // with --use-system-ca", a flag of the process the operator cannot act on here.
    const reason = (e.message ?? code).replace(/;?\s*if the root CA is installed locally,.*$/s, '');
    return new HttpConnectError(method, path, 'TLS_VERIFY', `TLS: ${reason} (${code}); ${advice}`, err);
  }
  return new HttpConnectError(method, path, code, `${code} ${e.message ?? ''}`.trim(), err);
}

/*
 * Certificate checks that failed, by the OpenSSL verify code Node reports (Node's
 * src/crypto/crypto_common.cc X509 error codes; ERR_TLS_CERT_ALTNAME_INVALID from
 * tls.checkServerIdentity).
 */
const TLS_CHAIN_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
]);
const TLS_NAME_CODES: ReadonlySet<string> = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const TLS_DATE_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_REVOKED',
]);

/** What to change in the policy after a failed certificate check, by its settings' names; undefined when `code` is no such failure. */
function tlsAdvice(code: string, opts: Pick<TargetOptions, 'tls' | 'settings'>): string | undefined {
  const caFile = opts.settings?.caFile ?? 'the CA file';
  const fingerprint = opts.settings?.fingerprint ?? 'the fingerprint';
  const verify = opts.settings?.verify ?? 'verification';
  const pinInstead = `pin the certificate with ${fingerprint} and set ${verify}: false`;
  if (TLS_CHAIN_CODES.has(code)) {
    return opts.tls.caFile
      ? `the certificate is not signed by the CA in ${caFile} (${opts.tls.caFile}): give the CA that signed it, or ${pinInstead}`
      : `set ${caFile} to the CA that signed it, or ${pinInstead}`;
  }
  if (TLS_NAME_CODES.has(code)) return `connect by a name the certificate lists, or ${pinInstead}`;
  if (TLS_DATE_CODES.has(code)) return `renew the certificate, or ${pinInstead}`;
  return undefined;
}

/**
 * The CA bundle of a target, read once when the target opens. A path that cannot be read,
 * or a file without a PEM certificate (Node would ignore it and fail every handshake with
 * "unable to verify"), names the setting and the path.
 */
function readCaFile(file: string, setting: string | undefined): Buffer {
  const name = setting ?? 'CA file';
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const why = /^[A-Z]+: ([^,]+)/.exec(e.message ?? '')?.[1] ?? e.message ?? String(err);
    throw new TlsConfigError(`${name} "${file}" cannot be read: ${why}${e.code ? ` (${e.code})` : ''}`, { cause: err });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TlsConfigError(`${name} "${file}" holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  }
  return pem;
}
