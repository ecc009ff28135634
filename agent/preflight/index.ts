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
export { runPreflight } from './run.ts';
export { formatPreflight } from './format.ts';
export { validateLive } from './validate.ts';
