import { z } from 'zod';
import { apiTimeout, boolish, hostname, intish, sha256Fingerprint } from '../../config/coerce.ts';
import { maxResponseBytesSetting } from '../pve/config.ts';

/*
 * The policy's `config:` block for the pbs collector (the parameters of this folder's README.md).
 * PBS_CA_FILE is an addition: every HTTP target takes a CA file beside verify and the pin
 * (agent/http/client.ts targetSettings).
 */

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
export const tokenUser = z.string().trim().regex(/^[^\s@!:]+@[^\s@!:]+$/, 'expected user@realm, e.g. netbox@pbs');
/** `*_TOKEN_NAME`: the token's own name, the part after "!". */
export const tokenName = z.string().trim().regex(/^[^\s@!:]+$/, 'expected the token name alone, e.g. discovery');

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
    for (const k of [user, name]) if (c[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `give either ${id} or ${user} with ${name}, not both` });
    return;
  }
  if (c[user] === undefined && c[name] === undefined) {
    ctx.addIssue({ code: 'custom', path: [id], message: `is required: user@realm!tokenname, or ${user} with ${name}` });
    return;
  }
  if (c[user] === undefined) ctx.addIssue({ code: 'custom', path: [user], message: `is required with ${name} (or give ${id}: user@realm!tokenname)` });
  if (c[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `is required with ${user} (or give ${id}: user@realm!tokenname)` });
}

export const pbsConfigSchema = z
  .object({
    PBS_HOST: hostname,
    PBS_PORT: intish(1, 65535).default(8007),
    /** user@realm!name, or PBS_TOKEN_USER with PBS_TOKEN_NAME (checkTokenForms). */
    PBS_TOKEN_ID: tokenId.optional(),
    PBS_TOKEN_USER: tokenUser.optional(),
    PBS_TOKEN_NAME: tokenName.optional(),
    PBS_TOKEN_SECRET: z.string().min(1),
    PBS_FINGERPRINT: fingerprint.optional(),
    PBS_SSL_VERIFY: boolish.default(false),
    PBS_CA_FILE: z.string().min(1).optional(),
    PBS_API_TIMEOUT: apiTimeout(),
    PBS_API_MAX_RESPONSE_BYTES: maxResponseBytesSetting,
    SITE_NAME: z.string().trim().min(1).default('Proxmox'),
    /** The Device name; default the host's name (PBS_HOST). */
    PBS_NAME: z.string().trim().min(1).max(64).optional(),
  })
  .strict()
  .superRefine((c, ctx) => checkTokenForms('PBS', c, ctx), { when: () => true })
  .transform(({ PBS_TOKEN_USER, PBS_TOKEN_NAME, ...c }) => ({ ...c, PBS_TOKEN_ID: c.PBS_TOKEN_ID ?? `${PBS_TOKEN_USER}!${PBS_TOKEN_NAME}` }));

export type PbsConfig = z.output<typeof pbsConfigSchema>;
/** What a policy file may contain. */
export type PbsConfigInput = z.input<typeof pbsConfigSchema>;
