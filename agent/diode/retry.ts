import { status } from '@grpc/grpc-js';

/**
 * The gRPC retry rule (DESIGN.md §7): transient server or transport states are retried
 * with bounded backoff; UNKNOWN and INVALID_ARGUMENT mean Diode rejected the request
 * itself (validation), so sending it again cannot help. UNAUTHENTICATED is handled apart:
 * one token refresh, then one more try.
 */
export const RETRYABLE_GRPC = new Set<number>([
  status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL,
]);

export function shouldRetryGrpc(code: number, attempt: number, maxAttempts: number): boolean {
  return attempt < maxAttempts && RETRYABLE_GRPC.has(code);
}

export function grpcCodeName(code: number): string {
  return (Object.entries(status).find(([, v]) => v === code)?.[0]) ?? String(code);
}
