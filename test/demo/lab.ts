import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent } from '../../agent/agent.ts';
import { COLLECTORS } from '../../agent/collectors/registry.ts';
import { loadAgentConfig } from '../../agent/config/load.ts';
import { listDryRunFiles } from '../../agent/diode/dry-run.ts';
import { createLogger } from '../../agent/log.ts';
import type { RunResult } from '../../agent/pipeline/result.ts';
import type { CollectorLab, LabService } from './site.ts';

export type { CollectorLab } from './site.ts';

export interface DemoResult {
  results: RunResult[];
  dryRunDir: string;
  files: string[];
  text: string;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

export function formatDemo(results: readonly RunResult[], dryRunDir: string, files: number): string {
  const out: string[] = ['', 'proxmox-diode-agent demo lab: every policy ran once in dry run', ''];
  for (const r of results) {
    out.push(
      `■ ${r.policy} (collector ${r.collector}): ${r.status}, ${(r.durationMs / 1000).toFixed(2)} s, ${r.apiRequests} API requests, ${r.warnings.length} warnings`,
    );
    const rows = [['  kind', 'entities'], ...Object.entries(r.collected).map(([k, n]) => [`  ${k}`, String(n)])];
    out.push(table(rows));
    for (const w of r.warnings) out.push(`  ! ${w.subject}: ${w.message}`);
    if (r.error) out.push(`  error: ${r.error}`);
    out.push('');
  }
  out.push(`Dry-run files (Diode IngestRequests as proto3 JSON): ${files} in ${dryRunDir}`);
  return out.join('\n');
}

export interface Lab {
  /** The policies, one per collector, as agent.yaml `policies:` entries. */
  policies: Array<Record<string, unknown>>;
  /** The environment the policies' ${env:} references need. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Each collector's part of the lab, agent/collectors/<id>/cases/lab.ts, in registry order. */
export async function collectorLabs(): Promise<Array<{ id: string; lab: CollectorLab }>> {
  const out: Array<{ id: string; lab: CollectorLab }> = [];
  for (const id of COLLECTORS.keys()) {
    const { lab } = (await import(new URL(`../../agent/collectors/${id}/cases/lab.ts`, import.meta.url).href)) as { lab: CollectorLab };
    out.push({ id, lab });
  }
  return out;
}

/** Starts every collector's fake upstream on a loopback port (files under `dir`). */
export async function startLab(dir: string): Promise<Lab> {
  const services: LabService[] = [];
  for (const { lab } of await collectorLabs()) services.push(await lab.start(dir));
  return {
    policies: services.map((s) => s.policy),
    env: Object.assign({}, ...services.map((s) => s.env)) as Record<string, string>,
    close: async () => {
      await Promise.all(services.map((s) => s.server?.close()));
    },
  };
}

/** Starts the fakes on loopback ports, runs every policy once in dry run, prints a summary. */
export async function runDemo(opts: { write?: (s: string) => void; quiet?: boolean } = {}): Promise<DemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'diode-agent-demo-'));
  const lab = await startLab(dir);
  const dryRunDir = join(dir, 'dry-run');
  const configFile = join(dir, 'agent.yaml');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        agent: { name: 'proxmox-discovery-demo', state_dir: join(dir, 'state'), status: { enabled: false } },
        diode: { dry_run: true, dry_run_output_dir: dryRunDir },
        policies: lab.policies,
      },
      null,
      2,
    ),
  );
  const env = { ...process.env, ...lab.env } as NodeJS.ProcessEnv;
  const log = opts.quiet ? pino({ level: 'silent' }) : createLogger({ level: 'error', destination: pino.destination(2) });
  const agent = new Agent(loadAgentConfig(configFile, env), COLLECTORS, log, { env });
  try {
    agent.loadPolicies();
    const results = await agent.once();
    await agent.stop(0);
    const files = listDryRunFiles(dryRunDir);
    const text = formatDemo(results, dryRunDir, files.length);
    (opts.write ?? ((s) => process.stdout.write(s)))(`${text}\n`);
    return { results, dryRunDir, files, text };
  } finally {
    await lab.close();
  }
}
