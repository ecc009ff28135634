import { AgentError } from '../../errors.ts';
import { HttpConnectError, HttpStatusError } from '../../http/client.ts';
import { mapWhenReady } from '../../http/ready-queue.ts';
import type { CollectContext, Warning } from '../types.ts';
import {
  backupJobsPrivilege,
  getBackupJobs,
  getBackupVolumes,
  getNotBackedUp,
  getStorageResources,
  storageContentPrivilege,
  getClusterResources,
  getClusterStatus,
  getLxcConfig,
  getNodeNetwork,
  getNodes,
  getNodeStatus,
  getQemuConfig,
  getVersion,
  guestConfigPrivilege,
  missingPrivilege,
  nodeNetworkPrivilege,
  nodeStatusPrivilege,
} from './client.ts';
import { pveTargetRequest, PVE_SERVICE } from '../proxmox-config.ts';
import { ApiUnreachableError, describeError as describe, type ApiSession, ApiResponseError } from '../../http/proxmox.ts';
import type { PveConfig } from './config.ts';
import { parseGuestConfig, parsePveVersion, parseTags, PveParseError } from './parsers.ts';
import type { ClusterStatusRow, NodeRow, PveVersion, ResourceRow } from './schema.ts';
import { exclusionOf, type GuestSelectionConfig } from './selection.ts';
import type { GuestType, PveExcludedGuest, PveGuest, PveGuestBackup, PveNode, PveSnapshot, PveSnapshotHead, PveSnapshotPart } from './snapshot.ts';
import { applyHaReplication, collectHaReplication, type HaReplicationFacts } from './ha.ts';
import { hasDynamicNic, lxcRuntimeReader } from './lxc-runtime.ts';
import { GuestAgents } from './guest-agent.ts';

/** The first calls failed: the cluster as a whole could not be read (alias of the shared class; code `pve_unreachable`). */

/**
 * A failure of the node rather than of the one call: PVE proxies /nodes/{other}/… and
 * answers 595 (or another 59x AnyEvent::HTTP pseudo-status) when that node is down, or
 * the proxy times out (pve-http-server src/PVE/APIServer/AnyEvent.pm proxy_request: AnyEvent::HTTP
 * `http_request` with `timeout => 30`, whose `Status`/`Reason` are passed through as the answer).
 */
export function isNodeLevel(err: unknown): boolean {
  return err instanceof HttpConnectError || (err instanceof HttpStatusError && err.status >= 595 && err.status <= 599);
}

/** A 403: the token may not read this item. The node answered, so it is not down. */
function isForbidden(err: unknown): err is HttpStatusError {
  return err instanceof HttpStatusError && err.status === 403;
}

/** `["*"]` (or any list containing "*") is every node. */
export function scopeFilter(nodes: readonly string[]): (node: string) => boolean {
  if (nodes.includes('*')) return () => true;
  const set = new Set(nodes);
  return (node) => set.has(node);
}

const GUEST_TYPES: ReadonlySet<string> = new Set<GuestType>(['qemu', 'lxc']);

interface GuestRow {
  type: GuestType;
  vmid: number;
  name: string;
  node: string;
  row: ResourceRow;
}

export interface GuestSelection {
  guests: GuestRow[];
  skipped: { templates: number; incomplete: number };
  /** Guests whose name an earlier vmid already uses, with that vmid. */
  duplicates: Array<{ guest: GuestRow; keptVmid: number }>;
  /** Guests in scope that the policy's selection (EXCLUDE_*) leaves out, by vmid. */
  excluded: PveExcludedGuest[];
}

/**
 * The seed's "VM/Container Inventory": qemu and lxc only, templates skipped, rows
 * without vmid or name skipped; then the policy's node scope, then its selection
 * (EXCLUDE_VMIDS, EXCLUDE_POOLS, EXCLUDE_TAGS: excluded before names are compared, so an
 * excluded guest never takes a name from one that is kept). PVE allows two guests one
 * name, NetBox does not (VM name unique per cluster, case-insensitive): the lowest vmid
 * keeps the name and the others are returned as duplicates.
 */
export function selectGuests(rows: readonly ResourceRow[], inScope: (node: string) => boolean, selection: GuestSelectionConfig = {}): GuestSelection {
  const candidates: GuestRow[] = [];
  const skipped = { templates: 0, incomplete: 0 };
  const excluded: PveExcludedGuest[] = [];
  const seen = new Set<number>();
  for (const row of rows) {
    if (!GUEST_TYPES.has(row.type)) continue;
    if (row.template) {
      skipped.templates++;
      continue;
    }
    if (row.vmid === undefined || row.name === undefined || row.node === undefined) {
      skipped.incomplete++;
      continue;
    }
    if (!inScope(row.node) || seen.has(row.vmid)) continue;
    seen.add(row.vmid);
    const reason = exclusionOf({ vmid: row.vmid, tags: parseTags(row.tags ?? ''), pool: row.pool }, selection);
    if (reason !== undefined) {
      excluded.push({ vmid: row.vmid, name: row.name, reason });
      continue;
    }
    candidates.push({ type: row.type as GuestType, vmid: row.vmid, name: row.name, node: row.node, row });
  }
  excluded.sort((a, b) => a.vmid - b.vmid);
  candidates.sort((a, b) => a.vmid - b.vmid);
  const byName = new Map<string, number>();
  const guests: GuestRow[] = [];
  const duplicates: GuestSelection['duplicates'] = [];
  for (const g of candidates) {
    const kept = byName.get(g.name.toLowerCase());
    if (kept !== undefined) {
      duplicates.push({ guest: g, keptVmid: kept });
      continue;
    }
    byName.set(g.name.toLowerCase(), g.vmid);
    guests.push(g);
  }
  return { guests, skipped, duplicates, excluded };
}

/**
 * Guests worked on at once, per request the target keeps in flight. A guest has one or
 * two requests outstanding, so this keeps the target's queue non-empty (a freed slot is
 * taken at once, no idle gap) while the queue, and the pending work held in memory, stay
 * bounded instead of growing to one entry per guest.
 */
const GUEST_WORKERS_PER_SLOT = 4;

/**
 * Reads a PVE cluster (or standalone node) into a PveSnapshot.
 *
 * /version, /cluster/status, /nodes and /cluster/resources go out together; per-node
 * calls start as soon as /nodes is parsed and per-guest calls as soon as both lists are
 * and the guest's node has answered /status, all bounded by the target's concurrency
 * cap. Only those four first calls are fatal; a down node, a failing guest config or
 * guest agent becomes a warning.
 */
export async function collectPve(ctx: CollectContext<PveConfig, PveSnapshotPart>): Promise<PveSnapshot> {
  const c = ctx.config;
  if (c.BOOTSTRAP) return { bootstrap: true, host: c.PROXMOX_HOST ?? '', nodes: [], guests: [] };
  const host = c.PROXMOX_HOST;
  if (!host) throw new AgentError('config_invalid', 'PROXMOX_HOST is required unless BOOTSTRAP is true');

  let stopped = false;
  const warn = (w: Warning): void => {
    if (!stopped) ctx.warn(w);
  };
  const api: ApiSession = {
    target: ctx.target(pveTargetRequest(c)),
    onDrop: (path, index, why) => warn({ code: 'pve_item_invalid', subject: `GET ${path} item ${index}`, message: `item dropped: ${why}` }),
  };
  const inScope = scopeFilter(ctx.scope.nodes);

  // Progress: one unit per node and per guest; the total is known once both lists are.
  let done = 0;
  let total: number | undefined;
  const tick = (): void => {
    done++;
    if (total !== undefined) ctx.progress(done, total);
  };

  // Nodes known to be down, with the reason; the first failure warns, the rest are quiet.
  const down = new Map<string, string>();
  const markDown = (node: string, reason: string): void => {
    if (down.has(node)) return;
    down.set(node, reason);
    warn({ code: 'node_unreachable', subject: `node ${node}`, message: `${reason}; node data and its guests' details skipped` });
  };
  const canCall = (node: string): boolean => !stopped && !down.has(node);

  const versionP = getVersion(api);
  const statusP = getClusterStatus(api);
  const nodesP = getNodes(api);
  const resourcesP = getClusterResources(api);
  // The last run's memory loads while the first calls are out; only agent reads wait for it.
  const agents = new GuestAgents({ api, warn, markDown, canCall, now: ctx.now?.() ?? Date.now(), recheckRuns: c.AGENT_RECHECK_RUNS, recalled: ctx.recall?.() });

  /*
   * Per node, the /status answer is the liveness probe its guests wait for: a dead node
   * costs one 595 or one timeout, not one per guest. This is per node, not a phase: the
   * other nodes' guests, and every node's /network call, go on meanwhile.
   */
  const probes = new Map<string, Promise<void>>();

  const nodesStarted = nodesP.then((rows) => {
    const inScopeRows = rows.filter((r) => inScope(r.node)).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    // A node /nodes does not list as online is down before any call is made.
    for (const r of inScopeRows) if (r.status !== 'online') markDown(r.node, `GET /nodes reports status "${r.status}"`);
    return { rows, tasks: inScopeRows.map((r) => nodeTask(r)) };
  });
  const nodeWork = nodesStarted.then(({ tasks }) => Promise.all(tasks));

  let excluded: PveExcludedGuest[] = [];
  const guestWork = Promise.all([nodesStarted, resourcesP]).then(([{ rows: nodes }, rows]) => {
    const selection = selectGuests(rows, inScope, c);
    const { guests, skipped, duplicates } = selection;
    excluded = selection.excluded;
    if (excluded.length) ctx.log.debug({ excluded: excluded.length }, 'guests excluded by the policy selection');
    total = nodes.filter((r) => inScope(r.node)).length + guests.length;
    ctx.progress(done, total);
    if (skipped.templates || skipped.incomplete) ctx.log.debug(skipped, 'guests skipped: templates and rows without vmid or name');
    for (const { guest: g, keptVmid } of duplicates) {
      warn({
        code: 'guest_name_duplicate',
        subject: `${g.type} ${g.vmid} on ${g.node}`,
        message: `name "${g.name}" is already used by vmid ${keptVmid}; NetBox needs VM names unique per cluster, so this guest is skipped`,
      });
    }
    const known = new Set(nodes.map((r) => r.node));
    for (const n of ctx.scope.nodes) {
      if (n !== '*' && !known.has(n))
        warn({ code: 'scope_node_unknown', subject: `node ${n}`, message: `scope.nodes names "${n}", which GET /nodes does not list` });
    }
    /*
     * A guest starts once its node's /status probe has settled, and waits for it in its
     * node's queue rather than in a worker: a node whose /status answers late (or times out)
     * would otherwise fill every worker with its own guests and stall the other nodes' work.
     * The snapshot keeps the guests in vmid order whatever order they ran in.
     */
    const handOver = ctx.part ? guestHandOver(guests.length) : undefined;
    return mapWhenReady(
      guests,
      api.target.concurrency * GUEST_WORKERS_PER_SLOT,
      (g) => g.node,
      (node) => probes.get(node),
      handOver ? (g, i) => guestTask(g).then((guest) => handOver(i, guest)) : (g) => guestTask(g),
    );
  });
  // Handled below; these stop Node from reporting a rejection that lands while we wait elsewhere.
  nodeWork.catch(() => {});
  guestWork.catch(() => {});
  const backupWork = c.BACKUP_STATUS ? nodesP.then((rows) => collectBackups(api, warn, rows, inScope)) : Promise.resolve(undefined);
  backupWork.catch(() => {});
  // Issue #17: HA rules/groups and replication jobs, cluster-wide lists beside the first calls.
  const haWork = collectHaReplication(api, { ha: c.HA_STATUS, replication: c.REPLICATION_STATUS }, versionP, warn);
  haWork.catch(() => {});
  const lxcRuntime = lxcRuntimeReader(api, warn, markDown);

  /*
   * Mapping while collecting (ctx.part): the head goes to the mapper once everything but the
   * guests is in (nodes, cluster name, and the backup and HA facts each guest carries), then
   * each guest once it and every guest before it (by vmid) are done, so the mapper sees what
   * it would see in the finished snapshot, in the same order.
   */
  let head: PveSnapshotHead | undefined;
  let facts: { backups: BackupFacts | undefined; ha: HaReplicationFacts } | undefined;
  const finished: Array<PveGuest | undefined> = [];
  let handedOver = 0;
  // Off once the collection failed or ended: the mapper's `end` then maps what was not handed over.
  let handing = ctx.part !== undefined;
  const handOverReady = (): void => {
    if (!facts || !handing || !ctx.part) return;
    for (let g = finished[handedOver]; g !== undefined; g = finished[++handedOver]) {
      finished[handedOver] = undefined;
      completeGuest(g, facts.backups, facts.ha);
      ctx.part({ guest: g });
    }
  };
  function guestHandOver(count: number): (i: number, guest: PveGuest) => PveGuest {
    finished.length = count;
    return (i, guest) => {
      finished[i] = guest;
      if (i === handedOver) handOverReady();
      return guest;
    };
  }
  if (ctx.part) {
    const part = ctx.part;
    Promise.all([versionP, statusP, nodeWork, backupWork, haWork]).then(
      ([version, status, nodes, backups, ha]) => {
        if (stopped || !handing) return;
        head = snapshotHead(host, version, status, nodes, backups);
        part({ head });
        facts = { backups, ha };
        handOverReady();
      },
      // The collection fails below, with this error.
      () => {},
    );
  }

  let version: Awaited<typeof versionP>;
  let status: Awaited<typeof statusP>;
  try {
    [version, status] = await Promise.all([versionP, statusP, nodesP, resourcesP]);
  } catch (err) {
    stopped = true;
    handing = false;
    await Promise.allSettled([nodeWork, guestWork, backupWork, haWork]);
    if (err instanceof HttpStatusError || err instanceof HttpConnectError || err instanceof ApiResponseError) {
      throw new ApiUnreachableError(PVE_SERVICE, `${host}:${c.PROXMOX_PORT}`, err);
    }
    throw err;
  }
  let collected: [PveNode[], PveGuest[], BackupFacts | undefined, HaReplicationFacts];
  try {
    collected = await Promise.all([nodeWork, guestWork, backupWork, haWork]);
  } finally {
    handing = false;
  }
  const [nodes, guests, backups, haFacts] = collected;
  // The guests handed over were completed then; the mapper's `end` maps the others from the snapshot.
  for (let i = handedOver; i < guests.length; i++) completeGuest(guests[i] as PveGuest, backups, haFacts);
  ctx.remember?.(await agents.memory(guests));
  const { backupStatus, ...rest } = head ?? snapshotHead(host, version, status, nodes, backups);
  return { ...rest, guests, ...(backupStatus && { backupStatus }), ...(excluded.length > 0 && { excluded }) };

  async function nodeTask(row: NodeRow): Promise<PveNode> {
    const node: PveNode = {
      name: row.node,
      status: row.status,
      ...(row.maxcpu !== undefined && { maxcpu: row.maxcpu }),
      ...(row.maxmem !== undefined && { maxmem: row.maxmem }),
    };
    try {
      if (!canCall(row.node)) return node;
      const statusCall = getNodeStatus(api, row.node);
      const networkCall = getNodeNetwork(api, row.node);
      probes.set(
        row.node,
        statusCall.then(
          () => {},
          (err: unknown) => {
            if ((err instanceof HttpStatusError || err instanceof HttpConnectError) && !isForbidden(err)) markDown(row.node, describe(err));
          },
        ),
      );
      const [st, net] = await Promise.allSettled([statusCall, networkCall]);
      const calls = [
        { r: st, hint: nodeStatusPrivilege(row.node), lost: 'no PVE version or platform for this node' },
        { r: net, hint: nodeNetworkPrivilege(), lost: 'no interfaces or IPs for this node' },
      ];
      for (const { r, hint, lost } of calls) {
        if (r.status === 'fulfilled') continue;
        // A 403 costs that call's data only: the node answered, so it is not down.
        if (isForbidden(r.reason)) {
          warn({ code: 'pve_permission_denied', subject: `node ${row.node}`, message: `${r.reason.message}; ${missingPrivilege(r.reason, hint)}; ${lost}` });
          continue;
        }
        if (r.reason instanceof HttpStatusError || r.reason instanceof HttpConnectError) {
          // Any failed node call means the node's own data cannot be trusted as complete.
          markDown(row.node, describe(r.reason));
          return node;
        }
        if (!(r.reason instanceof ApiResponseError)) throw r.reason;
        warn({ code: 'node_data_invalid', subject: `node ${row.node}`, message: describe(r.reason) });
      }
      if (st.status === 'fulfilled' && st.value.pveversion !== undefined) {
        try {
          node.version = parsePveVersion(st.value.pveversion);
        } catch (err) {
          if (!(err instanceof PveParseError)) throw err;
          warn({ code: 'node_data_invalid', subject: `node ${row.node}`, message: `${err.message}; no platform for this node` });
        }
      }
      if (net.status === 'fulfilled') node.network = net.value;
      return node;
    } finally {
      tick();
    }
  }

  async function guestTask(g: GuestRow): Promise<PveGuest> {
    const subject = `${g.type} ${g.vmid} on ${g.node}`;
    const r = g.row;
    const guest: PveGuest = {
      type: g.type,
      vmid: g.vmid,
      name: g.name,
      node: g.node,
      status: r.status ?? 'unknown',
      ...(r.maxcpu !== undefined && { maxcpu: r.maxcpu }),
      ...(r.maxmem !== undefined && { maxmem: r.maxmem }),
      tags: parseTags(r.tags ?? ''),
      ...(r.hastate !== undefined && { hastate: r.hastate }),
      ...(r.pool !== undefined && { pool: r.pool }),
    };
    try {
      // Started by mapWhenReady once the node's probe has settled; a failed probe marked it down.
      if (!canCall(g.node)) return guest;
      let raw;
      try {
        raw = g.type === 'qemu' ? await getQemuConfig(api, g.node, g.vmid) : await getLxcConfig(api, g.node, g.vmid);
      } catch (err) {
        if (isNodeLevel(err)) markDown(g.node, describe(err));
        else if (isForbidden(err)) {
          warn({
            code: 'pve_permission_denied',
            subject,
            message: `${err.message}; ${missingPrivilege(err, guestConfigPrivilege(g.vmid))}; emitted without interfaces, IPs, disks or platform`,
          });
        } else if (err instanceof HttpStatusError)
          warn({ code: 'guest_config_unavailable', subject, message: `${err.message}; emitted without interfaces, IPs, disks or platform` });
        else if (err instanceof ApiResponseError)
          warn({ code: 'guest_config_invalid', subject, message: `${err.message}; emitted without interfaces, IPs, disks or platform` });
        else throw err;
        return guest;
      }
      const { config, errors } = parseGuestConfig(g.type, raw);
      for (const e of errors) warn({ code: 'guest_config_invalid', subject, message: `${e.message}; that entry is skipped` });
      guest.config = config;
      // Issue #17 (LXC_ADDRESSES): a running container with a dhcp/auto NIC is asked for its addresses.
      if (g.type === 'lxc' && c.LXC_ADDRESSES !== 'config' && guest.status === 'running' && hasDynamicNic(raw) && canCall(g.node)) {
        const runtime = await lxcRuntime.read(g.node, g.vmid);
        if (runtime) guest.lxcRuntime = runtime;
      }

      if (g.type === 'qemu' && guest.status === 'running' && config.agentEnabled && canCall(g.node)) {
        await agents.read(guest, r.uptime);
      }
      return guest;
    } finally {
      tick();
    }
  }
}

/** Everything of the snapshot but its guests (and the excluded ones). */
function snapshotHead(
  host: string,
  version: PveVersion,
  status: readonly ClusterStatusRow[],
  nodes: PveNode[],
  backups: BackupFacts | undefined,
): PveSnapshotHead {
  const clusterName = status.find((r) => r.type === 'cluster')?.name;
  return {
    bootstrap: false,
    host,
    apiVersion: version.version,
    ...(clusterName !== undefined && { clusterName }),
    nodes,
    ...(backups && { backupStatus: true }),
  };
}

/** A collected guest's cluster-wide facts: HA and replication (issue #17), backups (BACKUP_STATUS). */
function completeGuest(g: PveGuest, backups: BackupFacts | undefined, ha: HaReplicationFacts): void {
  applyHaReplication([g], ha);
  if (!backups) return;
  const b: PveGuestBackup = {};
  const last = backups.last.get(g.vmid);
  if (last) b.last = last;
  if (backups.notInJob) b.inJob = !backups.notInJob.has(g.vmid);
  g.backup = b;
}

interface BackupFacts {
  /** Newest visible backup volume per vmid. */
  last: Map<number, NonNullable<PveGuestBackup['last']>>;
  /** VMIDs in no backup job; undefined when not-backed-up could not be read. */
  notInJob?: Set<number>;
}

function backupFailure(err: unknown, subject: string, hint: string, lost: string, warn: (w: Warning) => void): void {
  if (!(err instanceof HttpStatusError || err instanceof HttpConnectError || err instanceof ApiResponseError)) throw err;
  const why = isForbidden(err) ? `${err.message}; ${missingPrivilege(err, hint)}` : describe(err);
  warn({ code: 'pve_backup_unavailable', subject, message: `${why}; ${lost}` });
}

/**
 * Backup status (BACKUP_STATUS): jobs, guests in no job, and the backup volumes of every
 * storage with `backup` content, a shared one (PBS, NFS, CIFS…) read once through the first
 * online node in scope that lists it, a local one on each such node. Nothing here fails the
 * run: a call that fails costs what it would have told, with a warning.
 */
async function collectBackups(
  api: ApiSession,
  warn: (w: Warning) => void,
  nodes: readonly NodeRow[],
  inScope: (node: string) => boolean,
): Promise<BackupFacts> {
  const online = new Set(nodes.filter((n) => n.status === 'online' && inScope(n.node)).map((n) => n.node));
  const [jobs, notBacked, storages] = await Promise.allSettled([getBackupJobs(api), getNotBackedUp(api), getStorageResources(api)]);
  const facts: BackupFacts = { last: new Map() };
  if (notBacked.status === 'fulfilled') facts.notInJob = new Set(notBacked.value.map((r) => r.vmid));
  else backupFailure(notBacked.reason, 'GET /cluster/backup-info/not-backed-up', backupJobsPrivilege(), 'no guest is said to be in a backup job or not', warn);
  if (jobs.status === 'rejected')
    backupFailure(jobs.reason, 'GET /cluster/backup', backupJobsPrivilege(), 'job targets are not checked for visible backups', warn);
  if (storages.status === 'rejected') {
    backupFailure(storages.reason, 'GET /cluster/resources?type=storage', 'the token lacks Datastore.Audit on /storage', 'no backup volume is read', warn);
    return facts;
  }
  // (storage, node) pairs to read, sorted so the run is the same every time.
  const reads: Array<{ storage: string; node: string }> = [];
  const sharedRead = new Set<string>();
  const rows = storages.value
    .filter((r) => r.type === 'storage' && r.storage !== undefined && r.node !== undefined && online.has(r.node) && (r.status ?? 'available') === 'available')
    .filter((r) => (r.content ?? '').split(',').includes('backup'))
    .sort((a, b) => cmp(a.storage ?? '', b.storage ?? '') || cmp(a.node ?? '', b.node ?? ''));
  for (const r of rows) {
    const storage = r.storage ?? '';
    if (r.shared) {
      if (sharedRead.has(storage)) continue;
      sharedRead.add(storage);
    }
    reads.push({ storage, node: r.node ?? '' });
  }
  const listed = await Promise.allSettled(reads.map((x) => getBackupVolumes(api, x.node, x.storage)));
  const visible = new Map<string, number>();
  listed.forEach((res, i) => {
    const { storage, node } = reads[i]!;
    if (res.status === 'rejected') {
      backupFailure(res.reason, `storage ${storage} on ${node}`, storageContentPrivilege(storage), 'its backups are not counted', warn);
      return;
    }
    visible.set(storage, (visible.get(storage) ?? 0) + res.value.length);
    for (const v of res.value) {
      if (v.vmid === undefined || v.ctime === undefined) continue;
      const prev = facts.last.get(v.vmid);
      // Newest wins; at equal times the first storage by name, so the choice is stable.
      if (prev && prev.time >= v.ctime) continue;
      const state = v.verification?.state;
      facts.last.set(v.vmid, { time: v.ctime, storage, ...(state !== undefined && { verification: state }) });
    }
  });
  /*
   * PVE answers 200 with the backups the token may not read left out (Content.pm index and
   * Storage.pm check_volume_access): an empty target of an enabled job most likely means
   * that, and every guest would look unprotected, so say it.
   */
  if (jobs.status === 'fulfilled') {
    const targets = [...new Set(jobs.value.filter((j) => j.enabled !== false && j.storage !== undefined).map((j) => j.storage ?? ''))].sort(cmp);
    for (const t of targets) {
      if (visible.get(t) !== 0) continue;
      warn({
        code: 'pve_backup_none_visible',
        subject: `storage ${t}`,
        message:
          'a backup job writes here but PVE lists no backup volume; PVE leaves out the backups the token may not read (it needs Datastore.AllocateSpace on /storage/' +
          `${t} and VM.Backup on /vms), so guests may look unprotected`,
      });
    }
  }
  return facts;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
