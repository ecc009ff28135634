import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** The run a piece of work belongs to. */
export interface RunContext {
  policy: string;
  runId: string;
  /** The run's child logger (policy, collector, run_id). */
  log: Logger;
}

/*
 * The delivery of a run reaches the sink (Diode client or dry-run files) through the
 * deliverer, which hands it bytes only. The sink still needs to know whose bytes they are:
 * a retry log line names the policy and run, a dry-run file is named after the policy. The
 * agent sets the run's context around its delivery; it follows the background retries too,
 * since their timers are set from inside it.
 */
export const runContext = new AsyncLocalStorage<RunContext>();

export function currentRun(): RunContext | undefined {
  return runContext.getStore();
}
