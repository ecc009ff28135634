import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { NetBoxDiodeModel } from './fakes/netbox-diode/model.ts';
import { pveHandler, type PveScenario, type PveScenarioGuest } from '../agent/collectors/pve/fake.ts';
import { harness, PVE_TOKEN, type Harness } from './helpers/agent-harness.ts';
import { duplicatesIn, modelBehind } from './helpers/netbox-model.ts';
import type { PveMemory } from '../agent/collectors/pve/guest-agent.ts';
import { parseState, type PolicyState } from '../agent/state/store.ts';

/*
 * The collector memory through the agent itself: saved with the policy's state after a
 * run, recalled by the next run (also after a restart), never written by a dry run; and the
 * reason it exists, a guest agent that stops answering, changes nothing in NetBox.
 */

const agentOk = (vmid: number, version: string, ip: string): PveScenarioGuest['agent'] => ({
  kind: 'ok',
  osinfo: { id: 'ubuntu', name: 'Ubuntu', 'version-id': version },
  interfaces: [
    {
      name: 'ens18',
      'hardware-address': `bc:24:11:00:01:${vmid - 100}0`,
      'ip-addresses': [
        { 'ip-address': ip, 'ip-address-type': 'ipv4', prefix: 24 },
        { 'ip-address': 'fd00::5', 'ip-address-type': 'ipv6', prefix: 64 },
      ],
    },
  ],
});

function guest(vmid: number, version: string, ip: string): PveScenarioGuest {
  return {
    resource: {
      id: `qemu/${vmid}`,
      type: 'qemu',
      vmid,
      name: `vm${vmid}`,
      node: 'pve1',
      status: 'running',
      template: 0,
      maxcpu: 2,
      maxmem: 4294967296,
      uptime: 86400,
    },
    config: { agent: 1, ostype: 'l26', net0: `virtio=BC:24:11:00:01:${vmid - 100}0,bridge=vmbr0` },
    agent: agentOk(vmid, version, ip),
  };
}

let ingester: FakeDiodeIngester;
let pve: FakeServer;
let model: NetBoxDiodeModel;
let scenario: PveScenario;

beforeEach(async () => {
  scenario = {
    cluster: 'lab',
    nodes: [{ name: 'pve1', network: [{ iface: 'vmbr0', type: 'bridge', cidr: '10.0.0.1/24', priority: 1 }] }],
    guests: [guest(100, '22.04', '10.0.0.100'), guest(101, '24.04', '10.0.0.101')],
  };
  pve = await startFakeHttps(pveHandler(scenario, PVE_TOKEN));
  ingester = await new FakeDiodeIngester().start();
  model = new NetBoxDiodeModel({ seed: 3, workers: 4 });
  modelBehind(ingester, model);
});
afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

const stateOf = (h: Harness): PolicyState => parseState(readFileSync(join(h.dir, 'state', 'pve.state')), 'pve.state');
const agentCalls = (from: number): string[] =>
  pve.requests
    .slice(from)
    .map((r) => r.path.replace('/api2/json', ''))
    .filter((p) => p.includes('/agent/'))
    .sort();

async function once(h: Harness, opts: Parameters<Harness['agent']>[0] = {}) {
  const a = h.agent(opts);
  try {
    const [r] = await a.once();
    return r!;
  } finally {
    await a.stop(0);
  }
}

/** What NetBox shows of the guests: platform and the addresses on their interfaces. */
function guestsInNetBox(): Array<[unknown, unknown, unknown[]]> {
  model.drain();
  const platforms = new Map<unknown, unknown>(model.objects('dcim.platform').map((p) => [p.id, p.name]));
  const ifaceVm = new Map<unknown, unknown>(model.objects('virtualization.vminterface').map((i) => [i.id, i.virtual_machine]));
  return model
    .objects('virtualization.virtualmachine')
    .map(
      (vm) =>
        [
          vm.name,
          platforms.get(vm.platform),
          model
            .objects('ipam.ipaddress')
            .filter((ip) => ip.assigned_object_type === 'virtualization.vminterface' && ifaceVm.get(ip.assigned_object_id) === vm.id)
            .map((ip) => ip.address)
            .sort(),
        ] as [unknown, unknown, unknown[]],
    )
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

describe('collector memory through the agent', () => {
  it('is saved with the state, recalled after a restart, and keeps NetBox unchanged when an agent stops answering', async () => {
    const h = harness(ingester, pve, { diodeExtra: '  read_back: { enabled: true, timeout: 20s, poll_interval: 5ms }' });
    h.writePolicy('delta: false\n');
    const r1 = await once(h);
    expect(r1.status).toBe('success');
    expect(agentCalls(0)).toEqual([
      '/nodes/pve1/qemu/100/agent/get-osinfo',
      '/nodes/pve1/qemu/100/agent/network-get-interfaces',
      '/nodes/pve1/qemu/101/agent/get-osinfo',
      '/nodes/pve1/qemu/101/agent/network-get-interfaces',
    ]);
    const memory = stateOf(h).memory as PveMemory;
    expect(Object.keys(memory.agents)).toEqual(['100', '101']);
    expect(memory.agents['100']?.osinfo?.value).toEqual({ id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' });
    const before = guestsInNetBox();
    // fd00::5 has two owners: the first (vm100) keeps it.
    expect(before).toEqual([
      ['vm100', 'Ubuntu 22.04', ['10.0.0.100/24', 'fd00::5/64']],
      ['vm101', 'Ubuntu 24.04', ['10.0.0.101/24']],
    ]);

    // A new agent (a restart): the memory comes from the state file. vm100's agent stops.
    scenario.guests[0]!.agent = { kind: 'agent-not-running' };
    const seen = pve.requests.length;
    const logsBefore = model.logs().length;
    const r2 = await once(h);
    // No osinfo asked (same boot), and one call for the agent that does not answer.
    expect(agentCalls(seen)).toEqual(['/nodes/pve1/qemu/100/agent/network-get-interfaces', '/nodes/pve1/qemu/101/agent/network-get-interfaces']);
    const at = new Date(memory.agents['100']!.interfaces!.at).toISOString().replace(/[.]/g, '\\.');
    expect(r2.warnings).toHaveLength(1);
    expect(r2.warnings[0]!.code).toBe('pve_agent_data_reused');
    expect(r2.warnings[0]!.subject).toBe('qemu 100 on pve1');
    expect(r2.warnings[0]!.message).toMatch(
      new RegExp(
        `^GET /nodes/pve1/qemu/100/agent/network-get-interfaces: HTTP 500 QEMU guest agent is not running; the platform and IPs it reported \\d+ s ago \\(${at}\\) are kept$`,
      ),
    );
    // Everything was sent again (delta off) and NetBox changed nowhere: no platform flip, no IP gone.
    const again = model.logs().slice(logsBefore);
    expect(again).toHaveLength(r2.diode.entities);
    expect(again.filter((l) => l.state !== 'no_changes').map((l) => `${l.member} ${l.state}`)).toEqual([]);
    expect(model.failed()).toEqual([]);
    expect(duplicatesIn(model)).toEqual([]);
    expect(guestsInNetBox()).toEqual(before);
    expect((stateOf(h).memory as PveMemory).agents['100']).toEqual(memory.agents['100']);

    // Without the memory (a new state directory), the same run flips vm100 to the ostype platform.
    const fresh = harness(ingester, pve);
    fresh.writePolicy('delta: false\n');
    const r3 = await once(fresh);
    expect(r3.warnings.map((w) => w.code)).toEqual(['guest_agent_unavailable']);
    expect(guestsInNetBox()[0]?.slice(0, 2)).toEqual(['vm100', 'Linux']);
  });

  it('is read but never written by a dry run', async () => {
    const h = harness(ingester, pve);
    await once(h);
    const file = join(h.dir, 'state', 'pve.state');
    const saved = readFileSync(file);
    scenario.guests[0]!.agent = { kind: 'timeout' };
    const dryRunDir = mkdtempSync(join(tmpdir(), 'mem-dry-'));
    const r = await once(h, { dryRun: true, dryRunDir });
    // The dry run recalled the live memory (the last answer is kept) …
    expect(r.warnings.map((w) => [w.code, w.subject])).toEqual([['pve_agent_data_reused', 'qemu 100 on pve1']]);
    // … and left the state as it was: no hung mark for the next live run.
    expect(readFileSync(file)).toEqual(saved);
    const seen = pve.requests.length;
    const live = await once(h);
    expect(agentCalls(seen)).toEqual(['/nodes/pve1/qemu/100/agent/network-get-interfaces', '/nodes/pve1/qemu/101/agent/network-get-interfaces']);
    expect((stateOf(h).memory as PveMemory).agents['100']?.hung?.skipped).toBe(0);
    expect(live.warnings.map((w) => w.code)).toEqual(['pve_agent_data_reused']);
  });
});
