import { COLLECTORS } from '../agent/collectors/registry.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler } from '../agent/collectors/pve/fake.ts';
import { freePort, harness, PVE_TOKEN, pveLabConfigYaml, waitFor } from './helpers/agent-harness.ts';
import { agentCli, getStatus, startAgent, tempAgent } from './helpers/cli.ts';

/** The registry's ids, as the unknown-collector error lists them. */
const KNOWN_COLLECTORS = [...COLLECTORS.keys()].join(', ');

/*
 * `diode-agent run` as a Deployment sees it: up without a valid policy (and not ready),
 * a scheduled policy's first run at start rather than at its first tick, and SIGTERM in the
 * middle of a run a cancelled run rather than a failure.
 */

const agentYaml = async (extra = '') => {
  const port = await freePort();
  return {
    port,
    yaml: `agent:\n  state_dir: ./state\n  status: { listen: 127.0.0.1:${port} }\n${extra}diode:\n  dry_run: true\npolicies:\n  dir: ./policies\n`,
  };
};
const yearly = (name: string, extra = '') => `name: ${name}\ncollector: pve\nschedule: "0 0 1 1 *"\n${extra}config: { BOOTSTRAP: true }\n`;

interface StatusDoc {
  agent: { ready: boolean };
  policies: Array<{ name: string; running: boolean; next_run: string | null; last_run: { result: string; error: string | null } | null }>;
  policy_errors: string[];
}
const statusOf = async (port: number) => JSON.parse((await getStatus(port, '/status')).body) as StatusDoc;

describe('run with no valid policy', () => {
  it('stays up, not ready, /status listing why; the first valid file starts it', async () => {
    const { port, yaml } = await agentYaml();
    const { dir, file } = tempAgent(yaml, { 'bad.yaml': 'name: bad\ncollector: pvx\nconfig: {}\n' });
    const a = startAgent(['run', '-c', file]);
    try {
      const waiting = await a.waitForLog('no valid policy yet; waiting for one in policies.dir (not ready until then)');
      expect(waiting).toMatchObject({ level: 50, dir: join(dir, 'policies'), problems: 1 });
      await a.waitForLog('agent started');
      const problem = `${dir}/policies/bad.yaml:2:12: collector: unknown collector "pvx" (known: ${KNOWN_COLLECTORS}); did you mean "pve"?`;
      expect(await getStatus(port, '/readyz')).toEqual({ status: 503, body: 'not ready\nno valid policy loaded (see /status)\n' });
      expect(await statusOf(port)).toMatchObject({ agent: { ready: false }, policies: [], policy_errors: [problem] });
      // Hot reload picks the new file up; a scheduled policy runs at once (run_at_start).
      writeFileSync(join(dir, 'policies', 'good.yaml'), yearly('good'));
      await a.waitForLog('run finished', { policy: 'good' });
      expect(await getStatus(port, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
      const s = await statusOf(port);
      expect(s.agent.ready).toBe(true);
      expect(s.policies.map((p) => [p.name, p.last_run?.result])).toEqual([['good', 'success']]);
      expect(s.policy_errors).toEqual([problem]);
    } finally {
      expect(await a.stop()).toBe(0);
    }
  });

  it('exits 1 when there is no policies.dir a valid policy could appear in', async () => {
    const { file } = tempAgent(
      'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  dry_run: true\npolicies:\n  - { name: bad, collector: pvx, config: {} }\n',
    );
    const r = await agentCli(['run', '-c', file]);
    expect(r.code).toBe(1);
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, `${file}:7:29: policies.0.collector: unknown collector "pvx" (known: ${KNOWN_COLLECTORS}); did you mean "pve"?`],
      [60, 'no valid policy to run, and no policies.dir to wait for one in'],
    ]);
  });
});

describe('run_at_start', () => {
  it('a scheduled policy runs once as it starts, not only at its first tick', async () => {
    const { port, yaml } = await agentYaml();
    const { file } = tempAgent(yaml, { 'a.yaml': yearly('yearly') });
    const a = startAgent(['run', '-c', file]);
    try {
      expect(await a.waitForLog('policy scheduled', { policy: 'yearly' })).toMatchObject({ run_at_start: true, schedule: '0 0 1 1 *' });
      await a.waitForLog('run finished', { policy: 'yearly' });
      const s = await statusOf(port);
      expect(s.policies[0]?.last_run?.result).toBe('success');
      expect(new Date(s.policies[0]?.next_run ?? 0).getMonth()).toBe(0);
    } finally {
      expect(await a.stop()).toBe(0);
    }
  });

  it('run_at_start: false waits for the tick; agent.run_at_start: false is the default a policy overrides', async () => {
    const { port, yaml } = await agentYaml('  run_at_start: false\n');
    const { file } = tempAgent(yaml, { 'a.yaml': yearly('waits'), 'b.yaml': yearly('starts', 'run_at_start: true\n') });
    const a = startAgent(['run', '-c', file]);
    try {
      await a.waitForLog('run finished', { policy: 'starts' });
      // The run at start is begun as the policy is scheduled, before "agent started".
      expect(await a.waitForLog('policy scheduled', { policy: 'waits' })).toMatchObject({ run_at_start: false });
      const s = await statusOf(port);
      expect(s.policies.map((p) => [p.name, p.running, p.last_run?.result ?? null])).toEqual([
        ['waits', false, null],
        ['starts', false, 'success'],
      ]);
      expect(
        a
          .logs()
          .filter((l) => l.msg === 'run started')
          .map((l) => l.policy),
      ).toEqual(['starts']);
    } finally {
      expect(await a.stop()).toBe(0);
    }
  });
});

describe('SIGTERM during a run', () => {
  let pve: FakeServer;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  beforeAll(async () => {
    const handler = pveHandler(generatePveScenario({ guests: 4, nodes: 2, seed: 5 }), PVE_TOKEN);
    // /cluster/resources never answers while the test runs: the run is under way when the signal comes.
    pve = await startFakeHttps(async (req) => {
      if (req.path.endsWith('/cluster/resources')) await held;
      return handler(req);
    });
  });
  afterAll(async () => {
    release();
    await pve.close();
  });

  it('is a cancelled run, logged at warn, not an error; the agent exits 0', async () => {
    const { yaml } = await agentYaml();
    const { file } = tempAgent(yaml.replace('  status: {', '  status: { enabled: false,'), {
      'pve.yaml': `name: pve\ncollector: pve\nconfig:\n${pveLabConfigYaml(pve.port)}\n`,
    });
    const a = startAgent(['run', '-c', file], { PVE_TOKEN: PVE_TOKEN.secret });
    const started = await a.waitForLog('run started', { policy: 'pve' });
    await waitFor(() => pve.requests.some((r) => r.path.endsWith('/cluster/resources')));
    expect(await a.stop()).toBe(0);
    const logs = a.logs();
    expect(logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(logs.filter((l) => l.run_id === started.run_id && (l.level as number) >= 40).map((l) => [l.level, l.msg, l.reason ?? l.status])).toEqual([
      [40, 'run cancelled', 'agent stopping'],
      [40, 'run finished', 'cancelled'],
    ]);
  });

  it('shows as cancelled in /status and the metrics, and delivers nothing', async () => {
    const ingester = await new FakeDiodeIngester().start();
    try {
      const a = harness(ingester, pve).agent({ log: pino({ level: 'silent' }) });
      const run = a.run(a.policies[0]!);
      await waitFor(() => pve.requests.filter((r) => r.path.endsWith('/cluster/resources')).length >= 2);
      await a.stop(1000);
      const r = await run;
      expect(r).toMatchObject({ status: 'cancelled', error: 'cancelled: agent stopping' });
      expect((a.status() as StatusDoc).policies[0]?.last_run).toMatchObject({ result: 'cancelled', error: 'cancelled: agent stopping' });
      const runs = await a.metrics.registry.getSingleMetric('diode_agent_runs_total')?.get();
      expect(runs?.values.map((v) => [v.labels.result, v.value])).toEqual([['cancelled', 1]]);
      expect(ingester.ingests).toEqual([]);
    } finally {
      await ingester.stop();
    }
  });
});

describe('a second signal', () => {
  let ingester: FakeDiodeIngester;
  beforeAll(async () => {
    ingester = await new FakeDiodeIngester().start();
    // Diode holds every request far beyond the test: a graceful stop would wait for it.
    ingester.faultFn = () => ({ code: 0, delayMs: 120_000 });
  });
  afterAll(async () => {
    await ingester.stop();
  });

  it.each([
    ['SIGTERM', 'SIGINT'],
    ['SIGINT', 'SIGTERM'],
  ] as const)('%s, then %s during the graceful stop: exits at once with 130, not after the grace period', async (first, second) => {
    const yaml = `agent:\n  state_dir: ./state\n  shutdown_grace_period: 1h\n  status: { enabled: false }\ndiode:\n  target: ${ingester.target}\n  client_id: ${ingester.opts.clientId}\n  client_secret: \${env:DIODE_CLIENT_SECRET}\npolicies:\n  dir: ./policies\n`;
    const { file } = tempAgent(yaml, { 'boot.yaml': `name: boot\ncollector: pve\nconfig: { BOOTSTRAP: true }\n` });
    const before = ingester.ingests.length;
    const a = startAgent(['run', '-c', file], { DIODE_CLIENT_SECRET: ingester.opts.clientSecret });
    await waitFor(() => ingester.ingests.length > before);
    a.proc.kill(first);
    await a.waitForLog('waiting for in-flight runs');
    // The held request would keep a graceful stop going for the whole hour of grace.
    expect(await a.stop(second)).toBe(130);
    const logs = a.logs();
    expect(logs.filter((l) => ['stopping', 'second signal, exiting now', 'stopped'].includes(l.msg as string)).map((l) => [l.level, l.msg, l.signal])).toEqual([
      [30, 'stopping', first],
      [40, 'second signal, exiting now', second],
    ]);
  });
});
