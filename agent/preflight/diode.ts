import { DiodeAuthError, TokenProvider } from '../diode/auth.ts';
import { parseTarget } from '../diode/target.ts';
import type { DiodeConfig } from '../config/schema.ts';
import type { ProbeResult } from './types.ts';
import { errorCode } from '../errors.ts';

/** What a refused token request means, by HTTP status. */
function refusalHint(status: number, target: string): string {
  if (status === 400 || status === 401) {
    return 'the client credential was refused; check diode.client_id and diode.client_secret (NetBox: Diode → Client Credentials)';
  }
  if (status === 403) return 'the client credential may not ingest (it needs the diode:ingest scope)';
  if (status === 404) {
    return `nothing answers token requests at this URL; the path of diode.target ("${target}") must be Diode's prefix, e.g. grpcs://netbox.example.com/diode`;
  }
  if (status >= 500) return "Diode's auth service failed; check Diode's logs";
  return 'unexpected answer';
}

/**
 * The OAuth2 client-credentials token request the agent makes before its first Ingest
 * (agent/diode/auth.ts TokenProvider, `<target>/auth/token`, scope diode:ingest), made once.
 */
export async function probeDiodeToken(diode: DiodeConfig): Promise<ProbeResult> {
  if (!diode.target)
    return { endpoint: 'POST <diode.target>/auth/token', ok: false, skipped: true, message: 'diode.target is not set (dry run): nothing to check' };
  let tokenUrl: string;
  try {
    tokenUrl = parseTarget(diode.target).tokenUrl;
  } catch (err) {
    return { endpoint: 'POST <diode.target>/auth/token', ok: false, message: (err as Error).message };
  }
  const endpoint = `POST ${tokenUrl}`;
  if (!diode.client_id || !diode.client_secret) {
    return { endpoint, ok: false, skipped: true, message: 'diode.client_id or diode.client_secret is not set (dry run): nothing to check' };
  }
  let provider: TokenProvider;
  try {
    provider = new TokenProvider({
      tokenUrl,
      clientId: diode.client_id,
      clientSecret: diode.client_secret,
      caFile: diode.ca_file,
      skipTlsVerify: diode.skip_tls_verify,
      timeoutMs: diode.timeout,
    });
  } catch (err) {
    // The CA file is read when the provider is made.
    return { endpoint, ok: false, message: `diode.ca_file "${diode.ca_file ?? ''}" cannot be read: ${errorCode(err) ?? (err as Error).message}` };
  }
  try {
    await provider.get();
    return { endpoint, ok: true, status: 200, message: 'a token was issued (scope diode:ingest)' };
  } catch (err) {
    if (!(err instanceof DiodeAuthError)) throw err;
    if (err.status === undefined) {
      const code = errorCode(err.cause) ?? (err.cause as Error | undefined)?.message ?? 'no answer';
      return {
        endpoint,
        ok: false,
        message: `no answer (${code}); check diode.target and the route to it, and for grpcs:// diode.ca_file or diode.skip_tls_verify`,
      };
    }
    if (err.status === 200) return { endpoint, ok: false, status: 200, message: err.message.replace(/^token response from \S+ /, 'the answer ') };
    return { endpoint, ok: false, status: err.status, message: `HTTP ${err.status}: ${refusalHint(err.status, diode.target)}` };
  } finally {
    await provider.close();
  }
}
