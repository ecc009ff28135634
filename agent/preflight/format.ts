import { redactSecrets } from '../log.ts';
import { count, failed } from './run.ts';
import type { PreflightReport, ProbeResult } from './types.ts';

function line(r: ProbeResult): string {
  const mark = r.ok ? 'ok  ' : r.skipped ? 'skip' : 'FAIL';
  return `  ${mark}  ${r.endpoint}: ${r.message}`;
}

/**
 * The report as text, one line per endpoint, then a summary line. Messages quote upstream
 * answers, which may echo the credential sent: scrubbed like the logs and /status.
 */
export function formatPreflight(report: PreflightReport): string {
  const lines: string[] = [];
  const failures: string[] = [];
  let checks = 0;
  let skipped = 0;
  const tally = (where: string, r: ProbeResult): void => {
    if (r.skipped) skipped++;
    else checks++;
    if (failed(r)) failures.push(`${where}: ${r.endpoint}`);
  };
  for (const p of report.policies) {
    lines.push(`${p.policy} (${p.collector}${p.target ? `, ${p.target}` : ''})`);
    for (const r of p.results) {
      lines.push(line(r));
      tally(p.policy, r);
    }
  }
  lines.push('diode');
  lines.push(line(report.diode));
  tally('diode', report.diode);
  const notCalled = skipped ? `, ${skipped} not called` : '';
  lines.push(
    failures.length
      ? `preflight failed: ${failures.length} of ${count(checks, 'check')}${notCalled}: ${failures.join(', ')}`
      : `preflight passed: ${count(checks, 'check')}${notCalled}`,
  );
  return redactSecrets(lines.join('\n'));
}
