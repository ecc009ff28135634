import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ReadBackUnavailableError, type IngestionLogReader } from './client.ts';
import type { EncodedEntity } from './codec.ts';
import { entityIdentity, outcomeOf, type IngestionLogView, type Outcome } from './reconciler.ts';

/** An IngestRequest Diode accepted, with the entities it carried in order. */
export interface SentRequest {
  id: string;
  entities: readonly EncodedEntity[];
  /** When it was sent (ms since the epoch): bounds the logs asked for. */
  sentAt: number;
}

export interface FailedEntity {
  kind: string;
  key: string;
  /** Diode's error text (DeviationError.message, with its code). */
  error: string;
}

/**
 * What reading back found. `complete`: every entity reached a final state; `timeout`: some
 * did not within diode.read_back.timeout (or the agent stopped first); `unavailable`: the
 * read-back call cannot work (`error` says why) and the delivery counted as without it.
 */
export interface ReadBackSummary {
  status: 'complete' | 'timeout' | 'unavailable';
  applied: number;
  noChanges: number;
  failed: number;
  ignored: number;
  /** Accepted by Ingest, no final log seen: counted as delivered. */
  unconfirmed: number;
  polls: number;
  error?: string;
}

export interface ReadBackOptions {
  reader: IngestionLogReader;
  timeoutMs: number;
  pollIntervalMs: number;
  log: Logger;
  signal?: AbortSignal;
  pageSize?: number;
  now?: () => number;
}

/**
 * How far before the first send the logs are asked for (ingestion_ts_start): the ingester
 * stamps ingestion_ts with its own clock, which may be behind the agent's.
 */
const CLOCK_SKEW_MS = 10 * 60_000;
/** Pages per listing: a bound for a Diode whose log table grows faster than it is read. */
const MAX_PAGES = 200;
const DEFAULT_PAGE_SIZE = 500;

interface Tracked {
  entities: readonly EncodedEntity[];
  /** Indexes of the entities without a final outcome yet. */
  pending: Set<number>;
  byFingerprint: Map<string, number[]>;
  byId: Map<string, number[]>;
}

function pushTo(m: Map<string, number[]>, k: string, i: number): void {
  const list = m.get(k);
  if (list) list.push(i);
  else m.set(k, [i]);
}

/**
 * Follows the ingestion logs of one delivery's requests until each entity has a final
 * state or the timeout passes.
 *
 * Why it works this way (netboxlabs/diode diode-server): the reconciler writes one log per
 * entity, carrying the request id and the entity, and applies them later (auto-apply
 * processor), so Ingest's OK only means "queued". RetrieveIngestionLogs lists logs newest
 * first with offset paging; every stored version of its Postgres query filters by state,
 * object type and ingestion_ts but not by request_id (dbstore/postgres/queries/
 * ingestion_logs.sql, repository.go RetrieveIngestionLogs), so the agent asks by request id,
 * bounded by ingestion_ts_start, and keeps only the logs of its own requests; once it sees
 * the filter ignored it lists once per poll for all of them. A log carries no entity
 * position, so it is matched to the agent's entity by content (entityIdentity). An entity
 * identical to one Diode already has gets no new log (the reconciler requeues the earlier
 * one: reconciler/ops/dedup.go BulkMarkDuplicates), so it stays unconfirmed.
 */
export class ReadBackSession {
  private readonly requests = new Map<string, Tracked>();
  private readonly order: string[] = [];
  private readonly outcomes = new Map<string, { index: number; outcome: Outcome; error?: string }[]>();
  private readonly seenLogs = new Set<string>();
  private readonly opts: ReadBackOptions;
  private earliestSend = Number.POSITIVE_INFINITY;
  private filterIgnored = false;
  private lastError?: string;
  unavailable?: ReadBackUnavailableError;
  polls = 0;
  /** When the run's read-back budget ends (set by the first wait). */
  private deadline: number | undefined;

  constructor(opts: ReadBackOptions) {
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  add(req: SentRequest): void {
    const t: Tracked = { entities: req.entities, pending: new Set(), byFingerprint: new Map(), byId: new Map() };
    req.entities.forEach((e, i) => {
      t.pending.add(i);
      pushTo(t.byFingerprint, e.fingerprint, i);
      pushTo(t.byId, e.id, i);
    });
    this.requests.set(req.id, t);
    this.order.push(req.id);
    this.earliestSend = Math.min(this.earliestSend, req.sentAt);
  }

  private pendingIn(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) n += this.requests.get(id)?.pending.size ?? 0;
    return n;
  }

  /**
   * Polls until every entity of `ids` (default: all requests) has a final state, the
   * timeout passes, reading back turns out unavailable, or the signal aborts. Never throws.
   * The timeout is one budget for the whole run, from its first wait: a Diode that stops
   * confirming costs a run `read_back.timeout` once, not once per delivery phase.
   */
  async wait(ids: readonly string[] = this.order): Promise<void> {
    this.deadline ??= this.now() + this.opts.timeoutMs;
    const deadline = this.deadline;
    for (;;) {
      if (this.unavailable || this.pendingIn(ids) === 0) return;
      if (this.opts.signal?.aborted) return;
      try {
        await this.poll(ids);
      } catch (err) {
        if (err instanceof ReadBackUnavailableError) {
          this.unavailable = err;
          return;
        }
        if (this.opts.signal?.aborted) continue;
        // Transient (Diode or its reconciler unreachable): the next poll tries again.
        this.lastError = (err as Error).message;
        this.opts.log.debug({ err: this.lastError, poll: this.polls }, 'read-back poll failed, trying again at the next poll');
      }
      if (this.pendingIn(ids) === 0) return;
      const left = deadline - this.now();
      if (left <= 0) return;
      try {
        await sleep(Math.min(this.opts.pollIntervalMs, left), undefined, this.opts.signal ? { signal: this.opts.signal } : undefined);
      } catch {
        // Aborted: the loop sees it.
      }
    }
  }

  private async poll(ids: readonly string[]): Promise<void> {
    this.polls++;
    const start = Math.max(0, this.earliestSend - CLOCK_SKEW_MS) * 1e6;
    const listings: Array<string | undefined> = this.filterIgnored ? [undefined] : ids.filter((id) => (this.requests.get(id)?.pending.size ?? 0) > 0);
    for (const requestId of listings) {
      let token = '';
      let pages = 0;
      do {
        const page = await this.opts.reader.retrieveIngestionLogs(
          {
            ...(requestId !== undefined ? { request_id: requestId } : {}),
            ingestion_ts_start: start,
            page_size: this.opts.pageSize ?? DEFAULT_PAGE_SIZE,
            page_token: token,
          },
          this.opts.signal,
        );
        for (const l of page.logs) {
          if (requestId !== undefined && l.requestId !== requestId) this.filterIgnored = true;
          this.apply(l);
        }
        token = page.nextPageToken;
        pages++;
      } while (
        token &&
        pages < MAX_PAGES &&
        (requestId !== undefined && !this.filterIgnored ? (this.requests.get(requestId)?.pending.size ?? 0) : this.pendingIn(ids)) > 0
      );
      if (this.filterIgnored) return;
    }
  }

  private apply(l: IngestionLogView): void {
    const t = this.requests.get(l.requestId);
    if (!t || t.pending.size === 0 || !l.entity) return;
    const outcome = outcomeOf(l.state);
    if (!outcome || this.seenLogs.has(l.id)) return;
    const ident = entityIdentity(l.entity);
    if (!ident) return;
    const pick = (list: number[] | undefined) => list?.find((i) => t.pending.has(i));
    const index = pick(t.byFingerprint.get(ident.fingerprint)) ?? pick(t.byId.get(ident.id));
    if (index === undefined) {
      this.opts.log.debug({ request_id: l.requestId, log_id: l.id, object_type: l.objectType }, 'ingestion log matches no entity of its request');
      return;
    }
    this.seenLogs.add(l.id);
    t.pending.delete(index);
    const entry: { index: number; outcome: Outcome; error?: string } = { index, outcome };
    if (outcome === 'failed')
      entry.error = l.error ? `${l.error.message || 'failed'}${l.error.code ? ` [${l.error.code}]` : ''}` : 'failed (Diode gave no error message)';
    const list = this.outcomes.get(l.requestId);
    if (list) list.push(entry);
    else this.outcomes.set(l.requestId, [entry]);
  }

  /** Entities Diode failed to apply, in the order they were sent, with Diode's error. */
  failed(): Array<{ entity: EncodedEntity; error: string }> {
    const out: Array<{ entity: EncodedEntity; error: string }> = [];
    for (const id of this.order) {
      const t = this.requests.get(id);
      const list = [...(this.outcomes.get(id) ?? [])].filter((o) => o.outcome === 'failed').sort((a, b) => a.index - b.index);
      for (const o of list) {
        const entity = t?.entities[o.index];
        if (entity) out.push({ entity, error: o.error ?? '' });
      }
    }
    return out;
  }

  /** Entities without a final log (accepted by Ingest, outcome unknown). */
  unconfirmed(): EncodedEntity[] {
    const out: EncodedEntity[] = [];
    for (const id of this.order) {
      const t = this.requests.get(id);
      if (!t) continue;
      for (const i of [...t.pending].sort((a, b) => a - b)) {
        const e = t.entities[i];
        if (e) out.push(e);
      }
    }
    return out;
  }

  summary(): ReadBackSummary {
    const counts = { applied: 0, no_changes: 0, failed: 0, ignored: 0 };
    let unconfirmed = 0;
    for (const t of this.requests.values()) unconfirmed += t.pending.size;
    for (const list of this.outcomes.values()) for (const o of list) counts[o.outcome]++;
    const status = this.unavailable ? 'unavailable' : unconfirmed > 0 ? 'timeout' : 'complete';
    const s: ReadBackSummary = {
      status,
      applied: counts.applied,
      noChanges: counts.no_changes,
      failed: counts.failed,
      ignored: counts.ignored,
      unconfirmed,
      polls: this.polls,
    };
    const error = this.unavailable?.message ?? (status === 'timeout' ? this.lastError : undefined);
    if (error) s.error = error;
    return s;
  }
}
