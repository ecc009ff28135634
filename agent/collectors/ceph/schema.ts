import { z } from 'zod';
import { looseBool, looseInt, looseNumber, summarizeIssues } from '../../http/loose.ts';

/*
 * zod schemas of the Ceph answers the collector reads, naming only the fields it uses.
 * Two sources, two dialects: PVE's Ceph endpoints (Perl: 0/1 booleans, numbers that may be
 * strings; pve-manager PVE/API2/Ceph/OSD.pm index, pve-common src/PVE/JSONSchema.pm) and the
 * Ceph MGR dashboard (Python: real booleans, but `up`/`in` as 0/1 integers, as ceph
 * src/osd/OSDMap.cc OSDMap::dump writes them with `dump_int`). Both are coerced here, at the edge.
 */

export { summarizeIssues };

/** An answer whose shape is not what the schema expects (alias of the shared class; code `ceph_bad_response`). */

const text = z.string().trim().min(1);

/* ------------------------------------- PVE (pve-manager PVE/API2/Ceph.pm, Ceph/*.pm) */

/** One health check; PVE replaces `health` with `health detail` output, so checks carry `detail[]` too (unused: it lists PGs and changes constantly). */
const healthCheckSchema = z.object({
  severity: z.string().default('HEALTH_WARN'),
  summary: z.object({ message: z.string().default(''), count: looseInt.optional() }).default({ message: '' }),
  muted: looseBool.default(false),
});

const addrvecSchema = z.object({ addrvec: z.array(z.object({ addr: z.string(), type: z.string().optional() })) });

/**
 * GET /cluster/ceph/status: `ceph status` plus PVE's additions (pve-manager
 * PVE/Ceph/Tools.pm ceph_cluster_status). `checks` is kept raw here and parsed item by item
 * so one odd check does not cost the others.
 */
export const pveStatusSchema = z.object({
  fsid: text,
  health: z.object({ status: text, checks: z.record(z.string(), z.unknown()).default({}) }),
  quorum_names: z.array(z.string()).default([]),
  monmap: z
    .object({
      min_mon_release_name: text.optional(),
      mons: z.array(z.object({ name: text, addr: z.string().optional(), public_addrs: addrvecSchema.optional() })).default([]),
    })
    .optional(),
});

export function parseHealthCheck(raw: unknown) {
  return healthCheckSchema.safeParse(raw);
}

// GET /nodes (only to find a node to ask the per-node Ceph calls).
export const pveNodeSchema = z.object({ node: text, status: z.string().default('unknown') });

// GET /cluster/ceph/flags: `value` is 0/1 on real PVE, true/false in go-proxmox's mock.
export const pveFlagSchema = z.object({ name: text, value: looseBool });

/**
 * One bucket or OSD of GET /nodes/{node}/ceph/osd (pve-manager PVE/API2/Ceph/OSD.pm index).
 * `children` is walked by the collector, not by zod, so a bad leaf is dropped on its own.
 */
export const pveOsdNodeSchema = z.object({
  id: looseInt,
  name: text,
  type: text,
  status: z.string().optional(),
  in: looseBool.optional(),
  crush_weight: looseNumber.optional(),
  // go-proxmox's hand-written mock calls the CRUSH weight `weight`.
  weight: looseNumber.optional(),
  reweight: looseNumber.optional(),
  device_class: text.optional(),
  total_space: looseNumber.optional(),
  host: text.optional(),
  children: z.array(z.unknown()).optional(),
});

export const pveOsdTreeSchema = z.object({ root: z.unknown(), flags: z.string().optional() });

/** Pool fields both sources name alike (PVE Ceph/Pools.pm, dashboard controllers/pool.py). */
const poolFields = {
  pool: looseInt,
  pool_name: text,
  type: z.string().optional(),
  size: looseInt.optional(),
  min_size: looseInt.optional(),
  pg_num: looseInt.optional(),
  pg_autoscale_mode: z.string().optional(),
};

export const pvePoolSchema = z.object({
  ...poolFields,
  crush_rule: looseInt.optional(),
  crush_rule_name: text.optional(),
  // `{rbd: {}}` on PVE (the pool's application_metadata map).
  application_metadata: z.record(z.string(), z.unknown()).optional(),
});

export const pveFsSchema = z.object({ name: text, metadata_pool: text.optional(), data_pool: text.optional(), data_pools: z.array(z.string()).optional() });

export const pveRuleSchema = z.object({ name: text });

export const pveDaemonSchema = z.object({
  name: text,
  addr: z.string().optional(),
  host: text.optional(),
  state: z.string().optional(),
  quorum: looseBool.optional(),
  ceph_version_short: text.optional(),
});
export type PveDaemon = z.output<typeof pveDaemonSchema>;

/* ------------------------------- Dashboard (ceph src/pybind/mgr/dashboard/openapi.yaml) */

export const dashAuthSchema = z.object({ token: text });

/** GET /api/health/minimal: checks are a list with the name in `type` (dashboard controllers/health.py basic_health). */
export const dashHealthSchema = z.object({
  health: z.object({ status: text, checks: z.array(z.unknown()).default([]) }),
  mgr_map: z
    .object({ active_name: text.optional(), standbys: z.array(z.union([z.object({ name: text }), text.transform((name) => ({ name }))])).default([]) })
    .optional(),
});

export const dashHealthCheckSchema = healthCheckSchema.extend({ type: text });

export const dashFsidSchema = text;

/**
 * GET /api/summary (controllers/summary.py): `version` is "ceph version 18.2.4 (<sha1>) reef
 * (stable)"; `mgr_host` the active manager's own dashboard URL, "https://host:8443/".
 */
export const dashSummarySchema = z.object({ version: z.string().optional(), mgr_host: z.string().optional() });

/** GET /api/osd (v1.1): the osd_map entry plus `tree`, `host` and `stats` (controllers/osd.py list). */
export const dashOsdSchema = z.object({
  osd: looseInt,
  up: looseBool,
  in: looseBool,
  tree: z.object({ name: text.optional(), device_class: text.optional(), crush_weight: looseNumber.optional(), reweight: looseNumber.optional() }).optional(),
  host: z.object({ name: text }).optional(),
  stats: z.object({ stat_bytes: looseNumber.optional() }).optional(),
});

/** GET /api/osd/flags: the schema says `{list_of_flags}`, the code returns a bare array; accept both. */
export const dashFlagsSchema = z.union([z.array(z.string()), z.object({ list_of_flags: z.array(z.string()) }).transform((o) => o.list_of_flags)]);

export const dashPoolSchema = z.object({
  ...poolFields,
  // The dashboard maps the rule id to its name (controllers/pool.py _serialize_pool).
  crush_rule: z.union([z.string(), z.number()]).optional(),
  application_metadata: z.union([z.array(z.string()), z.record(z.string(), z.unknown())]).optional(),
});

export const dashCrushRuleSchema = z.object({
  rule_id: looseInt.optional(),
  rule_name: text,
  type: z.union([z.number(), z.string()]).optional(),
  steps: z.array(z.object({ op: z.string(), item_name: z.string().optional(), type: z.string().optional() }).loose()).default([]),
});
export type DashCrushRule = z.output<typeof dashCrushRuleSchema>;

export const dashCephfsSchema = z.object({
  id: looseInt.optional(),
  mdsmap: z.object({ fs_name: text, metadata_pool: looseInt.optional(), data_pools: z.array(looseInt).default([]) }),
});

/** One monitor of /api/monitor `in_quorum` / `out_quorum` (the monmap entry plus stats). */
export const dashMonSchema = z.object({ name: text, public_addrs: addrvecSchema.optional(), public_addr: z.string().optional(), addr: z.string().optional() });
/** GET /api/monitor (controllers/monitor.py): monitors split by quorum membership. */
export const dashMonitorSchema = z.object({ in_quorum: z.array(z.unknown()).default([]), out_quorum: z.array(z.unknown()).default([]) });

/** GET /api/host (v1.3): the daemons each host runs, as `services: [{type, id}]`. */
export const dashHostSchema = z.object({
  hostname: text,
  ceph_version: z.string().optional(),
  services: z.array(z.object({ type: z.string(), id: z.union([z.string(), z.number()]).transform(String) })).default([]),
});
export type DashHost = z.output<typeof dashHostSchema>;
