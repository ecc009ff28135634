import { defineCollector } from '../types.ts';
import { mapPve, mapPveEach } from '../../../mappers/pve/index.ts';
import { collectPve } from './collect.ts';
import { pveConfigSchema } from './config.ts';

export type { PveConfig } from './config.ts';
export type { PveSnapshot } from './snapshot.ts';

export const pveCollector = defineCollector({
  id: 'pve',
  configSchema: pveConfigSchema,
  collect: collectPve,
  map: mapPve,
  mapEach: mapPveEach,
});
