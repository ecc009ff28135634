import { afterEach, describe, expect, it } from 'vitest';
import { startFakePve, type PveScenario, type PveScenarioGuest } from './fake.ts';
import type { FakeServer } from '../../../test/fakes/https-server.ts';
import { testCollectContext } from '../../../test/helpers/collect-context.ts';
import { collectPve } from './collect.ts';
import { pveConfigSchema } from './config.ts';
import { BOOT_TOLERANCE_S, formatAge, isAgentTimeout, readMemory, type PveMemory } from './guest-agent.ts';
import { HttpStatusError } from '../../http/client.ts';
import type { Warning } from '../types.ts';
import type { PveSnapshot } from './snapshot.ts';

const TOKEN = { tokenId: 'root@pam!netbox', secret: 'b2c1d0e9-0000-4000-8000-000000000001' };
const T0 = Date.parse('2025-06-01T12:00:00Z');
const MIN = 60_000;

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ubuntu = { id: 'ubuntu', name: 'Ubuntu', 'version-id': '22.04' };
const ifaces = (vmid: number, ip: string) => [
  { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }] },
  { name: 'ens18', 'hardware-address': `bc:24:11:00:00:${vmid - 100}0`, 'ip-addresses': [{ 'ip-address': ip, 'ip-address-type': 'ipv4', prefix: 24 }] },
];
const snapIfaces = (vmid: number, ip: string) => [
  { name: 'lo', mac: '00:00:00:00:00:00', addresses: [{ address: '127.0.0.1', family: 'ipv4', prefix: 8 }] },
  { name: 'ens18', mac: `bc:24:11:00:00:${vmid - 100}0`, addresses: [{ address: ip, family: 'ipv4', prefix: 24 }] },
];

function vm(vmid: number, uptime: number, agent: PveScenarioGuest['agent']): PveScenarioGuest {
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
      uptime,
    },
    config: { agent: 1, ostype: 'l26', net0: `virtio=BC:24:11:00:00:${vmid - 100}0,bridge=vmbr0` },
    ...(agent && { agent }),
  };
}

/**
 * A policy's runs against one fake PVE: each run recalls what the last remembered, at a
 * pinned time, and returns its snapshot, warnings (sorted), agent requests and memory.
 */
function runner(scenario: PveScenario, extra: Record<string, unknown> = {}) {
  let memory: unknown;
  let seen = 0;
  return async (at: number): Promise<{ snap: PveSnapshot; warnings: Warning[]; agentCalls: string[]; memory: PveMemory }> => {
    server ??= await startFakePve(scenario, TOKEN);
    const config = pveConfigSchema.parse({
      PROXMOX_HOST: '127.0.0.1',
      PROXMOX_PORT: server.port,
      PROXMOX_TOKEN_NAME: 'netbox',
      PROXMOX_TOKEN_VALUE: TOKEN.secret,
      ...extra,
    });
    const ctx = testCollectContext(config);
    const recalled = memory;
    ctx.recall = () => Promise.resolve(recalled);
    ctx.remember = (v) => {
      memory = v;
    };
    ctx.now = () => at;
    try {
      const snap = await collectPve(ctx);
      const agentCalls = server.requests
        .slice(seen)
        .map((r) => r.path.replace('/api2/json', ''))
        .filter((p) => p.includes('/agent/'))
        .sort();
      seen = server.requests.length;
      const warnings = [...ctx.warnings].sort((a, b) => a.subject.localeCompare(b.subject));
      return { snap, warnings, agentCalls, memory: memory as PveMemory };
    } finally {
      await ctx.close();
    }
  };
}

const agentOf = (snap: PveSnapshot, vmid: number) => snap.guests.find((g) => g.vmid === vmid)?.agent;

describe('guest agent across runs', () => {
  it('asks osinfo once per boot, skips a hung agent for AGENT_RECHECK_RUNS - 1 runs, keeps the last answer of an agent that stops answering', async () => {
    // 100 answers throughout; 101 hangs (PVE's "got timeout"); 102 answers, then its agent stops, then it restarts.
    const g100 = vm(100, 3600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(100, '10.0.0.100') });
    const g101 = vm(101, 7200, { kind: 'timeout' });
    const g102 = vm(102, 600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(102, '10.0.0.102') });
    const scenario: PveScenario = { cluster: 'lab', nodes: [{ name: 'pve1' }], guests: [g100, g101, g102] };
    const run = runner(scenario);
    const uptime = (g: PveScenarioGuest, s: number) => {
      g.resource.uptime = s;
    };

    // Run 1: both calls for the answering agents; the hung one gets one call, not two.
    const r1 = await run(T0);
    expect(r1.agentCalls).toEqual([
      '/nodes/pve1/qemu/100/agent/get-osinfo',
      '/nodes/pve1/qemu/100/agent/network-get-interfaces',
      '/nodes/pve1/qemu/101/agent/network-get-interfaces',
      '/nodes/pve1/qemu/102/agent/get-osinfo',
      '/nodes/pve1/qemu/102/agent/network-get-interfaces',
    ]);
    expect(r1.warnings).toEqual([
      {
        code: 'guest_agent_unavailable',
        subject: 'qemu 101 on pve1',
        message:
          "GET /nodes/pve1/qemu/101/agent/network-get-interfaces: HTTP 500 VM 101 qmp command 'guest-network-get-interfaces' failed - got timeout; not asked again for 3 runs (AGENT_RECHECK_RUNS); platform from ostype, no guest IPs",
      },
    ]);
    expect(agentOf(r1.snap, 101)).toBeUndefined();
    expect(r1.memory).toEqual({
      v: 1,
      agents: {
        100: {
          name: 'vm100',
          interfaces: { at: T0, value: snapIfaces(100, '10.0.0.100') },
          osinfo: { at: T0, boot: T0 / 1000 - 3600, value: { id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' } },
        },
        101: { name: 'vm101', hung: { at: T0, skipped: 0 } },
        102: {
          name: 'vm102',
          interfaces: { at: T0, value: snapIfaces(102, '10.0.0.102') },
          osinfo: { at: T0, boot: T0 / 1000 - 600, value: { id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' } },
        },
      },
    });

    // Run 2, 15 minutes later (uptime 15 min more, read 20 s stale): osinfo is not asked
    // again; 101 is not asked at all; 102's agent stops answering, its last answer is kept.
    uptime(g100, 3600 + 900 - 20);
    uptime(g101, 7200 + 900);
    uptime(g102, 600 + 900);
    g102.agent = { kind: 'agent-not-running' };
    const r2 = await run(T0 + 15 * MIN);
    expect(r2.agentCalls).toEqual(['/nodes/pve1/qemu/100/agent/network-get-interfaces', '/nodes/pve1/qemu/102/agent/network-get-interfaces']);
    expect(r2.warnings).toEqual([
      {
        code: 'pve_agent_skipped',
        subject: 'qemu 101 on pve1',
        message:
          'not asked this run: it timed out 15 min ago (2025-06-01T12:00:00.000Z) and is asked again in 3 runs (AGENT_RECHECK_RUNS); platform from ostype, no guest IPs',
      },
      {
        code: 'pve_agent_data_reused',
        subject: 'qemu 102 on pve1',
        message:
          'GET /nodes/pve1/qemu/102/agent/network-get-interfaces: HTTP 500 QEMU guest agent is not running; the platform and IPs it reported 15 min ago (2025-06-01T12:00:00.000Z) are kept',
      },
    ]);
    expect(agentOf(r2.snap, 100)).toEqual({ interfaces: snapIfaces(100, '10.0.0.100'), osinfo: { id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' } });
    expect(agentOf(r2.snap, 102)).toEqual({ interfaces: snapIfaces(102, '10.0.0.102'), osinfo: { id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' } });
    expect(r2.memory.agents).toEqual({
      // The osinfo keeps the time and boot it was asked at.
      100: { name: 'vm100', interfaces: { at: T0 + 15 * MIN, value: snapIfaces(100, '10.0.0.100') }, osinfo: r1.memory.agents['100']?.osinfo },
      101: { name: 'vm101', hung: { at: T0, skipped: 1 } },
      102: r1.memory.agents['102'],
    });

    // Run 3: 102 restarted (uptime 60 s) and answers with its upgraded OS: osinfo is asked again.
    uptime(g100, 3600 + 1800);
    uptime(g102, 60);
    const noble = { id: 'ubuntu', name: 'Ubuntu', 'version-id': '24.04' };
    g102.agent = { kind: 'ok', osinfo: noble, interfaces: ifaces(102, '10.0.0.112') };
    const r3 = await run(T0 + 30 * MIN);
    expect(r3.agentCalls).toEqual([
      '/nodes/pve1/qemu/100/agent/network-get-interfaces',
      '/nodes/pve1/qemu/102/agent/get-osinfo',
      '/nodes/pve1/qemu/102/agent/network-get-interfaces',
    ]);
    expect(r3.warnings).toEqual([
      {
        code: 'pve_agent_skipped',
        subject: 'qemu 101 on pve1',
        message:
          'not asked this run: it timed out 30 min ago (2025-06-01T12:00:00.000Z) and is asked again in 2 runs (AGENT_RECHECK_RUNS); platform from ostype, no guest IPs',
      },
    ]);
    expect(agentOf(r3.snap, 102)).toEqual({ interfaces: snapIfaces(102, '10.0.0.112'), osinfo: { id: 'ubuntu', name: 'Ubuntu', versionId: '24.04' } });
    expect(r3.memory.agents['102']?.osinfo).toEqual({
      at: T0 + 30 * MIN,
      boot: (T0 + 30 * MIN) / 1000 - 60,
      value: { id: 'ubuntu', name: 'Ubuntu', versionId: '24.04' },
    });

    // Run 4 skips 101 for the third time; run 5 asks it again, and it answers.
    uptime(g100, 3600 + 2700);
    uptime(g101, 7200 + 2700);
    uptime(g102, 60 + 900);
    const r4 = await run(T0 + 45 * MIN);
    expect(r4.agentCalls).toEqual(['/nodes/pve1/qemu/100/agent/network-get-interfaces', '/nodes/pve1/qemu/102/agent/network-get-interfaces']);
    expect(r4.warnings.map((w) => [w.code, w.message.replace(/ \(2025.*\) and/, ' and')])).toEqual([
      ['pve_agent_skipped', 'not asked this run: it timed out 45 min ago and is asked again in 1 run (AGENT_RECHECK_RUNS); platform from ostype, no guest IPs'],
    ]);
    g101.agent = { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(101, '10.0.0.101') };
    uptime(g100, 3600 + 3600);
    uptime(g101, 7200 + 3600);
    uptime(g102, 60 + 1800);
    const r5 = await run(T0 + 60 * MIN);
    expect(r5.agentCalls).toEqual([
      '/nodes/pve1/qemu/100/agent/network-get-interfaces',
      '/nodes/pve1/qemu/101/agent/get-osinfo',
      '/nodes/pve1/qemu/101/agent/network-get-interfaces',
      '/nodes/pve1/qemu/102/agent/network-get-interfaces',
    ]);
    expect(r5.warnings).toEqual([]);
    expect(r5.memory.agents['101']).toEqual({
      name: 'vm101',
      interfaces: { at: T0 + 60 * MIN, value: snapIfaces(101, '10.0.0.101') },
      osinfo: { at: T0 + 60 * MIN, boot: T0 / 1000 - 7200, value: { id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' } },
    });
  });

  it('keeps the last answer while a hung agent is skipped, and asks every run with AGENT_RECHECK_RUNS: 1', async () => {
    const g = vm(100, 3600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(100, '10.0.0.100') });
    const run = runner({ cluster: 'lab', nodes: [{ name: 'pve1' }], guests: [g] });
    await run(T0);
    g.agent = { kind: 'timeout' };
    const r2 = await run(T0 + 2 * 3600_000);
    expect(r2.agentCalls).toEqual(['/nodes/pve1/qemu/100/agent/network-get-interfaces']);
    expect(r2.warnings).toEqual([
      {
        code: 'pve_agent_data_reused',
        subject: 'qemu 100 on pve1',
        message:
          "GET /nodes/pve1/qemu/100/agent/network-get-interfaces: HTTP 500 VM 100 qmp command 'guest-network-get-interfaces' failed - got timeout; not asked again for 3 runs (AGENT_RECHECK_RUNS); the platform and IPs it reported 2 h ago (2025-06-01T12:00:00.000Z) are kept",
      },
    ]);
    expect(agentOf(r2.snap, 100)).toEqual({ interfaces: snapIfaces(100, '10.0.0.100'), osinfo: { id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' } });
    const r3 = await run(T0 + 3 * 3600_000);
    expect(r3.agentCalls).toEqual([]);
    expect(r3.warnings).toEqual([
      {
        code: 'pve_agent_data_reused',
        subject: 'qemu 100 on pve1',
        message:
          'not asked this run: it timed out 60 min ago (2025-06-01T14:00:00.000Z) and is asked again in 3 runs (AGENT_RECHECK_RUNS); the platform and IPs it reported 3 h ago (2025-06-01T12:00:00.000Z) are kept',
      },
    ]);
    expect(agentOf(r3.snap, 100)).toEqual(agentOf(r2.snap, 100));

    await server?.close();
    server = undefined;
    const every = runner({ cluster: 'lab', nodes: [{ name: 'pve1' }], guests: [vm(100, 3600, { kind: 'timeout' })] }, { AGENT_RECHECK_RUNS: 1 });
    const e1 = await every(T0);
    expect(e1.warnings.map((w) => w.message)).toEqual([
      "GET /nodes/pve1/qemu/100/agent/network-get-interfaces: HTTP 500 VM 100 qmp command 'guest-network-get-interfaces' failed - got timeout; platform from ostype, no guest IPs",
    ]);
    const e2 = await every(T0 + 15 * MIN);
    expect(e2.agentCalls).toEqual(['/nodes/pve1/qemu/100/agent/network-get-interfaces']);
  });

  it('keeps the remembered platform when only get-osinfo fails, and the IPs when only they fail', async () => {
    const g = vm(100, 3600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(100, '10.0.0.100') });
    const scenario: PveScenario = { cluster: 'lab', nodes: [{ name: 'pve1' }], guests: [g] };
    const run = runner(scenario);
    await run(T0);
    // Restarted (so osinfo is asked), and its osinfo answer is not JSON.
    g.resource.uptime = 30;
    scenario.rawBodies = { '/nodes/pve1/qemu/100/agent/get-osinfo': '' };
    const r2 = await run(T0 + 10 * MIN);
    expect(r2.warnings).toEqual([
      {
        code: 'pve_agent_data_reused',
        subject: 'qemu 100 on pve1',
        message:
          'GET /nodes/pve1/qemu/100/agent/get-osinfo: unexpected response: not JSON (Unexpected end of JSON input); the platform it reported 10 min ago (2025-06-01T12:00:00.000Z) is kept',
      },
    ]);
    expect(agentOf(r2.snap, 100)).toEqual({ interfaces: snapIfaces(100, '10.0.0.100'), osinfo: { id: 'ubuntu', name: 'Ubuntu', versionId: '22.04' } });
    // The remembered osinfo keeps its old boot, so the next run asks again.
    expect(r2.memory.agents['100']?.osinfo?.boot).toBe(T0 / 1000 - 3600);
    // Interfaces not JSON: the agent answered, so get-osinfo is still asked (it answers now).
    scenario.rawBodies = { '/nodes/pve1/qemu/100/agent/network-get-interfaces': '<html>' };
    const r3 = await run(T0 + 20 * MIN);
    expect(r3.agentCalls).toEqual(['/nodes/pve1/qemu/100/agent/get-osinfo', '/nodes/pve1/qemu/100/agent/network-get-interfaces']);
    expect(r3.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'pve_agent_data_reused',
        'GET /nodes/pve1/qemu/100/agent/network-get-interfaces: unexpected response: not JSON (Unexpected token \'<\', "<html>" is not valid JSON); the IPs it reported 10 min ago (2025-06-01T12:10:00.000Z) are kept',
      ],
    ]);
  });

  it("remembers only this run's guests: gone, agent switched off, or a vmid reused under another name are forgotten; stopped guests are kept", async () => {
    const a = vm(100, 3600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(100, '10.0.0.100') });
    const b = vm(101, 3600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(101, '10.0.0.101') });
    const c = vm(102, 3600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(102, '10.0.0.102') });
    const d = vm(103, 3600, { kind: 'ok', osinfo: ubuntu, interfaces: ifaces(103, '10.0.0.103') });
    const scenario: PveScenario = { cluster: 'lab', nodes: [{ name: 'pve1' }], guests: [a, b, c, d] };
    const run = runner(scenario);
    const r1 = await run(T0);
    expect(Object.keys(r1.memory.agents)).toEqual(['100', '101', '102', '103']);
    scenario.guests = [a, b, d];
    a.resource.status = 'stopped';
    b.config = { agent: 0, ostype: 'l26' };
    d.resource.name = 'other';
    d.agent = { kind: 'agent-not-running' };
    const r2 = await run(T0 + MIN);
    expect(r2.memory.agents).toEqual({ 100: r1.memory.agents['100'] });
    // The new guest 103 does not inherit vm103's data.
    expect(r2.warnings).toEqual([
      {
        code: 'guest_agent_unavailable',
        subject: 'qemu 103 on pve1',
        message: 'GET /nodes/pve1/qemu/103/agent/network-get-interfaces: HTTP 500 QEMU guest agent is not running; platform from ostype, no guest IPs',
      },
    ]);
    expect(agentOf(r2.snap, 103)).toBeUndefined();
  });

  it('ignores a memory of another shape and drops only a malformed entry', () => {
    expect(readMemory(undefined).size).toBe(0);
    expect(readMemory({ v: 2, agents: {} }).size).toBe(0);
    expect(readMemory({ v: 1, agents: { abc: { name: 'x' } } }).size).toBe(0);
    const m = readMemory({ v: 1, agents: { 100: { name: 'vm100', hung: { at: 1, skipped: -1 } }, 101: { name: 'vm101', hung: { at: 1, skipped: 2 } } } });
    expect([...m]).toEqual([[101, { name: 'vm101', hung: { at: 1, skipped: 2 } }]]);
  });

  it("recognises PVE's agent timeouts only", () => {
    const e = (reason: string) => new HttpStatusError('GET', '/x', 500, reason);
    expect(isAgentTimeout(e("VM 100 qmp command 'guest-network-get-interfaces' failed - got timeout"))).toBe(true);
    expect(isAgentTimeout(e("VM 100 qga command 'guest-get-osinfo' failed - got timeout"))).toBe(true);
    expect(isAgentTimeout(e('unable to connect to VM 100 qga socket - timeout after 31 retries'))).toBe(true);
    expect(isAgentTimeout(e('QEMU guest agent is not running'))).toBe(false);
    expect(isAgentTimeout(new Error('got timeout'))).toBe(false);
    expect([formatAge(44_000), formatAge(15 * MIN), formatAge(3 * 3600_000), formatAge(3 * 86400_000)]).toEqual(['44 s', '15 min', '3 h', '3 d']);
    expect(BOOT_TOLERANCE_S).toBe(30);
  });
});
