import cron, { type Logger as CronLogger, type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Policy } from './config/load.ts';

export interface SchedulerEvents {
  onSkippedTick?: (policy: string) => void;
  /**
   * agent.run_at_start (default true): a scheduled policy also runs as soon as it is
   * scheduled, unless its own run_at_start says otherwise.
   */
  runAtStart?: boolean;
}

/**
 * One node-cron task per policy with `noOverlap`: a tick that finds the previous run still
 * going is skipped, logged and counted. A policy without a schedule runs once at start. A
 * scheduled one also runs once when it is scheduled (run_at_start), so a new deployment or
 * a new policy shows data at once rather than after up to a whole period (15 minutes for
 * `*\/15`); a tick that comes while that run is going joins it (Agent.run).
 */
export class Scheduler {
  private readonly tasks = new Map<string, { task: ScheduledTask; hash: string }>();
  private readonly log: Logger;
  private readonly run: (policy: Policy) => Promise<unknown>;
  private readonly events: SchedulerEvents;
  private readonly coordinator: RunCoordinator | undefined;
  private readonly oneShots = new Set<Promise<unknown>>();
  private readonly ranOnce = new Map<string, string>();

  constructor(run: (policy: Policy) => Promise<unknown>, log: Logger, events: SchedulerEvents = {}, coordinator?: RunCoordinator) {
    this.run = run;
    this.log = log;
    this.events = events;
    this.coordinator = coordinator;
  }

  private cronLogger(name: string): CronLogger {
    const l = this.log.child({ policy: name });
    return {
      info: (m) => l.debug({ source: 'node-cron' }, m),
      warn: (m) => l.debug({ source: 'node-cron' }, m),
      error: (m) => l.error({ source: 'node-cron', err: String(m) }, 'scheduler error'),
      debug: (m) => l.debug({ source: 'node-cron' }, String(m)),
    };
  }

  /** Adds, replaces or removes tasks so they match `policies`; unchanged ones keep running. */
  sync(policies: readonly Policy[]): void {
    const wanted = new Map(policies.filter((p) => p.enabled).map((p) => [p.name, p]));
    for (const [name, t] of this.tasks) {
      const p = wanted.get(name);
      if (!p || p.hash !== t.hash) {
        void t.task.destroy();
        this.tasks.delete(name);
        this.log.info({ policy: name }, p ? 'policy changed, rescheduling' : 'policy removed, unscheduled');
      }
    }
    for (const p of wanted.values()) {
      if (this.tasks.has(p.name)) continue;
      if (!p.schedule) {
        // Runs once per version: a reload that leaves it unchanged does not run it again.
        if (this.ranOnce.get(p.name) === p.hash) continue;
        this.ranOnce.set(p.name, p.hash);
        const once = this.run(p).finally(() => this.oneShots.delete(once));
        this.oneShots.add(once);
        continue;
      }
      const task = cron.createTask(p.schedule, () => this.run(p), {
        name: p.name,
        noOverlap: true,
        ...(p.timezone ? { timezone: p.timezone } : {}),
        ...(p.jitter ? { maxRandomDelay: p.jitter } : {}),
        ...(this.coordinator ? { distributed: true, runCoordinator: this.coordinator } : {}),
        logger: this.cronLogger(p.name),
      });
      task.on('execution:overlap', () => {
        this.events.onSkippedTick?.(p.name);
        this.log.warn({ policy: p.name }, 'previous run still going, tick skipped');
      });
      void task.start();
      this.tasks.set(p.name, { task, hash: p.hash });
      const atStart = p.run_at_start ?? this.events.runAtStart ?? true;
      this.log.info({ policy: p.name, schedule: p.schedule, next_run: task.getNextRun()?.toISOString(), run_at_start: atStart }, 'policy scheduled');
      if (atStart) this.runAtStart(p, task);
    }
  }

  /**
   * The run of a policy as it is scheduled. With replicas, one of them runs it: the lease
   * names the policy version and lasts until its first tick, so replicas started together
   * (or restarted within the period) do not each run it.
   */
  private runAtStart(p: Policy, task: ScheduledTask): void {
    const start = async (): Promise<unknown> => {
      if (this.coordinator) {
        const ttl = Math.max(1000, (task.getNextRun()?.getTime() ?? Date.now()) - Date.now());
        if (!(await this.coordinator.shouldRun(`start:${p.name}:${p.hash}`, ttl))) {
          this.log.info({ policy: p.name }, 'run at start taken by another replica');
          return undefined;
        }
      }
      return this.run(p);
    };
    const once: Promise<unknown> = start()
      .catch((err: unknown) => this.log.error({ policy: p.name, err: (err as Error).message }, 'run at start failed'))
      .finally(() => this.oneShots.delete(once));
    this.oneShots.add(once);
  }

  nextRun(policy: string): Date | null {
    return this.tasks.get(policy)?.task.getNextRun() ?? null;
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Stops scheduling; running executions are not interrupted here. */
  async stop(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((t) => t.task.destroy()));
    this.tasks.clear();
  }

  /** Resolves when the runs of schedule-less policies have finished. */
  async oneShotsDone(): Promise<void> {
    await Promise.allSettled([...this.oneShots]);
  }
}
