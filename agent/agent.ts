import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { RunCoordinator } from 'node-cron';
import type { Logger } from 'pino';
import { DiodeClient, type IngestSink } from './diode/client.ts';
import { DryRunSink } from './diode/dry-run.ts';
import { loadPolicies, type AgentConfig, type Policy, type Registry } from './config/load.ts';
import { formatIssue, type ConfigIssue } from './errors.ts';
import { collectRun } from './pipeline/collect.ts';
import { Deliverer } from './pipeline/deliver.ts';
import type { RunResult } from './pipeline/result.ts';
import { Scheduler } from './pipeline/schedule.ts';
import { runContext } from './run-context.ts';
import { FileStateStore, type StateStore } from './state/store.ts';
import { Metrics } from './telemetry/metrics.ts';
import { ProgressReporter } from './telemetry/progress.ts';
import { PolicyReadiness, scheduleIntervalMs, type StalePolicy } from './telemetry/readiness.ts';
import { AGENT_VERSION } from './version.ts';

export interface AgentOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides diode.dry_run (the CLI's --dry-run). */
  dryRun?: boolean;
  /** Overrides diode.dry_run_output_dir (already resolved by loadAgentConfig for the CLI). */
  dryRunDir?: string;
  /** A live progress line for `once` on a terminal. */
  progressTty?: NodeJS.WriteStream;
  store?: StateStore;
  /** Retry undelivered snapshots in the background (the `run` command). */
  background?: boolean;
  outboxRetryBaseMs?: number;
  outboxRetryMaxMs?: number;
  /** Shares scheduled runs between replicas (Redis); absent: this agent runs them all. */
  coordinator?: RunCoordinator;
  /** Called once the agent has stopped, to release what the caller opened for it. */
  onStopped?: () => Promise<void>;
  /** Milliseconds since the epoch, for the readiness rule and the success timestamps (tests). */
  clock?: () => number;
}

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** The long-lived agent: policies, a Diode sink, a scheduler, and the last result per policy. */
export class Agent {
  readonly cfg: AgentConfig;
  readonly registry: Registry;
  readonly log: Logger;
  readonly sink: IngestSink;
  readonly dryRun: boolean;
  policies: Policy[] = [];
  policyIssues: ConfigIssue[] = [];
  readonly lastResults = new Map<string, RunResult>();
  private readonly running = new Map<string, Promise<RunResult>>();
  /**
   * One abort controller per run under way, aborted by stop(). Each run has its own signal,
   * so its HTTP targets' listeners (one per target) are on it rather than all runs' on one.
   */
  private readonly runAborts = new Set<AbortController>();
  private readonly tlsWarned = new Set<string>();
  private scheduler?: Scheduler;
  private watcher?: FSWatcher;
  private readonly opts: AgentOptions;
  readonly deliverer: Deliverer;
  readonly metrics = new Metrics();
  private readonly progress: ProgressReporter;
  /**
   * Last success per policy and the overdue rule of /readyz. Off with coordination: each
   * tick runs on one replica, so the others see no success of their own.
   */
  readonly readiness: PolicyReadiness;
  private readonly startedAt = new Date();
  private started = false;
  private stopping = false;
  private readonly store: StateStore;
  /** The last policy load saw every policy file (none failed to load, every directory listed). */
  private policySetComplete = false;
  /** Deleting the states of policies that no longer exist (start-up and reloads); tests await it. */
  stateCleanup: Promise<void> = Promise.resolve();

  constructor(cfg: AgentConfig, registry: Registry, log: Logger, opts: AgentOptions = {}) {
    this.cfg = cfg;
    this.registry = registry;
    this.log = log;
    this.opts = opts;
    this.dryRun = opts.dryRun ?? cfg.diode.dry_run;
    this.progress = new ProgressReporter(log, opts.progressTty ? { tty: opts.progressTty } : {});
    this.readiness = new PolicyReadiness({
      maxAgeIntervals: opts.coordinator ? 0 : cfg.agent.status.ready_max_age_intervals,
      ...(opts.clock && { now: opts.clock }),
    });
    if (!opts.coordinator && cfg.agent.status.ready_max_age_intervals > 0) {
      this.metrics.setOverdueSource(() => ({
        policies: this.policies.filter((p) => p.enabled && p.schedule).map((p) => p.name),
        overdue: new Set(this.overduePolicies().map((o) => o.policy)),
      }));
    }
    this.sink = this.dryRun
      ? new DryRunSink(opts.dryRunDir ?? cfg.diode.dry_run_output_dir, cfg.agent.name)
      : new DiodeClient({
          target: cfg.diode.target ?? '',
          clientId: cfg.diode.client_id ?? '',
          clientSecret: cfg.diode.client_secret ?? '',
          caFile: cfg.diode.ca_file,
          skipTlsVerify: cfg.diode.skip_tls_verify,
          timeoutMs: cfg.diode.timeout,
          maxAttempts: cfg.diode.max_attempts,
          backoffMaxMs: cfg.diode.backoff_max,
          log,
          onResult: (code, retrying) => this.metrics.diodeResult(code, retrying),
        });
    this.store = opts.store ?? new FileStateStore(cfg.agent.state_dir);
    this.deliverer = new Deliverer({
      sink: this.sink,
      store: this.store,
      log,
      appName: cfg.agent.name,
      stream: cfg.diode.stream,
      background: opts.background ?? false,
      // A dry run previews the next live delivery and leaves the live state as it was.
      readOnlyState: this.dryRun,
      sharedState: opts.coordinator !== undefined,
      ...(opts.outboxRetryBaseMs !== undefined ? { retryBaseMs: opts.outboxRetryBaseMs } : {}),
      ...(opts.outboxRetryMaxMs !== undefined ? { retryMaxMs: opts.outboxRetryMaxMs } : {}),
      onDelivered: (r) => {
        // A newer run (a failed collection, which leaves the snapshot pending) may have been
        // recorded since: /status keeps showing the newest run.
        const last = this.lastResults.get(r.policy);
        if (!last || last.startedAt <= r.startedAt) this.lastResults.set(r.policy, r);
        this.metrics.recordLateDelivery(r, this.readiness.record(r));
      },
      onSuperseded: (p) => this.metrics.supersededSnapshot(p),
      onDropped: (p, reason) => this.metrics.droppedSnapshot(p, reason),
      onStale: (p, n) => this.metrics.stale(p, n),
      onStateSaveFailed: (p) => this.metrics.stateSaveFailed(p),
      ...(cfg.diode.read_back.enabled ? { readBack: { timeoutMs: cfg.diode.read_back.timeout, pollIntervalMs: cfg.diode.read_back.poll_interval } } : {}),
    });
  }

  /** (Re)loads policies; problems are logged with file:line:col and the others still run. */
  loadPolicies(): void {
    const set = loadPolicies(this.cfg, this.registry, this.opts.env ?? process.env);
    this.policies = set.policies;
    this.policyIssues = set.issues;
    this.policySetComplete = set.issues.length === 0 && set.unreadableDir === undefined;
    this.logIssues(set.issues);
    this.syncPolicyTelemetry([]);
  }

  /**
   * Deletes the delta state of policies that no longer exist, so a deleted policy leaves
   * nothing behind in state_dir or Redis, and a policy later added under its name starts
   * with a full sync instead of against an old state. After the policy's run under way, if
   * any. Never in a dry run, which does not write state.
   */
  private forgetStates(names: readonly string[], reason: string): Promise<void> {
    if (this.dryRun || names.length === 0) return Promise.resolve();
    return Promise.all(
      names.map(async (name) => {
        await this.running.get(name)?.catch(() => undefined);
        try {
          const dropped = await this.deliverer.forget(name);
          this.log.info({ policy: name, reason, ...(dropped > 0 && { undelivered_entities_dropped: dropped }) }, 'state of a removed policy deleted');
        } catch (err) {
          this.log.warn({ policy: name, reason, err }, 'state of a removed policy could not be deleted');
        }
      }),
    ).then(() => undefined);
  }

  /**
   * At start-up: states of policies deleted while the agent was not running. Only when
   * every policy file loaded: a file that does not parse names no policy, and its state
   * must survive the typo.
   */
  private async forgetOrphanStates(): Promise<void> {
    if (this.dryRun) return;
    if (!this.policySetComplete) {
      this.log.info('a policy file did not load: states of deleted policies are kept until every file loads at start-up');
      return;
    }
    let stored: string[];
    try {
      stored = await this.store.list();
    } catch (err) {
      this.log.warn({ err }, 'cannot list the stored states; states of deleted policies are kept');
      return;
    }
    const known = new Set(this.policies.map((p) => p.name));
    await this.forgetStates(
      stored.filter((n) => !known.has(n)),
      'no such policy at start-up',
    );
  }

  /** Schedule intervals for /metrics; gauges and readiness of removed policies go. */
  private syncPolicyTelemetry(removed: readonly string[]): void {
    for (const name of removed) {
      this.metrics.forgetPolicy(name);
      this.readiness.forget(name);
    }
    for (const p of this.policies) this.metrics.scheduleInterval(p.name, p.schedule ? scheduleIntervalMs(p.schedule, p.timezone) : undefined);
    if (this.started) this.readiness.stale(this.policies);
  }

  private logIssues(issues: readonly ConfigIssue[]): void {
    for (const issue of issues) this.log.error({ file: issue.file, line: issue.line, key: issue.path }, formatIssue(issue));
  }

  /**
   * Hot reload: new and changed policies take effect, deleted ones stop; a file that no
   * longer validates is rejected with its errors and its previous policies keep running.
   */
  reloadPolicies(): void {
    const set = loadPolicies(this.cfg, this.registry, this.opts.env ?? process.env);
    const badFiles = new Set(set.issues.map((i) => i.file));
    const fileOf = (p: Policy) => p.source.replace(/:\d+$/, '');
    // A directory that cannot be listed says nothing about its files: they all keep running.
    const inUnreadableDir = (p: Policy) => set.unreadableDir !== undefined && dirname(fileOf(p)) === set.unreadableDir;
    const next = new Map(set.policies.map((p) => [p.name, p]));
    for (const old of this.policies) {
      if ((badFiles.has(fileOf(old)) || inUnreadableDir(old)) && !next.has(old.name)) {
        next.set(old.name, old);
        this.log.warn({ policy: old.name, file: fileOf(old) }, 'invalid policy change rejected, previous version keeps running');
      }
    }
    this.logIssues(set.issues);
    const before = new Map(this.policies.map((p) => [p.name, p.hash]));
    this.policies = [...next.values()];
    this.policyIssues = set.issues;
    const changed = this.policies.filter((p) => before.get(p.name) !== p.hash).map((p) => p.name);
    const removed = [...before.keys()].filter((n) => !next.has(n));
    this.log.info({ changed, removed, policies: this.policies.length }, 'policies reloaded');
    this.syncPolicyTelemetry(removed);
    this.scheduler?.sync(this.policies);
    const cleanup = this.forgetStates(removed, 'policy removed');
    this.stateCleanup = this.stateCleanup.then(() => cleanup);
  }

  /** Watches policies.dir and reloads on any change, debounced. */
  watchPolicies(debounceMs = 300): void {
    const dir = this.cfg.policiesDir;
    if (!dir || this.watcher) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      this.watcher = watch(dir, () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          try {
            this.reloadPolicies();
          } catch (err) {
            this.log.error({ err }, 'policy reload failed, previous policies keep running');
          }
        }, debounceMs);
      });
      this.watcher.on('error', (err) => this.log.error({ err, dir }, 'policy directory watch failed'));
    } catch (err) {
      this.log.error({ err, dir }, 'cannot watch the policy directory; changes need a restart');
    }
  }

  /** Runs a policy; a second call while one is running returns the same run. */
  run(policy: Policy): Promise<RunResult> {
    const existing = this.running.get(policy.name);
    if (existing) return existing;
    const abort = new AbortController();
    if (this.stopping) abort.abort(new Error('agent stopping'));
    else this.runAborts.add(abort);
    const p = collectRun(policy, {
      log: this.log,
      signal: abort.signal,
      tlsWarned: this.tlsWarned,
      onApiRequest: (collector, status, retried) => this.metrics.apiRequest(collector, status, retried),
      recall: () => this.deliverer.memoryOf(policy.name),
      onProgress: (name, done, total) => this.progress.report(name, policy.collector, done, total),
    })
      .then(async (run) => {
        // A cancelled collection has nothing to deliver, and an undelivered snapshot of an
        // earlier run keeps its place.
        const r =
          run.result.status === 'cancelled'
            ? run.result
            : await runContext.run({ policy: policy.name, runId: run.result.runId, log: run.log }, () => this.deliverer.deliver(policy, run));
        r.durationMs = Math.round(performance.now() - run.t0);
        if (this.sink instanceof DryRunSink) r.dryRunFiles = this.sink.takeFiles(r.runId);
        const fields = {
          status: r.status,
          state_error: r.stateError,
          duration_ms: r.durationMs,
          collected: r.collected,
          sent: r.sent,
          api_requests: r.apiRequests,
          diode_requests: r.diode.requests,
          warnings: r.warnings.length,
          delivery: r.delivery,
        };
        if (r.status === 'cancelled') run.log.warn(fields, 'run finished');
        else run.log.info(fields, 'run finished');
        return r;
      })
      .then((r) => {
        this.lastResults.set(policy.name, r);
        this.metrics.recordRun(r, this.readiness.record(r));
        return r;
      })
      .finally(() => {
        this.runAborts.delete(abort);
        this.running.delete(policy.name);
        this.progress.reset(policy.name);
        this.progress.clear();
      });
    this.running.set(policy.name, p);
    return p;
  }

  /** Runs the selected (default: all enabled) policies once, one after the other. */
  async once(names?: string[]): Promise<RunResult[]> {
    const selected = names?.length ? this.policies.filter((p) => names.includes(p.name)) : this.policies.filter((p) => p.enabled);
    const results: RunResult[] = [];
    for (const p of selected) results.push(await this.run(p));
    return results;
  }

  start(): void {
    this.scheduler = new Scheduler(
      (p) => this.run(p),
      this.log,
      { onSkippedTick: (p) => this.metrics.skippedTick(p), runAtStart: this.cfg.agent.run_at_start },
      this.opts.coordinator,
    );
    this.scheduler.sync(this.policies);
    this.stateCleanup = this.forgetOrphanStates();
    this.started = true;
    // Policies that have not succeeded yet count from now.
    this.readiness.stale(this.policies);
    this.log.info({ policies: this.policies.map((p) => p.name), dry_run: this.dryRun }, 'agent started');
  }

  /** The scheduled policies whose last success is older than agent.status.ready_max_age_intervals of their intervals. */
  overduePolicies(): StalePolicy[] {
    return this.readiness.stale(this.policies);
  }

  /**
   * Ready: configuration loaded, the scheduler running, at least one valid policy, and no
   * policy overdue. An agent without a valid policy stays up (so /status can say why) but
   * does no work.
   */
  ready(): boolean {
    return this.notReadyReasons().length === 0;
  }

  /** Why /readyz answers 503, one line each; empty when ready. */
  notReadyReasons(): string[] {
    if (!this.started) return ['the scheduler has not started'];
    if (this.stopping) return ['the agent is stopping'];
    if (this.policies.length === 0) return ['no valid policy loaded (see /status)'];
    const n = this.cfg.agent.status.ready_max_age_intervals;
    return this.overduePolicies().map(
      (o) =>
        `policy ${o.policy}: ${o.last_success === null ? 'no success since the agent started' : `last success ${o.last_success}`}, ${o.age_seconds} s ago, more than ${n} schedule intervals (${o.max_age_seconds} s)`,
    );
  }

  /** The /status document: per policy last run, next run, result, counts, warnings. No secret. */
  status(): unknown {
    return {
      agent: {
        name: this.cfg.agent.name,
        version: AGENT_VERSION,
        dry_run: this.dryRun,
        started_at: this.startedAt.toISOString(),
        ready: this.ready(),
        ...(this.started && { overdue_policies: this.overduePolicies() }),
      },
      policies: this.policies.map((p) => {
        const r = this.lastResults.get(p.name);
        return {
          name: p.name,
          collector: p.collector,
          schedule: p.schedule ?? null,
          enabled: p.enabled,
          next_run: this.nextRun(p.name)?.toISOString() ?? null,
          running: this.running.has(p.name),
          delivery_pending: this.deliverer.pending.has(p.name),
          last_success: isoOrNull(this.readiness.lastSuccess(p.name)),
          last_run: r
            ? {
                run_id: r.runId,
                started_at: r.startedAt,
                result: r.status,
                duration_ms: r.durationMs,
                api_requests: r.apiRequests,
                entities_collected: r.collected,
                entities_sent: r.sent,
                diode_requests: r.diode.requests,
                diode_errors: r.diode.errors.slice(0, 50),
                diode_read_back: r.diode.readBack ?? null,
                diode_failed: r.diode.failed?.slice(0, 50) ?? [],
                delivery: r.delivery ?? null,
                warnings: r.warnings.map((w) => ({ code: w.code, subject: w.subject, reason: w.message })),
                error: r.error ?? null,
                // A failed run that a later one may pass with nothing changed (agent/errors.ts).
                retryable: r.retryable === true,
                state_error: r.stateError ?? null,
              }
            : null,
        };
      }),
      policy_errors: this.policyIssues.map(formatIssue),
    };
  }

  nextRun(policy: string): Date | null {
    return this.scheduler?.nextRun(policy) ?? null;
  }

  /**
   * Graceful stop: no new runs, collection aborted, an in-flight delivery gets up to
   * `graceMs` to finish, then the sink is closed.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.watcher?.close();
    await this.scheduler?.stop();
    for (const abort of this.runAborts) abort.abort(new Error('agent stopping'));
    const inflight = [...this.running.values()];
    if (inflight.length) {
      this.log.info({ runs: inflight.length, grace_ms: graceMs }, 'waiting for in-flight runs');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(inflight),
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    await this.deliverer.stop(Math.max(1000, graceMs));
    await this.sink.close();
    await this.opts.onStopped?.();
  }
}
