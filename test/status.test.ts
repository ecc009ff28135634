import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { StatusServer } from '../agent/telemetry/status-server.ts';
import { listDryRunFiles, readDryRunFile } from '../agent/diode/dry-run.ts';
import { FakeDiodeIngester, GrpcCode } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler } from '../agent/collectors/pve/fake.ts';
import { entitiesOf, harness, PVE_TOKEN } from './helpers/agent-harness.ts';

const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
let ingester: FakeDiodeIngester;
let pve: FakeServer;
let pveDown = false;

beforeEach(async () => {
  ingester = await new FakeDiodeIngester().start();
  const handler = pveHandler(generatePveScenario({ guests: 10, nodes: 2, seed: 9 }), PVE_TOKEN);
  pveDown = false;
  pve = await startFakeHttps((req) => (pveDown ? { status: 401, statusText: 'Authentication failed!', body: { data: null } } : handler(req)));
});
afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

const metricValue = (text: string, line: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(line))
      ?.split(' ')
      .pop(),
  );

describe('status server', () => {
  it('reports readiness, /status and /metrics after a successful and a failed run, with no secret', async () => {
    const a = harness(ingester, pve, { schedule: '0 0 1 1 *' }).agent();
    const server = new StatusServer(a, a.metrics);
    await server.listen('127.0.0.1:0');
    const base = `http://127.0.0.1:${server.port}`;
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      a.start();
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const policy = a.policies[0]!;
      await a.run(policy);
      pveDown = true;
      await a.run(policy);
      const status = (await (await fetch(`${base}/status`)).json()) as {
        agent: { ready: boolean };
        policies: Array<Record<string, unknown> & { last_run: Record<string, unknown> }>;
      };
      expect(status.agent.ready).toBe(true);
      expect(status.policies).toHaveLength(1);
      const p = status.policies[0]!;
      expect(p).toMatchObject({ name: 'pve', collector: 'pve', schedule: '0 0 1 1 *', running: false, delivery_pending: false });
      expect(typeof p.next_run).toBe('string');
      expect(p.last_run).toMatchObject({ result: 'failed', api_requests: 4, entities_collected: {}, warnings: [], state_error: null });
      expect(String(p.last_run.error)).toMatch(/^collection failed: .*401 Authentication failed!/);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metricValue(metrics, 'diode_agent_runs_total{policy="pve",result="success"}')).toBe(1);
      expect(metricValue(metrics, 'diode_agent_runs_total{policy="pve",result="failed"}')).toBe(1);
      expect(metricValue(metrics, 'diode_agent_run_duration_seconds_count{policy="pve"}')).toBe(2);
      const vms = entitiesOf(ingester.ingests.map((r) => r.bytes)).filter((e) => 'virtual_machine' in e).length;
      expect(metricValue(metrics, 'diode_agent_entities_collected_total{policy="pve",kind="virtual_machine"}')).toBe(vms);
      expect(metricValue(metrics, 'diode_agent_entities_sent_total{policy="pve",kind="virtual_machine"}')).toBe(vms);
      expect(metricValue(metrics, 'diode_agent_api_requests_total{collector="pve",status="200"}')).toBeGreaterThan(20);
      expect(metricValue(metrics, 'diode_agent_api_requests_total{collector="pve",status="401"}')).toBe(4);
      expect(metricValue(metrics, 'diode_agent_diode_requests_total{code="OK"}')).toBe(ingester.ingests.length);
      expect(metrics).toMatch(/^diode_agent_process_cpu_user_seconds_total /m);
      for (const body of [metrics, JSON.stringify(status)]) {
        for (const secret of [PVE_TOKEN.secret, ingester.opts.clientSecret, 'tok-1']) expect(body).not.toContain(secret);
      }
      await a.stop(0);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
    } finally {
      await server.close();
    }
  });
});

describe('replay', () => {
  it('ships dry-run files in order, byte for byte, with the content of a direct run', async () => {
    const h = harness(ingester, pve);
    const dryDir = mkdtempSync(join(tmpdir(), 'replay-'));
    const a = h.agent({ dryRun: true, dryRunDir: dryDir });
    const [r] = await a.once();
    await a.stop(0);
    expect(r?.status).toBe('success');
    const files = listDryRunFiles(dryDir);
    const res = await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'replay', dryDir, '-c', h.configFile], { env: h.env });
    expect(res.stdout).toBe(`replayed ${files.length} of ${files.length} files\n`);
    expect(ingester.ingests.map((x) => [x.code, Buffer.from(x.bytes).toString('base64')])).toEqual(
      files.map((f) => [GrpcCode.OK, Buffer.from(readDryRunFile(f)).toString('base64')]),
    );
    const direct = await new FakeDiodeIngester().start();
    try {
      const b = harness(direct, pve).agent();
      await b.once();
      await b.stop(0);
      expect(entitiesOf(ingester.ingests.map((x) => x.bytes))).toEqual(entitiesOf(direct.ingests.map((x) => x.bytes)));
    } finally {
      await direct.stop();
    }
  });
});
