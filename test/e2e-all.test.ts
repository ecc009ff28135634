import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { loadAgentConfig } from '../agent/config/load.ts';
import type { RunResult } from '../agent/pipeline/result.ts';
import { deliveryRank } from '../mappers/order.ts';
import type { EntityKind } from '../mappers/types.ts';
import { startLab, type Lab } from './demo/lab.ts';
import { FakeDiodeIngester, GrpcCode } from './fakes/diode-ingester.ts';
import { entitiesOf, kindOf } from './helpers/agent-harness.ts';

/*
 * Every collector end to end: the lab's PVE, PBS, PDM, Ceph and Packer policies run once
 * and deliver over real gRPC to the in-process ingester; what arrives is what each run
 * collected, phase by phase, and the objects two collectors share converge on one key.
 */
let lab: Lab;
let ingester: FakeDiodeIngester;
let results: RunResult[];
const perPolicy = new Map<string, Array<Record<string, unknown>>>();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-all-'));
  lab = await startLab(dir);
  ingester = await new FakeDiodeIngester().start();
  writeFileSync(
    join(dir, 'agent.yaml'),
    JSON.stringify({
      agent: { name: 'e2e-all', state_dir: join(dir, 'state'), status: { enabled: false } },
      diode: { target: ingester.target, client_id: ingester.opts.clientId, client_secret: ingester.opts.clientSecret },
      policies: lab.policies,
    }),
  );
  const env = { ...process.env, ...lab.env };
  const agent = new Agent(loadAgentConfig(join(dir, 'agent.yaml'), env), COLLECTORS, pino({ level: 'silent' }), { env });
  agent.loadPolicies();
  results = [];
  for (const p of agent.policies) {
    const before = ingester.ingests.length;
    results.push(await agent.run(p));
    perPolicy.set(p.name, entitiesOf(ingester.ingests.slice(before).map((r) => r.bytes)));
  }
  await agent.stop(0);
});

afterAll(async () => {
  await ingester.stop();
  await lab.close();
});

describe('all collectors through the Diode ingester', () => {
  it('delivers what each policy collected, phase by phase and in emission order within a phase', () => {
    expect(results.map((r) => [r.collector, r.status === 'failed' ? r.error : 'delivered'])).toEqual([...COLLECTORS.keys()].map((id) => [id, 'delivered']));
    expect(ingester.ingests.every((r) => r.code === GrpcCode.OK)).toBe(true);
    for (const r of results) {
      const got = perPolicy.get(r.policy) ?? [];
      const counts: Record<string, number> = {};
      for (const e of got) counts[kindOf(e)] = (counts[kindOf(e)] ?? 0) + 1;
      expect(counts).toEqual(r.collected);
      const ranks = got.map((e) => deliveryRank(kindOf(e) as EntityKind));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    }
  });

  it('lands PDM remotes on the objects the PVE and PBS policies make, and Ceph hosts on the PVE nodes', () => {
    const names = (policy: string, kind: string) =>
      new Set(
        (perPolicy.get(policy) ?? [])
          .filter((e) => kindOf(e) === kind)
          .map((e) => JSON.stringify({ name: (e[kind] as { name: string }).name, site: (e[kind] as { site?: { name: string } }).site?.name })),
      );
    const clusters = (policy: string) =>
      new Set((perPolicy.get(policy) ?? []).filter((e) => kindOf(e) === 'cluster').map((e) => (e.cluster as { name: string }).name));
    expect([...clusters('pdm-lab')].filter((c) => clusters('pve-lab').has(c))).toEqual(['lab-cluster']);
    const pbsDevice = [...names('pbs-lab', 'device')];
    expect(pbsDevice).toEqual([JSON.stringify({ name: 'pbs1.lab.example', site: 'Lab' })]);
    expect(names('pdm-lab', 'device').has(pbsDevice[0]!)).toBe(true);
    const pveNodes = names('pve-lab', 'device');
    expect([...names('ceph-lab', 'device')].every((d) => pveNodes.has(d))).toBe(true);
    const packerVms = (perPolicy.get('packer-lab') ?? [])
      .filter((e) => kindOf(e) === 'virtual_machine')
      .map((e) => (e.virtual_machine as { cluster: { name: string } }).cluster.name);
    expect(new Set(packerVms)).toEqual(new Set(['lab-cluster']));
  });
});
