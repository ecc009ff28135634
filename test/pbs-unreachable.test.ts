import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { loadAgentConfig } from '../agent/config/load.ts';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { startFakeHttps } from './fakes/https-server.ts';
import { agentCli, tempAgent } from './helpers/cli.ts';

/*
 * A PBS that cannot be reached (a typo in PBS_HOST, the server down) loses the whole
 * target: the run fails and sends nothing, as for PVE, so NetBox keeps the Device as it
 * was instead of getting it offline, or a new Device named after the typo. /status, the
 * metrics and the `once` summary say why.
 */
let ingester: FakeDiodeIngester;
let port: number;
beforeAll(async () => {
  ingester = await new FakeDiodeIngester().start();
  const s = await startFakeHttps(() => ({ status: 200 }));
  await s.close();
  port = s.port;
});
afterAll(async () => {
  await ingester.stop();
});

const config = () =>
  tempAgent(
    `agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  target: ${ingester.target}\n  client_id: ${ingester.opts.clientId}\n  client_secret: \${env:S}\npolicies:\n  dir: ./policies\n`,
    {
      'pbs.yaml': `name: pbs-down\ncollector: pbs\nconfig:\n  PBS_HOST: 127.0.0.1\n  PBS_PORT: ${port}\n  PBS_TOKEN_ID: "netbox@pbs!discovery"\n  PBS_TOKEN_SECRET: 7d3c1c52-5b8e-4f5e\n  SITE_NAME: Lab\n`,
    },
  );
const reason = () =>
  `collection failed: Proxmox Backup Server at 127.0.0.1:${port} could not be read: GET /version: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port} (check PBS_HOST and PBS_PORT; nothing was sent, so NetBox keeps the server as it was)`;

describe('an unreachable PBS', () => {
  it('once: a failed run, nothing sent, the reason in the summary, retryable: exit 75', async () => {
    const r = await agentCli(['once', '-q', '-c', config().file], { env: { S: ingester.opts.clientSecret } });
    expect({ ...r, stdout: r.stdout.replace(/ in \d+\.\d\ds, \d+ API/, ' in T, N API') }).toEqual({
      code: 75,
      stdout: `pbs-down (pbs): failed in T, N API requests, 0 warnings\n  sent: 0 entities in 0 requests (0 bytes)\n  error: ${reason()} (retryable: a later run may succeed with nothing changed)\n`,
      stderr: '',
    });
    expect(ingester.ingests).toEqual([]);
  });

  it('/status and the metrics say the run failed and why', async () => {
    const { file } = config();
    const env = { S: ingester.opts.clientSecret };
    const a = new Agent(loadAgentConfig(file, env), COLLECTORS, pino({ level: 'silent' }), { env });
    a.loadPolicies();
    const [r] = await a.once();
    await a.stop(0);
    expect(r).toMatchObject({ status: 'failed', error: reason(), retryable: true, collected: {}, warnings: [] });
    expect((a.status() as { policies: Array<{ last_run: unknown }> }).policies[0]?.last_run).toMatchObject({
      result: 'failed',
      error: reason(),
      retryable: true,
      entities_collected: {},
      warnings: [],
    });
    const runs = await a.metrics.registry.getSingleMetric('diode_agent_runs_total')?.get();
    expect(runs?.values.map((v) => [v.labels.policy, v.labels.result, v.value])).toEqual([['pbs-down', 'failed', 1]]);
    expect(ingester.ingests).toEqual([]);
  });
});
