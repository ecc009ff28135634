import { holdsAny, type FakeTokenAcl } from '../../../test/fakes/acl.ts';
import { startFakeHttps, TEST_CERT_FINGERPRINT, type FakeRequest, type FakeResponse, type FakeServer } from '../../../test/fakes/https-server.ts';
import { fail, ok, restServerPreamble } from '../../../test/fakes/proxmox-rest-server.ts';

/*
 * A fake Proxmox Backup Server API over HTTPS, driven by a scenario written as data. It
 * answers the way proxmox-rest-server does (proxmox-rs proxmox-rest-server/src/formatter.rs):
 * `{"data": …}` with result attributes (`digest`), kebab-case keys, optional fields
 * omitted rather than null, and errors as the raw message in the body under a JSON
 * content type. Error wordings marked [inferred] follow proxmox-rest-server/proxmox-router
 * but were not captured from a live server.
 */

export interface PbsScenarioNamespace {
  /** "" is the root namespace; "a/b" a child. */
  ns: string;
  comment?: string;
  /** Raw SnapshotListItem rows of GET …/snapshots?ns= (kebab-case, as PBS sends them). */
  snapshots: unknown[];
  /** The token may not list this namespace: …/snapshots?ns= answers 403. */
  forbidden?: boolean;
}

export interface PbsScenarioDatastore {
  name: string;
  path: string;
  comment?: string;
  total?: number;
  used?: number;
  avail?: number;
  /** PBS ≥ 3.3; default "nonremovable". */
  mountStatus?: 'mounted' | 'notmounted' | 'nonremovable';
  /** datastore-usage reports this instead of sizes (the store cannot be looked up). */
  error?: string;
  /** GC job fields besides `store` (GarbageCollectionJobStatus), e.g. schedule, last-run-state. */
  gc?: Record<string, unknown>;
  namespaces: PbsScenarioNamespace[];
}

export interface PbsScenario {
  version?: { version: string; release: string; repoid: string };
  /** info.fingerprint of /nodes/localhost/status; default the test certificate's. */
  fingerprint?: string;
  /** Raw rows of /nodes/localhost/network (proxmox-network-api Interface: `name`, not `iface`). */
  network?: unknown[];
  datastores: PbsScenarioDatastore[];
  /** Raw rows of /admin/verify, /admin/prune, /admin/sync, /tape/backup. */
  jobs?: { verify?: unknown[]; prune?: unknown[]; sync?: unknown[]; tape?: unknown[] };
  /** No tape subsystem: every /tape/… path is unknown (404). */
  noTape?: boolean;
  /** PBS < 3.3: /admin/sync rejects `sync-direction` (400 parameter verification). */
  legacySync?: boolean;
  /** Plain-text errors by API path (without /api2/json and query), for any GET of it. */
  failures?: Record<string, { status: number; message: string }>;
  /**
   * 200 answers with exactly this body instead of the JSON one, by API path (without
   * /api2/json and query): an HTML page of a proxy in front, a truncated answer.
   */
  rawBodies?: Record<string, string>;
  /**
   * The token's privileges; absent: all of them. With it, a call whose `access` names a
   * privilege answers 403 "permission check failed" without it, and the lists PBS filters
   * per item (`Permission::Anybody`) leave out what the token may not see (PBS_CHECKS).
   */
  acl?: FakeTokenAcl;
}

const AUDIT_OR_BACKUP = ['Datastore.Audit', 'Datastore.Backup'];

/**
 * What PBS checks, per proxmox-backup src/api2 (`access` of each method):
 * - node/status.rs get_status: Sys.Audit on /system/status;
 * - node/network.rs list_network_devices: Sys.Audit on /system/network/interfaces;
 * - status.rs datastore_status: Anybody, each store listed only with Datastore.Audit or Datastore.Backup;
 * - config/datastore.rs list_datastores: Anybody, filtered by Datastore.Audit per store;
 * - admin/gc.rs list_all_gc_jobs: Anybody, "Requires Datastore.Audit or Datastore.Modify on datastore";
 * - admin/verify.rs list_verification_jobs: Anybody, filtered by Datastore.Audit or Datastore.Verify;
 * - admin/prune.rs list_prune_jobs: Anybody, filtered by Datastore.Audit or Datastore.Modify on the job's path;
 * - admin/sync.rs: filtered by read access to the job (here: Datastore.Audit on its store; PBS also asks for the remote's);
 * - tape/backup.rs list_tape_backup_jobs: filtered by Tape.Audit on /tape/job/{id};
 * - admin/namespace.rs list_namespaces: Datastore.Audit or Datastore.Backup on /datastore/{store};
 * - admin/datastore.rs list_snapshots: check_ns_privs_full, Datastore.Audit (or Datastore.Backup for
 *   owned groups) on /datastore/{store}[/{ns}].
 */
export const PBS_CHECKS = {
  nodeStatus: { on: '/system/status', privileges: ['Sys.Audit'] },
  network: { on: '/system/network/interfaces', privileges: ['Sys.Audit'] },
  datastoreUsage: (store: string) => ({ on: `/datastore/${store}`, privileges: AUDIT_OR_BACKUP }),
  datastoreConfig: (store: string) => ({ on: `/datastore/${store}`, privileges: ['Datastore.Audit'] }),
  gc: (store: string) => ({ on: `/datastore/${store}`, privileges: ['Datastore.Audit', 'Datastore.Modify'] }),
  verify: (aclPath: string) => ({ on: aclPath, privileges: ['Datastore.Audit', 'Datastore.Verify'] }),
  prune: (aclPath: string) => ({ on: aclPath, privileges: ['Datastore.Audit', 'Datastore.Modify'] }),
  sync: (aclPath: string) => ({ on: aclPath, privileges: ['Datastore.Audit'] }),
  tape: (id: string) => ({ on: `/tape/job/${id}`, privileges: ['Tape.Audit'] }),
  namespace: (store: string) => ({ on: `/datastore/${store}`, privileges: AUDIT_OR_BACKUP }),
  snapshots: (store: string, ns: string) => ({ on: `/datastore/${store}${ns === '' ? '' : `/${ns}`}`, privileges: AUDIT_OR_BACKUP }),
} as const;

export interface FakePbsOptions {
  /** `USER@REALM!TOKEN`, e.g. root@pam!netbox. */
  tokenId: string;
  secret: string;
  latencyMs?: number;
  port?: number;
}

function digest(data: unknown): string {
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(data)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(8);
}

export function startFakePbs(scenario: PbsScenario, opts: FakePbsOptions): Promise<FakeServer> {
  return startFakeHttps((req) => handle(scenario, opts, req), {
    ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
    ...(opts.port !== undefined && { port: opts.port }),
  });
}

function handle(s: PbsScenario, opts: FakePbsOptions, req: FakeRequest): FakeResponse {
  const pre = restServerPreamble('PBSAPIToken', opts, s, req);
  if ('answer' in pre) return pre.answer;
  const path = pre.path;
  const holds = (c: { on: string; privileges: readonly string[] }): boolean => holdsAny(s.acl, c.on, c.privileges);
  // proxmox-rest-server: a failed `access` check is a 403 whose body names no privilege.
  const forbidden = (): FakeResponse => fail(403, 'permission check failed');
  const jobPath = (j: unknown): string => {
    const r = j as { store?: unknown; ns?: unknown };
    return `/datastore/${String(r.store)}${typeof r.ns === 'string' && r.ns !== '' ? `/${r.ns}` : ''}`;
  };
  const stores = (check: (store: string) => { on: string; privileges: readonly string[] }) => s.datastores.filter((d) => holds(check(d.name)));

  if (path === '/version') return ok(s.version ?? { version: '3.4', release: '1', repoid: '4ad1b9a5b0a4f1c1' });
  if (path === '/nodes/localhost/status') return holds(PBS_CHECKS.nodeStatus) ? ok(nodeStatus(s)) : forbidden();
  if (path === '/nodes/localhost/network') {
    if (!holds(PBS_CHECKS.network)) return forbidden();
    const rows = s.network ?? [];
    return ok(rows, { digest: digest(rows) });
  }
  if (path === '/status/datastore-usage') return ok(stores(PBS_CHECKS.datastoreUsage).map(usageRow));
  if (path === '/config/datastore') {
    const rows = stores(PBS_CHECKS.datastoreConfig).map((d) => ({
      name: d.name,
      path: d.path,
      ...(d.comment !== undefined && { comment: d.comment }),
      ...(typeof d.gc?.schedule === 'string' && { 'gc-schedule': d.gc.schedule }),
    }));
    return ok(rows, { digest: digest(rows) });
  }
  // list_all_gc_jobs skips stores whose status cannot be read (proxmox-backup src/api2/admin/gc.rs).
  if (path === '/admin/gc')
    return ok(
      stores(PBS_CHECKS.gc)
        .filter((d) => d.error === undefined && d.mountStatus !== 'notmounted')
        .map(gcRow),
    );
  if (path === '/admin/verify') return ok((s.jobs?.verify ?? []).filter((j) => holds(PBS_CHECKS.verify(jobPath(j)))));
  if (path === '/admin/prune') return ok((s.jobs?.prune ?? []).filter((j) => holds(PBS_CHECKS.prune(jobPath(j)))));
  if (path === '/admin/sync') {
    if (s.legacySync && req.query.has('sync-direction')) {
      return fail(400, "parameter verification failed\n- 'sync-direction': schema does not allow additional properties.\n"); // [inferred]
    }
    return ok((s.jobs?.sync ?? []).filter((j) => holds(PBS_CHECKS.sync(jobPath(j)))));
  }
  if (path.startsWith('/tape/')) {
    if (s.noTape) return fail(404, `Path '${req.path}' not found.`);
    if (path === '/tape/backup') return ok((s.jobs?.tape ?? []).filter((j) => holds(PBS_CHECKS.tape(String((j as { id?: unknown }).id)))));
  }

  const dm = /^\/admin\/datastore\/([^/]+)\/(namespace|snapshots)$/.exec(path);
  if (dm && dm[1] !== undefined) {
    // The privilege is checked before the store is looked up.
    const ns = req.query.get('ns') ?? '';
    if (!holds(dm[2] === 'namespace' ? PBS_CHECKS.namespace(dm[1]) : PBS_CHECKS.snapshots(dm[1], ns))) return forbidden();
    const ds = s.datastores.find((d) => d.name === dm[1]);
    if (!ds) return fail(400, `datastore '${dm[1]}' does not exist`); // [inferred]
    if (ds.error !== undefined) return fail(400, ds.error);
    if (ds.mountStatus === 'notmounted') return fail(400, `datastore '${ds.name}' is not mounted`); // [inferred]
    if (dm[2] === 'namespace') {
      return ok(ds.namespaces.map((n) => ({ ns: n.ns, ...(n.comment !== undefined && { comment: n.comment }) })));
    }
    const n = ds.namespaces.find((x) => x.ns === ns);
    if (!n) return fail(400, `namespace '${ns}' does not exist`); // [inferred]
    if (n.forbidden) return fail(403, 'permission check failed');
    return ok(n.snapshots);
  }
  return fail(404, `Path '${req.path}' not found.`);
}

function nodeStatus(s: PbsScenario): unknown {
  return {
    memory: { total: 16_777_216_000, used: 2_147_483_648, free: 14_629_732_352 },
    swap: { total: 4_294_967_296, used: 0, free: 4_294_967_296 },
    root: { total: 100_000_000_000, used: 5_000_000_000, avail: 95_000_000_000 },
    uptime: 1_234_567,
    loadavg: [0.12, 0.08, 0.05],
    kversion: 'Linux 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)',
    'current-kernel': { sysname: 'Linux', release: '6.8.12-4-pve', version: '#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)', machine: 'x86_64' },
    cpu: 0.013,
    wait: 0.001,
    cpuinfo: { model: 'Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz', sockets: 1, cpus: 20 },
    info: { fingerprint: s.fingerprint ?? TEST_CERT_FINGERPRINT },
    'boot-info': { mode: 'efi', secureboot: false },
  };
}

function usageRow(d: PbsScenarioDatastore): unknown {
  const mount = d.mountStatus ?? 'nonremovable';
  if (d.error !== undefined) return { store: d.name, 'mount-status': mount, error: d.error, 'backend-type': 'filesystem' };
  if (mount === 'notmounted') return { store: d.name, 'mount-status': mount, 'backend-type': 'filesystem' };
  const used = d.used ?? 0;
  const total = d.total ?? 0;
  return {
    store: d.name,
    ...(d.total !== undefined && { total: d.total }),
    ...(d.used !== undefined && { used: d.used }),
    ...(d.avail !== undefined && { avail: d.avail }),
    'mount-status': mount,
    history: [null, total > 0 ? (used * 0.98) / total : 0, total > 0 ? used / total : 0],
    'history-start': 1_735_603_200,
    'history-delta': 86_400,
    'estimated-full-date': 1_767_225_600,
    ...(d.gc?.upid !== undefined && { 'gc-status': gcCounters(d) }),
    'backend-type': 'filesystem',
  };
}

function gcCounters(d: PbsScenarioDatastore): Record<string, unknown> {
  return {
    ...(d.gc?.upid !== undefined && { upid: d.gc.upid }),
    'index-file-count': 412,
    'index-data-bytes': 2_200_000_000_000,
    'disk-bytes': d.used ?? 0,
    'disk-chunks': 512_000,
    'removed-bytes': 1_048_576_000,
    'removed-chunks': 250,
    'pending-bytes': 0,
    'pending-chunks': 0,
    'removed-bad': 0,
    'still-bad': 0,
  };
}

function gcRow(d: PbsScenarioDatastore): unknown {
  return { store: d.name, ...gcCounters(d), ...d.gc };
}

// ---------------------------------------------------------------------------
// Scenario building blocks.

/**
 * Snapshots of one backup group, `count` of them `intervalS` apart ending at `last`
 * (UNIX seconds); the newest comes last, as PBS lists them.
 */
export function groupSnapshots(
  type: 'vm' | 'ct' | 'host',
  id: string,
  opts: {
    count: number;
    last: number;
    intervalS?: number;
    size?: number;
    owner?: string;
    verified?: 'ok' | 'failed';
    protectedCount?: number;
    comment?: string;
  },
): unknown[] {
  const interval = opts.intervalS ?? 86_400;
  const archive = type === 'vm' ? 'drive-scsi0.img.fidx' : type === 'ct' ? 'root.pxar.didx' : 'root.pxar.didx';
  return Array.from({ length: opts.count }, (_, i) => {
    const time = opts.last - (opts.count - 1 - i) * interval;
    const isNewest = i === opts.count - 1;
    return {
      'backup-type': type,
      'backup-id': id,
      'backup-time': time,
      ...(isNewest && opts.comment !== undefined && { comment: opts.comment }),
      ...(opts.verified !== undefined && {
        verification: {
          state: isNewest ? opts.verified : 'ok',
          upid: `UPID:pbs1:00001F2A:0001E240:00000011:${time.toString(16).toUpperCase()}:verificationjob:${id}:root@pam:`,
        },
      }),
      files: [
        { filename: 'index.json.blob', size: 501, 'crypt-mode': 'none' },
        { filename: archive, size: opts.size ?? 34_359_738_368, 'crypt-mode': 'none' },
        { filename: 'client.log.blob', size: 1_024, 'crypt-mode': 'none' },
      ],
      ...(opts.size !== undefined && { size: opts.size + 1_525 }),
      ...(opts.owner !== undefined && { owner: opts.owner }),
      protected: i < (opts.protectedCount ?? 0),
    };
  });
}

const DAY = 86_400;
const T0 = 1_736_035_200; // 2025-01-05T00:00:00Z

/** A small, realistic PBS for the demo lab: two stores, namespaces, every job kind. */
export const demoPbsScenario: PbsScenario = {
  version: { version: '3.4', release: '1', repoid: '4ad1b9a5b0a4f1c1' },
  network: [
    { name: 'lo', type: 'loopback', method: 'loopback', autostart: true, active: true, method6: 'manual' },
    { name: 'eno1', type: 'eth', method: 'manual', method6: 'manual', autostart: false, active: true },
    { name: 'eno2', type: 'eth', method: 'manual', method6: 'manual', autostart: false, active: true },
    {
      name: 'bond0',
      type: 'bond',
      method: 'manual',
      method6: 'manual',
      slaves: ['eno1', 'eno2'],
      bond_mode: '802.3ad',
      bond_xmit_hash_policy: 'layer3+4',
      autostart: true,
      active: true,
    },
    {
      name: 'vmbr0',
      type: 'bridge',
      method: 'static',
      method6: 'static',
      cidr: '10.10.0.20/24',
      gateway: '10.10.0.1',
      cidr6: 'fd00:10::20/64',
      bridge_ports: ['bond0'],
      autostart: true,
      active: true,
      mtu: 9000,
    },
    {
      name: 'vmbr0.30',
      type: 'vlan',
      method: 'static',
      method6: 'manual',
      cidr: '10.30.0.20/24',
      'vlan-id': 30,
      'vlan-raw-device': 'vmbr0',
      autostart: true,
      active: true,
    },
  ],
  datastores: [
    {
      name: 'backup-ssd',
      path: '/mnt/datastore/backup-ssd',
      comment: 'NVMe store for daily backups',
      total: 3_840_000_000_000,
      used: 1_420_000_000_000,
      avail: 2_420_000_000_000,
      gc: {
        schedule: 'daily',
        upid: `UPID:pbs1:000012AB:00ABCDEF:00000003:${(T0 - 3600).toString(16).toUpperCase()}:garbage_collection:backup-ssd:root@pam:`,
        'last-run-state': 'OK',
        'last-run-endtime': T0 - 1800,
        'next-run': T0 + DAY,
        duration: 1800,
      },
      namespaces: [
        { ns: '', snapshots: [...groupSnapshots('host', 'pbs1', { count: 3, last: T0 - 7200, size: 2_147_483_648, owner: 'root@pam' })] },
        {
          ns: 'prod',
          comment: 'Production cluster',
          snapshots: [
            ...groupSnapshots('vm', '100', { count: 14, last: T0 - 3600, size: 42_949_672_960, owner: 'root@pam!pve-prod', verified: 'ok', protectedCount: 1 }),
            ...groupSnapshots('vm', '101', { count: 14, last: T0 - 3500, size: 21_474_836_480, owner: 'root@pam!pve-prod', verified: 'ok' }),
            ...groupSnapshots('ct', '200', { count: 7, last: T0 - 3400, size: 4_294_967_296, owner: 'root@pam!pve-prod', comment: 'nginx reverse proxy' }),
          ],
        },
        {
          ns: 'prod/db',
          snapshots: [
            ...groupSnapshots('vm', '110', {
              count: 30,
              last: T0 - 3000,
              intervalS: 43_200,
              size: 214_748_364_800,
              owner: 'root@pam!pve-prod',
              verified: 'ok',
              protectedCount: 2,
            }),
          ],
        },
      ],
    },
    {
      name: 'archive-hdd',
      path: '/mnt/datastore/archive-hdd',
      comment: 'Long-term archive (synced nightly)',
      total: 16_000_000_000_000,
      used: 9_100_000_000_000,
      avail: 6_900_000_000_000,
      gc: {
        schedule: 'sat 03:00',
        'last-run-state': 'OK',
        upid: `UPID:pbs1:000013CD:00BCDEF0:00000004:${(T0 - 2 * DAY).toString(16).toUpperCase()}:garbage_collection:archive-hdd:root@pam:`,
        'last-run-endtime': T0 - 2 * DAY + 5400,
      },
      namespaces: [
        { ns: '', snapshots: [] },
        {
          ns: 'prod',
          snapshots: [
            ...groupSnapshots('vm', '100', { count: 52, last: T0 - DAY, intervalS: 7 * DAY, size: 42_949_672_960, owner: 'sync@pbs', verified: 'ok' }),
          ],
        },
      ],
    },
  ],
  jobs: {
    verify: [
      {
        id: 'v-backup-ssd',
        store: 'backup-ssd',
        schedule: 'daily',
        'ignore-verified': true,
        'outdated-after': 30,
        'next-run': T0 + DAY,
        'last-run-state': 'OK',
        'last-run-upid': 'UPID:pbs1:00001F2A:0001E240:00000011:677A1C00:verificationjob:v-backup-ssd:root@pam:',
        'last-run-endtime': T0 - 600,
      },
    ],
    prune: [
      {
        id: 'p-backup-ssd',
        store: 'backup-ssd',
        schedule: 'daily',
        'keep-daily': 14,
        'keep-weekly': 8,
        'next-run': T0 + DAY,
        'last-run-state': 'OK',
        'last-run-upid': 'UPID:pbs1:00001F2B:0001E241:00000012:677A1C10:prunejob:p-backup-ssd:root@pam:',
        'last-run-endtime': T0 - 900,
      },
    ],
    sync: [
      {
        id: 's-archive',
        store: 'archive-hdd',
        ns: 'prod',
        remote: 'pbs-local',
        'remote-store': 'backup-ssd',
        'remote-ns': 'prod',
        schedule: '02:30',
        'remove-vanished': false,
        'sync-direction': 'pull',
        comment: 'Nightly copy to the archive',
        'next-run': T0 + DAY,
        'last-run-state': 'WARNINGS: 1',
        'last-run-upid': 'UPID:pbs1:00001F2C:0001E242:00000013:677A1C20:syncjob:s-archive:root@pam:',
        'last-run-endtime': T0 - 1200,
      },
    ],
    tape: [
      {
        id: 'weekly-tape',
        store: 'archive-hdd',
        pool: 'weekly',
        drive: 'lto8',
        schedule: 'sun 06:00',
        'latest-only': true,
        'next-run': T0 + 2 * DAY,
        'last-run-state': 'OK',
        'last-run-upid': 'UPID:pbs1:00001F2D:0001E243:00000014:6778C000:tape-backup-job:weekly-tape:root@pam:',
        'last-run-endtime': T0 - 5 * DAY,
      },
    ],
  },
};
