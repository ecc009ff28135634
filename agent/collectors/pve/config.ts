import { z } from 'zod';
import { boolish, intish } from '../../config/coerce.ts';
import { nodeSiteMapSchema, pveConnectionShape, splitPveTokenId } from '../proxmox-config.ts';
import { excludePoolsSchema, excludeTagsSchema, excludeVmidsSchema, tenantMapSchema } from './selection.ts';

/*
 * The policy's `config:` block for the pve collector: the seed's parameters with the
 * seed's defaults (listed in README.md "Collector parameters"), plus TLS pinning.
 */

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
