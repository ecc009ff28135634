import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatusServer } from '../agent/telemetry/status-server.ts';
import { AGENT_VERSION } from '../agent/version.ts';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { pveHandler, type PveScenario } from '../agent/collectors/pve/fake.ts';
import { harness, PVE_TOKEN } from './helpers/agent-harness.ts';

/*
 * Build info, last success, the inventory-quality gauges and the readiness rule, through a
 * real agent against the fakes, with the agent's clock in the test's hand (no waiting).
 */

let ingester: FakeDiodeIngester;
let pve: FakeServer;
let down = false;
const vm = (vmid: number, name: string, status = 'running') => ({ id: `qemu/${vmid}`, type: 'qemu', vmid, name, node: 'pve1', status, template: 0 });
const scenario: PveScenario = { cluster: 'lab', nodes: [{ name: 'pve1' }], guests: [] };

beforeEach(async () => {
  ingester = await new FakeDiodeIngester().start();
  scenario.guests = [
    // Agent enabled, not answering: a guest without agent data.
    { resource: vm(100, 'web'), config: { agent: 1 } },
    // Same name as 100: skipped.
    { resource: vm(101, 'web'), config: {} },
    { resource: vm(102, 'db', 'stopped'), config: {} },
  ];
  const handler = pveHandler(scenario, PVE_TOKEN);
  down = false;
  pve = await startFakeHttps((req) => (down ? { status: 401, statusText: 'Authentication failed!', body: { data: null } } : handler(req)));
});
afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

/** The value of one series, exactly as Prometheus text has it (labels in prom-client's order). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const YEAR_MAX = 366 * 86_400; // '0 0 1 1 *': the longest gap over the sampled ticks is a leap year

describe('metrics and readiness', () => {
  it('build info, last success, quality gauges of the last collected run, and /readyz after two intervals', async () => {
    let now = Date.UTC(2026, 2, 1, 12, 0, 0);
    const h = harness(ingester, pve, { schedule: '0 0 1 1 *' });
    h.writePolicy('stale_after_runs: 1');
    const a = h.agent({ clock: () => now });
    const server = new StatusServer(a, a.metrics);
    await server.listen('127.0.0.1:0');
    const base = `http://127.0.0.1:${server.port}`;
    const metrics = async () => (await fetch(`${base}/metrics`)).text();
    try {
      const r0 = await fetch(`${base}/readyz`);
      expect([r0.status, await r0.text()]).toEqual([503, 'not ready\nthe scheduler has not started\n']);
      a.start();
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const policy = a.policies[0]!;

      const r1 = await a.run(policy);
      expect(r1.status).toBe('partial');
      expect(r1.warnings.map((w) => w.code).sort()).toEqual(['guest_agent_unavailable', 'guest_name_duplicate']);
      let m = await metrics();
      expect(value(m, `diode_agent_build_info{version="${AGENT_VERSION}",nodejs="${process.version}"}`)).toBe(1);
      expect(value(m, 'diode_agent_last_success_timestamp_seconds{policy="pve"}')).toBe(now / 1000);
      expect(value(m, 'diode_agent_schedule_interval_seconds{policy="pve"}')).toBe(YEAR_MAX);
      expect(value(m, 'diode_agent_inventory_guests_without_agent{policy="pve"}')).toBe(1);
      expect(value(m, 'diode_agent_inventory_duplicate_names_skipped{policy="pve"}')).toBe(1);
      expect(value(m, 'diode_agent_inventory_addresses_dropped{policy="pve"}')).toBe(0);
      expect(value(m, 'diode_agent_inventory_stale_objects{policy="pve"}')).toBe(0);
      expect(value(m, 'diode_agent_policy_overdue{policy="pve"}')).toBe(0);

      // db (a VM without config entries: one VirtualMachine entity) goes; 101 keeps its duplicate name.
      scenario.guests = scenario.guests.slice(0, 2);
      now += 60_000;
      const r2 = await a.run(policy);
      expect(r2.delivery?.stale).toBe(1);
      m = await metrics();
      expect(value(m, 'diode_agent_inventory_stale_objects{policy="pve"}')).toBe(1);
      expect(value(m, 'diode_agent_last_success_timestamp_seconds{policy="pve"}')).toBe(now / 1000);
      const lastSuccess = now;

      // Two intervals and a second later, without a success: overdue.
      now += 2 * YEAR_MAX * 1000 + 1000;
      const r3 = await fetch(`${base}/readyz`);
      const age = 2 * YEAR_MAX + 1;
      expect([r3.status, await r3.text()]).toEqual([
        503,
        `not ready\npolicy pve: last success ${new Date(lastSuccess).toISOString()}, ${age} s ago, more than 2 schedule intervals (${2 * YEAR_MAX} s)\n`,
      ]);
      expect(value(await metrics(), 'diode_agent_policy_overdue{policy="pve"}')).toBe(1);
      const status = (await (await fetch(`${base}/status`)).json()) as { agent: Record<string, unknown>; policies: Array<Record<string, unknown>> };
      expect(status.agent.ready).toBe(false);
      expect(status.agent.overdue_policies).toEqual([
        { policy: 'pve', last_success: new Date(lastSuccess).toISOString(), age_seconds: age, max_age_seconds: 2 * YEAR_MAX },
      ]);
      expect(status.policies[0]!.last_success).toBe(new Date(lastSuccess).toISOString());

      // A failed collection neither counts as a success nor touches the quality gauges.
      down = true;
      expect((await a.run(policy)).status).toBe('failed');
      m = await metrics();
      expect(value(m, 'diode_agent_last_success_timestamp_seconds{policy="pve"}')).toBe(lastSuccess / 1000);
      expect(value(m, 'diode_agent_inventory_guests_without_agent{policy="pve"}')).toBe(1);
      expect(value(m, 'diode_agent_inventory_stale_objects{policy="pve"}')).toBe(1);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);

      down = false;
      expect((await a.run(policy)).status).toBe('partial');
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      m = await metrics();
      expect(value(m, 'diode_agent_policy_overdue{policy="pve"}')).toBe(0);
      expect(value(m, 'diode_agent_last_success_timestamp_seconds{policy="pve"}')).toBe(now / 1000);
      expect(value(m, 'diode_agent_inventory_stale_objects{policy="pve"}')).toBe(0);
    } finally {
      await a.stop(0);
      await server.close();
    }
  });

  it('the rule follows agent.status.ready_max_age_intervals, is off at 0, and off with coordination', async () => {
    let now = Date.UTC(2026, 2, 1, 12, 0, 0);
    const cases: Array<{ extra: string; coordinated: boolean; readyAfter: (days: number) => boolean }> = [
      { extra: '  status: { enabled: false, ready_max_age_intervals: 3 }', coordinated: false, readyAfter: (days) => days <= 3 * 366 },
      { extra: '  status: { enabled: false, ready_max_age_intervals: 0 }', coordinated: false, readyAfter: () => true },
      { extra: '', coordinated: true, readyAfter: () => true },
    ];
    for (const c of cases) {
      const h = harness(ingester, pve, { schedule: '0 0 1 1 *', agentExtra: c.extra });
      // The harness writes `status: { enabled: false }`; a second `status` key would be a YAML error, so replace it.
      if (c.extra) writeFileSync(h.configFile, readFileSync(h.configFile, 'utf8').replace('  status: { enabled: false }\n', ''));
      const a = h.agent({ clock: () => now, ...(c.coordinated && { coordinator: { shouldRun: () => true } }) });
      try {
        a.start();
        const start = now;
        for (const days of [2 * 366 + 1, 3 * 366, 3 * 366 + 1]) {
          now = start + days * 86_400_000;
          expect([c.extra, c.coordinated, days, a.ready()]).toEqual([c.extra, c.coordinated, days, c.readyAfter(days)]);
        }
      } finally {
        await a.stop(0);
      }
    }
  });
});
