/**
 * The one backoff rule of the agent: exponential from `baseMs`, capped at `maxMs`, with
 * half jitter (a delay between half the ceiling and the ceiling), so retries of replicas or
 * of many requests that failed together spread out instead of arriving in step. Each
 * protocol decides *whether* to retry in its own small function (agent/http/retry.ts
 * shouldRetryHttp, agent/diode/retry.ts shouldRetryGrpc, agent/pipeline/deliver.ts isOutage);
 * *how long* to wait is this, with the configuration below.
 */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const BACKOFF = {
  /** A Proxmox-family API request (agent/http/client.ts): the run waits on it, so short. */
  http: { baseMs: 200, maxMs: 5_000 },
  /** One Diode gRPC call (agent/diode/client.ts); `diode.backoff_max` overrides maxMs. */
  grpc: { baseMs: 500, maxMs: 30_000 },
  /** A snapshot kept in the outbox until Diode is back (agent/pipeline/deliver.ts). */
  outbox: { baseMs: 5_000, maxMs: 300_000 },
} as const satisfies Record<string, Backoff>;

/** The wait before retry number `attempt` (1: after the first failure); `random` is injectable for tests. */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
