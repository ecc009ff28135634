/**
 * Base class: every error the agent raises on purpose carries a stable code, its cause, and
 * whether it is retryable (the same attempt may work later with nothing changed: Diode or a
 * target did not answer) or permanent (it fails again until someone changes a config, a
 * credential, a privilege or the data). The outbox keeps a snapshot only for a retryable
 * Diode error (agent/pipeline/deliver.ts outboxDecision).
 */
export class AgentError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** The message of what was thrown, which need not be an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `code` of what was thrown (Node's system errors: ENOENT, EACCES…; undici's UND_ERR_*), if it has a string one. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Retryable (see AgentError); anything the agent did not raise on purpose is permanent. */
export function isRetryable(err: unknown): boolean {
  return err instanceof AgentError && err.retryable;
}

/**
 * The exit codes of every command (README "Commands"): 0 done; 1 something the command was
 * to do failed (a run failed or was cancelled, a state was not saved, a policy file did not
 * load, a problem `validate` found, a request `replay` could not deliver); 2 nothing ran
 * (usage or configuration error); 75 every failure was retryable (sysexits.h EX_TEMPFAIL, "the
 * user is invited to retry the operation later"): a cron job or a Kubernetes Job can retry on 75
 * and alert on 1; 130 a second SIGTERM/SIGINT, 128 + SIGINT's 2 as a shell reports a process
 * killed by it.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, tempfail: 75, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * `once` (and `demo`): failed when a run failed or was cancelled, a state was not saved, or a
 * policy file did not load. A `partial` run (warnings, Diode errors on some entities) exits
 * 0: its data landed, and the warnings say what is missing. When every failure is a failed run
 * that says it is retryable (Diode or a target did not answer), the exit code is 75 instead of 1:
 * running again later, with nothing changed, may succeed. Anything permanent among them is 1.
 */
export function runsExitCode(results: ReadonlyArray<{ status: string; stateError?: string; retryable?: boolean }>, policiesNotLoaded = 0): ExitCode {
  const bad = results.filter((r) => r.status === 'failed' || r.status === 'cancelled' || r.stateError !== undefined);
  if (bad.length === 0 && policiesNotLoaded === 0) return EXIT.ok;
  const allRetryable = policiesNotLoaded === 0 && bad.every((r) => r.status === 'failed' && r.retryable === true && r.stateError === undefined);
  return allRetryable ? EXIT.tempfail : EXIT.failed;
}

/** One problem in a config or policy file, positioned for `file:line:col: path: reason`. */
export interface ConfigIssue {
  file: string;
  line?: number;
  col?: number;
  path: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}:${issue.col ?? 1}` : issue.file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** Issues in reading order: by file, then line and column. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0)));
}

export class ConfigError extends AgentError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    const sorted = sortIssues(issues);
    super('config_invalid', sorted.map(formatIssue).join('\n'), options);
    this.issues = sorted;
  }
}
