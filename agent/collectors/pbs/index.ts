import { defineCollector } from '../types.ts';
import { mapPbs } from '../../../mappers/pbs/index.ts';
import { collectPbs } from './collect.ts';
import { pbsConfigSchema } from './config.ts';

export type { PbsConfig, PbsConfigInput } from './config.ts';
export type { PbsSnapshot } from './snapshot.ts';

export const pbsCollector = defineCollector({
  id: 'pbs',
  configSchema: pbsConfigSchema,
  collect: collectPbs,
  map: mapPbs,
});
