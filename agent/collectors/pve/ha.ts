import { HttpConnectError, HttpStatusError } from '../../http/client.ts';
import type { Warning } from '../types.ts';
import { getHaGroups, getHaResources, getHaRules, getReplicationJobs, haPrivilege, missingPrivilege, replicationPrivilege } from './client.ts';
import type { HaResource, HaRule, ReplicationJob } from './schema.ts';
import type { PveGuest, PveReplicationJob } from './snapshot.ts';
import { ApiResponseError, type ApiSession } from '../../http/proxmox.ts';

/*
 * HA and replication of each guest (issue #17, HA_STATUS, REPLICATION_STATUS): cluster-wide
 * lists, read once per run beside the first calls. Nothing here fails the run: a list that
 * cannot be read costs its custom fields this run (NetBox keeps the last values), with a
 * warning.
 */

/** What the two switches collected, by vmid; undefined: off, or not readable this run. */
export interface HaReplicationFacts {
  ha?: Map<number, string[]>;
  replication?: Map<number, PveReplicationJob[]>;
}

/** pve-guest-common src/PVE/ReplicationConfig.pm: an unset `schedule` is the default, every 15 minutes. */
const DEFAULT_REPLICATION_SCHEDULE = '*/15';

/** "vm:100" | "ct:101" → 100 (pve-ha-manager src/PVE/HA/Config.pm parse_sid); other kinds are not guests. */
function sidVmid(sid: string): number | undefined {
  const m = /^(?:vm|ct):(\d+)$/.exec(sid.trim());
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * PVE 9: every enabled rule that lists the guest among its `resources`, node-affinity and
 * resource-affinity alike, by name. A disabled rule does not place anything
 * (src/PVE/HA/Rules.pm foreach_rule exclude_disabled_rules), so it is not the guest's rule.
 */
export function rulesByGuest(rules: readonly HaRule[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of rules) {
    if (r.disable === true) continue;
    const vmids = new Set(
      (r.resources ?? '')
        .split(',')
        .map(sidVmid)
        .filter((v): v is number => v !== undefined),
    );
    for (const vmid of vmids) push(out, vmid, r.rule);
  }
  for (const list of out.values()) list.sort(byText);
  return out;
}

/**
 * PVE 8: the resource's `group`, named as PVE 9 names the node-affinity rule it migrates the
 * group into, "ha-group-<group>" (pve-ha-manager src/PVE/HA/Groups.pm
 * migrate_groups_to_rules), so the value does not change at the upgrade. A resource whose
 * group does not exist (Resources.pm reports `errors.group`) is in none, as the migration
 * skips it.
 */
export function groupsByGuest(resources: readonly HaResource[], groups: ReadonlySet<string>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of resources) {
    const vmid = sidVmid(r.sid);
    if (vmid !== undefined && r.group !== undefined && groups.has(r.group)) push(out, vmid, `ha-group-${r.group}`);
  }
  return out;
}

export function jobsByGuest(jobs: readonly ReplicationJob[]): Map<number, PveReplicationJob[]> {
  const out = new Map<number, PveReplicationJob[]>();
  for (const j of jobs) {
    push(out, j.guest, {
      id: j.id,
      target: j.target,
      schedule: j.schedule ?? DEFAULT_REPLICATION_SCHEDULE,
      ...(j.disable === true && { disabled: true }),
      ...(j.remove_job !== undefined && { removal: j.remove_job }),
    });
  }
  for (const list of out.values()) list.sort((a, b) => byText(a.id, b.id));
  return out;
}

function isFailure(err: unknown): err is HttpStatusError | HttpConnectError | ApiResponseError {
  return err instanceof HttpStatusError || err instanceof HttpConnectError || err instanceof ApiResponseError;
}

type FailureCode = 'pve_ha_unavailable' | 'pve_replication_unavailable';

function failure(code: FailureCode, err: unknown, subject: string, hint: string, lost: string, warn: (w: Warning) => void): void {
  if (!isFailure(err)) throw err;
  const why = err instanceof HttpStatusError && err.status === 403 ? `${err.message}; ${missingPrivilege(err, hint)}` : err.message;
  warn({ code, subject, message: `${why}; ${lost}` });
}

/** "9.0.3" → 9; undefined when /version says something else. */
function majorOf(version: string | undefined): number | undefined {
  const m = version === undefined ? null : /^(\d+)\./.exec(version);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

const HA_LOST = 'proxmox_ha_rules is not set this run';

async function collectHa(api: ApiSession, version: Promise<{ version: string }>, warn: (w: Warning) => void): Promise<Map<number, string[]> | undefined> {
  /*
   * PVE 9 replaced HA groups with rules (pve-ha-manager src/PVE/API2/HA/Rules.pm, new in
   * 9.0); /version tells which to ask. A PVE 8 has no rules handler (pveproxy: 501 "Method
   * … not implemented"), so a rules call that answers 501 or 404 falls back to groups too.
   */
  const major = majorOf(
    await version.then(
      (v) => v.version,
      () => undefined,
    ),
  );
  if (major === undefined || major >= 9) {
    try {
      return rulesByGuest(await getHaRules(api));
    } catch (err) {
      if (!(err instanceof HttpStatusError && (err.status === 501 || err.status === 404))) {
        failure('pve_ha_unavailable', err, 'GET /cluster/ha/rules', haPrivilege(), HA_LOST, warn);
        return undefined;
      }
    }
  }
  const [groups, resources] = await Promise.allSettled([getHaGroups(api), getHaResources(api)]);
  if (groups.status === 'rejected') failure('pve_ha_unavailable', groups.reason, 'GET /cluster/ha/groups', haPrivilege(), HA_LOST, warn);
  if (resources.status === 'rejected') failure('pve_ha_unavailable', resources.reason, 'GET /cluster/ha/resources', haPrivilege(), HA_LOST, warn);
  if (groups.status === 'rejected' || resources.status === 'rejected') return undefined;
  return groupsByGuest(resources.value, new Set(groups.value.map((g) => g.group)));
}

async function collectReplication(api: ApiSession, warn: (w: Warning) => void): Promise<Map<number, PveReplicationJob[]> | undefined> {
  try {
    return jobsByGuest(await getReplicationJobs(api));
  } catch (err) {
    failure(
      'pve_replication_unavailable',
      err,
      'GET /cluster/replication',
      replicationPrivilege(),
      'proxmox_replication_targets and proxmox_replication_jobs are not set this run',
      warn,
    );
    return undefined;
  }
}

/** Both switches' lists, read at once; each is asked only when its switch is on. */
export async function collectHaReplication(
  api: ApiSession,
  on: { ha: boolean; replication: boolean },
  version: Promise<{ version: string }>,
  warn: (w: Warning) => void,
): Promise<HaReplicationFacts> {
  const [ha, replication] = await Promise.all([on.ha ? collectHa(api, version, warn) : undefined, on.replication ? collectReplication(api, warn) : undefined]);
  return { ...(ha && { ha }), ...(replication && { replication }) };
}

/** Puts the facts on the guests: every guest gets them when its list was read, `[]` when it is in none. */
export function applyHaReplication(guests: PveGuest[], facts: HaReplicationFacts): void {
  for (const g of guests) {
    if (facts.ha) g.ha = { rules: facts.ha.get(g.vmid) ?? [] };
    if (facts.replication) g.replication = facts.replication.get(g.vmid) ?? [];
  }
}
