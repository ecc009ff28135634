import { defineCollector } from '../types.ts';
import { mapPdm } from '../../../mappers/pdm/index.ts';
import { collectPdm } from './collect.ts';
import { pdmConfigSchema } from './config.ts';

export type { PdmConfig, PdmConfigInput } from './config.ts';
export type { PdmSnapshot } from './snapshot.ts';

export const pdmCollector = defineCollector({
  id: 'pdm',
  configSchema: pdmConfigSchema,
  collect: collectPdm,
  map: mapPdm,
});
