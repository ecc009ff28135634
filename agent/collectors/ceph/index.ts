import { defineCollector } from '../types.ts';
import { mapCeph } from '../../../mappers/ceph/index.ts';
import { cephConfigSchema, type CephConfig } from './config.ts';
import { collectCeph } from './collect.ts';
import type { CephSnapshot } from './snapshot.ts';

export type { CephConfig, CephConfigInput } from './config.ts';
export type { CephSnapshot } from './snapshot.ts';

/** Ceph through a PVE cluster's API (`CEPH_SOURCE: pve`) or the MGR dashboard (`dashboard`). */
export const cephCollector = defineCollector<CephConfig, CephSnapshot>({
  id: 'ceph',
  configSchema: cephConfigSchema,
  collect: collectCeph,
  map: mapCeph,
});
