import cron from 'node-cron';
import type { RunResult } from '../pipeline/result.ts';

/*
 * /readyz beyond "the scheduler runs": not ready while a scheduled policy's last success is
 * older than `agent.status.ready_max_age_intervals` of its intervals (default 2). A success
 * is a run whose snapshot reached Diode: status `success`, or `partial` (warnings, some
 * entities rejected, state not saved). A policy that has not succeeded yet counts from when
 * this agent first saw it, so a fresh start is ready.
 */

export interface ReadinessPolicy {
  name: string;
  schedule?: string | undefined;
  timezone?: string | undefined;
  /** Milliseconds of random delay per tick (node-cron's maxRandomDelay). */
  jitter: number;
  enabled: boolean;
}

export interface StalePolicy {
  policy: string;
  /** ISO time of the last success, null when there was none since the agent started. */
  last_success: string | null;
  age_seconds: number;
  max_age_seconds: number;
}

/** How many upcoming ticks the interval is read from: enough to see a weekend gap of a weekday schedule. */
const SAMPLED_TICKS = 64;

const intervals = new Map<string, number | undefined>();

/**
 * The interval of a cron schedule: the longest gap between consecutive ticks among the
 * next SAMPLED_TICKS, as node-cron computes them (ScheduledTask.getNextRuns, in the policy's
 * time zone). The longest, not the next, so a weekday schedule is not stale every Monday
 * morning. Undefined when the expression yields fewer than two ticks.
 */
export function scheduleIntervalMs(schedule: string, timezone?: string): number | undefined {
  const key = `${schedule}\u0000${timezone ?? ''}`;
  if (intervals.has(key)) return intervals.get(key);
  // A task that is created but never started runs nothing; destroy() takes it out of node-cron's registry.
  const task = cron.createTask(schedule, () => {}, timezone ? { timezone } : {});
  let longest: number | undefined;
  try {
    const runs = task.getNextRuns(SAMPLED_TICKS).map((d) => d.getTime());
    for (let i = 1; i < runs.length; i++) {
      const gap = (runs[i] ?? 0) - (runs[i - 1] ?? 0);
      if (gap > 0 && (longest === undefined || gap > longest)) longest = gap;
    }
  } finally {
    void task.destroy();
  }
  intervals.set(key, longest);
  return longest;
}

/** Whether a finished run counts as a success: its snapshot was delivered. */
export function isSuccess(r: Pick<RunResult, 'status'>): boolean {
  return r.status === 'success' || r.status === 'partial';
}

export interface ReadinessOptions {
  /** `agent.status.ready_max_age_intervals`; 0 turns the rule off. */
  maxAgeIntervals: number;
  now?: () => number;
}

/** Last success per policy, and which scheduled policies are overdue. */
export class PolicyReadiness {
  private readonly lastSuccessMs = new Map<string, number>();
  private readonly firstSeenMs = new Map<string, number>();
  private readonly opts: ReadinessOptions;

  constructor(opts: ReadinessOptions) {
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Records a finished run; returns the time of the success it was, or undefined. */
  record(r: Pick<RunResult, 'policy' | 'status'>): number | undefined {
    if (!isSuccess(r)) return undefined;
    const at = this.now();
    this.lastSuccessMs.set(r.policy, at);
    return at;
  }

  lastSuccess(policy: string): number | undefined {
    return this.lastSuccessMs.get(policy);
  }

  forget(policy: string): void {
    this.lastSuccessMs.delete(policy);
    this.firstSeenMs.delete(policy);
  }

  /** The scheduled, enabled policies whose last success (or first sight) is older than the allowed age. */
  stale(policies: readonly ReadinessPolicy[]): StalePolicy[] {
    const now = this.now();
    const out: StalePolicy[] = [];
    for (const p of policies) {
      if (!this.firstSeenMs.has(p.name)) this.firstSeenMs.set(p.name, now);
      if (this.opts.maxAgeIntervals <= 0 || !p.enabled || !p.schedule) continue;
      const interval = scheduleIntervalMs(p.schedule, p.timezone);
      if (interval === undefined) continue;
      const maxAge = this.opts.maxAgeIntervals * interval + p.jitter;
      const last = this.lastSuccessMs.get(p.name);
      const age = now - (last ?? this.firstSeenMs.get(p.name) ?? now);
      if (age > maxAge) {
        out.push({
          policy: p.name,
          last_success: last === undefined ? null : new Date(last).toISOString(),
          age_seconds: Math.round(age / 1000),
          max_age_seconds: Math.round(maxAge / 1000),
        });
      }
    }
    return out;
  }
}
