import cron, { type Logger as CronLogger, type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Policy } from './config/load.ts';

export interface SchedulerEvents {
  onSkippedTick?: (policy: string) => void;
}

/**
 * One node-cron task per policy with `noOverlap`: a tick that finds the previous run still
 * going is skipped, logged and counted. A policy without a schedule runs once at start.
 */
export class Scheduler {
  private readonly tasks = new Map<string, { task: ScheduledTask; hash: string }>();
  private readonly log: Logger;
  private readonly run: (policy: Policy) => Promise<unknown>;
  private readonly events: SchedulerEvents;
  private readonly coordinator: RunCoordinator | undefined;
  private readonly oneShots = new Set<Promise<unknown>>();
  private readonly ranOnce = new Map<string, string>();
  skippedTicks = 0;

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
        this.skippedTicks++;
        this.events.onSkippedTick?.(p.name);
        this.log.warn({ policy: p.name }, 'previous run still going, tick skipped');
      });
      void task.start();
      this.tasks.set(p.name, { task, hash: p.hash });
      this.log.info({ policy: p.name, schedule: p.schedule, next_run: task.getNextRun()?.toISOString() }, 'policy scheduled');
    }
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
