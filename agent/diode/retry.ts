import { status } from '@grpc/grpc-js';
import { attemptsLeft } from '../backoff.ts';

/**
 * The gRPC retry rule: transient server or transport states are retried with bounded
 * backoff; UNKNOWN and INVALID_ARGUMENT mean Diode rejected the request itself
 * (validation), so sending it again cannot help. UNAUTHENTICATED is handled apart: one
 * token refresh, then one more try. netboxlabs/diode diode-server/ingester/component.go
 * Ingest: `validateRequest`'s plain error reaches the client as UNKNOWN, Redis above its
 * watermark is RESOURCE_EXHAUSTED ("retry with backoff"), a failed stream write INTERNAL.
 */
export const RETRYABLE_GRPC = new Set<number>([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL]);

export function shouldRetryGrpc(code: number, attempt: number, maxAttempts: number): boolean {
  return attemptsLeft(attempt, { attempts: maxAttempts }) && RETRYABLE_GRPC.has(code);
}

export function grpcCodeName(code: number): string {
  return Object.entries(status).find(([, v]) => v === code)?.[0] ?? String(code);
}

/**
 * The same rule for RetrieveIngestionLogs, which the read-back poller calls every
 * poll_interval until its timeout: a transient code waits for the next poll (no backoff of
 * its own), UNAUTHENTICATED gets one token refresh, and anything else means reading back
 * cannot work now (the reconciler requires the diode:read scope: netboxlabs/diode
 * diode-server/cmd/reconciler/main.go; UNIMPLEMENTED where it is not served).
 */
export function readBackFailure(code: number, reauthenticated: boolean): 'next_poll' | 'reauthenticate' | 'unavailable' {
  if (code === status.UNAUTHENTICATED && !reauthenticated) return 'reauthenticate';
  return RETRYABLE_GRPC.has(code) ? 'next_poll' : 'unavailable';
}
