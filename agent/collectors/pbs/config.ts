import { z } from 'zod';
import { apiTimeout, boolish, hostname, intish } from '../../config/coerce.ts';
import { checkTokenForms, fingerprint, maxResponseBytesSetting, tokenId, tokenName, tokenUser } from '../proxmox-config.ts';

/*
 * The policy's `config:` block for the pbs collector (the parameters of this folder's README.md).
 * PBS_CA_FILE is an addition: every HTTP target takes a CA file beside verify and the pin
 * (agent/http/client.ts targetSettings).
 */

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
