import { z } from 'zod';
import { apiTimeout, boolish, hostname, intish } from '../../config/coerce.ts';
import { checkTokenForms, fingerprint, maxResponseBytesSetting, nodeSiteMapSchema, tokenId, tokenName, tokenUser } from '../proxmox-config.ts';

/*
 * The policy's `config:` block for the pdm collector (the parameters of this folder's README.md).
 * PDM_CA_FILE and PDM_API_TIMEOUT are additions, the same as the pbs collector's: every
 * HTTP target needs a timeout and takes a CA file beside verify and the pin
 * (agent/http/client.ts targetSettings).
 */
export const pdmConfigSchema = z
  .object({
    PDM_HOST: hostname,
    PDM_PORT: intish(1, 65535).default(8443),
    /** user@realm!name, or PDM_TOKEN_USER with PDM_TOKEN_NAME (checkTokenForms). */
    PDM_TOKEN_ID: tokenId.optional(),
    PDM_TOKEN_USER: tokenUser.optional(),
    PDM_TOKEN_NAME: tokenName.optional(),
    PDM_TOKEN_SECRET: z.string().min(1),
    PDM_FINGERPRINT: fingerprint.optional(),
    PDM_SSL_VERIFY: boolish.default(false),
    PDM_CA_FILE: z.string().min(1).optional(),
    PDM_API_TIMEOUT: apiTimeout(),
    PDM_API_MAX_RESPONSE_BYTES: maxResponseBytesSetting,
    SITE_NAME: z.string().trim().min(1).default('Proxmox'),
    /*
     * "remote-id:site,…": the site of each remote as its own policy has it (the PVE policy's
     * SITE_NAME, the PBS policy's SITE_NAME). Diode matches a cluster on (name, scope) and a
     * device on (name, site), so a remote at another site than the manager's needs it here.
     */
    REMOTE_SITE_MAP: nodeSiteMapSchema.default({}),
  })
  .strict()
  .superRefine((c, ctx) => checkTokenForms('PDM', c, ctx), { when: () => true })
  .transform(({ PDM_TOKEN_USER, PDM_TOKEN_NAME, ...c }) => ({ ...c, PDM_TOKEN_ID: c.PDM_TOKEN_ID ?? `${PDM_TOKEN_USER}!${PDM_TOKEN_NAME}` }));

export type PdmConfig = z.output<typeof pdmConfigSchema>;
/** What a policy file may contain. */
