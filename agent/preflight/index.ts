/*
 * The live preflight of `diode-agent validate --live`:
 *
 *   const { code, text } = await validateLive(file, env, { policies: args.policies, dryRun: args.dryRun });
 *   process.stdout.write(`${text}\n`);
 *   return code;
 *
 * or, with a loaded config and policies: `runPreflight(cfg, policies)` → PreflightReport
 * (never throws for what it finds; `report.ok` is the exit code) and `formatPreflight(report)`.
 *
 * Each collector declares its probes beside it (agent/collectors/<id>/index.ts, `preflight`).
 */
export { runPreflight, classifyFailure, count, failed, type PreflightDeps } from './run.ts';
export { probeDiodeToken } from './diode.ts';
export { formatPreflight } from './format.ts';
export { validateLive, type ValidateLiveOptions, type ValidateLiveResult } from './validate.ts';
export type { CollectorPreflight, PolicyPreflight, PreflightContext, PreflightReport, PrivilegeCheck, ProbeResult, ProbeSpec, ProbeVerdict } from './types.ts';
