import type { Warning } from '../collectors/types.ts';
import type { DeliveryResult } from './requests.ts';

/**
 * `cancelled`: the agent stopped (SIGTERM, SIGINT) while the run was collecting; nothing
 * was delivered, and the next run starts over. Not a failure of the target.
 */
export type RunStatus = 'success' | 'partial' | 'failed' | 'cancelled';

export interface RunResult {
  policy: string;
  collector: string;
  runId: string;
  status: RunStatus;
  startedAt: string;
  durationMs: number;
  warnings: Warning[];
  error?: string;
  /**
   * A failed run whose error is retryable (agent/errors.ts AgentError): Diode or the target did
   * not answer, and the same run may succeed later with nothing changed. Absent otherwise.
   */
  retryable?: boolean;
  /**
   * The state could not be saved after the delivery (the reason and what it means for the
   * next run); the status is then at best 'partial' and `once` exits non-zero.
   */
  stateError?: string;
  collected: Record<string, number>;
  /** Counts about the inventory from the collector (CollectorDefinition.measures, MapSummary). */
  measures?: Record<string, number>;
  sent: Record<string, number>;
  apiRequests: number;
  apiByStatus: Record<string, number>;
  diode: DeliveryResult;
  /** Dry run: the files the run's requests were written to, in order. */
  dryRunFiles?: string[];
  /** How the delivery went: full or delta (and why), how much was planned, stale objects. */
  delivery?: { full: boolean; reason: string; planned: number; stale: number; pending: boolean };
}

export function countByKind(items: Iterable<{ kind: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i.kind] = (out[i.kind] ?? 0) + 1;
  return out;
}
