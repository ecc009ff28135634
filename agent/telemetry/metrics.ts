import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunResult } from '../run.ts';

/** The agent's Prometheus metrics, on a registry of its own (one per agent instance). */
export class Metrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'policy' | 'result'>;
  private readonly duration: Histogram<'policy'>;
  private readonly collected: Counter<'policy' | 'kind'>;
  private readonly sent: Counter<'policy' | 'kind'>;
  private readonly api: Counter<'collector' | 'status'>;
  private readonly diode: Counter<'code'>;
  private readonly retries: Counter<'kind'>;
  private readonly skipped: Counter<'policy'>;
  private readonly superseded: Counter<'policy'>;
  private readonly staleObjects: Counter<'policy'>;
  private readonly warnings: Counter<'policy' | 'code'>;
  private readonly stateSaveFailures: Counter<'policy'>;
  private readonly dropped: Counter<'policy' | 'reason'>;
  private readonly failedInDiode: Counter<'policy'>;
  private readonly unconfirmed: Counter<'policy'>;
  private readonly readBackUnavailable: Counter<'policy'>;

  constructor() {
    const r = [this.registry];
    this.runs = new Counter({ name: 'diode_agent_runs_total', help: 'Policy runs by result (success, partial, failed)', labelNames: ['policy', 'result'], registers: r });
    this.duration = new Histogram({ name: 'diode_agent_run_duration_seconds', help: 'Duration of policy runs, collection and delivery', labelNames: ['policy'], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800], registers: r });
    this.collected = new Counter({ name: 'diode_agent_entities_collected_total', help: 'Entities produced by runs, by kind', labelNames: ['policy', 'kind'], registers: r });
    this.sent = new Counter({ name: 'diode_agent_entities_sent_total', help: 'Entities accepted by Diode, by kind', labelNames: ['policy', 'kind'], registers: r });
    this.api = new Counter({ name: 'diode_agent_api_requests_total', help: 'Upstream API requests by collector and HTTP status ("error" = no answer)', labelNames: ['collector', 'status'], registers: r });
    this.diode = new Counter({ name: 'diode_agent_diode_requests_total', help: 'Diode Ingest calls by gRPC status code', labelNames: ['code'], registers: r });
    this.retries = new Counter({ name: 'diode_agent_retries_total', help: 'Retried requests (http = upstream APIs, grpc = Diode)', labelNames: ['kind'], registers: r });
    this.skipped = new Counter({ name: 'diode_agent_skipped_ticks_total', help: 'Scheduled ticks skipped because the previous run was still going', labelNames: ['policy'], registers: r });
    this.superseded = new Counter({ name: 'diode_agent_superseded_snapshots_total', help: 'Undelivered snapshots replaced by a newer run while Diode was unavailable', labelNames: ['policy'], registers: r });
    this.staleObjects = new Counter({ name: 'diode_agent_stale_objects_total', help: 'Objects sent as stale', labelNames: ['policy'], registers: r });
    this.warnings = new Counter({ name: 'diode_agent_warnings_total', help: 'Collector warnings by code', labelNames: ['policy', 'code'], registers: r });
    this.stateSaveFailures = new Counter({ name: 'diode_agent_state_save_failures_total', help: 'Delta state saves that failed (the previous state stays in place)', labelNames: ['policy'], registers: r });
    this.dropped = new Counter({ name: 'diode_agent_snapshots_dropped_total', help: 'Undelivered snapshots given up, by reason (shutdown: the agent stopped while Diode was unavailable)', labelNames: ['policy', 'reason'], registers: r });
    this.failedInDiode = new Counter({ name: 'diode_agent_entities_failed_total', help: 'Entities Diode accepted but failed to apply (diode.read_back); the next run sends them again', labelNames: ['policy'], registers: r });
    this.unconfirmed = new Counter({ name: 'diode_agent_entities_unconfirmed_total', help: 'Entities without a final ingestion log when diode.read_back.timeout passed; counted as delivered', labelNames: ['policy'], registers: r });
    this.readBackUnavailable = new Counter({ name: 'diode_agent_read_back_unavailable_total', help: 'Deliveries whose read-back could not work (credential without diode:read, RPC not served)', labelNames: ['policy'], registers: r });
    collectDefaultMetrics({ register: this.registry, prefix: 'diode_agent_' });
  }

  recordRun(r: RunResult): void {
    this.runs.inc({ policy: r.policy, result: r.status });
    this.duration.observe({ policy: r.policy }, r.durationMs / 1000);
    for (const [kind, n] of Object.entries(r.collected)) this.collected.inc({ policy: r.policy, kind }, n);
    for (const [kind, n] of Object.entries(r.sent)) this.sent.inc({ policy: r.policy, kind }, n);
    for (const w of r.warnings) this.warnings.inc({ policy: r.policy, code: w.code });
    this.recordReadBack(r);
  }

  /** A snapshot delivered by a background retry after its run had been recorded as failed. */
  recordLateDelivery(r: RunResult): void {
    for (const [kind, n] of Object.entries(r.sent)) this.sent.inc({ policy: r.policy, kind }, n);
    this.recordReadBack(r);
  }

  private recordReadBack(r: RunResult): void {
    const rb = r.diode.readBack;
    if (!rb) return;
    // Zero increments create the series, so a dashboard sees 0 rather than no data.
    this.failedInDiode.inc({ policy: r.policy }, rb.failed);
    this.unconfirmed.inc({ policy: r.policy }, rb.unconfirmed);
    if (rb.status === 'unavailable') this.readBackUnavailable.inc({ policy: r.policy });
  }

  apiRequest(collector: string, status: string, retried: boolean): void {
    this.api.inc({ collector, status });
    if (retried) this.retries.inc({ kind: 'http' });
  }

  diodeResult(code: string, retried: boolean): void {
    this.diode.inc({ code });
    if (retried) this.retries.inc({ kind: 'grpc' });
  }

  skippedTick(policy: string): void {
    this.skipped.inc({ policy });
  }

  supersededSnapshot(policy: string): void {
    this.superseded.inc({ policy });
  }

  droppedSnapshot(policy: string, reason: string): void {
    this.dropped.inc({ policy, reason });
  }

  stateSaveFailed(policy: string): void {
    this.stateSaveFailures.inc({ policy });
  }

  stale(policy: string, n: number): void {
    this.staleObjects.inc({ policy }, n);
  }
}
