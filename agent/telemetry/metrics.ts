import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunResult } from '../pipeline/result.ts';
import { AGENT_VERSION } from '../version.ts';

/**
 * Inventory-quality gauges: how many warnings of these codes the last collected run of the
 * policy gave (agent/collectors/pve/README.md "Warnings"). Set when a run collected (its
 * snapshot was planned for delivery); a run whose collection failed leaves them as they were.
 */
export const QUALITY_GAUGES = [
  {
    name: 'diode_agent_inventory_guests_without_agent',
    help: 'Running QEMU guests with the agent enabled whose guest agent did not answer in the last collected run (warning guest_agent_unavailable): no guest IPs, platform from ostype',
    codes: ['guest_agent_unavailable'],
  },
  {
    name: 'diode_agent_inventory_duplicate_names_skipped',
    help: 'Guests skipped in the last collected run because a lower vmid has the same name (warning guest_name_duplicate)',
    codes: ['guest_name_duplicate'],
  },
] as const;

/**
 * Gauges fed from a run's measures (CollectorDefinition.measures and what mapEach returns):
 * counts the collector computes from the inventory rather than from warnings.
 */
export const INVENTORY_MEASURES = [
  {
    measure: 'addresses_dropped',
    name: 'diode_agent_inventory_addresses_dropped',
    help: 'IP addresses left out in the last collected run because another object already holds them (the first owner keeps an address: nodes, then guests by vmid)',
  },
  {
    measure: 'guests_without_recent_backup',
    name: 'diode_agent_inventory_guests_without_recent_backup',
    help: 'Guests without a backup newer than BACKUP_MAX_AGE in the last collected run (pve, BACKUP_STATUS: true)',
  },
  {
    measure: 'guests_in_no_backup_job',
    name: 'diode_agent_inventory_guests_in_no_backup_job',
    help: 'Guests no backup job covers, as PVE reports them (GET /cluster/backup-info/not-backed-up) in the last collected run',
  },
] as const;

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
  private readonly lastSuccess: Gauge<'policy'>;
  private readonly interval: Gauge<'policy'>;
  private readonly quality: Array<{ gauge: Gauge<'policy'>; codes: ReadonlySet<string> }>;
  private readonly staleLastRun: Gauge<'policy'>;
  private readonly measures: Array<{ gauge: Gauge<'policy'>; measure: string }>;
  private readonly overdue: Gauge<'policy'>;
  /** The policies the overdue gauge covers, and the overdue ones, read at each scrape. */
  private overdueSource?: () => { policies: readonly string[]; overdue: ReadonlySet<string> };

  constructor() {
    const r = [this.registry];
    new Gauge({
      name: 'diode_agent_build_info',
      help: 'Always 1; the agent version and the Node.js version as labels',
      labelNames: ['version', 'nodejs'],
      registers: r,
    }).set({ version: AGENT_VERSION, nodejs: process.version }, 1);
    this.lastSuccess = new Gauge({
      name: 'diode_agent_last_success_timestamp_seconds',
      help: 'Unix time of the last run of the policy whose snapshot reached Diode (result success or partial)',
      labelNames: ['policy'],
      registers: r,
    });
    this.interval = new Gauge({
      name: 'diode_agent_schedule_interval_seconds',
      help: "The longest gap between two ticks of the policy's schedule (the unit of agent.status.ready_max_age_intervals)",
      labelNames: ['policy'],
      registers: r,
    });
    this.quality = QUALITY_GAUGES.map((q) => ({
      gauge: new Gauge({ name: q.name, help: q.help, labelNames: ['policy'], registers: r }),
      codes: new Set<string>(q.codes),
    }));
    this.measures = INVENTORY_MEASURES.map((m) => ({
      gauge: new Gauge({ name: m.name, help: m.help, labelNames: ['policy'], registers: r }),
      measure: m.measure,
    }));
    this.staleLastRun = new Gauge({
      name: 'diode_agent_inventory_stale_objects',
      help: 'Objects the last collected run sent as stale (missing for stale_after_runs runs)',
      labelNames: ['policy'],
      registers: r,
    });
    const source = () => this.overdueSource?.();
    this.overdue = new Gauge({
      name: 'diode_agent_policy_overdue',
      help: '1 while the last success of the policy is older than agent.status.ready_max_age_intervals of its intervals (then /readyz answers 503), else 0',
      labelNames: ['policy'],
      registers: r,
      collect() {
        const src = source();
        if (!src) return;
        this.reset();
        for (const p of src.policies) this.set({ policy: p }, src.overdue.has(p) ? 1 : 0);
      },
    });
    this.runs = new Counter({
      name: 'diode_agent_runs_total',
      help: 'Policy runs by result (success, partial, failed)',
      labelNames: ['policy', 'result'],
      registers: r,
    });
    this.duration = new Histogram({
      name: 'diode_agent_run_duration_seconds',
      help: 'Duration of policy runs, collection and delivery',
      labelNames: ['policy'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: r,
    });
    this.collected = new Counter({
      name: 'diode_agent_entities_collected_total',
      help: 'Entities produced by runs, by kind',
      labelNames: ['policy', 'kind'],
      registers: r,
    });
    this.sent = new Counter({
      name: 'diode_agent_entities_sent_total',
      help: 'Entities accepted by Diode, by kind',
      labelNames: ['policy', 'kind'],
      registers: r,
    });
    this.api = new Counter({
      name: 'diode_agent_api_requests_total',
      help: 'Upstream API requests by collector and HTTP status ("error" = no answer)',
      labelNames: ['collector', 'status'],
      registers: r,
    });
    this.diode = new Counter({ name: 'diode_agent_diode_requests_total', help: 'Diode Ingest calls by gRPC status code', labelNames: ['code'], registers: r });
    this.retries = new Counter({
      name: 'diode_agent_retries_total',
      help: 'Retried requests (http = upstream APIs, grpc = Diode)',
      labelNames: ['kind'],
      registers: r,
    });
    this.skipped = new Counter({
      name: 'diode_agent_skipped_ticks_total',
      help: 'Scheduled ticks skipped because the previous run was still going',
      labelNames: ['policy'],
      registers: r,
    });
    this.superseded = new Counter({
      name: 'diode_agent_superseded_snapshots_total',
      help: 'Undelivered snapshots replaced by a newer run while Diode was unavailable',
      labelNames: ['policy'],
      registers: r,
    });
    this.staleObjects = new Counter({ name: 'diode_agent_stale_objects_total', help: 'Objects sent as stale', labelNames: ['policy'], registers: r });
    this.warnings = new Counter({ name: 'diode_agent_warnings_total', help: 'Collector warnings by code', labelNames: ['policy', 'code'], registers: r });
    this.stateSaveFailures = new Counter({
      name: 'diode_agent_state_save_failures_total',
      help: 'Delta state saves that failed (the previous state stays in place)',
      labelNames: ['policy'],
      registers: r,
    });
    this.dropped = new Counter({
      name: 'diode_agent_snapshots_dropped_total',
      help: 'Undelivered snapshots given up, by reason (shutdown: the agent stopped while Diode was unavailable)',
      labelNames: ['policy', 'reason'],
      registers: r,
    });
    this.failedInDiode = new Counter({
      name: 'diode_agent_entities_failed_total',
      help: 'Entities Diode accepted but failed to apply (diode.read_back); the next run sends them again',
      labelNames: ['policy'],
      registers: r,
    });
    this.unconfirmed = new Counter({
      name: 'diode_agent_entities_unconfirmed_total',
      help: 'Entities without a final ingestion log when diode.read_back.timeout passed; counted as delivered',
      labelNames: ['policy'],
      registers: r,
    });
    this.readBackUnavailable = new Counter({
      name: 'diode_agent_read_back_unavailable_total',
      help: 'Deliveries whose read-back could not work (credential without diode:read, RPC not served)',
      labelNames: ['policy'],
      registers: r,
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'diode_agent_' });
  }

  /** A finished run; `successAtMs` when it was a success (agent/telemetry/readiness.ts isSuccess). */
  recordRun(r: RunResult, successAtMs?: number): void {
    this.runs.inc({ policy: r.policy, result: r.status });
    this.duration.observe({ policy: r.policy }, r.durationMs / 1000);
    for (const [kind, n] of Object.entries(r.collected)) this.collected.inc({ policy: r.policy, kind }, n);
    for (const [kind, n] of Object.entries(r.sent)) this.sent.inc({ policy: r.policy, kind }, n);
    for (const w of r.warnings) this.warnings.inc({ policy: r.policy, code: w.code });
    this.recordReadBack(r);
    if (r.delivery !== undefined) {
      for (const q of this.quality) q.gauge.set({ policy: r.policy }, r.warnings.filter((w) => q.codes.has(w.code)).length);
      this.staleLastRun.set({ policy: r.policy }, r.delivery.stale);
      // A collector that does not measure something leaves no series for it.
      for (const m of this.measures) {
        const v = r.measures?.[m.measure];
        if (v !== undefined) m.gauge.set({ policy: r.policy }, v);
      }
    }
    if (successAtMs !== undefined) this.lastSuccess.set({ policy: r.policy }, successAtMs / 1000);
  }

  /** A snapshot delivered by a background retry after its run had been recorded as failed. */
  recordLateDelivery(r: RunResult, successAtMs?: number): void {
    for (const [kind, n] of Object.entries(r.sent)) this.sent.inc({ policy: r.policy, kind }, n);
    this.recordReadBack(r);
    if (successAtMs !== undefined) this.lastSuccess.set({ policy: r.policy }, successAtMs / 1000);
  }

  private recordReadBack(r: RunResult): void {
    const rb = r.diode.readBack;
    if (!rb) return;
    // Zero increments create the series, so a dashboard sees 0 rather than no data.
    this.failedInDiode.inc({ policy: r.policy }, rb.failed);
    this.unconfirmed.inc({ policy: r.policy }, rb.unconfirmed);
    if (rb.status === 'unavailable') this.readBackUnavailable.inc({ policy: r.policy });
  }

  /** The schedule interval of a policy (undefined: no schedule, the series is removed). */
  scheduleInterval(policy: string, ms: number | undefined): void {
    if (ms === undefined) this.interval.remove({ policy });
    else this.interval.set({ policy }, ms / 1000);
  }

  /** Where diode_agent_policy_overdue reads its values at each scrape (the agent's readiness rule). */
  setOverdueSource(fn: () => { policies: readonly string[]; overdue: ReadonlySet<string> }): void {
    this.overdueSource = fn;
  }

  /** A policy that is gone: its gauges go with it (the counters keep their totals). */
  forgetPolicy(policy: string): void {
    for (const g of [this.lastSuccess, this.interval, this.staleLastRun, ...this.quality.map((q) => q.gauge), ...this.measures.map((m) => m.gauge)])
      g.remove({ policy });
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
