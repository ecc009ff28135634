import { z } from 'zod';
import { boolish, hostname, intish } from '../../config/coerce.ts';
import { parseNodeSiteMap, PveParseError } from '../pve/parsers.ts';

/*
 * The policy's `config:` block for the ceph collector. `CEPH_SOURCE: pve` takes the PVE
 * collector's connection parameters with the same names and defaults
 * (../shared/seeds/proxmox-ve-mapping.txt "Config Parameters"), so a hyperconverged node
 * gets the very Device stub the PVE collector makes. `CEPH_SOURCE: dashboard` talks to the
 * Ceph MGR REST API (reference/proxmox-apis.md §4a).
 */

export const CEPH_SOURCES = ['pve', 'dashboard'] as const;
export type CephSource = (typeof CEPH_SOURCES)[number];

/** SHA-256 of the leaf certificate, colon hex, as PVE shows `ssl_fingerprint`. */
export const fingerprintSchema = z
  .string()
  .refine((s) => /^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/.test(s.trim()), 'expected a SHA-256 fingerprint: 32 colon-separated hex bytes');

/**
 * `pve1:London,pve2:Amsterdam` or a YAML mapping. Parsed after the union (not inside a
 * branch), so a bad entry reports its own message instead of zod's "Invalid input".
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
 * A PVE API connection with the PVE collector's parameter names and defaults. Shared by
 * the ceph collector (pve mode) and the packer collector (optional template lookup).
 */
export const pveConnectionShape = {
  PROXMOX_HOST: hostname.optional(),
  PROXMOX_PORT: intish(1, 65535).default(8006),
  PROXMOX_USER: z.string().regex(/^[^\s@!:=]+@[^\s@!:=]+$/, 'expected user@realm, e.g. root@pam').default('root@pam'),
  PROXMOX_TOKEN_NAME: z.string().min(1).regex(/^[^\s!=]+$/, 'give only the token id (e.g. netbox); the user goes in PROXMOX_USER').optional(),
  PROXMOX_TOKEN_VALUE: z.string().min(1).optional(),
  PROXMOX_SSL_VERIFY: boolish.default(false),
  PROXMOX_API_TIMEOUT: intish(1, 3600).default(30),
  PROXMOX_FINGERPRINT: fingerprintSchema.optional(),
  PROXMOX_CA_FILE: z.string().min(1).optional(),
};

export interface PveConnection {
  PROXMOX_HOST?: string | undefined;
  PROXMOX_PORT: number;
  PROXMOX_USER: string;
  PROXMOX_TOKEN_NAME?: string | undefined;
  PROXMOX_TOKEN_VALUE?: string | undefined;
  PROXMOX_SSL_VERIFY: boolean;
  PROXMOX_API_TIMEOUT: number;
  PROXMOX_FINGERPRINT?: string | undefined;
  PROXMOX_CA_FILE?: string | undefined;
}

const dashboardShape = {
  CEPH_URL: z.url({ protocol: /^https?$/, error: 'expected the dashboard URL, e.g. https://ceph-mgr.example:8443' }).optional(),
  CEPH_USER: z.string().min(1).optional(),
  CEPH_PASSWORD: z.string().min(1).optional(),
  /** A file holding a dashboard JWT, re-read on 401 (for tokens rotated by something else). */
  CEPH_TOKEN_FILE: z.string().min(1).optional(),
  CEPH_SSL_VERIFY: boolish.default(false),
  CEPH_API_TIMEOUT: intish(1, 3600).default(30),
  CEPH_FINGERPRINT: fingerprintSchema.optional(),
  CEPH_CA_FILE: z.string().min(1).optional(),
};
/** Keys with a default are always present after parsing, so only the optional ones count as "given". */
const DASHBOARD_ONLY = ['CEPH_URL', 'CEPH_USER', 'CEPH_PASSWORD', 'CEPH_TOKEN_FILE', 'CEPH_FINGERPRINT', 'CEPH_CA_FILE'] as const;
const PVE_ONLY = ['PROXMOX_HOST', 'PROXMOX_TOKEN_NAME', 'PROXMOX_TOKEN_VALUE', 'PROXMOX_FINGERPRINT', 'PROXMOX_CA_FILE'] as const;

export const cephConfigSchema = z
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
      if (c.CEPH_PASSWORD === undefined) ctx.addIssue({ code: 'custom', path: ['CEPH_PASSWORD'], message: 'CEPH_PASSWORD is required unless CEPH_TOKEN_FILE is given' });
    } else if ((c.CEPH_USER === undefined) !== (c.CEPH_PASSWORD === undefined)) {
      const missing = c.CEPH_USER === undefined ? 'CEPH_USER' : 'CEPH_PASSWORD';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'CEPH_USER and CEPH_PASSWORD go together (they re-login when the token file stops working)' });
    }
    for (const key of PVE_ONLY) {
      if (c[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is only used when CEPH_SOURCE is pve' });
    }
  });

export type CephConfig = z.output<typeof cephConfigSchema>;
export type CephConfigInput = z.input<typeof cephConfigSchema>;

/** The site of a host: NODE_SITE_MAP, else SITE_NAME (the PVE collector's rule). */
export function siteForHost(c: Pick<CephConfig, 'SITE_NAME' | 'NODE_SITE_MAP'>, host: string): string {
  return Object.hasOwn(c.NODE_SITE_MAP, host) ? (c.NODE_SITE_MAP[host] ?? c.SITE_NAME) : c.SITE_NAME;
}
