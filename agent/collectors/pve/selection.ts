import { z } from 'zod';

/*
 * Guest selection (issue #17 item 3) and tenant rules (item 4) of the pve policy config:
 * EXCLUDE_TAGS, EXCLUDE_VMIDS, EXCLUDE_POOLS and TENANT_MAP. All four are optional and off
 * when absent. Each takes a YAML list (a mapping for TENANT_MAP) or, for ${env:} values, one
 * string of comma-separated entries. A bad entry is reported on its own, naming the entry
 * and why, at the entry's position in the YAML list.
 */

/**
 * PVE's tag syntax: `[a-z0-9_][a-z0-9_\-\+\.]*`, matched case-insensitively
 * (proxmox/pve-common src/PVE/JSONSchema.pm `$PVE_TAG_RE`, `pve_verify_tag` uses /i).
 */
const PVE_TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

/**
 * Pool ids: `[A-Za-z0-9\.\-_]+` (proxmox/pve-access-control src/PVE/AccessControl.pm
 * `verify_poolname`). `/` between such parts is also accepted, for the nested pool ids of
 * newer PVE releases (`parent/child`); that form was not in the upstream copy read.
 */
const PVE_POOL = /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+)*$/;

/** VMIDs: 100 to 999999999 (pve-common src/PVE/JSONSchema.pm standard option `pve-vmid`). */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;

/** NetBox Tenant.name and slug are at most 100 characters (netbox/tenancy/models/tenants.py). */
const TENANT_NAME_MAX = 100;

/** An inclusive VMID range; a single VMID is a range of one. */
export interface VmidRange {
  from: number;
  to: number;
}

/** One TENANT_MAP rule: a pool (exact) or a guest tag (lower-cased, as matched) and the NetBox tenant name. */
export interface TenantRule {
  kind: 'pool' | 'tag';
  value: string;
  tenant: string;
}

type Entry = { value: unknown; path: Array<string | number> };

/** The entries of a list setting: list items (with their index) or the parts of one string. */
function entries(v: string | ReadonlyArray<string | number>): Entry[] {
  if (typeof v !== 'string') return v.map((value, i) => ({ value, path: [i] }));
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((value) => ({ value, path: [] }));
}

function listSetting<T>(field: string, item: z.ZodType, parse: (text: string) => T | string) {
  return z
    .union([z.string(), z.array(item)], {
      error: `expected a list (or a comma-separated string) of ${field === 'EXCLUDE_VMIDS' ? 'VMIDs and VMID ranges' : field === 'EXCLUDE_TAGS' ? 'Proxmox tags' : 'pool names'}`,
    })
    .transform((v, ctx) => {
      const out: T[] = [];
      for (const e of entries(v as string | Array<string | number>)) {
        const r = parse(String(e.value).trim());
        if (typeof r === 'string') ctx.addIssue({ code: 'custom', path: e.path, message: `${field} entry "${String(e.value)}": ${r}` });
        else out.push(r);
      }
      return out;
    });
}

/** "250" → 250..250, "100-199" → 100..199; else the reason. */
export function parseVmidRange(text: string): VmidRange | string {
  const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(text);
  const what = `expected a VMID (${VMID_MIN} to ${VMID_MAX}) or a range of them, e.g. "100-199"`;
  if (!m || m[1] === undefined) return what;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < VMID_MIN || to < VMID_MIN || from > VMID_MAX || to > VMID_MAX) return `${what}; VMIDs are ${VMID_MIN} to ${VMID_MAX}`;
  if (from > to) return 'a range goes from the lower VMID to the higher one';
  return { from, to };
}

function tagOrReason(text: string): string | { tag: string } {
  return PVE_TAG.test(text) ? { tag: text.toLowerCase() } : 'not a Proxmox tag (letters, digits and _ - + ., not starting with - + or .)';
}

function poolOrReason(text: string): string | { pool: string } {
  return PVE_POOL.test(text) ? { pool: text } : 'not a Proxmox pool name (letters, digits and . - _)';
}

export const excludeTagsSchema = listSetting('EXCLUDE_TAGS', z.string(), tagOrReason).transform((xs) => [...new Set(xs.map((x) => x.tag))]);
export const excludePoolsSchema = listSetting('EXCLUDE_POOLS', z.string(), poolOrReason).transform((xs) => [...new Set(xs.map((x) => x.pool))]);
export const excludeVmidsSchema = listSetting('EXCLUDE_VMIDS', z.union([z.string(), z.number()]), parseVmidRange);

/** A TENANT_MAP key: `pool/<pool>` or `tag/<tag>`; else the reason. */
function ruleKey(key: string): Pick<TenantRule, 'kind' | 'value'> | string {
  const slash = key.indexOf('/');
  const kind = slash === -1 ? '' : key.slice(0, slash).trim();
  const value = slash === -1 ? '' : key.slice(slash + 1).trim();
  if (kind === 'pool') {
    const p = poolOrReason(value);
    return typeof p === 'string' ? p : { kind, value: p.pool };
  }
  if (kind === 'tag') {
    const t = tagOrReason(value);
    return typeof t === 'string' ? t : { kind, value: t.tag };
  }
  return 'expected pool/<pool> or tag/<tag>, e.g. pool/finance';
}

/**
 * TENANT_MAP: `{ pool/finance: Finance, tag/team-a: Team A }`, or the string
 * "pool/finance:Finance,tag/team-a:Team A". Rules keep the order they are written in: among
 * tag rules, the first written that a guest carries wins (agent/collectors/pve/map tenantOf).
 */
export const tenantMapSchema = z
  .union([z.string(), z.record(z.string(), z.string())], { error: 'expected a mapping of pool/<pool> or tag/<tag> to a NetBox tenant name' })
  .transform((v, ctx) => {
    const pairs: Array<{ key: string; tenant: string; path: Array<string | number> }> = [];
    if (typeof v === 'string') {
      for (const raw of v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')) {
        const colon = raw.indexOf(':');
        if (colon === -1) {
          ctx.addIssue({ code: 'custom', message: `TENANT_MAP entry "${raw}": expected <pool/name or tag/name>:<tenant>, e.g. "pool/finance:Finance"` });
          continue;
        }
        pairs.push({ key: raw.slice(0, colon).trim(), tenant: raw.slice(colon + 1), path: [] });
      }
    } else {
      for (const [key, tenant] of Object.entries(v)) pairs.push({ key, tenant, path: [key] });
    }
    const rules: TenantRule[] = [];
    const seen = new Set<string>();
    for (const p of pairs) {
      const k = ruleKey(p.key);
      const tenant = p.tenant.trim();
      const problem =
        typeof k === 'string'
          ? k
          : tenant === ''
            ? 'the tenant name is empty'
            : tenant.length > TENANT_NAME_MAX
              ? `the tenant name is longer than ${TENANT_NAME_MAX} characters (NetBox's limit)`
              : seen.has(`${k.kind}/${k.value}`)
                ? `${k.kind} "${k.value}" has a rule already`
                : undefined;
      if (problem !== undefined || typeof k === 'string') {
        ctx.addIssue({ code: 'custom', path: p.path, message: `TENANT_MAP entry "${p.key}": ${problem ?? ''}` });
        continue;
      }
      seen.add(`${k.kind}/${k.value}`);
      rules.push({ ...k, tenant });
    }
    return rules;
  });

/** The selection settings of a parsed config (absent: nothing is excluded by it). */
export interface GuestSelectionConfig {
  EXCLUDE_TAGS?: readonly string[] | undefined;
  EXCLUDE_VMIDS?: readonly VmidRange[] | undefined;
  EXCLUDE_POOLS?: readonly string[] | undefined;
}

/** What a guest row offers the selection: its VMID, its tags (as PVE lists them) and its pool. */
export interface SelectableGuest {
  vmid: number;
  tags: readonly string[];
  pool?: string | undefined;
}

/**
 * Why the policy excludes a guest (the first setting that matches, in the order VMID, pool,
 * tag), or undefined. Tags compare case-insensitively: PVE lower-cases tags on write unless
 * datacenter.cfg `tag-style` sets `case-sensitive` (proxmox/pve-guest-common
 * src/PVE/GuestHelpers.pm `get_unique_tags`), and treats tags that differ only in case as one.
 */
export function exclusionOf(g: SelectableGuest, c: GuestSelectionConfig): string | undefined {
  const range = c.EXCLUDE_VMIDS?.find((r) => g.vmid >= r.from && g.vmid <= r.to);
  if (range) return range.from === range.to ? `EXCLUDE_VMIDS ${range.from}` : `EXCLUDE_VMIDS ${range.from}-${range.to}`;
  if (g.pool !== undefined && c.EXCLUDE_POOLS?.includes(g.pool)) return `EXCLUDE_POOLS ${g.pool}`;
  if (c.EXCLUDE_TAGS?.length) {
    const tags = new Set(g.tags.map((t) => t.toLowerCase()));
    const tag = c.EXCLUDE_TAGS.find((t) => tags.has(t));
    if (tag !== undefined) return `EXCLUDE_TAGS ${tag}`;
  }
  return undefined;
}
