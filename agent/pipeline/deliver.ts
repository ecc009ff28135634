import type { Logger } from 'pino';
import { attemptsLeft, BACKOFF, backoffDelay } from '../backoff.ts';
import type { Policy } from '../config/load.ts';
import { errorMessage, isRetryable } from '../errors.ts';
import { DiodeAuthError } from '../diode/auth.ts';
import { DiodeError, type IngestSink } from '../diode/client.ts';
import type { EncodedEntity } from '../diode/codec.ts';
import { ReadBackSession } from '../diode/read-back.ts';
import { StateLoadError, StateSaveError, type PolicyState, type StateStore } from '../state/store.ts';
import { AGENT_NAME, AGENT_VERSION } from '../version.ts';
import type { CollectedRun } from './collect.ts';
import { commitDelta, planDelta, type DeltaOptions, type DeltaPlan } from './delta.ts';
import { ChunkedDelivery, DeliveryError } from './requests.ts';
import { countByKind, type RunResult } from './result.ts';

export interface DelivererOptions {
  sink: IngestSink;
  store: StateStore;
  log: Logger;
  appName: string;
  stream: string;
  /** Keep an undelivered snapshot and retry it in the background (the `run` command). */
  background: boolean;
  /**
   * Plan against the stored state but never write it (dry run): the sink did not deliver
   * anything to Diode, so recording its entities as accepted would make the next live run
   * skip them.
   */
  readOnlyState?: boolean;
  /**
   * Other agents write this store too (replicas sharing Redis): the collector memory is read
   * from the store every run instead of from what this agent saved last.
   */
  sharedState?: boolean;
  retryBaseMs?: number;
  retryMaxMs?: number;
  now?: () => number;
  onSuperseded?: (policy: string) => void;
  /** An undelivered snapshot was given up (see DropReason). */
  onDropped?: (policy: string, reason: DropReason) => void;
  onStale?: (policy: string, count: number) => void;
  onDelivered?: (result: RunResult) => void;
  /** A state save failed (the old state stays; see STATE_NOT_SAVED). */
  onStateSaveFailed?: (policy: string) => void;
  /**
   * diode.read_back: follow each delivery's ingestion logs (agent/diode/README.md). Used
   * only with a sink that can read them (not in a dry run).
   */
  readBack?: { timeoutMs: number; pollIntervalMs: number };
}

/** What the agent does when reading back cannot work, said once per policy. */
export const READ_BACK_FALLBACK =
  'entities count as delivered once Diode accepts them, as without read-back; grant the Diode OAuth2 client the diode:read scope, or set diode.read_back.enabled: false';

/**
 * What a failed state save means. The store replaces the state atomically, so the last
 * saved state is still there: the next run plans its delta against it and sends again
 * what this run sent (and anything else that changed since), not necessarily everything.
 */
export const STATE_NOT_SAVED = 'the next run compares against the last saved state and resends what changed since it was saved';

/**
 * Why an undelivered snapshot was given up. `shutdown`: the agent stopped while Diode was
 * unavailable. `policy_removed`: its policy was deleted while the snapshot waited. (A
 * snapshot replaced by a newer run is counted as superseded instead: its content goes out
 * with the newer one.)
 */
export type DropReason = 'shutdown' | 'policy_removed';

interface Pending {
  policy: Policy;
  run: CollectedRun;
  plan: DeltaPlan;
  delivery: ChunkedDelivery;
  /** The entities of the plan Diode accepted, by object (commitDelta). */
  accepted: Set<EncodedEntity>;
  /** diode.read_back on: the delivery's ingestion logs. */
  session?: ReadBackSession;
  /** Ids whose fingerprint is cleared in the state: Diode failed them, the next run resends them. */
  failedIds?: Set<string>;
  prev: PolicyState | null;
  opts: DeltaOptions;
  attempts: number;
  timer?: NodeJS.Timeout;
  /** Reported as dropped: reported once, even if its abandoned attempt ends later. */
  dropped?: boolean;
}

function setStateError(r: RunResult, err: StateSaveError | undefined): void {
  if (err) r.stateError = `${err.message}; ${STATE_NOT_SAVED}`;
  else delete r.stateError;
}

/**
 * Diode could not be reached (as opposed to Diode refusing the request): a gRPC code the
 * client retries (agent/diode/retry.ts), or a token endpoint that did not answer or answered
 * 5xx. A 4xx from the token endpoint is a refused credential, which waiting does not fix.
 */
export function isOutage(err: unknown): boolean {
  const cause = err instanceof DeliveryError ? err.cause : err;
  return (cause instanceof DiodeError || cause instanceof DiodeAuthError) && cause.retryable;
}

/**
 * The outbox's retry rule, after the sink's own retries gave up on a delivery: `keep` the
 * snapshot and try again later (BACKOFF.outbox) when Diode is down and the agent runs in the
 * background; `drop` it (reported) when Diode is down and the agent is stopping, since no
 * retry will come; else `fail`: the run failed, and the next run resends everything.
 */
export function outboxDecision(err: unknown, o: { background: boolean; stopping: boolean; attempt: number }): 'keep' | 'drop' | 'fail' {
  if (!o.background || !isOutage(err)) return 'fail';
  if (!attemptsLeft(o.attempt, BACKOFF.outbox)) return 'fail';
  return o.stopping ? 'drop' : 'keep';
}

/**
 * Delivers collected runs with delta sync and staleness, and never drops a snapshot
 * silently: while Diode is down the newest snapshot per policy waits and is retried with
 * bounded backoff; a newer run supersedes it (counted). State advances only for what
 * Diode accepted. Deliveries of one policy never overlap.
 */
export class Deliverer {
  readonly pending = new Map<string, Pending>();
  /** The delivery whose attempt is under way, per policy (at most one: deliveries are serial). */
  private readonly active = new Map<string, Pending>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly opts: DelivererOptions;
  superseded = 0;
  dropped = 0;
  private stopped = false;
  /** Ends read-back waits when the agent stops: what is not confirmed by then stays unconfirmed. */
  private readonly stopReadBack = new AbortController();
  private readonly readBackWarned = new Set<string>();
  /** The collector memory this agent last saved per policy, so a run does not parse the state twice. */
  private readonly savedMemory = new Map<string, unknown>();

  constructor(opts: DelivererOptions) {
    this.opts = opts;
  }

  private serial<T>(policy: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(policy) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.chains.set(
      policy,
      next.catch(() => {}),
    );
    return next;
  }

  /**
   * The collector memory for the policy's next run (CollectContext.recall): that of a run
   * still being delivered or waiting for Diode (newer than any saved state, and saved once
   * it is delivered or given up), else what this agent saved last, else what the store
   * holds (the first run after a start, a dry run, replicas). Throws what the store throws.
   */
  async memoryOf(policy: string): Promise<unknown> {
    if (!this.opts.sharedState) {
      const unsaved = this.active.get(policy) ?? this.pending.get(policy);
      if (unsaved && !this.opts.readOnlyState) return unsaved.run.memory;
      if (this.savedMemory.has(policy)) return this.savedMemory.get(policy);
    }
    return (await this.opts.store.load(policy))?.memory;
  }

  deliver(policy: Policy, run: CollectedRun): Promise<RunResult> {
    return this.serial(policy.name, () => this.start(policy, run));
  }

  private async loadState(policy: Policy, log: Logger): Promise<{ state: PolicyState | null; unreadable: boolean }> {
    try {
      return { state: await this.opts.store.load(policy.name), unreadable: false };
    } catch (err) {
      const message = err instanceof StateLoadError ? err.message : String(err);
      // The error for its stack and cause (scrubbed by agent/log.ts), the reason for a reader.
      log.warn({ err, reason: message }, 'state unreadable, doing a full resync');
      return { state: null, unreadable: true };
    }
  }

  private async start(policy: Policy, run: CollectedRun): Promise<RunResult> {
    const old = this.pending.get(policy.name);
    // A failed collection has nothing to deliver: a waiting snapshot is still the newest
    // good one and keeps its place (superseding it would lose it for nothing).
    if (run.result.status === 'failed') {
      if (old)
        run.log.warn(
          { pending_run_id: old.run.result.runId, collected_at: old.run.at.toISOString() },
          'collection failed; the undelivered snapshot of an earlier run stays pending',
        );
      return run.result;
    }
    if (old) {
      clearTimeout(old.timer);
      this.pending.delete(policy.name);
      this.superseded++;
      this.opts.onSuperseded?.(policy.name);
      run.log.warn({ superseded_run: old.run.result.runId }, 'undelivered snapshot superseded by a newer run');
      await this.commit(old, false);
    }
    const { state, unreadable } = await this.loadState(policy, run.log);
    const opts: DeltaOptions = {
      agentVersion: AGENT_VERSION,
      policyHash: policy.hash,
      now: this.opts.now?.() ?? Date.now(),
      delta: policy.delta,
      fullSyncIntervalMs: policy.full_sync_interval,
      staleAfterRuns: policy.stale_after_runs,
      staleAction: policy.stale.action,
      stateUnreadable: unreadable,
      ...(run.forgetVms && { forgetVms: run.forgetVms }),
    };
    const plan = planDelta(state, run.encoded, opts);
    run.result.delivery = { full: plan.full, reason: plan.reason, planned: plan.send.length, stale: plan.staleIds.size, pending: false };
    if (plan.staleIds.size) this.opts.onStale?.(policy.name, plan.staleIds.size);
    const accepted = new Set<EncodedEntity>();
    const reader = this.opts.sink.logs;
    const rb = this.opts.readBack;
    const session =
      rb && reader
        ? new ReadBackSession({ reader, timeoutMs: rb.timeoutMs, pollIntervalMs: rb.pollIntervalMs, log: run.log, signal: this.stopReadBack.signal })
        : undefined;
    const delivery = new ChunkedDelivery(plan.send, {
      sink: this.opts.sink,
      header: {
        stream: this.opts.stream,
        producer_app_name: this.opts.appName,
        producer_app_version: AGENT_VERSION,
        sdk_name: AGENT_NAME,
        sdk_version: AGENT_VERSION,
      },
      at: run.at,
      log: run.log,
      onAccepted: (req) => {
        for (const e of req.entities) accepted.add(e);
        session?.add(req);
      },
      // Ids are assigned per request by the reconciler's stream workers, several requests at
      // once, so only waiting for a phase's logs makes it land before the next; without
      // read-back the phases' requests merely go in order.
      ...(session
        ? {
            afterPhase: async (phase, reqs) => {
              run.log.info({ phase, requests: reqs.length }, 'delivery phase sent, waiting for Diode to apply it');
              await session.wait(reqs.map((r) => r.id));
              this.warnReadBack(policy.name, session, run.log);
            },
          }
        : {}),
    });
    run.log.info(
      {
        full: plan.full,
        reason: plan.reason,
        entities: plan.send.length,
        of: run.encoded.length,
        stale: plan.staleIds.size,
        state_read_only: this.opts.readOnlyState === true,
        read_back: session !== undefined,
      },
      'delivering',
    );
    return this.attempt({ policy, run, plan, delivery, accepted, ...(session ? { session } : {}), prev: state, opts, attempts: 0 });
  }

  private warnReadBack(policy: string, session: ReadBackSession, log: Logger): void {
    if (!session.unavailable || this.readBackWarned.has(policy)) return;
    this.readBackWarned.add(policy);
    log.warn({ err: session.unavailable, reason: session.unavailable.message, fallback: READ_BACK_FALLBACK }, 'diode read-back unavailable');
  }

  /**
   * After the last request: waits for the run's ingestion logs, then takes what Diode
   * failed out of what counts as delivered. Entities without a final log stay delivered
   * (Ingest accepted them), except those that were never confirmed before either (their
   * state fingerprint is empty, e.g. failed last run): resending them once more is cheap,
   * and Diode folds an identical resend into its earlier log, whose outcome a later run may
   * then see.
   */
  private async settleReadBack(p: Pending): Promise<void> {
    const session = p.session;
    if (!session) return;
    await session.wait();
    this.warnReadBack(p.policy.name, session, p.run.log);
    const summary = session.summary();
    const r = p.run.result;
    r.diode.readBack = summary;
    if (summary.status === 'unavailable') return;
    const failed = session.failed();
    r.diode.failed = failed.map(({ entity, error }) => ({ kind: entity.kind, key: entity.key, error }));
    p.failedIds = new Set(failed.map((f) => f.entity.id));
    for (const f of failed) p.accepted.delete(f.entity);
    for (const e of session.unconfirmed()) if (p.prev?.objects.get(e.id)?.fp === '') p.accepted.delete(e);
    if (failed.length)
      p.run.log.warn({ failed: failed.length, entities: r.diode.failed.slice(0, 20) }, 'diode failed to apply entities; the next run sends them again');
    if (summary.unconfirmed)
      p.run.log.warn(
        { unconfirmed: summary.unconfirmed, status: summary.status, err: summary.error },
        'diode read-back: entities without a final state, counted as delivered',
      );
  }

  private async attempt(p: Pending): Promise<RunResult> {
    this.active.set(p.policy.name, p);
    try {
      return await this.tryOnce(p);
    } finally {
      if (this.active.get(p.policy.name) === p) this.active.delete(p.policy.name);
    }
  }

  private async tryOnce(p: Pending): Promise<RunResult> {
    const r = p.run.result;
    p.attempts++;
    try {
      await p.delivery.send();
      this.pending.delete(p.policy.name);
      r.diode = { ...p.delivery.result };
      await this.settleReadBack(p);
      const complete = p.delivery.result.errors.length === 0;
      const saveError = await this.commit(p, complete);
      r.sent = countByKind(p.accepted);
      // Diode has everything, but the state does not know it: not a success.
      r.status = r.warnings.length || !complete || saveError || r.diode.failed?.length ? 'partial' : 'success';
      delete r.error;
      delete r.retryable;
      setStateError(r, saveError);
      if (r.delivery) r.delivery.pending = false;
      if (p.attempts > 1) this.opts.onDelivered?.(r);
      return r;
    } catch (err) {
      r.diode = { ...p.delivery.result };
      r.sent = countByKind(p.accepted);
      r.status = 'failed';
      if (isRetryable(err)) r.retryable = true;
      else delete r.retryable;
      // Stopping: no retry will come, so the snapshot is given up, and said so (once: an
      // attempt abandoned at the end of the grace period was reported then).
      const decision = outboxDecision(err, { background: this.opts.background, stopping: this.stopped, attempt: p.attempts });
      if (p.dropped || decision === 'drop') {
        this.pending.delete(p.policy.name);
        if (r.delivery) r.delivery.pending = false;
        r.error = `Diode unavailable (${errorMessage(err)}); snapshot dropped at shutdown`;
        this.reportDropped(p, 'shutdown');
        setStateError(r, await this.commit(p, false));
        return r;
      }
      if (decision === 'keep') {
        const delay = backoffDelay(p.attempts, {
          ...BACKOFF.outbox,
          ...(this.opts.retryBaseMs !== undefined && { baseMs: this.opts.retryBaseMs }),
          ...(this.opts.retryMaxMs !== undefined && { maxMs: this.opts.retryMaxMs }),
        });
        r.error = `Diode unavailable (${errorMessage(err)}); snapshot kept, next attempt in ${Math.round(delay / 1000)}s`;
        if (r.delivery) r.delivery.pending = true;
        p.run.log.warn(
          { err, attempt: p.attempts, retry_in_ms: delay, next_chunk: p.delivery.nextChunk, chunks: p.delivery.chunks.length },
          'delivery pending, Diode unavailable',
        );
        this.pending.set(p.policy.name, p);
        p.timer = setTimeout(() => {
          if (this.pending.get(p.policy.name) !== p) return;
          void this.serial(p.policy.name, () => (this.pending.get(p.policy.name) === p ? this.attempt(p) : Promise.resolve(r)));
        }, delay);
        p.timer.unref();
        return r;
      }
      this.pending.delete(p.policy.name);
      r.error = `delivery failed: ${errorMessage(err)}`;
      p.run.log.error({ err, delivered_requests: p.delivery.result.requests }, 'delivery failed; the next run resends everything');
      setStateError(r, await this.commit(p, false));
      return r;
    }
  }

  /** Records what Diode accepted; a failed save is logged, counted and returned, never thrown. */
  private async commit(p: Pending, complete: boolean): Promise<StateSaveError | undefined> {
    if (this.opts.readOnlyState) return undefined;
    const state = commitDelta(p.prev, p.opts, p.plan, p.run.encoded, p.accepted, complete);
    // commitDelta left a failed entity's fingerprint as it was, which is its current one
    // when a full sync resent it unchanged: cleared, the next delta run sends it again.
    for (const id of p.failedIds ?? []) {
      const obj = state.objects.get(id);
      if (obj) obj.fp = '';
    }
    // The memory is the run's, delivered or not: it is about the target, not about Diode.
    if (p.run.memory === undefined) delete state.memory;
    else state.memory = p.run.memory;
    try {
      await this.opts.store.save(p.policy.name, state);
      this.savedMemory.set(p.policy.name, p.run.memory);
      return undefined;
    } catch (cause) {
      this.savedMemory.delete(p.policy.name);
      // Stores other than the file store (Redis) throw their client's errors.
      const err = cause instanceof StateSaveError ? cause : new StateSaveError(`cannot save the state of ${p.policy.name}: ${errorMessage(cause)}`, cause);
      p.run.log.error({ err }, 'state not saved; the next run resends what changed since the last saved state');
      this.opts.onStateSaveFailed?.(p.policy.name);
      return err;
    }
  }

  /**
   * A snapshot given up: logged with what it held and since when, and counted. The next
   * run sends its content again, as far as it is still current (the state records only
   * what Diode accepted).
   */
  private reportDropped(p: Pending, reason: DropReason, inFlight = false): void {
    if (p.dropped) return;
    p.dropped = true;
    this.dropped++;
    let unsent = 0;
    for (let i = p.delivery.nextChunk; i < p.delivery.chunks.length; i++) unsent += p.delivery.chunks[i]?.length ?? 0;
    p.run.log.warn(
      { reason, entities: p.plan.send.length, unsent, collected_at: p.run.at.toISOString(), attempts: p.attempts, in_flight: inFlight },
      'undelivered snapshot dropped at shutdown',
    );
    this.opts.onDropped?.(p.policy.name, reason);
  }

  /**
   * A deleted policy: after its delivery under way (if any), a snapshot still waiting is
   * given up (logged and counted) and its stored state is removed, so no retry writes it
   * back. Returns the entities of the snapshot given up, 0 when none was waiting.
   */
  forget(policy: string): Promise<number> {
    return this.serial(policy, async () => {
      const p = this.pending.get(policy);
      let dropped = 0;
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(policy);
        dropped = p.plan.send.length;
        p.run.log.warn(
          { reason: 'policy_removed', entities: dropped, collected_at: p.run.at.toISOString(), attempts: p.attempts },
          'undelivered snapshot of a removed policy dropped',
        );
        this.dropped++;
        this.opts.onDropped?.(policy, 'policy_removed');
      }
      await this.opts.store.remove(policy);
      return dropped;
    });
  }

  /**
   * Stops retrying. Waiting snapshots are dropped at once (reported, what was accepted so
   * far recorded); a delivery under way gets up to `graceMs` to finish, and is reported
   * dropped if it does not.
   */
  async stop(graceMs?: number): Promise<void> {
    this.stopped = true;
    this.stopReadBack.abort();
    for (const p of [...this.pending.values()]) {
      if (this.active.get(p.policy.name) === p) continue;
      clearTimeout(p.timer);
      this.pending.delete(p.policy.name);
      const r = p.run.result;
      if (r.delivery) r.delivery.pending = false;
      r.error = 'Diode unavailable; snapshot dropped at shutdown';
      this.reportDropped(p, 'shutdown');
      setStateError(r, await this.commit(p, false));
    }
    const settled = Promise.allSettled([...this.chains.values()]);
    if (graceMs === undefined) {
      await settled;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      settled.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (finished) return;
    // The process is about to exit: an attempt still under way will not end in time.
    for (const p of this.active.values()) this.reportDropped(p, 'shutdown', true);
  }
}
