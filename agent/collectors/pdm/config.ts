import { z } from 'zod';
import { boolish, hostname, intish } from '../../config/coerce.ts';
import { fingerprint, tokenId } from '../pbs/config.ts';
import { maxResponseBytesSetting, nodeSiteMapSchema } from '../pve/config.ts';

/*
 * The policy's `config:` block for the pdm collector (the parameters, DESIGN.md §3).
 * PDM_CA_FILE and PDM_API_TIMEOUT are additions, the same as the pbs collector's: every
 * HTTP target needs a timeout, and DESIGN.md §4 offers a CA file beside verify and the pin.
 */
export const pdmConfigSchema = z
  .object({
    PDM_HOST: hostname,
    PDM_PORT: intish(1, 65535).default(8443),
    PDM_TOKEN_ID: tokenId,
    PDM_TOKEN_SECRET: z.string().min(1),
    PDM_FINGERPRINT: fingerprint.optional(),
    PDM_SSL_VERIFY: boolish.default(false),
    PDM_CA_FILE: z.string().min(1).optional(),
    PDM_API_TIMEOUT: intish(1, 3600).default(30),
    PDM_API_MAX_RESPONSE_BYTES: maxResponseBytesSetting,
    SITE_NAME: z.string().trim().min(1).default('Proxmox'),
    /*
     * "remote-id:site,…": the site of each remote as its own policy has it (the PVE policy's
     * SITE_NAME, the PBS policy's SITE_NAME). Diode matches a cluster on (name, scope) and a
     * device on (name, site), so a remote at another site than the manager's needs it here.
     */
    REMOTE_SITE_MAP: nodeSiteMapSchema.default({}),
  })
  .strict();

export type PdmConfig = z.output<typeof pdmConfigSchema>;
/** What a policy file may contain. */
export type PdmConfigInput = z.input<typeof pdmConfigSchema>;
