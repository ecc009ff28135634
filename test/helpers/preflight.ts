import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COLLECTORS } from '../../agent/collectors/registry.ts';
import { loadAgentConfig, loadPolicies, type AgentConfig, type Policy } from '../../agent/config/load.ts';
import { runPreflight } from '../../agent/preflight/index.ts';
import type { PreflightReport } from '../../agent/preflight/types.ts';
import type { FakeDiodeIngester } from '../fakes/diode-ingester.ts';
import type { FakeServer } from '../fakes/https-server.ts';

/** The Diode section: the fake ingester's, or a dry run (no target, nothing to ask). */
export function diodeYaml(ingester?: FakeDiodeIngester, override: { target?: string; clientSecret?: string } = {}): string {
  if (!ingester && override.target === undefined) return 'diode: { dry_run: true }';
  return [
    'diode:',
    `  target: ${override.target ?? ingester?.target ?? ''}`,
    `  client_id: ${ingester?.opts.clientId ?? 'diode-agent-test'}`,
    `  client_secret: "${override.clientSecret ?? ingester?.opts.clientSecret ?? 's3cr3t-client-value'}"`,
    '  timeout: 5s',
  ].join('\n');
}

/** agent.yaml with `diode` and a policies directory holding one file per policy text. */
export function writeAgent(policies: readonly string[], diode = diodeYaml()): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-'));
  mkdirSync(join(dir, 'policies'));
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, `agent: { state_dir: ./state, status: { enabled: false } }\n${diode}\npolicies: { dir: ./policies }\n`);
  for (const [i, p] of policies.entries()) writeFileSync(join(dir, 'policies', `p${i}.yaml`), p);
  return { dir, file };
}

export function load(file: string): { cfg: AgentConfig; policies: Policy[] } {
  const cfg = loadAgentConfig(file, {});
  const set = loadPolicies(cfg, COLLECTORS, {});
  if (set.issues.length) throw new Error(set.issues.map((i) => i.message).join('; '));
  return { cfg, policies: set.policies };
}

/** Writes the config, loads it and runs the preflight. */
export async function preflight(policies: readonly string[], diode = diodeYaml()): Promise<PreflightReport> {
  const { cfg, policies: loaded } = load(writeAgent(policies, diode).file);
  return runPreflight(cfg, loaded);
}

/** A policy document: `config` as flow-style YAML from a map. */
export function policyYaml(name: string, collector: string, config: Record<string, unknown>, extra = ''): string {
  return `name: ${name}\ncollector: ${collector}\n${extra}config: ${JSON.stringify(config)}\n`;
}

/** Paths the fake received, without /api2/json, with the query, in order. */
export function received(s: FakeServer): string[] {
  return s.requests.map((r) => `${r.method} ${r.path.replace('/api2/json', '')}${r.query.size ? `?${r.query}` : ''}`);
}
