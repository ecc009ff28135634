import type { CollectorDefinition } from './types.ts';
import { cephCollector } from './ceph/index.ts';
import { packerCollector } from './packer/index.ts';
import { pbsCollector } from './pbs/index.ts';
import { pdmCollector } from './pdm/index.ts';
import { pveCollector } from './pve/index.ts';

/**
 * Every collector, keyed by id. The id is also the folder name under agent/collectors/ and
 * mappers/, and the policy's `collector:` value; registry.test.ts checks they agree.
 */
export const COLLECTORS: ReadonlyMap<string, CollectorDefinition<any, any>> = new Map<string, CollectorDefinition<any, any>>(
  [pveCollector, pbsCollector, pdmCollector, cephCollector, packerCollector].map((c) => [c.id, c as CollectorDefinition<any, any>]),
);

/** Every collector's secret `config:` keys (CollectorDefinition.secretKeys), for redaction and substitution. */
export function collectorSecretKeys(): ReadonlySet<string> {
  return new Set([...COLLECTORS.values()].flatMap((c) => c.secretKeys));
}
