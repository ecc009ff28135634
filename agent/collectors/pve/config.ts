import { z } from 'zod';
import { apiTimeout, boolish, hostname, intish, sha256Fingerprint } from '../../config/coerce.ts';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../http/client.ts';
import { parseNodeSiteMap, PveParseError } from './parsers.ts';
import { excludePoolsSchema, excludeTagsSchema, excludeVmidsSchema, tenantMapSchema } from './selection.ts';

/*
 * The policy's `config:` block for the pve collector: the seed's parameters with the
 * seed's defaults (proxmox-ve-mapping.txt, "Config Parameters"), plus TLS pinning.
 */

/**
 * "pve1:London,pve2:Amsterdam", or the same as a YAML mapping { pve1: London }. Parsed
 * after the union (not inside a branch), so a bad entry reports its own message instead of
 * zod's "Invalid input".
 */
export const nodeSiteMapSchema = z
  .union([z.string(), z.record(z.string().min(1), z.string().trim().min(1, 'site name is empty'))])
  .transform((v, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      return parseNodeSiteMap(v);
    } catch (err) {
      if (!(err instanceof PveParseError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
      return z.NEVER;
    }
  });

/**
 * `<PREFIX>_API_MAX_RESPONSE_BYTES`, the bytes one answer may have (every collector's
 * targets take one): 1 KiB to 256 MiB, well below V8's longest string (2^29 − 24
 * characters), which a body becomes before it is parsed. Default 64 MiB.
 */
export const maxResponseBytesSetting = intish(1024, 256 * 1024 * 1024).default(DEFAULT_MAX_RESPONSE_BYTES);

/**
 * A PVE API connection: the seed's parameter names and defaults. Also taken by the ceph
 * collector (pve mode) and the packer collector (template lookup), so one cluster is
 * configured the same way everywhere.
 */
export const pveConnectionShape = {
  PROXMOX_HOST: hostname.optional(),
  PROXMOX_PORT: intish(1, 65535).default(8006),
  PROXMOX_USER: z.string().regex(/^[^\s@!:=]+@[^\s@!:=]+$/, 'expected user@realm, e.g. root@pam').default('root@pam'),
  // Either form (splitPveTokenId splits the whole id before this is checked; the pattern
  // takes it too so that editors accept it through the JSON Schema).
  PROXMOX_TOKEN_NAME: z.string().min(1).regex(/^(?:[^\s@!:=]+@[^\s@!:=]+!)?[^\s!=@:]+$/, 'expected the token name (netbox, with the user in PROXMOX_USER) or the whole token id (root@pam!netbox)').optional(),
  PROXMOX_TOKEN_VALUE: z.string().min(1).optional(),
  PROXMOX_SSL_VERIFY: boolish.default(false),
  PROXMOX_API_TIMEOUT: apiTimeout(),
  PROXMOX_API_MAX_RESPONSE_BYTES: maxResponseBytesSetting,
  PROXMOX_FINGERPRINT: sha256Fingerprint('GET /nodes shows ssl_fingerprint').optional(),
  PROXMOX_CA_FILE: z.string().min(1).optional(),
};

export type PveConnection = z.output<z.ZodObject<typeof pveConnectionShape>>;

/** `user@realm!name`, as PVE shows a token id (pve-access-control PVE::AccessControl pve_tokenid_split). */
const FULL_TOKEN_ID = /^\s*([^\s@!:=]+@[^\s@!:=]+)!([^\s!=@:]+)\s*$/;

/**
 * PROXMOX_TOKEN_NAME takes the token name with the user in PROXMOX_USER (the seed's form),
 * or the whole token id `root@pam!netbox` alone, as PVE shows it and PBS_TOKEN_ID and
 * PDM_TOKEN_ID take it; the id is split before validation, so both forms give the same
 * config. A user in the id that differs from PROXMOX_USER is an error, not a guess.
 */
export function splitPveTokenId(input: unknown, ctx: z.RefinementCtx): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const c = input as Record<string, unknown>;
  const m = typeof c.PROXMOX_TOKEN_NAME === 'string' ? FULL_TOKEN_ID.exec(c.PROXMOX_TOKEN_NAME) : null;
  if (!m) return input;
  const [, user = '', name = ''] = m;
  if (c.PROXMOX_USER !== undefined && c.PROXMOX_USER !== user) {
    ctx.addIssue({ code: 'custom', path: ['PROXMOX_TOKEN_NAME'], message: `names the user ${user}, but PROXMOX_USER is ${String(c.PROXMOX_USER)}; give the user once` });
  }
  return { ...c, PROXMOX_USER: user, PROXMOX_TOKEN_NAME: name };
}

const pveConfigObject = z
  .object({
    BOOTSTRAP: boolish.default(false),
    ...pveConnectionShape,
    CLUSTER_NAME: z.string().trim().min(1).optional(),
    SITE_NAME: z.string().trim().min(1).default('Proxmox'),
    NODE_SITE_MAP: nodeSiteMapSchema.default({}),
    /*
     * Backup status on each guest (issue #17): off by default, as it costs 3 requests plus
     * one per backup storage (a shared one once, a local one per node) and, to see the
     * backups at all, privileges beyond PVEAuditor (README "Backup status").
     */
    BACKUP_STATUS: boolish.default(false),
    /** Hours: a guest whose newest backup is older counts as without a recent backup. */
    BACKUP_MAX_AGE: intish(1, 24 * 366).default(26),
    /*
     * Selection (issue #17): guests left out of the policy, beside scope.nodes; an excluded
     * guest is never reported stale (README "Selection"). Absent: nothing is excluded.
     */
    EXCLUDE_TAGS: excludeTagsSchema.optional(),
    EXCLUDE_VMIDS: excludeVmidsSchema.optional(),
    EXCLUDE_POOLS: excludePoolsSchema.optional(),
    /** Tenants from pools and tags (issue #17): absent, the agent never touches a tenant. */
    TENANT_MAP: tenantMapSchema.optional(),
    /*
     * Issue #17: container addresses. `config` (the seed's rule): static ip=/ip6= only;
     * `runtime`: a running container with a dhcp/auto NIC is asked for its addresses
     * (GET /nodes/{node}/lxc/{vmid}/interfaces, one request per such container) and those
     * replace the config's; `both`: config and runtime addresses together.
     */
    LXC_ADDRESSES: z.enum(['config', 'runtime', 'both']).default('config'),
    /** HA rule (PVE 9) or group (PVE 8) of each guest: 1 or 2 requests per run (README "HA and replication"). */
    HA_STATUS: boolish.default(false),
    /** Replication targets and jobs of each guest: 1 request per run. */
    REPLICATION_STATUS: boolish.default(false),
    /*
     * A guest agent that timed out is asked again only every this many runs (README "Guest
     * agent across runs"); meanwhile its last answer is used. 1 asks every run.
     */
    AGENT_RECHECK_RUNS: intish(1, 1000).default(4),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.BOOTSTRAP) return;
    for (const key of ['PROXMOX_HOST', 'PROXMOX_TOKEN_NAME', 'PROXMOX_TOKEN_VALUE'] as const) {
      if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required unless BOOTSTRAP is true` });
    }
  });

export const pveConfigSchema = z.preprocess(splitPveTokenId, pveConfigObject);

export type PveConfig = z.output<typeof pveConfigSchema>;
/** What a policy file may contain. */
export type PveConfigInput = z.input<typeof pveConfigObject>;
