import { afterEach, describe, expect, it } from 'vitest';
import { startFakePve, type PveScenario } from '../collectors/pve/fake.ts';
import { PVE_AUDIT_PRIVILEGES, without, type FakeTokenAcl } from '../../test/fakes/acl.ts';
import { TEST_CERT_FINGERPRINT, type FakeServer } from '../../test/fakes/https-server.ts';
import { freePort } from '../../test/helpers/agent-harness.ts';
import { policyYaml, preflight, received } from '../../test/helpers/preflight.ts';
import type { ProbeResult } from './types.ts';

const TOKEN = { tokenId: 'diode@pve!discovery', secret: 'pf-pve-secret-0001' };
let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const qemu = (vmid: number, node: string, status: string) => ({ id: `qemu/${vmid}`, type: 'qemu', vmid, name: `vm${vmid}`, node, status, template: 0 });

function scenario(extra: Partial<PveScenario> = {}): PveScenario {
  return {
    cluster: 'lab',
    nodes: [{ name: 'pve1' }, { name: 'pve2' }],
    guests: [
      {
        resource: qemu(100, 'pve1', 'running'),
        config: { agent: 1 },
        agent: { kind: 'ok', osinfo: { name: 'Debian GNU/Linux', 'version-id': '12' }, interfaces: [] },
      },
      { resource: qemu(101, 'pve2', 'stopped'), config: { agent: 1 } },
      { resource: { id: 'lxc/200', type: 'lxc', vmid: 200, name: 'ct200', node: 'pve2', status: 'running', template: 0 }, config: {} },
    ],
    ...extra,
  };
}

async function run(s: PveScenario, config: Record<string, unknown> = {}) {
  server = await startFakePve(s, TOKEN);
  const report = await preflight([
    policyYaml('lab', 'pve', {
      PROXMOX_HOST: '127.0.0.1',
      PROXMOX_PORT: server.port,
      PROXMOX_USER: 'diode@pve',
      PROXMOX_TOKEN_NAME: 'discovery',
      PROXMOX_TOKEN_VALUE: TOKEN.secret,
      ...config,
    }),
  ]);
  expect(report.policies).toHaveLength(1);
  return { report, policy: report.policies[0]! };
}

const ALL_OK: ProbeResult[] = [
  { endpoint: 'GET /version', ok: true, message: 'Proxmox VE 8.4.1' },
  { endpoint: 'GET /cluster/status', ok: true, message: 'OK' },
  { endpoint: 'GET /cluster/resources?type=vm', ok: true, message: '3 guests visible' },
  { endpoint: 'GET /nodes', ok: true, message: '2 nodes' },
  { endpoint: 'GET /nodes/pve1/status', ok: true, message: 'OK' },
  { endpoint: 'GET /nodes/pve1/network', ok: true, message: 'OK' },
  { endpoint: 'GET /nodes/pve1/qemu/100/config', ok: true, message: 'OK' },
  { endpoint: 'GET /nodes/pve2/lxc/200/config', ok: true, message: 'OK' },
  { endpoint: 'GET /nodes/pve1/qemu/100/agent/network-get-interfaces', ok: true, message: 'the agent answered' },
  { endpoint: 'GET /nodes/pve1/qemu/100/agent/get-osinfo', ok: true, message: 'the agent answered' },
];

type Change = Omit<ProbeResult, 'endpoint'> & { endpoint?: string };

/** ALL_OK with some rows replaced, by endpoint (a replacement may rename the row). */
function expected(changes: Record<string, Change>): ProbeResult[] {
  return ALL_OK.map((r) => (changes[r.endpoint] ? { endpoint: r.endpoint, ...changes[r.endpoint]! } : r));
}

const grant = (on: string, role: string) =>
  `pveum acl modify ${on} --users diode@pve --roles ${role}, and for a privilege-separated token (privsep=1) also --tokens 'diode@pve!discovery' (it holds only what it and its user both hold)`;
const auditorHint = `PVEAuditor has it: ${grant('/', 'PVEAuditor')}`;
const denied = (on: string, privs: string, privilege: string, hint = auditorHint): Omit<ProbeResult, 'endpoint'> => ({
  ok: false,
  status: 403,
  privilege,
  message: `HTTP 403 Permission check failed (${on}, ${privs}): the token lacks ${privilege}; ${hint}`,
});
const agentHint8 = `PVE 8 checks VM.Monitor for guest-agent reads (PVE 9 replaces it with VM.GuestAgent.Audit), which PVEAuditor does not have; pveum role add DiodeGuestAgent --privs VM.Monitor; ${grant('/vms', 'DiodeGuestAgent')}`;
const agentHint9 = `PVE 9 checks VM.GuestAgent.Audit for guest-agent reads (VM.Monitor is gone); pveum role add DiodeGuestAgent --privs VM.GuestAgent.Audit; ${grant('/vms', 'DiodeGuestAgent')}`;

/** The user's privileges on /, the token not privilege-separated. */
const onRoot = (privs: readonly string[]): FakeTokenAcl => ({ user: { '/': privs } });
const PVE8_ALL = [...PVE_AUDIT_PRIVILEGES, 'VM.Monitor'];

describe('PVE preflight', () => {
  it('calls each endpoint the collector uses exactly once and reports each OK', async () => {
    const { report, policy } = await run(scenario({ acl: onRoot(PVE8_ALL) }));
    expect(policy).toEqual({ policy: 'lab', collector: 'pve', target: `https://127.0.0.1:${server!.port}/api2/json`, ok: true, results: ALL_OK });
    expect(report.ok).toBe(true);
    expect(report.diode).toEqual({
      endpoint: 'POST <diode.target>/auth/token',
      ok: false,
      skipped: true,
      message: 'diode.target is not set (dry run): nothing to check',
    });
    expect(received(server!)).toEqual(ALL_OK.map((r) => r.endpoint));
  });

  // One case per privilege the collector needs; each token holds everything else.
  const cases: Array<{ name: string; s?: Partial<PveScenario>; acl: FakeTokenAcl; changes: Record<string, Change> }> = [
    {
      name: 'Sys.Audit',
      acl: onRoot(without(PVE8_ALL, 'Sys.Audit')),
      changes: {
        'GET /cluster/status': denied('/', 'Sys.Audit', 'Sys.Audit on /'),
        'GET /nodes/pve1/status': denied('/nodes/pve1', 'Sys.Audit', 'Sys.Audit on /nodes/pve1'),
      },
    },
    {
      name: 'Sys.Audit but on /nodes/pve2',
      acl: { user: { '/': without(PVE8_ALL, 'Sys.Audit'), '/nodes/pve2': ['Sys.Audit'] } },
      changes: {
        'GET /cluster/status': denied('/', 'Sys.Audit', 'Sys.Audit on /'),
        'GET /nodes/pve1/status': denied('/nodes/pve1', 'Sys.Audit', 'Sys.Audit on /nodes/pve1'),
      },
    },
    {
      name: 'VM.Audit but on /vms/100 and /vms/101 (no failure: the container is left out)',
      acl: { user: { '/': without(PVE8_ALL, 'VM.Audit'), '/vms/100': ['VM.Audit'], '/vms/101': ['VM.Audit'] } },
      changes: {
        'GET /cluster/resources?type=vm': { ok: true, message: '2 guests visible' },
        'GET /nodes/pve2/lxc/200/config': {
          endpoint: 'GET /nodes/{node}/lxc/{vmid}/config',
          ok: false,
          skipped: true,
          message: 'no LXC guest in scope on an online node',
        },
      },
    },
    {
      name: 'VM.Monitor (PVE 8)',
      acl: onRoot(PVE_AUDIT_PRIVILEGES),
      changes: {
        'GET /nodes/pve1/qemu/100/agent/network-get-interfaces': denied('/vms/100', 'VM.Monitor', 'VM.Monitor on /vms/100', agentHint8),
        'GET /nodes/pve1/qemu/100/agent/get-osinfo': denied('/vms/100', 'VM.Monitor', 'VM.Monitor on /vms/100', agentHint8),
      },
    },
    {
      name: 'VM.GuestAgent.Audit (PVE 9), VM.Monitor held',
      s: { version: { version: '9.0.3', release: '9.0', repoid: 'd6c3b3a0e1f24a55' } },
      acl: onRoot(PVE8_ALL),
      changes: {
        'GET /version': { ok: true, message: 'Proxmox VE 9.0.3' },
        'GET /nodes/pve1/qemu/100/agent/network-get-interfaces': denied(
          '/vms/100',
          'VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted',
          'VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted on /vms/100',
          agentHint9,
        ),
        'GET /nodes/pve1/qemu/100/agent/get-osinfo': denied(
          '/vms/100',
          'VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted',
          'VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted on /vms/100',
          agentHint9,
        ),
      },
    },
    {
      name: 'Sys.Audit and VM.Monitor, privilege-separated with only VM.Audit of its own, its user holding everything',
      acl: { user: { '/': [...PVE8_ALL, 'VM.GuestAgent.Audit'] }, token: { '/': ['VM.Audit'] } },
      changes: {
        'GET /cluster/status': denied('/', 'Sys.Audit', 'Sys.Audit on /'),
        'GET /nodes/pve1/status': denied('/nodes/pve1', 'Sys.Audit', 'Sys.Audit on /nodes/pve1'),
        'GET /nodes/pve1/qemu/100/agent/network-get-interfaces': denied('/vms/100', 'VM.Monitor', 'VM.Monitor on /vms/100', agentHint8),
        'GET /nodes/pve1/qemu/100/agent/get-osinfo': denied('/vms/100', 'VM.Monitor', 'VM.Monitor on /vms/100', agentHint8),
      },
    },
  ];
  for (const c of cases) {
    it(`names the missing privilege: a token lacking ${c.name}`, async () => {
      const { report, policy } = await run(scenario({ ...c.s, acl: c.acl }));
      expect(policy.results).toEqual(expected(c.changes));
      const fails = Object.values(c.changes).some((r) => !r.ok && !r.skipped);
      expect(policy.ok).toBe(!fails);
      expect(report.ok).toBe(!fails);
    });
  }

  it('a token without VM.Audit sees no guest: the resource list fails naming it, the guest probes are not made', async () => {
    const { report, policy } = await run(scenario({ acl: onRoot(without(PVE8_ALL, 'VM.Audit')) }));
    const noQemu = 'no QEMU guest in scope on an online node';
    expect(policy.results).toEqual([
      ...ALL_OK.slice(0, 2),
      {
        endpoint: 'GET /cluster/resources?type=vm',
        ok: false,
        privilege: 'VM.Audit on /vms',
        message:
          'no guest visible: PVE lists only the guests the token has VM.Audit on (/vms/{vmid}), so the token likely lacks VM.Audit on /vms (expected only when the cluster has no guest)',
      },
      ...ALL_OK.slice(3, 6),
      { endpoint: 'GET /nodes/{node}/qemu/{vmid}/config', ok: false, skipped: true, message: noQemu },
      { endpoint: 'GET /nodes/{node}/lxc/{vmid}/config', ok: false, skipped: true, message: 'no LXC guest in scope on an online node' },
      { endpoint: 'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces', ok: false, skipped: true, message: `${noQemu}: VM.Monitor is not checked` },
      { endpoint: 'GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo', ok: false, skipped: true, message: `${noQemu}: VM.Monitor is not checked` },
    ]);
    expect(report.ok).toBe(false);
  });

  it('a guest agent that does not run still proves the privilege: PVE checks it first', async () => {
    const s = scenario({ acl: onRoot(PVE8_ALL) });
    s.guests[0] = { resource: qemu(100, 'pve1', 'running'), config: {} };
    const { policy } = await run(s);
    const passed = {
      ok: true,
      status: 500,
      message: 'the token has VM.Monitor (checked before the agent is asked); the agent answered: No QEMU guest agent configured',
    };
    expect(policy.results).toEqual(
      expected({ 'GET /nodes/pve1/qemu/100/agent/network-get-interfaces': passed, 'GET /nodes/pve1/qemu/100/agent/get-osinfo': passed }),
    );
    expect(policy.ok).toBe(true);
  });

  it('probes the nodes and guests a run would call: online nodes only, a running QEMU guest first', async () => {
    const s = scenario();
    s.nodes = [{ name: 'pve1', status: 'offline' }, { name: 'pve2' }];
    const { policy } = await run(s);
    expect(policy.results.slice(4)).toEqual([
      { endpoint: 'GET /nodes/pve2/status', ok: true, message: 'OK' },
      { endpoint: 'GET /nodes/pve2/network', ok: true, message: 'OK' },
      { endpoint: 'GET /nodes/pve2/qemu/101/config', ok: true, message: 'OK' },
      { endpoint: 'GET /nodes/pve2/lxc/200/config', ok: true, message: 'OK' },
      {
        endpoint: 'GET /nodes/pve2/qemu/101/agent/network-get-interfaces',
        ok: true,
        status: 500,
        message: 'the token has VM.Monitor (checked before the agent is asked); the agent answered: VM 101 is not running',
      },
      {
        endpoint: 'GET /nodes/pve2/qemu/101/agent/get-osinfo',
        ok: true,
        status: 500,
        message: 'the token has VM.Monitor (checked before the agent is asked); the agent answered: VM 101 is not running',
      },
    ]);
  });

  it('a refused token fails the first call and no other call is made', async () => {
    const { report, policy } = await run(scenario(), { PROXMOX_TOKEN_VALUE: 'not-the-secret' });
    const notCalled = (endpoint: string): ProbeResult => ({ endpoint, ok: false, skipped: true, message: 'not called: GET /version failed' });
    expect(policy.results).toEqual([
      {
        endpoint: 'GET /version',
        ok: false,
        status: 401,
        message: 'HTTP 401 Authentication failed!: the credential was refused; check PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE',
      },
      ...[
        'GET /cluster/status',
        'GET /cluster/resources?type=vm',
        'GET /nodes',
        'GET /nodes/{node}/status',
        'GET /nodes/{node}/network',
        'GET /nodes/{node}/qemu/{vmid}/config',
        'GET /nodes/{node}/lxc/{vmid}/config',
        'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
        'GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo',
      ].map(notCalled),
    ]);
    expect(received(server!)).toEqual(['GET /version']);
    expect(report.ok).toBe(false);
  });

  it('a certificate that is not the pinned one fails the target, naming the setting', async () => {
    const pin = TEST_CERT_FINGERPRINT.replace(/^47/, '48');
    const { policy } = await run(scenario(), { PROXMOX_FINGERPRINT: pin });
    expect(policy.results[0]).toEqual({
      endpoint: 'GET /version',
      ok: false,
      message: `certificate of 127.0.0.1:${server!.port} has SHA-256 fingerprint ${TEST_CERT_FINGERPRINT}, expected ${pin} (PROXMOX_FINGERPRINT)`,
    });
    expect(policy.results.slice(1).every((r) => r.skipped === true && r.message === 'not called: GET /version failed')).toBe(true);
    expect(server!.requests).toEqual([]);
  });

  it('nothing listening: the connection failure, then nothing else', async () => {
    const port = await freePort();
    const report = await preflight([
      policyYaml('lab', 'pve', { PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: port, PROXMOX_TOKEN_NAME: 'discovery', PROXMOX_TOKEN_VALUE: TOKEN.secret }),
    ]);
    const p = report.policies[0]!;
    expect(p.results[0]).toEqual({ endpoint: 'GET /version', ok: false, message: `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port}` });
    expect(p.results.filter((r) => !r.skipped)).toHaveLength(1);
    expect(report.ok).toBe(false);
  });

  it('a BOOTSTRAP policy makes no call', async () => {
    const report = await preflight([policyYaml('boot', 'pve', { BOOTSTRAP: true })]);
    expect(report.policies).toEqual([
      {
        policy: 'boot',
        collector: 'pve',
        ok: true,
        results: [{ endpoint: 'API', ok: false, skipped: true, message: 'BOOTSTRAP is true: the policy makes no API call' }],
      },
    ]);
    expect(report.ok).toBe(true);
  });
});
