import { readFileSync } from 'node:fs';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Metrics } from '../agent/telemetry/metrics.ts';

/* The README's "Operating it": its metrics table and alert rules against what the agent registers. */

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Operating it\n'), readme.indexOf('\n## ', readme.indexOf('## Operating it\n') + 1));

/** Every metric the agent registers, with its type, besides prom-client's process and Node.js ones. */
async function registered(): Promise<Map<string, string>> {
  const m = new Metrics();
  const out = new Map<string, string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    if (/^diode_agent_(process|nodejs)_/.test(metric.name)) continue;
    out.set(metric.name, String(metric.type));
  }
  return out;
}

/** The series names a metric exposes: a histogram's _bucket, _sum and _count. */
function seriesNames(metrics: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of metrics) {
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(`${name}${s}`);
  }
  return out;
}

describe('README: Operating it', () => {
  it('the metrics table lists exactly the metrics the agent registers, with their types', async () => {
    const rows = [...section.matchAll(/^\| `(diode_agent_[a-z0-9_]+)` \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(new Map(rows)).toEqual(await registered());
    expect(rows.length).toBe(new Set(rows.map(([n]) => n)).size);
  });

  it('the alert rules are a valid rule group whose every metric the agent exposes', async () => {
    const block = /```yaml\n(groups:[\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const rules = parse(block!) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string }> }> };
    new PrometheusRule({ metadata: { name: 'diode-agent' }, spec: rules as never }).validate();
    const used = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\bdiode_agent_[a-z0-9_]+/g)].map((m) => m[0]))));
    const exposed = seriesNames(await registered());
    expect([...used].filter((n) => !exposed.has(n))).toEqual([]);
    // Every rule names at least one agent metric (no rule about something else by mistake).
    expect(
      rules.groups
        .flatMap((g) => g.rules)
        .filter((r) => !/\bdiode_agent_/.test(r.expr))
        .map((r) => r.alert),
    ).toEqual([]);
    expect([...used].sort()).toEqual([
      'diode_agent_build_info',
      'diode_agent_inventory_addresses_dropped',
      'diode_agent_inventory_duplicate_names_skipped',
      'diode_agent_inventory_guests_without_agent',
      'diode_agent_last_success_timestamp_seconds',
      'diode_agent_policy_overdue',
      'diode_agent_runs_total',
      'diode_agent_schedule_interval_seconds',
      'diode_agent_snapshots_dropped_total',
      'diode_agent_state_save_failures_total',
    ]);
  });
});
