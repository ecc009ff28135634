import { afterEach, describe, expect, it } from 'vitest';
import { demoPbsScenario, startFakePbs, type PbsScenario } from '../collectors/pbs/fake.ts';
import { demoPdmScenario, startFakePdm, type PdmScenario } from '../collectors/pdm/fake.ts';
import type { FakeTokenAcl } from '../../test/fakes/acl.ts';
import type { FakeServer } from '../../test/fakes/https-server.ts';
import { policyYaml, preflight, received } from '../../test/helpers/preflight.ts';
import type { ProbeResult } from './types.ts';

const TOKEN = { tokenId: 'diode@pbs!discovery', secret: 'pf-pbs-secret-0002' };
let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Change = Omit<ProbeResult, 'endpoint'> & { endpoint?: string };
const apply = (base: readonly ProbeResult[], changes: Record<string, Change>): ProbeResult[] =>
  base.map((r) => (changes[r.endpoint] ? { endpoint: r.endpoint, ...changes[r.endpoint]! } : r));

describe('PBS preflight', () => {
  async function run(acl?: FakeTokenAcl, extra: Partial<PbsScenario> = {}) {
    server = await startFakePbs({ ...demoPbsScenario, ...(acl && { acl }), ...extra }, TOKEN);
    const report = await preflight([
      policyYaml('backup', 'pbs', { PBS_HOST: '127.0.0.1', PBS_PORT: server.port, PBS_TOKEN_ID: TOKEN.tokenId, PBS_TOKEN_SECRET: TOKEN.secret }),
    ]);
    return { report, policy: report.policies[0]! };
  }
  const jobs = (n: number) => ({ ok: true, message: `${n} ${n === 1 ? 'job' : 'jobs'} visible (PBS lists only the jobs the token may see)` });
  const ALL_OK: ProbeResult[] = [
    { endpoint: 'GET /version', ok: true, message: 'Proxmox Backup Server 3.4-1' },
    { endpoint: 'GET /nodes/localhost/status', ok: true, message: 'OK' },
    { endpoint: 'GET /nodes/localhost/network', ok: true, message: 'OK' },
    { endpoint: 'GET /status/datastore-usage', ok: true, message: '2 datastores visible' },
    { endpoint: 'GET /config/datastore', ok: true, message: '2 datastores visible' },
    { endpoint: 'GET /admin/gc', ...jobs(2) },
    { endpoint: 'GET /admin/verify', ...jobs(1) },
    { endpoint: 'GET /admin/prune', ...jobs(1) },
    { endpoint: 'GET /admin/sync', ...jobs(1) },
    { endpoint: 'GET /tape/backup', ...jobs(1) },
    { endpoint: 'GET /admin/datastore/backup-ssd/namespace', ok: true, message: 'OK' },
    { endpoint: 'GET /admin/datastore/backup-ssd/snapshots', ok: true, message: 'OK' },
  ];
  const grant = (on: string) =>
    `grant it (the Audit role has it): proxmox-backup-manager acl update ${on} Audit --auth-id 'diode@pbs!discovery'; an API token has ACLs of its own, so its user's are not enough`;
  const denied = (privilege: string, on: string): Change => ({
    ok: false,
    status: 403,
    privilege: `${privilege} on ${on}`,
    message: `HTTP 403 permission check failed: the token lacks ${privilege} on ${on}; ${grant(on)}`,
  });
  const noStore = (what: string): Change => ({
    ok: false,
    privilege: 'Datastore.Audit on /datastore',
    message: `no datastore visible: PBS lists only the stores the token has ${what} on (/datastore/{store}), so the token likely lacks Datastore.Audit on /datastore (expected only when the server has no datastore); ${grant('/datastore')}`,
  });

  it('calls each endpoint once and reports each OK', async () => {
    const { report, policy } = await run({ user: { '/': ['Sys.Audit', 'Datastore.Audit', 'Tape.Audit'] } });
    expect(policy).toEqual({ policy: 'backup', collector: 'pbs', target: `https://127.0.0.1:${server!.port}/api2/json`, ok: true, results: ALL_OK });
    expect(report.ok).toBe(true);
    expect(received(server!)).toEqual([
      'GET /version',
      'GET /nodes/localhost/status',
      'GET /nodes/localhost/network',
      'GET /status/datastore-usage',
      'GET /config/datastore',
      'GET /admin/gc',
      'GET /admin/verify',
      'GET /admin/prune',
      'GET /admin/sync?sync-direction=all',
      'GET /tape/backup',
      'GET /admin/datastore/backup-ssd/namespace',
      'GET /admin/datastore/backup-ssd/snapshots',
    ]);
  });

  it('a token without Sys.Audit: the node calls fail, naming the path PBS checks', async () => {
    const { policy } = await run({ user: { '/': ['Datastore.Audit', 'Tape.Audit'] } });
    expect(policy.results).toEqual(
      apply(ALL_OK, {
        'GET /nodes/localhost/status': denied('Sys.Audit', '/system/status'),
        'GET /nodes/localhost/network': denied('Sys.Audit', '/system/network/interfaces'),
      }),
    );
    expect(policy.ok).toBe(false);
  });

  it('a token without Datastore.Audit sees no store (PBS filters silently): named, and the store calls are not made', async () => {
    const { report, policy } = await run({ user: { '/': ['Sys.Audit', 'Tape.Audit'] } });
    expect(policy.results).toEqual(
      apply(ALL_OK, {
        'GET /status/datastore-usage': noStore('Datastore.Audit or Datastore.Backup'),
        'GET /config/datastore': noStore('Datastore.Audit'),
        'GET /admin/gc': jobs(0),
        'GET /admin/verify': jobs(0),
        'GET /admin/prune': jobs(0),
        'GET /admin/sync': jobs(0),
        'GET /admin/datastore/backup-ssd/namespace': {
          endpoint: 'GET /admin/datastore/{store}/namespace',
          ok: false,
          skipped: true,
          message: 'not called: no readable datastore visible',
        },
        'GET /admin/datastore/backup-ssd/snapshots': {
          endpoint: 'GET /admin/datastore/{store}/snapshots',
          ok: false,
          skipped: true,
          message: 'not called: no readable datastore visible',
        },
      }),
    );
    expect(report.ok).toBe(false);
  });

  it('a token with Datastore.Backup only (a backup client token): usage and snapshots yes, the datastore config no', async () => {
    const { policy } = await run({ user: { '/': ['Sys.Audit', 'Tape.Audit'], '/datastore': ['Datastore.Backup'] } });
    expect(policy.results).toEqual(
      apply(ALL_OK, {
        'GET /config/datastore': noStore('Datastore.Audit'),
        'GET /admin/gc': jobs(0),
        'GET /admin/verify': jobs(0),
        'GET /admin/prune': jobs(0),
        'GET /admin/sync': jobs(0),
      }),
    );
  });

  it('Datastore.Audit on one store of two', async () => {
    const { policy } = await run({ user: { '/': ['Sys.Audit', 'Tape.Audit'], '/datastore/archive-hdd': ['Datastore.Audit'] } });
    expect(policy.results).toEqual(
      apply(ALL_OK, {
        'GET /status/datastore-usage': { ok: true, message: '1 datastore visible' },
        'GET /config/datastore': { ok: true, message: '1 datastore visible' },
        'GET /admin/gc': jobs(1),
        'GET /admin/verify': jobs(0),
        'GET /admin/prune': jobs(0),
        'GET /admin/datastore/backup-ssd/namespace': { endpoint: 'GET /admin/datastore/archive-hdd/namespace', ok: true, message: 'OK' },
        'GET /admin/datastore/backup-ssd/snapshots': { endpoint: 'GET /admin/datastore/archive-hdd/snapshots', ok: true, message: 'OK' },
      }),
    );
  });

  it('a server without tape: the 404 is no failure', async () => {
    const { policy } = await run(undefined, { noTape: true });
    expect(policy.results[9]).toEqual({
      endpoint: 'GET /tape/backup',
      ok: true,
      status: 404,
      message: "no tape subsystem (HTTP 404 Path '/api2/json/tape/backup' not found.); the policy reports no tape jobs",
    });
    expect(policy.ok).toBe(true);
  });

  it('a wrong secret: 401 with the settings to check, nothing else called', async () => {
    server = await startFakePbs(demoPbsScenario, TOKEN);
    const report = await preflight([
      policyYaml('backup', 'pbs', { PBS_HOST: '127.0.0.1', PBS_PORT: server.port, PBS_TOKEN_ID: TOKEN.tokenId, PBS_TOKEN_SECRET: 'wrong-secret' }),
    ]);
    const p = report.policies[0]!;
    expect(p.results[0]).toEqual({
      endpoint: 'GET /version',
      ok: false,
      status: 401,
      message: 'HTTP 401 authentication failed - invalid token: the credential was refused; check PBS_TOKEN_ID and PBS_TOKEN_SECRET',
    });
    expect(p.results.slice(1).map((r) => [r.endpoint, r.skipped, r.message])).toEqual([
      ...ALL_OK.slice(1, 10).map((r) => [r.endpoint, true, 'not called: GET /version failed']),
      ['GET /admin/datastore/{store}/namespace', true, 'not called: GET /version failed'],
      ['GET /admin/datastore/{store}/snapshots', true, 'not called: GET /version failed'],
    ]);
    expect(received(server)).toEqual(['GET /version']);
  });
});

describe('PDM preflight', () => {
  const PDM_TOKEN = { tokenId: 'diode@pdm!discovery', secret: 'pf-pdm-secret-0003' };
  async function run(acl?: FakeTokenAcl, extra: Partial<PdmScenario> = {}) {
    server = await startFakePdm({ ...demoPdmScenario, ...(acl && { acl }), ...extra }, PDM_TOKEN);
    const report = await preflight([
      policyYaml('dcm', 'pdm', { PDM_HOST: '127.0.0.1', PDM_PORT: server.port, PDM_TOKEN_ID: PDM_TOKEN.tokenId, PDM_TOKEN_SECRET: PDM_TOKEN.secret }),
    ]);
    return { report, policy: report.policies[0]! };
  }
  const hint = 'grant the token Resource.Audit on /resource (a PDM API token has ACLs of its own; diode@pdm!discovery)';
  const ALL_OK: ProbeResult[] = [
    { endpoint: 'GET /version', ok: true, message: 'Proxmox Datacenter Manager 1.0-2' },
    { endpoint: 'GET /remotes/remote', ok: true, message: '4 remotes visible' },
    { endpoint: 'GET /resources/list', ok: true, message: 'resources of 4 remotes' },
    // "edge" is the remote PDM cannot reach; the next by id is asked.
    { endpoint: 'GET /remotes/remote/dev-solo/version', ok: true, message: 'OK' },
    { endpoint: 'GET /pve/remotes/dev-solo/cluster-status', ok: true, message: 'OK' },
    { endpoint: 'GET /pbs/remotes/pbs1/status', ok: true, message: 'OK' },
  ];
  const denied = (path: string, remote: string): ProbeResult => ({
    endpoint: path,
    ok: false,
    status: 403,
    privilege: `Resource.Audit on /resource/${remote}`,
    message: `HTTP 403 permission check failed: the token lacks Resource.Audit on /resource/${remote}; ${hint}`,
  });

  it('calls each endpoint once and reports each OK', async () => {
    const { report, policy } = await run({ user: { '/': ['Resource.Audit'] } });
    expect(policy).toEqual({ policy: 'dcm', collector: 'pdm', target: `https://127.0.0.1:${server!.port}/api2/json`, ok: true, results: ALL_OK });
    expect(report.ok).toBe(true);
    expect(received(server!)).toEqual(ALL_OK.map((r) => r.endpoint));
  });

  it('a token without Resource.Audit that sees the remotes through another privilege: every remote call names it', async () => {
    const { policy } = await run({ user: { '/': ['Sys.Audit'] } });
    expect(policy.results).toEqual([
      ALL_OK[0],
      ALL_OK[1],
      { endpoint: 'GET /resources/list', ok: true, message: 'resources of 0 remotes' },
      denied('GET /remotes/remote/dev-solo/version', 'dev-solo'),
      denied('GET /pve/remotes/dev-solo/cluster-status', 'dev-solo'),
      denied('GET /pbs/remotes/pbs1/status', 'pbs1'),
    ]);
    expect(policy.ok).toBe(false);
  });

  it('a token with no privilege sees no remote: named, the remote calls are not made', async () => {
    const { policy } = await run({ user: {} });
    expect(policy.results).toEqual([
      ALL_OK[0],
      {
        endpoint: 'GET /remotes/remote',
        ok: false,
        privilege: 'Resource.Audit on /resource',
        message: `no remote visible: PDM lists only the remotes the token has a privilege on (/resource/{remote}), so the token likely lacks Resource.Audit on /resource (expected only when PDM manages no remote); ${hint}`,
      },
      { endpoint: 'GET /resources/list', ok: true, message: 'resources of 0 remotes' },
      { endpoint: 'GET /remotes/remote/{remote}/version', ok: false, skipped: true, message: 'not called: no remote visible' },
      { endpoint: 'GET /pve/remotes/{remote}/cluster-status', ok: false, skipped: true, message: 'not called: no remote visible' },
      { endpoint: 'GET /pbs/remotes/{remote}/status', ok: false, skipped: true, message: 'not called: no remote visible' },
    ]);
  });

  it('a PDM 0.x beta: the remote list at /remotes, said so', async () => {
    server = await startFakePdm(demoPdmScenario, { ...PDM_TOKEN, generation: 'old' });
    const report = await preflight([
      policyYaml('dcm', 'pdm', { PDM_HOST: '127.0.0.1', PDM_PORT: server.port, PDM_TOKEN_ID: PDM_TOKEN.tokenId, PDM_TOKEN_SECRET: PDM_TOKEN.secret }),
    ]);
    expect(report.policies[0]!.results.slice(1, 4)).toEqual([
      { endpoint: 'GET /remotes/remote', ok: true, message: '4 remotes visible (a 0.x beta: the list is at /remotes)' },
      ALL_OK[2],
      { endpoint: 'GET /remotes/dev-solo/version', ok: true, message: 'OK' },
    ]);
  });
});
