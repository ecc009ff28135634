import { COLLECTORS } from '../collectors/registry.ts';
import { loadAgentConfig, loadPolicies } from '../config/load.ts';
import { ConfigError, formatIssue } from '../errors.ts';
import { redactSecrets } from '../log.ts';
import { formatPreflight } from './format.ts';
import { runPreflight, type PreflightDeps } from './run.ts';
import type { PreflightReport } from './types.ts';

export interface ValidateLiveOptions extends PreflightDeps {
  /** Only these policies (the CLI's --policy); default every one, enabled or not. */
  policies?: string[];
  /** The CLI's --dry-run, taken as `validate` takes it (the dry-run directory must be writable). */
  dryRun?: boolean;
}

export interface ValidateLiveResult {
  /** 0: every probe passed; 1: a probe failed, a policy did not load, or agent.yaml is invalid. */
  code: number;
  /** What to print on stdout, scrubbed of secrets. */
  text: string;
  report?: PreflightReport;
}

/**
 * `diode-agent validate --live -c FILE`: loads agent.yaml and the policies as `validate`
 * does, then probes every policy that loaded (a policy that did not load is listed with its
 * problems and fails the command) and the Diode token request.
 */
export async function validateLive(file: string, env: NodeJS.ProcessEnv = process.env, opts: ValidateLiveOptions = {}): Promise<ValidateLiveResult> {
  let cfg;
  try {
    cfg = loadAgentConfig(file, env, { dryRun: opts.dryRun ?? false });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { code: 1, text: redactSecrets(err.issues.map(formatIssue).join('\n')) };
  }
  const set = loadPolicies(cfg, COLLECTORS, env);
  const unknown = (opts.policies ?? []).filter((n) => !set.policies.some((p) => p.name === n));
  const selected = opts.policies?.length ? set.policies.filter((p) => opts.policies?.includes(p.name)) : set.policies;
  const report = await runPreflight(cfg, selected, opts);
  const lines = [...set.issues.map(formatIssue), ...unknown.map((n) => `no such policy: ${n}`), formatPreflight(report)];
  return { code: report.ok && set.issues.length === 0 && unknown.length === 0 ? 0 : 1, text: redactSecrets(lines.join('\n')), report };
}
