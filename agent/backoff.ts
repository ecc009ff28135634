/**
 * The one backoff rule of the agent: exponential from `baseMs`, capped at `maxMs`, with
 * jitter (a delay between `1 - jitter` of the ceiling and the ceiling; half for all three),
 * so retries of replicas or of many requests that failed together spread out instead of
 * arriving in step. Each protocol decides *whether* to retry in its own small function
 * (agent/http/retry.ts shouldRetryHttp, agent/diode/retry.ts shouldRetryGrpc,
 * agent/pipeline/deliver.ts outboxDecision); *how long* to wait, and how many attempts at
 * most, is this table.
 */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** The random share of each wait, 0 (none) to 1 (anything from 0 to the ceiling). */
  jitter: number;
  /** Attempts in all, the first included; Infinity: until something else ends it. */
  attempts: number;
}

export const BACKOFF = {
  /** A Proxmox-family API request (agent/http/client.ts): the run waits on it, so short. */
  http: { baseMs: 200, maxMs: 5_000, jitter: 0.5, attempts: 5 },
  /**
   * One Diode gRPC call (agent/diode/client.ts); `diode.backoff_max` overrides maxMs and
   * `diode.max_attempts` attempts (agent/config/schema.ts defaults them to these).
   */
  grpc: { baseMs: 500, maxMs: 30_000, jitter: 0.5, attempts: 5 },
  /**
   * A snapshot kept in the outbox until Diode is back (agent/pipeline/deliver.ts): retried
   * until it is delivered, a newer run supersedes it or the agent stops, so no limit.
   */
  outbox: { baseMs: 5_000, maxMs: 300_000, jitter: 0.5, attempts: Infinity },
} as const satisfies Record<string, Backoff>;

/** The wait before retry number `attempt` (1: after the first failure); `random` is injectable for tests. */
export function backoffDelay(attempt: number, b: Pick<Backoff, 'baseMs' | 'maxMs' | 'jitter'>, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return Math.round(ceiling * (1 - b.jitter) + random() * ceiling * b.jitter);
}

/** Whether attempt number `attempt` (1-based, the one that just failed) may be followed by another. */
export function attemptsLeft(attempt: number, b: Pick<Backoff, 'attempts'>): boolean {
  return attempt < b.attempts;
}
