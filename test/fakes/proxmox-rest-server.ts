import type { FakeRequest, FakeResponse } from './https-server.ts';

/*
 * The answer shapes of proxmox-rest-server, the Rust API server PBS and PDM share
 * (proxmox crate proxmox-rest-server), for their two fakes.
 */

/** A proxmox-rest-server success: `{data, …result attributes}` (PBS and PDM alike). */
export function ok(data: unknown, extra: Record<string, unknown> = {}): FakeResponse {
  return { status: 200, body: { data, ...extra } };
}

/** proxmox-rest-server formatter.rs error_to_response: the message is the body, the content type still JSON. */
export function fail(status: number, message: string): FakeResponse {
  return { status, body: message, headers: { 'content-type': 'application/json;charset=UTF-8' } };
}

const API = '/api2/json';

/** What a scenario may inject, by API path (without /api2/json and query). */
export interface InjectedAnswers {
  /** Plain-text errors. */
  failures?: Record<string, { status: number; message: string }>;
  /** 200 answers with exactly this body instead of the JSON one. */
  rawBodies?: Record<string, string>;
}

/**
 * What every request meets before its handler: the API token (proxmox-auth-api
 * extract_auth_data: `<PREFIX>=` or `<PREFIX> ` then `USER@REALM!TOKEN:SECRET`), GET under
 * /api2/json, then the scenario's injected answers. An answer when one of them decides,
 * else the API path for the handler.
 */
export function restServerPreamble(
  tokenPrefix: 'PBSAPIToken' | 'PDMAPIToken',
  token: { tokenId: string; secret: string },
  s: InjectedAnswers,
  req: FakeRequest,
): { answer: FakeResponse } | { path: string } {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? new RegExp(`^${tokenPrefix}[= ]([^:]+):(.*)$`).exec(auth) : null;
  if (!m) return { answer: fail(401, 'authentication failed - no valid credentials found') }; // [inferred]
  if (m[1] !== token.tokenId || m[2] !== token.secret) return { answer: fail(401, 'authentication failed - invalid token') }; // [inferred]
  if (!req.path.startsWith(`${API}/`) || req.method !== 'GET') return { answer: fail(404, `Path '${req.path}' not found.`) };
  const path = req.path.slice(API.length);
  const injected = s.failures?.[path];
  if (injected) return { answer: fail(injected.status, injected.message) };
  const raw = s.rawBodies?.[path];
  if (raw !== undefined) return { answer: { status: 200, body: raw } };
  return { path };
}
