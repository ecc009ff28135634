import { z } from 'zod';
import { boolish, hostname, intish, sha256Fingerprint } from '../../config/coerce.ts';
import { maxResponseBytesSetting } from '../pve/config.ts';

/*
 * The policy's `config:` block for the pbs collector (the parameters, DESIGN.md §3).
 * PBS_CA_FILE is an addition: DESIGN.md §4 offers a CA file beside verify and the pin.
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

export const pbsConfigSchema = z
  .object({
    PBS_HOST: hostname,
    PBS_PORT: intish(1, 65535).default(8007),
    PBS_TOKEN_ID: tokenId,
    PBS_TOKEN_SECRET: z.string().min(1),
    PBS_FINGERPRINT: fingerprint.optional(),
    PBS_SSL_VERIFY: boolish.default(false),
    PBS_CA_FILE: z.string().min(1).optional(),
    PBS_API_TIMEOUT: intish(1, 3600).default(30),
    PBS_API_MAX_RESPONSE_BYTES: maxResponseBytesSetting,
    SITE_NAME: z.string().trim().min(1).default('Proxmox'),
    /** The Device name; default the host's name (PBS_HOST). */
    PBS_NAME: z.string().trim().min(1).max(64).optional(),
  })
  .strict();

export type PbsConfig = z.output<typeof pbsConfigSchema>;
/** What a policy file may contain. */
export type PbsConfigInput = z.input<typeof pbsConfigSchema>;
