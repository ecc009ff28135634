/**
 * The HTTP retry rule, one small function. The seed's rule: transient statuses 429, 502,
 * 503 and 504, at most 5 attempts. Connection-level failures (reset, refused, closed) are
 * transient too. Only idempotent methods are retried. A 595 from PVE means the proxied
 * node is down, and a timeout means the node did not answer within PROXMOX_API_TIMEOUT:
 * retrying either only multiplies the wait, so neither is retried.
 */
import { attemptsLeft } from '../backoff.ts';

export const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
export const RETRYABLE_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTCONN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export interface HttpAttempt {
  method: string;
  attempt: number; // 1-based number of the attempt that just failed
  maxAttempts: number;
  status?: number;
  errorCode?: string;
}

export function shouldRetryHttp(a: HttpAttempt): boolean {
  if (!attemptsLeft(a.attempt, { attempts: a.maxAttempts })) return false;
  if (a.method !== 'GET' && a.method !== 'HEAD') return false;
  if (a.status !== undefined) return RETRYABLE_STATUS.has(a.status);
  return a.errorCode !== undefined && RETRYABLE_ERROR_CODES.has(a.errorCode);
}

/*
 * Retryable across runs (agent/errors.ts AgentError.retryable): the next run may succeed with
 * nothing changed. Wider than the in-run rule above: a 595 (PVE: the proxied node is down) or
 * a timeout is not worth retrying within the run, but a later run may well find the node up.
 * A TLS failure (certificate, pin), an unknown host name or a 4xx is a setting, a credential
 * or a privilege to fix: permanent.
 */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

const TRANSIENT_CONNECT_CODES = new Set([
  ...RETRYABLE_ERROR_CODES,
  'TIMEOUT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function retryableConnectError(errorCode: string): boolean {
  return TRANSIENT_CONNECT_CODES.has(errorCode);
}

/** Retry-After in seconds or as an HTTP date, capped; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | string[] | undefined, capMs: number, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = Number(v);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.max(0, Math.min(capMs, ms));
}
