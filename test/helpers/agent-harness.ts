import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Agent, type AgentOptions } from '../../agent/agent.ts';
import { COLLECTORS } from '../../agent/collectors/registry.ts';
import { loadAgentConfig } from '../../agent/config/load.ts';
import { IngestRequestType } from '../../agent/diode/codec.ts';
import type { FakeDiodeIngester } from '../fakes/diode-ingester.ts';
import { TEST_CERT_FINGERPRINT, type FakeServer } from '../fakes/https-server.ts';

export const PVE_TOKEN = { tokenId: 'root@pam!netbox', secret: 'harness-pve-secret-7d1e' };

/**
 * The `config:` block of a PVE policy against a fake PVE on loopback (token from $PVE_TOKEN,
 * the test certificate pinned, site Lab), each line indented by `indent`.
 */
export function pveLabConfigYaml(port: number, indent = '  '): string {
  return [
    'PROXMOX_HOST: 127.0.0.1',
    `PROXMOX_PORT: ${port}`,
    'PROXMOX_TOKEN_NAME: netbox',
    'PROXMOX_TOKEN_VALUE: ${env:PVE_TOKEN}',
    `PROXMOX_FINGERPRINT: "${TEST_CERT_FINGERPRINT}"`,
    'SITE_NAME: Lab',
  ]
    .map((l) => `${indent}${l}`)
    .join('\n');
}

export interface Harness {
  dir: string;
  configFile: string;
  policyFile: string;
  env: NodeJS.ProcessEnv;
  writePolicy(extra?: string): void;
  agent(opts?: AgentOptions & { log?: Logger }): Agent;
}

/** A temp directory with agent.yaml and one PVE policy file pointing at the fakes. */
export function harness(ingester: FakeDiodeIngester, pve: FakeServer, opts: { schedule?: string; agentExtra?: string; diodeExtra?: string } = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'agent-h-'));
  mkdirSync(join(dir, 'policies'));
  const configFile = join(dir, 'agent.yaml');
  const policyFile = join(dir, 'policies', 'pve.yaml');
  writeFileSync(
    configFile,
    `
agent:
  name: harness
  state_dir: ./state
  status: { enabled: false }
${opts.agentExtra ?? ''}
diode:
  target: ${ingester.target}
  client_id: \${env:DIODE_CLIENT_ID}
  client_secret: \${env:DIODE_CLIENT_SECRET}
  max_attempts: 2
  backoff_max: 50ms
${opts.diodeExtra ?? ''}
policies:
  dir: ./policies
`,
  );
  const env = { ...process.env, PVE_TOKEN: PVE_TOKEN.secret, DIODE_CLIENT_ID: ingester.opts.clientId, DIODE_CLIENT_SECRET: ingester.opts.clientSecret };
  const h: Harness = {
    dir,
    configFile,
    policyFile,
    env,
    writePolicy: (extra = '') =>
      writeFileSync(
        policyFile,
        `
name: pve
collector: pve
${opts.schedule ? `schedule: "${opts.schedule}"` : ''}
config:
${pveLabConfigYaml(pve.port)}
${extra}`,
      ),
    agent: (o = {}) => {
      const a = new Agent(loadAgentConfig(configFile, env), COLLECTORS, o.log ?? pino({ level: 'silent' }), { env, ...o });
      a.loadPolicies();
      return a;
    },
  };
  h.writePolicy();
  return h;
}

/** Entities of raw IngestRequests, without their timestamps, in order. */
export function entitiesOf(requests: readonly Uint8Array[]): Array<Record<string, unknown>> {
  return requests.flatMap((b) =>
    (IngestRequestType.toObject(IngestRequestType.decode(b), { longs: Number, arrays: true }).entities as Array<Record<string, unknown>>).map(
      ({ timestamp: _t, ...rest }) => rest,
    ),
  );
}

export function kindOf(e: Record<string, unknown>): string {
  return Object.keys(e).find((k) => k !== 'timestamp') ?? '';
}

export async function waitFor(cond: () => boolean, timeoutMs = 20_000, stepMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
