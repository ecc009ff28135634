import type { FakeResponse } from './https-server.ts';

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
