import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CollectContext, Warning } from '../collectors/types.ts';
import type { Policy } from '../config/load.ts';
import type { EncodedEntity } from '../diode/codec.ts';
import { errorMessage, isRetryable } from '../errors.ts';
import { HttpTarget } from '../http/client.ts';
import { mapAndEncode, startMapping, type EncodedRun } from './encode.ts';
import { orderRun } from './order.ts';
import { countByKind, type RunResult } from './result.ts';

export interface RunDeps {
  log: Logger;
  signal?: AbortSignal;
  now?: () => Date;
  /** Warns once per policy about unverified TLS, not once per run. */
  tlsWarned?: Set<string>;
  onProgress?: (policy: string, done: number, total: number) => void;
  onApiRequest?: (collector: string, status: string, retried: boolean) => void;
  /** What the policy's collector remembered last run (CollectContext.recall); absent: nothing. */
  recall?: () => Promise<unknown>;
}

/** A collected run, mapped, ordered and encoded once, ready for delivery. */
export interface CollectedRun {
  result: RunResult;
  log: Logger;
  /** Ordered entities, each encoded once; empty when collection failed. */
  encoded: EncodedEntity[];
  /** Collection time: the entities' timestamp. */
  at: Date;
  t0: number;
  /** VM keys the mapper says to forget, not report stale (MapSummary.forgetVms). */
  forgetVms?: ReadonlySet<string>;
  /** What the collector asked to remember (CollectContext.remember), saved with the run's state. */
  memory?: unknown;
}

/**
 * Collect, then map and encode (encode.ts); a collector with `mapParts` has its parts mapped
 * and encoded while it runs, and only the rest once it returns. The snapshot lives only in
 * this frame: once mapped it is garbage.
 */
async function collectAndEncode(policy: Policy, ctx: CollectContext<unknown>, now: () => Date, started: Date): Promise<EncodedRun> {
  const mapping = startMapping(policy, started);
  if (!mapping) {
    const snapshot = await policy.def.collect(ctx);
    return mapAndEncode(policy, snapshot, now());
  }
  const snapshot = await policy.def.collect({ ...ctx, part: mapping.part });
  return mapping.finish(snapshot, now());
}

/** Collect → snapshot → map (pure) and encode → order. Delivery is the caller's (deliver.ts). */
export async function collectRun(policy: Policy, deps: RunDeps): Promise<CollectedRun> {
  const runId = randomUUID();
  const log = deps.log.child({ policy: policy.name, collector: policy.collector, run_id: runId });
  const now = deps.now ?? (() => new Date());
  const started = now();
  const t0 = performance.now();
  const warnings: Warning[] = [];
  const targets: HttpTarget[] = [];
  const apiByStatus: Record<string, number> = {};
  const result: RunResult = {
    policy: policy.name,
    collector: policy.collector,
    runId,
    status: 'success',
    startedAt: started.toISOString(),
    durationMs: 0,
    warnings,
    collected: {},
    sent: {},
    apiRequests: 0,
    apiByStatus,
    diode: { requests: 0, entities: 0, bytes: 0, errors: [] },
  };
  const signal = deps.signal ?? new AbortController().signal;
  let recalled: Promise<unknown> | undefined;
  let memory: unknown;
  const ctx: CollectContext<unknown> = {
    policyName: policy.name,
    config: policy.config,
    scope: policy.scope,
    log,
    signal,
    target: (opts) => {
      if (!opts.tls.verify && !opts.tls.fingerprint && !deps.tlsWarned?.has(policy.name)) {
        deps.tlsWarned?.add(policy.name);
        log.warn({ target: opts.baseUrl }, 'TLS certificate verification is off and no fingerprint is pinned');
      }
      const t = new HttpTarget({
        ...opts,
        concurrency: policy.concurrency,
        signal,
        onRequest: (e) => {
          const k = String(e.status);
          apiByStatus[k] = (apiByStatus[k] ?? 0) + 1;
          deps.onApiRequest?.(policy.collector, k, e.retried);
        },
      });
      targets.push(t);
      return t;
    },
    warn: (w) => {
      warnings.push(w);
      log.warn({ warning: w.code, subject: w.subject, reason: w.message }, 'collector warning');
    },
    progress: (done, total) => deps.onProgress?.(policy.name, done, total),
    // Loaded once, when the collector first asks; a store that cannot be read gives nothing.
    recall: () =>
      (recalled ??= (deps.recall?.() ?? Promise.resolve(undefined)).catch((err: unknown) => {
        log.warn({ err }, 'collector memory unreadable, collecting without it');
        return undefined;
      })),
    remember: (value) => {
      memory = value;
    },
    now: () => now().getTime(),
  };
  log.info('run started');
  let encoded: EncodedEntity[] = [];
  let at = started;
  let forgetVms: ReadonlySet<string> | undefined;
  try {
    const run = await collectAndEncode(policy, ctx, now, started);
    at = run.at;
    // Each entity is encoded once, its natural key with it; ordering uses that key.
    encoded = orderRun(run.encoded);
    result.collected = countByKind(encoded);
    if (Object.keys(run.measures).length > 0) result.measures = run.measures;
    if (run.forgetVms) forgetVms = new Set(run.forgetVms);
  } catch (err) {
    if (signal.aborted) {
      // Stopping is no failure of the target: warn, not error, and say why.
      const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
      result.status = 'cancelled';
      result.error = `cancelled: ${reason}`;
      log.warn({ reason }, 'run cancelled');
    } else {
      // The failure is the run's result, not an exception: its message goes to the result and the log.
      result.status = 'failed';
      result.error = `collection failed: ${errorMessage(err)}`;
      if (isRetryable(err)) result.retryable = true;
      log.error({ err, reason: result.error, retryable: isRetryable(err) }, 'run failed');
    }
  } finally {
    await Promise.all(targets.map((t) => t.close().catch(() => {})));
    result.apiRequests = Object.values(apiByStatus).reduce((a, b) => a + b, 0);
    result.durationMs = Math.round(performance.now() - t0);
  }
  return {
    result,
    log,
    encoded,
    at,
    t0,
    ...(forgetVms && { forgetVms }),
    ...(memory !== undefined && result.status !== 'failed' && result.status !== 'cancelled' && { memory }),
  };
}
