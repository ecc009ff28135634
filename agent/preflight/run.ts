import type { AgentConfig, Policy } from '../config/load.ts';
import { AgentError } from '../errors.ts';
import { HttpConnectError, HttpStatusError, HttpTarget, TlsConfigError } from '../http/client.ts';
import { namedPrivilege } from '../http/proxmox.ts';
import { redactSecrets } from '../log.ts';
import { probeDiodeToken } from './diode.ts';
import type { PolicyPreflight, PreflightContext, PreflightReport, ProbeResult, ProbeSpec } from './types.ts';

export interface PreflightDeps {
  /** Stops the probes under way (the CLI's SIGINT). */
  signal?: AbortSignal;
  /** Called as each policy's probes are done, for output while the rest are still running. */
  onPolicy?: (p: PolicyPreflight) => void;
}

/**
 * The live preflight: for each policy, the collector's probes reach the target,
 * authenticate and call each endpoint the collector uses once; then the Diode token
 * request. Policies are probed one after the other, in the order given, so the report
 * reads the same every time. Never throws for what it finds; `report.ok` is the exit code.
 */
export async function runPreflight(cfg: AgentConfig, policies: readonly Policy[], deps: PreflightDeps = {}): Promise<PreflightReport> {
  const out: PolicyPreflight[] = [];
  for (const policy of policies) {
    const p = await preflightPolicy(policy, deps.signal ?? new AbortController().signal);
    out.push(p);
    deps.onPolicy?.(p);
  }
  const diode = scrubbed(await probeDiodeToken(cfg.diode));
  return { ok: out.every((p) => p.ok) && !failed(diode), policies: out, diode };
}

/** Messages quote upstream answers, which may echo the credential sent: the report never holds a registered secret. */
function scrubbed(r: ProbeResult): ProbeResult {
  return { ...r, endpoint: redactSecrets(r.endpoint), message: redactSecrets(r.message) };
}

/** "1 guest", "3 guests". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A failure: not OK and not a probe that was left out. */
export function failed(r: ProbeResult): boolean {
  return !r.ok && r.skipped !== true;
}

/** "GET /nodes: HTTP 403 …" → "HTTP 403 …": the row already names the endpoint. */
function withoutEndpoint(message: string): string {
  return message.replace(/^[A-Z]+ \S+: /, '');
}

/** An error of the credential rather than of one call (the Ceph dashboard's login, say). */
function isAuthFailure(err: unknown): boolean {
  return err instanceof AgentError && err.code.endsWith('_auth_failed');
}

interface Outcome {
  result: ProbeResult;
  /** The target failed as a whole: later probes would only repeat it. */
  stop: boolean;
}

/** What a failed call means for the operator: the privilege by name, the credential, the route. */
export function classifyFailure<T>(spec: ProbeSpec<T>, err: unknown, credentials: string): Outcome {
  const endpoint = spec.endpoint;
  if (err instanceof HttpStatusError) {
    const accepted = spec.accept?.(err);
    if (accepted !== undefined) return { result: { endpoint, ok: true, status: err.status, message: accepted }, stop: false };
    const answer = `HTTP ${err.status} ${err.reason}`.trim();
    if (err.status === 401) {
      return { result: { endpoint, ok: false, status: 401, message: `${answer}: the credential was refused; check ${credentials}` }, stop: true };
    }
    if (err.status === 403) {
      // PVE names what it checked ("Permission check failed (/nodes/pve1, Sys.Audit)"); PBS and PDM do not.
      const privilege = namedPrivilege(err.reason) ?? (spec.privilege ? `${spec.privilege.name} on ${spec.privilege.on}` : undefined);
      if (privilege === undefined) {
        return {
          result: {
            endpoint,
            ok: false,
            status: 403,
            message: `${answer}: the server names no privilege and this call checks none beyond a valid credential, so something in front of it may have refused it`,
          },
          stop: false,
        };
      }
      return {
        result: { endpoint, ok: false, status: 403, privilege, message: `${answer}: the token lacks ${privilege}${spec.hint ? `; ${spec.hint}` : ''}` },
        stop: false,
      };
    }
    return { result: { endpoint, ok: false, status: err.status, message: answer }, stop: false };
  }
  if (err instanceof HttpConnectError || err instanceof TlsConfigError) {
    return { result: { endpoint, ok: false, message: withoutEndpoint(err.message) }, stop: true };
  }
  if (isAuthFailure(err)) {
    return { result: { endpoint, ok: false, message: `${(err as Error).message}; check ${credentials}` }, stop: true };
  }
  if (err instanceof AgentError) return { result: { endpoint, ok: false, message: withoutEndpoint(err.message) }, stop: false };
  return { result: { endpoint, ok: false, message: `unexpected error: ${err instanceof Error ? err.message : String(err)}` }, stop: false };
}

async function preflightPolicy(policy: Policy, signal: AbortSignal): Promise<PolicyPreflight> {
  const results: ProbeResult[] = [];
  const targets: HttpTarget[] = [];
  const def = policy.def;
  const entry: PolicyPreflight = { policy: policy.name, collector: policy.collector, ok: true, results };
  const pf = def.preflight;
  if (!pf) {
    results.push({ endpoint: 'preflight', ok: false, skipped: true, message: `the ${policy.collector} collector declares no preflight probes` });
    return entry;
  }
  const credentials = pf.credentials(policy.config);
  let stoppedBy: string | undefined;
  const ctx: PreflightContext<unknown> = {
    policyName: policy.name,
    config: policy.config,
    scope: policy.scope,
    signal,
    target: (opts) => {
      const t = new HttpTarget({ ...opts, concurrency: 1, maxAttempts: 1, signal });
      targets.push(t);
      entry.target ??= opts.baseUrl;
      return t;
    },
    probe: async <T>(spec: ProbeSpec<T>, call: () => Promise<T>): Promise<T | undefined> => {
      if (stoppedBy !== undefined) {
        results.push({ endpoint: spec.endpoint, ok: false, skipped: true, message: `not called: ${stoppedBy} failed` });
        return undefined;
      }
      let value: T;
      try {
        value = await call();
      } catch (err) {
        if (signal.aborted) throw err;
        const o = classifyFailure(spec, err, credentials);
        results.push(o.result);
        if (o.stop) stoppedBy = spec.endpoint;
        return undefined;
      }
      const verdict = spec.check?.(value) ?? { ok: true, message: 'OK' };
      results.push(
        verdict.ok
          ? { endpoint: spec.endpoint, ok: true, message: verdict.message }
          : { endpoint: spec.endpoint, ok: false, ...(verdict.privilege !== undefined && { privilege: verdict.privilege }), message: verdict.message },
      );
      return value;
    },
    skip: (endpoint, reason) => {
      results.push({ endpoint, ok: false, skipped: true, message: stoppedBy !== undefined ? `not called: ${stoppedBy} failed` : reason });
    },
    record: (r) => {
      results.push(r);
    },
  };
  try {
    await pf.probes(ctx);
  } catch (err) {
    if (signal.aborted) throw err;
    // A target that cannot be opened (a CA file that cannot be read) or a bug in a probe.
    results.push({ endpoint: 'preflight', ok: false, message: err instanceof Error ? err.message : String(err) });
  } finally {
    await Promise.all(targets.map((t) => t.close().catch(() => {})));
  }
  entry.results = results.map(scrubbed);
  entry.ok = !entry.results.some(failed);
  return entry;
}
