import { z } from 'zod';
import { apiTimeout, boolish, sha256Fingerprint } from '../../config/coerce.ts';
import { maxResponseBytesSetting, nodeSiteMapSchema, pveConnectionShape, splitPveTokenId } from '../proxmox-config.ts';

/*
 * The policy's `config:` block for the ceph collector. `CEPH_SOURCE: pve` takes the PVE
 * collector's connection parameters with the same names and defaults (agent/collectors/pve/config.ts),
 * so a hyperconverged node gets the very Device stub the PVE collector makes. `CEPH_SOURCE:
 * dashboard` talks to the Ceph MGR REST API (ceph src/pybind/mgr/dashboard/openapi.yaml).
 */

export const CEPH_SOURCES = ['pve', 'dashboard'] as const;
export type CephSource = (typeof CEPH_SOURCES)[number];

const dashboardShape = {
  CEPH_URL: z.url({ protocol: /^https?$/, error: 'expected the dashboard URL, e.g. https://ceph-mgr.example:8443' }).optional(),
  CEPH_USER: z.string().min(1).optional(),
  CEPH_PASSWORD: z.string().min(1).optional(),
  /** A file holding a dashboard JWT, re-read on 401 (for tokens rotated by something else). */
  CEPH_TOKEN_FILE: z.string().min(1).optional(),
  CEPH_SSL_VERIFY: boolish.default(false),
  CEPH_API_TIMEOUT: apiTimeout(),
  CEPH_API_MAX_RESPONSE_BYTES: maxResponseBytesSetting,
  CEPH_FINGERPRINT: sha256Fingerprint('the browser shows the dashboard certificate').optional(),
  CEPH_CA_FILE: z.string().min(1).optional(),
};
/** Keys with a default are always present after parsing, so only the optional ones count as "given". */
const DASHBOARD_ONLY = ['CEPH_URL', 'CEPH_USER', 'CEPH_PASSWORD', 'CEPH_TOKEN_FILE', 'CEPH_FINGERPRINT', 'CEPH_CA_FILE'] as const;
const PVE_ONLY = ['PROXMOX_HOST', 'PROXMOX_TOKEN_NAME', 'PROXMOX_TOKEN_VALUE', 'PROXMOX_FINGERPRINT', 'PROXMOX_CA_FILE'] as const;

const cephConfigObject = z
  .object({
    CEPH_SOURCE: z.enum(CEPH_SOURCES).default('pve'),
    CEPH_CLUSTER_NAME: z.string().trim().min(1).max(100).optional(),
    SITE_NAME: z.string().trim().min(1).default('Proxmox'),
    NODE_SITE_MAP: nodeSiteMapSchema.default({}),
    ...pveConnectionShape,
    ...dashboardShape,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.CEPH_SOURCE === 'pve') {
      for (const key of ['PROXMOX_HOST', 'PROXMOX_TOKEN_NAME', 'PROXMOX_TOKEN_VALUE'] as const) {
        if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required when CEPH_SOURCE is pve` });
      }
      for (const key of DASHBOARD_ONLY) {
        if (c[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is only used when CEPH_SOURCE is dashboard' });
      }
      return;
    }
    if (c.CEPH_URL === undefined) ctx.addIssue({ code: 'custom', path: ['CEPH_URL'], message: 'CEPH_URL is required when CEPH_SOURCE is dashboard' });
    if (c.CEPH_TOKEN_FILE === undefined) {
      if (c.CEPH_USER === undefined) ctx.addIssue({ code: 'custom', path: ['CEPH_USER'], message: 'CEPH_USER is required unless CEPH_TOKEN_FILE is given' });
      if (c.CEPH_PASSWORD === undefined)
        ctx.addIssue({ code: 'custom', path: ['CEPH_PASSWORD'], message: 'CEPH_PASSWORD is required unless CEPH_TOKEN_FILE is given' });
    } else if ((c.CEPH_USER === undefined) !== (c.CEPH_PASSWORD === undefined)) {
      const missing = c.CEPH_USER === undefined ? 'CEPH_USER' : 'CEPH_PASSWORD';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'CEPH_USER and CEPH_PASSWORD go together (they re-login when the token file stops working)' });
    }
    for (const key of PVE_ONLY) {
      if (c[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is only used when CEPH_SOURCE is pve' });
    }
  });

/** PROXMOX_TOKEN_NAME takes the whole token id too (splitPveTokenId). */
export const cephConfigSchema = z.preprocess(splitPveTokenId, cephConfigObject);

export type CephConfig = z.output<typeof cephConfigSchema>;
