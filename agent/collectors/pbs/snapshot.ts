import type { NodeNetworkRow } from '../snapshot.ts';

/** The policy's config, as the mapper reads it (MapContext.config): part of the contract too. */
export type { PbsConfig } from './config.ts';

/*
 * What one PBS run saw, as plain JSON-able data: the collector fills it, agent/collectors/pbs/map turns
 * it into entities. Snapshot lists are already reduced to one summary per backup group
 * (high-cardinality history is summarised, see this folder's README.md), which keeps the snapshot small
 * on stores with tens of thousands of snapshots.
 */
export interface PbsSnapshot {
  /** `version` of GET /version, MAJOR.MINOR, e.g. "3.2". */
  version?: string;
  /** `release` of GET /version, the patch number, e.g. "7". */
  release?: string;
  /** SHA-256 of the API certificate, colon hex, from /nodes/localhost/status. */
  fingerprint?: string;
  /** Rows of /nodes/localhost/network; absent when they could not be read. */
  network?: NodeNetworkRow[];
  /** By name. */
  datastores: PbsDatastore[];
  /** Every job the lists returned (gc, verify, prune, sync, tape), by type then id. */
  jobs: PbsJob[];
}

export interface PbsDatastore {
  name: string;
  /** From /config/datastore; absent when that list could not be read. */
  path?: string;
  comment?: string;
  totalBytes?: number;
  usedBytes?: number;
  availBytes?: number;
  /** mounted, notmounted, nonremovable (PBS ≥ 3.3). */
  mountStatus?: string;
  /** Why PBS could not look the store up (datastore-usage `error`). */
  error?: string;
  /**
   * One summary per (namespace, type, id), sorted; absent when no namespace of the store
   * could be read (the store errored, is not mounted, or every listing failed).
   */
  groups?: PbsBackupGroup[];
}

export interface PbsBackupGroup {
  /** "" for the root namespace, "a/b" below it. */
  namespace: string;
  /** vm, ct or host. */
  type: string;
  id: string;
  count: number;
  /** UNIX epoch of the newest snapshot. */
  lastBackupTime: number;
  /** Size of the newest snapshot, bytes. */
  lastSizeBytes?: number;
  owner?: string;
  protectedCount: number;
  /** Verification state of the newest snapshot: ok or failed; absent when never verified. */
  lastVerification?: string;
  /** Comment (first notes line) of the newest snapshot. */
  comment?: string;
}

export const PBS_JOB_TYPES = ['gc', 'prune', 'sync', 'tape', 'verify'] as const;
export type PbsJobType = (typeof PBS_JOB_TYPES)[number];

export interface PbsJob {
  type: PbsJobType;
  /** The job id; for gc, the datastore name (one GC job per store). */
  id: string;
  store?: string;
  schedule?: string;
  comment?: string;
  disabled: boolean;
  /** "OK", "WARNINGS: n", an error text or "unknown", as PBS says it. */
  lastRunState?: string;
  lastRunUpid?: string;
  /** UNIX epoch. */
  lastRunEndtime?: number;
}
