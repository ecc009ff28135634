import { z } from 'zod';
import { apiTimeout, boolish, hostname, intish, sha256Fingerprint } from '../config/coerce.ts';
import { AgentError } from '../errors.ts';
import { DEFAULT_MAX_RESPONSE_BYTES, HttpStatusError } from '../http/client.ts';
import { apiTargetRequest, apiTokenHeader, type ApiService } from '../http/proxmox.ts';
import type { TargetRequest } from './types.ts';

/*
 * Connection settings more than one collector takes, so that one server is configured the
 * same way everywhere: the size cap of an answer (all), the node → site map (pve, ceph,
 * packer; pdm's REMOTE_SITE_MAP), the PVE connection with its target (pve, ceph in pve
 * mode, packer's template lookup) with its service (error codes, hints naming those
 * settings) and the PBS/PDM token forms (pbs, pdm). No collector
 * folder imports another's: what two of them share lives here.
 */

/**
 * `<PREFIX>_API_MAX_RESPONSE_BYTES`, the bytes one answer may have (every collector's
 * targets take one): 1 KiB to 256 MiB, well below V8's longest string (2^29 − 24
 * characters), which a body becomes before it is parsed. Default 64 MiB.
 */
export const maxResponseBytesSetting = intish(1024, 256 * 1024 * 1024).default(DEFAULT_MAX_RESPONSE_BYTES);

/** A malformed NODE_SITE_MAP (or REMOTE_SITE_MAP) string; the config schema reports it as an issue. */
export class NodeSiteMapError extends AgentError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super('config_node_site_map', `NODE_SITE_MAP entry "${input.length > 120 ? `${input.slice(0, 117)}...` : input}": ${reason}`);
    this.input = input;
  }
}

/**
 * NODE_SITE_MAP: `pve1:London,pve2:Amsterdam`. The site is everything after the first
 * `:`; empty entries (a trailing comma) are ignored; a node listed twice is an error.
 */
export function parseNodeSiteMap(input: string): Record<string, string> {
  const out = new Map<string, string>();
  for (const raw of input.split(',')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const colon = pair.indexOf(':');
    const node = colon === -1 ? '' : pair.slice(0, colon).trim();
    const site = colon === -1 ? '' : pair.slice(colon + 1).trim();
    if (!node || !site) throw new NodeSiteMapError(pair, 'expected <node>:<site>, e.g. "pve1:London"');
    if (out.has(node)) throw new NodeSiteMapError(pair, `node "${node}" is listed twice`);
    out.set(node, site);
  }
  return Object.fromEntries(out);
}

/**
 * "pve1:London,pve2:Amsterdam", or the same as a YAML mapping { pve1: London }. Parsed
 * after the union (not inside a branch), so a bad entry reports its own message instead of
 * zod's "Invalid input".
 */
export const nodeSiteMapSchema = z.union([z.string(), z.record(z.string().min(1), z.string().trim().min(1, 'site name is empty'))]).transform((v, ctx) => {
  if (typeof v !== 'string') return v;
  try {
    return parseNodeSiteMap(v);
  } catch (err) {
    if (!(err instanceof NodeSiteMapError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});

/**
 * A PVE API connection: the seed's parameter names and defaults. Also taken by the ceph
 * collector (pve mode) and the packer collector (template lookup), so one cluster is
 * configured the same way everywhere.
 */
export const pveConnectionShape = {
  PROXMOX_HOST: hostname.optional(),
  PROXMOX_PORT: intish(1, 65535).default(8006),
  PROXMOX_USER: z
    .string()
    .regex(/^[^\s@!:=]+@[^\s@!:=]+$/, 'expected user@realm, e.g. root@pam')
    .default('root@pam'),
  // Either form (splitPveTokenId splits the whole id before this is checked; the pattern
  // takes it too so that editors accept it through the JSON Schema).
  PROXMOX_TOKEN_NAME: z
    .string()
    .min(1)
    .regex(/^(?:[^\s@!:=]+@[^\s@!:=]+!)?[^\s!=@:]+$/, 'expected the token name (netbox, with the user in PROXMOX_USER) or the whole token id (root@pam!netbox)')
    .optional(),
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
    ctx.addIssue({
      code: 'custom',
      path: ['PROXMOX_TOKEN_NAME'],
      message: `names the user ${user}, but PROXMOX_USER is ${String(c.PROXMOX_USER)}; give the user once`,
    });
  }
  return { ...c, PROXMOX_USER: user, PROXMOX_TOKEN_NAME: name };
}

/** Token auth: `PVEAPIToken=USER@REALM!TOKENID=SECRET` (agent/http/proxmox.ts apiTokenHeader). */
export function pveAuthorizationHeader(user: string, tokenName: string, secret: string): string {
  return apiTokenHeader('PVEAPIToken', `${user}!${tokenName}`, secret);
}

/** The HTTP target of a PVE connection: https://HOST:PORT/api2/json with token auth and TLS settings. */
export function pveTargetRequest(c: PveConnection): TargetRequest {
  return apiTargetRequest({
    host: c.PROXMOX_HOST ?? '',
    port: c.PROXMOX_PORT,
    authorization: pveAuthorizationHeader(c.PROXMOX_USER, c.PROXMOX_TOKEN_NAME ?? '', c.PROXMOX_TOKEN_VALUE ?? ''),
    tls: { verify: c.PROXMOX_SSL_VERIFY, caFile: c.PROXMOX_CA_FILE, fingerprint: c.PROXMOX_FINGERPRINT },
    timeoutS: c.PROXMOX_API_TIMEOUT,
    maxResponseBytes: c.PROXMOX_API_MAX_RESPONSE_BYTES,
    settingsPrefix: 'PROXMOX',
  });
}

/** Proxmox VE, for error codes (`pve_bad_response`, `pve_unreachable`) and messages. */
export const PVE_SERVICE: ApiService = {
  id: 'pve',
  product: 'Proxmox VE',
  hint: (err) => {
    if (err instanceof HttpStatusError && err.status === 401) return ' (check PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE)';
    if (err instanceof HttpStatusError && err.status === 403)
      return ' (the token needs PVEAuditor on /; with privilege separation the token itself needs the ACL)';
    return '';
  },
};

// ---------------------------------------------------------------------------
// The token of PBS and PDM.

/** SHA-256, 32 colon-separated hex bytes, as the PBS dashboard and PVE's `fingerprint=` show it. */
export const fingerprint = sha256Fingerprint('the dashboard shows it');

/**
 * `user@realm!tokenname` (pbs-api-types Authid). The header joins it to the secret with
 * `:`, so neither part may contain one.
 */
export const tokenId = z
  .string()
  .trim()
  .regex(/^[^\s@!:]+@[^\s@!:]+![^\s@!:]+$/, 'expected user@realm!tokenname, e.g. root@pam!netbox');

/** `*_TOKEN_USER`: the user part of a token id, user@realm. */
export const tokenUser = z
  .string()
  .trim()
  .regex(/^[^\s@!:]+@[^\s@!:]+$/, 'expected user@realm, e.g. netbox@pbs');
/** `*_TOKEN_NAME`: the token's own name, the part after "!". */
export const tokenName = z
  .string()
  .trim()
  .regex(/^[^\s@!:]+$/, 'expected the token name alone, e.g. discovery');

/**
 * The token is `<P>_TOKEN_ID: user@realm!name`, as PBS and PDM show it, or the same split
 * in two, `<P>_TOKEN_USER: user@realm` and `<P>_TOKEN_NAME: name`, the way the pve collector
 * takes PROXMOX_USER and PROXMOX_TOKEN_NAME. One form, not both. Runs even when other keys
 * failed, so a missing token is reported with them.
 */
export function checkTokenForms(prefix: string, c: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const id = `${prefix}_TOKEN_ID`;
  const user = `${prefix}_TOKEN_USER`;
  const name = `${prefix}_TOKEN_NAME`;
  if (c[id] !== undefined) {
    for (const k of [user, name])
      if (c[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `give either ${id} or ${user} with ${name}, not both` });
    return;
  }
  if (c[user] === undefined && c[name] === undefined) {
    ctx.addIssue({ code: 'custom', path: [id], message: `is required: user@realm!tokenname, or ${user} with ${name}` });
    return;
  }
  if (c[user] === undefined) ctx.addIssue({ code: 'custom', path: [user], message: `is required with ${name} (or give ${id}: user@realm!tokenname)` });
  if (c[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `is required with ${user} (or give ${id}: user@realm!tokenname)` });
}
