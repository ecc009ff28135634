/*
 * NetBoxDiodeModel: NetBox behind today's Diode reconciler and netbox plugin, as a test double.
 *
 * D = netboxlabs/diode `diode-server/...`; P / N as in schema.ts. See README.md for the rules.
 *
 * Reconciler (D reconciler/ingestion_processor.go `CreateIngestionLogs`): every entity of an
 * IngestRequest becomes its own ingestion log, QUEUED, and is processed later and on its own.
 * Workers (D reconciler/auto_apply_processor.go, ingestion_processor.go GenerateChangeSet /
 * ApplyChangeSet pools) each take a log, PLAN it against NetBox as it is then (P views.py
 * BulkPlanApplyView `_run_plan` -> differ.generate_changeset) and APPLY the plan
 * (`_apply_one_changeset`); another worker's apply can land between the two, so plans can be
 * stale. Which worker moves next is drawn from a seeded PRNG, so a failure reproduces.
 */
import { applyChanges, ApplyError, type AppliedChange } from './apply.ts';
import { NetBox, ValidationError, type Row } from './netbox.ts';
import { plan, PlanError, type Plan } from './plan.ts';
import { entityJson } from './protojson.ts';
import { memberTypes, resolveType, specOf } from './schema.ts';
import { EntityType } from '../../../agent/diode/codec.ts';
import { prng } from '../../helpers/prng.ts';

export type LogState = 'queued' | 'reconciled' | 'no_changes' | 'failed';

export interface IngestionLog {
  /** Arrival sequence (the ingestion_logs row id). */
  seq: number;
  requestId: string;
  /** Index of the entity in its request. */
  index: number;
  member: string;
  objectType: string;
  /** `reconciled` = D State APPLIED, `no_changes` = NO_CHANGES, `failed` = FAILED. */
  state: LogState;
  error?: string;
  changes: AppliedChange[];
  /** Entity fields the model does not know (upstream might apply them; the model drops them). */
  warnings: string[];
  attempts: number;
  entity: Record<string, unknown>;
}

export interface ModelOptions {
  /** PRNG seed for claim order and worker interleaving. */
  seed?: number;
  /** Concurrent workers (D GENERATE_CHANGESET_CONCURRENCY / APPLY_CHANGESET_CONCURRENCY default 4). */
  workers?: number;
  /**
   * `shuffle` (default): a worker takes any queued log (no order is guaranteed across the
   * workers and requests); `fifo`: the oldest queued log (D `ClaimQueuedForAutoApply ... ORDER BY id`).
   */
  order?: 'shuffle' | 'fifo';
  /**
   * Re-queue a failed APPLY this many times (D ENABLE_FAILED_RETRY / FailedRetryMaxRetries;
   * off by default). Plan failures are terminal.
   */
  retries?: number;
  /** NetBox ENFORCE_GLOBAL_UNIQUE (default true). */
  enforceGlobalUnique?: boolean;
}

/** Decoded IngestRequest as test/fakes/diode-ingester.ts records it. */
export interface DecodedRequest {
  id: string;
  entities: Array<Record<string, unknown>>;
}

/**
 * `{ kind, value }` (a mapper's entity, e.g. from a golden expected.json) as the in-process
 * ingester decodes it from the wire, so tests can feed the model without a gRPC round trip.
 */
export function wireEntity(kind: string, value: object, seconds = 1_700_000_000): Record<string, unknown> {
  const msg = EntityType.fromObject({ [kind]: value, timestamp: { seconds } });
  return EntityType.toObject(EntityType.decode(EntityType.encode(msg).finish()), { longs: Number, arrays: true, defaults: false }) as Record<string, unknown>;
}

interface Worker {
  log?: IngestionLog;
  plan?: Plan;
}

export class NetBoxDiodeModel {
  readonly netbox: NetBox;
  private readonly all: IngestionLog[] = [];
  private queue: IngestionLog[] = [];
  private readonly rand: () => number;
  private readonly workers: Worker[];
  private readonly order: 'shuffle' | 'fifo';
  private readonly retries: number;

  constructor(opts: ModelOptions = {}) {
    this.netbox = new NetBox({ enforceGlobalUnique: opts.enforceGlobalUnique ?? true });
    this.rand = prng(opts.seed ?? 1);
    this.workers = Array.from({ length: Math.max(1, opts.workers ?? 4) }, () => ({}));
    this.order = opts.order ?? 'shuffle';
    this.retries = opts.retries ?? 0;
  }

  /** Accept a request: one QUEUED log per entity. Nothing is applied until `drain()`. */
  ingest(request: DecodedRequest): IngestionLog[] {
    const logs = request.entities.map((entity, index): IngestionLog => {
      const member = Object.keys(entity).find((k) => k !== 'timestamp') ?? '?';
      return {
        seq: this.all.length + index + 1,
        requestId: request.id,
        index,
        member,
        objectType: memberTypes[member] ?? member,
        state: 'queued',
        changes: [],
        warnings: [],
        attempts: 0,
        entity,
      };
    });
    this.all.push(...logs);
    this.queue.push(...logs);
    return logs;
  }

  /** Logs accepted but not applied yet. */
  pending(): IngestionLog[] {
    return [...this.queue, ...this.workers.flatMap((w) => (w.log ? [w.log] : []))];
  }

  /**
   * Let the workers run until the queue is empty (or `limit` logs have finished), in an
   * order drawn from the seeded PRNG. Returns the logs finished by this call.
   */
  drain(limit = Number.POSITIVE_INFINITY): IngestionLog[] {
    const finished: IngestionLog[] = [];
    for (;;) {
      const canClaim = this.queue.length > 0 && finished.length + this.busy() < limit;
      const eligible = this.workers.filter((w) => w.log || canClaim);
      if (!eligible.length) return finished;
      const w = eligible[Math.floor(this.rand() * eligible.length)] as Worker;
      const done = w.log ? this.applyStep(w) : this.planStep(w);
      if (done) finished.push(done);
    }
  }

  private busy(): number {
    return this.workers.filter((w) => w.log).length;
  }

  private planStep(w: Worker): IngestionLog | undefined {
    const i = this.order === 'fifo' ? 0 : Math.floor(this.rand() * this.queue.length);
    const log = this.queue.splice(i, 1)[0] as IngestionLog;
    log.attempts++;
    try {
      const { member, json } = entityJson(log.entity);
      const type = memberTypes[member];
      if (!type || !specOf(type)) throw new PlanError(`${member} is not modelled`);
      const p = plan(this.netbox, type, json);
      log.warnings = p.warnings;
      if (!p.changes.length) return this.finish(log, 'no_changes');
      w.log = log;
      w.plan = p;
      return undefined;
    } catch (e) {
      return this.finish(log, 'failed', e);
    }
  }

  private applyStep(w: Worker): IngestionLog | undefined {
    const log = w.log as IngestionLog;
    const p = w.plan as Plan;
    delete w.log;
    delete w.plan;
    try {
      log.changes = applyChanges(this.netbox, p.changes);
      return this.finish(log, 'reconciled');
    } catch (e) {
      if (e instanceof ApplyError && log.attempts <= this.retries) {
        log.error = e.message;
        this.queue.push(log);
        return undefined;
      }
      return this.finish(log, 'failed', e);
    }
  }

  private finish(log: IngestionLog, state: LogState, e?: unknown): IngestionLog {
    log.state = state;
    if (e === undefined) delete log.error;
    else if (e instanceof PlanError || e instanceof ApplyError || e instanceof ValidationError) log.error = e.message;
    else throw e; // a bug in the model, not an upstream outcome
    return log;
  }

  logs(filter: { requestId?: string; state?: LogState } = {}): IngestionLog[] {
    return this.all.filter((l) => (!filter.requestId || l.requestId === filter.requestId) && (!filter.state || l.state === filter.state));
  }

  failed(): IngestionLog[] {
    return this.logs({ state: 'failed' });
  }

  /** Rows of a type (`site` or `dcim.site`), copies. */
  objects(type: string): Row[] {
    return structuredClone(this.netbox.rows(resolveType(type)));
  }

  /** The one row of a type whose natural key (see `keyOf`) is `key`. */
  find(type: string, key: string): Row | undefined {
    const t = resolveType(type);
    return this.netbox.rows(t).find((r) => this.keyOf(t, r) === key);
  }

  /** An operator-made object, created through the same NetBox validations. FKs are ids. */
  seed(type: string, fields: Record<string, unknown>): Row {
    return this.netbox.create(resolveType(type), fields);
  }

  /**
   * Groups of rows of a type that share an identity (`keyOf`, or `by`, e.g. `(r) => String(r.name)`
   * to catch two same-named clusters with different scopes): duplicates.
   */
  duplicates(type: string, by?: (row: Row) => string): Row[][] {
    const t = resolveType(type);
    const groups = new Map<string, Row[]>();
    for (const r of this.netbox.rows(t)) {
      const k = by ? by(r) : this.keyOf(t, r);
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    return [...groups.values()].filter((g) => g.length > 1);
  }

  /**
   * Identity of a row, independent of ids (so two seeds can be compared): name-like fields,
   * with the parent it is unique within.
   */
  keyOf(type: string, row: Row): string {
    const ref = (t: string, id: unknown): string => {
      const r = this.netbox.get(t, id);
      return r ? this.keyOf(t, r) : id == null ? '-' : `?${String(id)}`;
    };
    const generic = (f: string): string => (row[`${f}_type`] ? `${String(row[`${f}_type`])}:${ref(String(row[`${f}_type`]), row[`${f}_id`])}` : '-');
    switch (type) {
      case 'dcim.devicetype':
        return `${ref('dcim.manufacturer', row.manufacturer)}/${String(row.model)}`;
      case 'dcim.device':
        return `${String(row.name)}@${ref('dcim.site', row.site)}`;
      case 'virtualization.cluster':
        return `${String(row.name)}@${generic('scope')}`;
      case 'virtualization.virtualmachine':
        return `${String(row.name)}@${row.cluster != null ? ref('virtualization.cluster', row.cluster) : ref('dcim.site', row.site)}`;
      case 'virtualization.vminterface':
      case 'virtualization.virtualdisk':
        return `${ref('virtualization.virtualmachine', row.virtual_machine)}/${String(row.name)}`;
      case 'dcim.interface':
      case 'dcim.inventoryitem':
        return `${ref('dcim.device', row.device)}/${String(row.name)}`;
      case 'ipam.vlan':
        return `${String(row.vid)}@${ref('dcim.site', row.site)}`;
      case 'ipam.ipaddress':
        return String(row.address).split('/')[0] ?? '';
      case 'ipam.prefix':
        return String(row.prefix);
      case 'ipam.service':
        return `${generic('parent_object')}/${String(row.name)}`;
      case 'extras.journalentry':
        return `${generic('assigned_object')}/${String(row.comments)}`;
      case 'dcim.macaddress':
        return `${String(row.mac_address)}@${generic('assigned_object')}`;
      default:
        return String(row.name ?? row.id);
    }
  }

  /**
   * All NetBox state, ids replaced by natural keys and sorted: equal for two runs that end in
   * the same NetBox, whatever order the objects were created in.
   */
  dump(): Record<string, Array<Record<string, unknown>>> {
    const out: Record<string, Array<Record<string, unknown>>> = {};
    for (const type of this.netbox.types()) {
      const spec = specOf(type);
      const rows = this.netbox.rows(type).map((row) => {
        const r: Record<string, unknown> = { _key: this.keyOf(type, row) };
        for (const [k, v] of Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (k === 'id' || k.startsWith('_')) continue;
          const ref = spec?.refs.find((x) => x.field === k || `${x.field}_id` === k);
          const genericType = k.endsWith('_id') ? row[`${k.slice(0, -3)}_type`] : undefined;
          if (typeof genericType === 'string' && !(ref && !ref.generic)) {
            // A generic foreign key (assigned_object, scope…), declared as a ref or not: its identity, not its id.
            const target = this.netbox.get(genericType, v);
            r[k] = target ? this.keyOf(genericType, target) : v;
          } else if (ref && k.endsWith('_id') && ref.generic) {
            const t = String(row[`${ref.field}_type`] ?? '');
            const target = this.netbox.get(t, v);
            r[k] = target ? this.keyOf(t, target) : v;
          } else if (ref?.many) {
            r[k] = ((v as number[] | undefined) ?? [])
              .map((id) => {
                const t = this.netbox.get(ref.type, id);
                return t ? this.keyOf(ref.type, t) : id;
              })
              .sort();
          } else if (ref && !ref.generic) {
            const t = this.netbox.get(ref.type, v);
            r[k] = t ? this.keyOf(ref.type, t) : v;
          } else if (k === 'custom_fields' && v && typeof v === 'object') {
            // A null value and a missing key read the same (N extras CustomFieldsMixin: .get() is None),
            // and which keys hold null depends on the fields defined when the row was made.
            r[k] = Object.fromEntries(
              Object.entries(v)
                .filter(([, x]) => x !== null)
                .sort(([a], [b]) => (a < b ? -1 : 1)),
            );
          } else r[k] = v;
        }
        return r;
      });
      out[type] = rows.sort((a, b) => (String(a._key) < String(b._key) ? -1 : String(a._key) > String(b._key) ? 1 : 0));
    }
    return out;
  }
}

export type { AppliedChange, Row };
