import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { AgentError } from '../errors.ts';
import { registerSecret } from '../log.ts';

export class DiodeAuthError extends AgentError {
  readonly status?: number;
  /** The OAuth2 error code of a refused request (RFC 6749 §5.2), e.g. invalid_scope. */
  readonly oauthError?: string;
  constructor(message: string, status?: number, cause?: unknown, oauthError?: string) {
    // No answer or a 5xx: the token endpoint is down, not refusing the credential. TLS spoken
    // to a plaintext port is no answer too, but diode.target to fix: permanent.
    super('diode_auth_failed', message, {
      cause,
      retryable: (status === undefined || status >= 500) && !isPlaintextServer(cause) && !PLAINTEXT_MESSAGE.test(message),
    });
    if (status !== undefined) this.status = status;
    if (oauthError !== undefined) this.oauthError = oauthError;
  }
}

/**
 * A TLS client that gets a plaintext answer: OpenSSL reads the first bytes of an HTTP
 * response as a record header and reports "wrong version number" (ERR_SSL_WRONG_VERSION_NUMBER).
 */
/** The same, as grpc-js and the token request word it in a message ("wrong version number", ERR_SSL_WRONG_VERSION_NUMBER). */
export const PLAINTEXT_MESSAGE = /wrong[ _]version[ _]number/i;

export function isPlaintextServer(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; details?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e.code === 'ERR_SSL_WRONG_VERSION_NUMBER') return true;
    if ([e.message, e.details].some((t) => typeof t === 'string' && PLAINTEXT_MESSAGE.test(t))) return true;
  }
  return false;
}

export const PLAINTEXT_HINT = ' (the server does not speak TLS on this port: use grpc:// in diode.target, or the port that serves TLS)';

function tlsHint(err: unknown): string {
  return isPlaintextServer(err) ? PLAINTEXT_HINT : '';
}

/** What to change after the token endpoint said no. */
function refusalHint(status: number, tokenUrl: string): string {
  if (status === 401) return ' (check diode.client_id and diode.client_secret)';
  if (status === 404) {
    // NetBox Enterprise serves Diode under /diode behind its ingress; without the prefix
    // the request lands on NetBox itself, which has no /auth/token.
    const path = new URL(tokenUrl).pathname.replace(/\/auth\/token$/, '');
    return path === ''
      ? ' (nothing at /auth/token: Diode behind the NetBox Enterprise ingress needs the /diode path prefix, e.g. diode.target: grpcs://netbox.example.com/diode)'
      : ` (nothing at ${path}/auth/token: check the path of diode.target; Diode behind the NetBox Enterprise ingress is at /diode)`;
  }
  return '';
}

export interface TokenProviderOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  caFile?: string | undefined;
  skipTlsVerify?: boolean;
  timeoutMs: number;
  /**
   * Space-separated OAuth2 scopes (RFC 6749 §3.3); default diode:ingest. Diode's token
   * endpoint forwards to Ory Hydra (netboxlabs/diode diode-server/auth/server.go `token`),
   * whose client-credentials handler refuses the whole request with invalid_scope if any
   * scope asked for is not among the client's (ory/fosite
   * handler/oauth2/flow_client_credentials.go), so each scope set gets a provider of its own.
   */
  scope?: string;
  now?: () => number;
}

/**
 * OAuth2 client-credentials tokens for Diode (`…/auth/token`, scope diode:ingest or diode:read),
 * cached until shortly before expiry and refreshed on demand after UNAUTHENTICATED.
 */
export class TokenProvider {
  private token?: { value: string; expiresAt: number };
  private pending?: Promise<string>;
  private readonly dispatcher: Agent;
  private readonly opts: TokenProviderOptions;

  constructor(opts: TokenProviderOptions) {
    this.opts = opts;
    this.dispatcher = new Agent({ connect: { rejectUnauthorized: !opts.skipTlsVerify, ...(opts.caFile ? { ca: readFileSync(opts.caFile) } : {}) } });
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async get(): Promise<string> {
    if (this.token && this.token.expiresAt > this.now()) return this.token.value;
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(): void {
    this.token = undefined;
  }

  private async fetch(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: this.opts.scope ?? 'diode:ingest',
    }).toString();
    let res;
    try {
      res = await request(this.opts.tokenUrl, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        dispatcher: this.dispatcher,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new DiodeAuthError(`token request to ${this.opts.tokenUrl} failed: ${e.code ?? e.message}${tlsHint(err)}`, undefined, err);
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      const oauthError = oauthErrorOf(text);
      throw new DiodeAuthError(
        `token request to ${this.opts.tokenUrl} was refused: HTTP ${res.statusCode}${oauthError ? ` ${oauthError}` : ''}${refusalHint(res.statusCode, this.opts.tokenUrl)}`,
        res.statusCode,
        undefined,
        oauthError,
      );
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (err) {
      throw new DiodeAuthError(`token response from ${this.opts.tokenUrl} is not JSON`, res.statusCode, err);
    }
    if (typeof parsed.access_token !== 'string' || !parsed.access_token)
      throw new DiodeAuthError(`token response from ${this.opts.tokenUrl} has no access_token`, res.statusCode);
    const ttlMs = (typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600) * 1000;
    registerSecret(parsed.access_token);
    // Refresh at 90% of the lifetime so a request never leaves with a token about to lapse.
    this.token = { value: parsed.access_token, expiresAt: this.now() + ttlMs * 0.9 };
    return parsed.access_token;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** The `error` member of an OAuth2 error response, if the body is one. */
function oauthErrorOf(text: string): string | undefined {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    return typeof e === 'string' && /^[\x20-\x7e]{1,64}$/.test(e) ? e : undefined;
  } catch {
    return undefined;
  }
}
