import { defineCollector } from '../types.ts';
import { mapPacker } from '../../../mappers/packer/index.ts';
import { packerConfigSchema, type PackerConfig } from './config.ts';
import { collectPacker } from './collect.ts';
import type { PackerSnapshot } from './snapshot.ts';

export type { PackerConfig, PackerConfigInput } from './config.ts';
export type { PackerSnapshot } from './snapshot.ts';

/** Packer image definitions (policy), build records (manifests, machine-readable logs), optional PVE lookup. */
export const packerCollector = defineCollector<PackerConfig, PackerSnapshot>({
  id: 'packer',
  configSchema: packerConfigSchema,
  collect: collectPacker,
  map: mapPacker,
});
