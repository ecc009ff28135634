import { startFakeHttps, type FakeRequest, type FakeResponse, type FakeServer } from '../../../test/fakes/https-server.ts';
import { fail, ok, restServerPreamble } from '../../../test/fakes/proxmox-rest-server.ts';
import { holdsAny, holdsSome, type FakeTokenAcl } from '../../../test/fakes/acl.ts';

/*
 * A fake Proxmox Datacenter Manager API over HTTPS, driven by a scenario written as data,
 * in either generation of the remote paths (proxmox-datacenter-manager server/src/api/remotes/mod.rs, 7a2ec84):
 *  - new (PDM ≥ 1.0): GET /remotes lists subdirectories, the remotes are at /remotes/remote,
 *    the token is blanked;
 *  - old (0.x betas): the remotes are at /remotes, /remotes/remote is the subdirectory
 *    listing of a remote called "remote", and the token comes back in clear.
 * Errors are plain text under a JSON content type (proxmox-rest-server formatter.rs).
 */

export interface PdmScenarioRemote {
  type: 'pve' | 'pbs';
  id: string;
  /** Property strings, e.g. "hostname=10.0.0.1:8006,fingerprint=AA:…". */
  nodes: string[];
  authid: string;
  /** Only the old generation returns it. */
  token?: string;
  webUrl?: string;
  /** The remote's own /version. */
  version?: { version: string; release: string; repoid: string };
  /** PVE: the cluster name; absent for a standalone node. */
  cluster?: string;
  /** PVE: node names with their state; default one online node named after the remote. */
  pveNodes?: Array<{ name: string; online: boolean; ip?: string }>;
  /** PBS: datastores for /resources/list. */
  pbsDatastores?: Array<{ name: string; maxdisk: number; disk: number }>;
  /** PDM cannot reach it: /resources/list carries this error and every proxied call fails with it. */
  error?: string;
}

export interface PdmScenario {
  version?: { version: string; release: string; repoid: string };
  remotes: PdmScenarioRemote[];
  /** Plain-text errors by API path (without /api2/json and query). */
  failures?: Record<string, { status: number; message: string }>;
  /**
   * 200 answers with exactly this body instead of the JSON one, by API path (without
   * /api2/json and query): an HTML page of a proxy in front, a truncated answer.
   */
  rawBodies?: Record<string, string>;
  /**
   * The token's privileges; absent: all of them. With it, the per-remote calls need
   * Resource.Audit on /resource/{remote} (403 "permission check failed" without) and the
   * lists leave out the remotes the token may not see:
   * - remotes/mod.rs list_remotes: Anybody, a remote listed with any privilege on /resource or /resource/{id};
   * - remotes/mod.rs version, pve cluster-status, pbs status: Resource.Audit on /resource/{remote}
   *   (proxmox-datacenter-manager server/src/api/{remotes,pve,pbs});
   * - resources.rs list: per remote, Resource.Audit on /resource/{remote} [inferred].
   */
  acl?: FakeTokenAcl;
}

export interface FakePdmOptions {
  tokenId: string;
  secret: string;
  /** Which remote-list path generation to speak; default "new". */
  generation?: 'new' | 'old';
  latencyMs?: number;
  port?: number;
}

export function startFakePdm(scenario: PdmScenario, opts: FakePdmOptions): Promise<FakeServer> {
  return startFakeHttps((req) => handle(scenario, opts, req), {
    ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
    ...(opts.port !== undefined && { port: opts.port }),
  });
}

function remoteRow(r: PdmScenarioRemote, generation: 'new' | 'old'): unknown {
  // pdm-api-types remotes.rs Remote; the betas named the auth id `userid` and kept the token.
  return generation === 'new'
    ? { type: r.type, id: r.id, nodes: r.nodes, authid: r.authid, token: '', ...(r.webUrl !== undefined && { 'web-url': r.webUrl }) }
    : { type: r.type, id: r.id, nodes: r.nodes, userid: r.authid, token: r.token ?? 'c5a5e7c6-0000-4000-8000-000000000000' };
}

function pveNodes(r: PdmScenarioRemote): Array<{ name: string; online: boolean; ip?: string }> {
  return r.pveNodes ?? [{ name: r.id, online: true }];
}

function resources(r: PdmScenarioRemote): unknown {
  if (r.error !== undefined) return { remote: r.id, error: r.error };
  if (r.type === 'pve') {
    return {
      remote: r.id,
      resources: pveNodes(r).flatMap((n, i) => [
        {
          type: 'pve-node',
          id: `remote/${r.id}/node/${n.name}`,
          node: n.name,
          status: n.online ? 'online' : 'offline',
          level: '',
          'cgroup-mode': 2,
          cpu: n.online ? 0.04 : 0,
          maxcpu: 32,
          mem: n.online ? 34_359_738_368 : 0,
          maxmem: 137_438_953_472,
          uptime: n.online ? 1_209_600 : 0,
        },
        {
          type: 'pve-qemu',
          id: `remote/${r.id}/guest/${100 + i}`,
          vmid: 100 + i,
          name: `vm-${100 + i}`,
          node: n.name,
          pool: '',
          status: n.online ? 'running' : 'unknown',
          tags: ['prod'],
          template: false,
          cpu: 0.01,
          maxcpu: 4,
          mem: 4_294_967_296,
          maxmem: 8_589_934_592,
          disk: 0,
          maxdisk: 34_359_738_368,
          uptime: n.online ? 86_400 : 0,
        },
      ]),
    };
  }
  return {
    remote: r.id,
    resources: [
      {
        type: 'pbs-node',
        id: `remote/${r.id}/node/localhost`,
        name: 'localhost',
        cpu: 0.02,
        maxcpu: 16,
        mem: 8_589_934_592,
        maxmem: 68_719_476_736,
        uptime: 2_419_200,
      },
      ...(r.pbsDatastores ?? []).map((d) => ({
        type: 'pbs-datastore',
        id: `remote/${r.id}/datastore/${d.name}`,
        name: d.name,
        maxdisk: d.maxdisk,
        disk: d.disk,
        usage: d.maxdisk > 0 ? d.disk / d.maxdisk : 0,
        'backend-type': 'filesystem',
      })),
    ],
  };
}

function handle(s: PdmScenario, opts: FakePdmOptions, req: FakeRequest): FakeResponse {
  const generation = opts.generation ?? 'new';
  const pre = restServerPreamble('PDMAPIToken', opts, s, req);
  if ('answer' in pre) return pre.answer;
  const path = pre.path;

  const audit = (remote: string): boolean => holdsAny(s.acl, `/resource/${remote}`, ['Resource.Audit']);
  const forbidden = (): FakeResponse => fail(403, 'permission check failed');
  if (path === '/version') return ok(s.version ?? { version: '1.0', release: '2', repoid: '9b1e0b8f2c7d4a1e' });
  if (path === '/resources/list') return ok(s.remotes.filter((r) => audit(r.id)).map(resources));

  const listing = (subdirs: string[]) => ok(subdirs.map((subdir) => ({ subdir })));
  const remoteList = () => {
    const rows = s.remotes.filter((r) => holdsSome(s.acl, `/resource/${r.id}`)).map((r) => remoteRow(r, generation));
    return ok(rows, { digest: '3d1f5c0b7e2a9f4c6b8d0e1a2c3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e' });
  };
  const base = generation === 'new' ? '/remotes/remote' : '/remotes';
  if (generation === 'new' && path === '/remotes') return listing(['metric-collection', 'remote', 'tasks', 'updates']);
  if (path === base) return remoteList();

  const rm = new RegExp(`^${base}/([^/]+)(?:/(version))?$`).exec(path);
  if (rm && rm[1] !== undefined) {
    const r = s.remotes.find((x) => x.id === rm[1]);
    // The item router answers its subdirectory listing for any id (proxmox-router list_subdirs_api_method).
    if (rm[2] === undefined) return listing(generation === 'new' ? ['config', 'rrddata', 'version'] : ['version']);
    if (!audit(rm[1])) return forbidden();
    if (!r) return fail(404, `no such node '${rm[1]}'`);
    if (r.error !== undefined) return fail(500, r.error);
    return ok(
      r.version ??
        (r.type === 'pve' ? { version: '8.4.1', release: '8.4', repoid: '2a2fa54b8503f96c' } : { version: '3.4', release: '1', repoid: '4ad1b9a5b0a4f1c1' }),
    );
  }

  const pm = /^\/(pve|pbs)\/remotes\/([^/]+)\/(cluster-status|status)$/.exec(path);
  if (pm && pm[2] !== undefined) {
    if (!audit(pm[2])) return forbidden();
    const r = s.remotes.find((x) => x.id === pm[2]);
    if (!r) return fail(404, `no such node '${pm[2]}'`);
    if (r.type !== pm[1]) return fail(400, `remote "${r.id}" is not a ${pm[1]} remote`);
    if (r.error !== undefined) return fail(500, r.error);
    if (pm[1] === 'pve' && pm[3] === 'cluster-status') return ok(clusterStatus(r));
    if (pm[1] === 'pbs' && pm[3] === 'status') return ok(pbsStatus());
  }
  return fail(404, `Path '${req.path}' not found.`);
}

/** PVE's /cluster/status through pve-api-types: real booleans, the cluster row only when clustered. */
function clusterStatus(r: PdmScenarioRemote): unknown[] {
  const nodes = pveNodes(r).map((n, i) => ({
    type: 'node',
    id: `node/${n.name}`,
    name: n.name,
    nodeid: r.cluster === undefined ? 0 : i + 1,
    online: n.online,
    local: i === 0,
    ip: n.ip ?? `10.10.0.${11 + i}`,
    level: '',
  }));
  if (r.cluster === undefined) return nodes.slice(0, 1);
  return [{ type: 'cluster', id: 'cluster', name: r.cluster, nodes: nodes.length, quorate: true, version: nodes.length + 1 }, ...nodes];
}

function pbsStatus(): unknown {
  return {
    memory: { total: 68_719_476_736, used: 8_589_934_592, free: 60_129_542_144 },
    swap: { total: 0, used: 0, free: 0 },
    root: { total: 100_000_000_000, used: 4_000_000_000, avail: 96_000_000_000 },
    uptime: 2_419_200,
    loadavg: [0.2, 0.15, 0.1],
    kversion: 'Linux 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)',
    cpu: 0.02,
    wait: 0,
    cpuinfo: { model: 'AMD EPYC 7313P 16-Core Processor', sockets: 1, cpus: 16 },
    info: { fingerprint: 'A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90' },
  };
}

/**
 * A small, realistic PDM for the demo lab: one PVE cluster "lab-cluster", one standalone
 * PVE host, the demo PBS (pbs1.lab.example, whose pbs policy sets PBS_NAME to that name),
 * and an edge cluster PDM cannot reach.
 */
export const demoPdmScenario: PdmScenario = {
  version: { version: '1.0', release: '2', repoid: '9b1e0b8f2c7d4a1e' },
  remotes: [
    {
      type: 'pve',
      id: 'lab',
      authid: 'root@pam!pdm',
      cluster: 'lab-cluster',
      nodes: [
        'hostname=pve1.lab.example,fingerprint=47:E8:40:64:DC:EA:A0:73:E4:64:34:F7:FA:CD:7F:AB:FA:0A:90:F0:2A:C4:58:59:BB:4B:5F:8C:4F:06:7F:89',
        'hostname=pve2.lab.example',
        'hostname=pve3.lab.example',
      ],
      pveNodes: [
        { name: 'pve1', online: true },
        { name: 'pve2', online: true },
        { name: 'pve3', online: true },
      ],
      version: { version: '8.4.1', release: '8.4', repoid: '2a2fa54b8503f96c' },
    },
    {
      type: 'pve',
      id: 'dev-solo',
      authid: 'root@pam!pdm',
      nodes: ['hostname=pve-dev.lab.example:8006'],
      pveNodes: [{ name: 'pve-dev', online: true }],
      version: { version: '9.0.3', release: '9.0', repoid: 'd6c3b3a0e1f24a55' },
    },
    {
      type: 'pbs',
      id: 'pbs1',
      authid: 'root@pam!pdm',
      nodes: ['hostname=pbs1.lab.example:8007,fingerprint=47:E8:40:64:DC:EA:A0:73:E4:64:34:F7:FA:CD:7F:AB:FA:0A:90:F0:2A:C4:58:59:BB:4B:5F:8C:4F:06:7F:89'],
      version: { version: '3.4', release: '1', repoid: '4ad1b9a5b0a4f1c1' },
      pbsDatastores: [
        { name: 'backup-ssd', maxdisk: 3_840_000_000_000, disk: 1_420_000_000_000 },
        { name: 'archive-hdd', maxdisk: 16_000_000_000_000, disk: 9_100_000_000_000 },
      ],
    },
    {
      type: 'pve',
      id: 'edge',
      authid: 'root@pam!pdm',
      cluster: 'edge-cluster',
      nodes: ['hostname=10.99.0.10'],
      error: 'error trying to connect: tcp connect error: Connection refused (os error 111)',
    },
  ],
};
