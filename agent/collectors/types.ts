import type { Logger } from 'pino';
import type { z } from 'zod';
import type { HttpTarget, TargetOptions } from '../http/client.ts';
import type { AnyEntity, MapContext, MapSummary, PartMapper } from '../../mappers/types.ts';
import type { CollectorPreflight } from '../preflight/types.ts';

/** Something the run went on without: a down node, a guest agent that is not running… */
export interface Warning {
  code: string;
  /** What it is about, e.g. "node pve3" or "qemu 104 on pve1". */
  subject: string;
  message: string;
}

export interface Scope {
  nodes: string[];
}

export type TargetRequest = Omit<TargetOptions, 'concurrency' | 'signal' | 'onRequest'>;

/** What the runtime hands a collector; HTTP, retries, TLS and limits live here, not in it. */
export interface CollectContext<C, P = unknown> {
  policyName: string;
  config: C;
  scope: Scope;
  log: Logger;
  signal: AbortSignal;
  /** Opens an HTTP target with the policy's concurrency cap, retry rule and abort signal. */
  target(opts: TargetRequest): HttpTarget;
  warn(w: Warning): void;
  progress(done: number, total: number): void;
  /**
   * What this policy's collector handed to `remember` on the last run whose state was saved,
   * or undefined (first run, unreadable state). Loaded while the run's first calls go out.
   * Untrusted JSON: the collector checks its shape.
   */
  recall?(): Promise<unknown>;
  /**
   * What to hand to the next run's `recall` (JSON-able). Saved with the policy's state when
   * the run's state is saved, never by a dry run; a run that does not call it saves none.
   */
  remember?(value: unknown): void;
  /** The clock, ms since the epoch (tests pin it); Date.now when absent. */
  now?(): number;
  /**
   * Present when the run maps while collecting (the definition has `mapParts`): hands the
   * mapper a part of the snapshot that is final, in the order the mapper needs. Mapping
   * runs inside the call; it never throws (a mapping failure fails the run once collected).
   */
  part?(p: P): void;
}

/** One entry of a collector's warning catalog: a code its runs can emit. */
export interface WarningDoc {
  /** `<collector>_<what>`; codes older than that rule keep their names. */
  code: string;
  /** What a warning's `subject` looks like, e.g. "node pve3". */
  subject: string;
  /** When it is emitted. */
  meaning: string;
  /** What the run goes on without. */
  lost: string;
}

export interface CollectorDefinition<C = unknown, S = unknown, P = unknown> {
  id: string;
  /**
   * The `config:` keys whose values are secrets: the logger redacts them wherever they
   * appear (agent/log.ts) and substitution registers their values (agent/config/substitute.ts).
   */
  secretKeys: readonly string[];
  /**
   * Every warning code the collector (and its mapper) can emit; rendered into its README's
   * "## Warnings" and the README's Troubleshooting (test/vocabulary.test.ts keeps them in step).
   */
  warnings: readonly WarningDoc[];
  /** zod schema of the policy's `config:` block (the collector's upper-case parameters). */
  configSchema: z.ZodType<C>;
  collect(ctx: CollectContext<C, P>): Promise<S>;
  /** The snapshot's entities in emission order. */
  map(snapshot: S, ctx: MapContext<C>): AnyEntity[];
  /**
   * Optional, for collectors whose snapshots get large: the same entities as `map`, one at
   * a time and in any order. The run encodes each as it comes instead of holding every
   * mapped object at once, and orders the encoded entities itself.
   */
  mapEach?(snapshot: S, ctx: MapContext<C>): Generator<AnyEntity, MapSummary | undefined, undefined>;
  /**
   * Optional, with `mapEach`: the same entities, mapped while collection runs, from the parts
   * `collect` hands to CollectContext.part, so that little is left to map once the last
   * answer is in. The run uses it instead of `mapEach`. Its MapContext is made when the run
   * starts (`now`: the run's start, not the collection time).
   */
  mapParts?(ctx: MapContext<C>): PartMapper<S, P>;
  /**
   * Optional: counts about the inventory (not entities) that the agent exports as gauges
   * `diode_agent_inventory_<name>{policy}` (agent/telemetry/metrics.ts INVENTORY_MEASURES).
   */
  measures?(snapshot: S, ctx: MapContext<C>): Record<string, number> | undefined;
  /** The live preflight (`validate --live`): each endpoint `collect` calls, probed once (agent/preflight). */
  preflight?: CollectorPreflight<C>;
}

/** Identity helper that keeps the generic parameters of a definition checked. */
export function defineCollector<C, S, P = unknown>(def: CollectorDefinition<C, S, P>): CollectorDefinition<C, S, P> {
  return def;
}
