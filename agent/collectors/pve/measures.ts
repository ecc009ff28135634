import type { PveConfig } from './config.ts';
import type { PveSnapshot } from './snapshot.ts';

/*
 * Counts about the inventory that the definition exports as gauges (CollectorDefinition.measures).
 * They are facts of the snapshot, not NetBox entities, so they live on the collector's side;
 * the mapper never needs them.
 */

/**
 * The backup gauges of a run (BACKUP_STATUS): guests without a backup newer than
 * BACKUP_MAX_AGE hours before `now`, and guests no backup job covers (counted only when
 * PVE said). Undefined when backup status was not collected.
 */
export function backupGauges(snapshot: PveSnapshot, config: PveConfig, now: Date): { withoutRecentBackup: number; notInJob: number } | undefined {
  if (!snapshot.backupStatus) return undefined;
  const since = now.getTime() / 1000 - config.BACKUP_MAX_AGE * 3600;
  let withoutRecentBackup = 0;
  let notInJob = 0;
  for (const g of snapshot.guests) {
    if ((g.backup?.last?.time ?? -Infinity) < since) withoutRecentBackup++;
    if (g.backup?.inJob === false) notInJob++;
  }
  return { withoutRecentBackup, notInJob };
}
