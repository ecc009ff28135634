import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryRank, EMISSION_ORDER } from '../mappers/order.ts';
import type { EntityKind } from '../mappers/types.ts';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import type { FakeServer } from './fakes/https-server.ts';
import { pveLabConfigYaml } from './helpers/agent-harness.ts';
import { generatePveScenario, startFakePve } from '../agent/collectors/pve/fake.ts';

/*
 * `diode-agent once` as a user runs it, against the fake PVE cluster and the in-process
 * Diode ingester over real sockets: one node down, one guest agent not running and one
 * malformed guest config; everything else must arrive, phase by phase (mappers/order.ts).
 */
const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const TOKEN = { tokenId: 'root@pam!netbox', secret: 'e2e-pve-token-secret-0f3c' };

const scenario = generatePveScenario({ guests: 300, nodes: 3, seed: 11 });
scenario.cluster = 'e2e';
const down = scenario.nodes[2]!;
down.down = true;
const agentDown = scenario.guests.find((g) => g.resource.node === 'pve1' && g.resource.type === 'qemu' && g.agent?.kind === 'ok')!;
agentDown.agent = { kind: 'agent-not-running' };
const badConfig = scenario.guests.find((g) => g.resource.node === 'pve2' && g.resource.type === 'lxc')!;
badConfig.config = 'not a config';

let ingester: FakeDiodeIngester;
let pve: FakeServer;
let run: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  ingester = await new FakeDiodeIngester().start();
  pve = await startFakePve(scenario, TOKEN);
  const dir = mkdtempSync(join(tmpdir(), 'e2e-pve-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(
    join(dir, 'policies', 'pve.yaml'),
    `
name: pve-e2e
collector: pve
config:
${pveLabConfigYaml(pve.port)}
`,
  );
  writeFileSync(
    join(dir, 'agent.yaml'),
    `
agent:
  name: e2e-agent
  state_dir: ./state
  log_level: debug
diode:
  target: ${ingester.target}
  client_id: \${env:DIODE_CLIENT_ID}
  client_secret: \${file:./client-secret}
policies:
  dir: ./policies
`,
  );
  writeFileSync(join(dir, 'client-secret'), `${ingester.opts.clientSecret}\n`);
  const env = { PATH: process.env.PATH, PVE_TOKEN: TOKEN.secret, DIODE_CLIENT_ID: ingester.opts.clientId };
  run = await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '-c', join(dir, 'agent.yaml')], { env, cwd: root }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
});

afterAll(async () => {
  await ingester.stop();
  await pve.close();
});

const kindOf = (e: Record<string, unknown>) => Object.keys(e).find((k) => k !== 'timestamp') as EntityKind;

describe('diode-agent once against a PVE cluster with one node down', () => {
  it('completes, reports exactly the three warnings and exits 0', () => {
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^pve-e2e \(pve\): partial in [\d.]+s, \d+ API requests, 3 warnings$/m);
    const warnings = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('  warning: '))
      .sort();
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^ {2}warning: lxc \d+ on pve2: .* \[guest_config_invalid\]$/);
    expect(warnings[1]).toBe(
      "  warning: node pve3: GET /nodes/pve3/status: HTTP 595 No route to host; node data and its guests' details skipped [node_unreachable]",
    );
    expect(warnings[2]).toBe(
      `  warning: qemu ${agentDown.resource.vmid} on pve1: GET /nodes/pve1/qemu/${agentDown.resource.vmid}/agent/network-get-interfaces: HTTP 500 QEMU guest agent is not running; platform from ostype, no guest IPs [guest_agent_unavailable]`,
    );
  });

  it('ships every guest and every node over several requests, phase by phase and in emission order within a phase', () => {
    const ok = ingester.ingests.filter((r) => r.code === 0);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(ok.every((r) => r.request.entities.length <= 1000)).toBe(true);
    const entities = ingester.acceptedEntities();
    const ranks = entities.map((e) => deliveryRank(kindOf(e)));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const vms = entities
      .filter((e) => kindOf(e) === 'virtual_machine')
      .map((e) => (e.virtual_machine as { name: string }).name)
      .sort();
    expect(vms).toEqual(scenario.guests.map((g) => String(g.resource.name)).sort());
    const devices = entities
      .filter((e) => kindOf(e) === 'device')
      .map((e) => (e.device as { name: string }).name)
      .sort();
    expect(devices).toEqual(['pve1', 'pve2', 'pve3']);
    const seen = new Set(entities.map(kindOf));
    expect(EMISSION_ORDER.filter((k) => seen.has(k))).toEqual([
      'tag',
      'custom_field',
      'cluster_type',
      'cluster',
      'platform',
      'vlan',
      'vm_interface',
      'interface',
      'ip_address',
      'prefix',
      'virtual_machine',
      'virtual_disk',
      'device',
    ]);
    // The down node's guests come from /cluster/resources alone: no interfaces or disks.
    const downGuests = new Set(scenario.guests.filter((g) => g.resource.node === 'pve3').map((g) => String(g.resource.name)));
    expect(
      entities.filter((e) => kindOf(e) === 'vm_interface' && downGuests.has((e.vm_interface as { virtual_machine: { name: string } }).virtual_machine.name)),
    ).toEqual([]);
    expect(ok.every((r) => r.path === '/diode/diode.v1.IngesterService/Ingest' && r.authorization === 'Bearer tok-1')).toBe(true);
  });

  it('never writes a secret to its logs or output', () => {
    expect(run.stderr).toContain('"msg":"run finished"');
    for (const secret of [TOKEN.secret, ingester.opts.clientSecret, 'tok-1']) {
      expect(run.stderr).not.toContain(secret);
      expect(run.stdout).not.toContain(secret);
    }
  });
});
