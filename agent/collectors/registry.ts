import type { CollectorDefinition } from './types.ts';
import { declareSecretKeys } from '../log.ts';
import { cephCollector } from './ceph/index.ts';
import { packerCollector } from './packer/index.ts';
import { pbsCollector } from './pbs/index.ts';
import { pdmCollector } from './pdm/index.ts';
import { pveCollector } from './pve/index.ts';

/**
 * Every collector, keyed by id. The id is also the folder name under agent/collectors/ and
 * mappers/, and the policy's `collector:` value.
 */
export const COLLECTORS: ReadonlyMap<string, CollectorDefinition> = new Map<string, CollectorDefinition>(
  [pveCollector, pbsCollector, pdmCollector, cephCollector, packerCollector].map((c) => [c.id, c as CollectorDefinition]),
);

// Their secret config keys, for the logger's redaction and ${…} substitution (agent/log.ts).
for (const c of COLLECTORS.values()) declareSecretKeys(c.secretKeys);
