/** The policy's config, as the mapper reads it (MapContext.config): part of the contract too. */
export type { PdmConfig } from './config.ts';

/*
 * What one PDM run saw, as plain JSON-able data: the collector fills it, agent/collectors/pdm/map turns
 * it into entities. Remotes of other types than pve and pbs are left out.
 */

/** new: GET /remotes/remote (PDM ≥ 1.0); old: GET /remotes (0.x betas). */
export type PdmGeneration = 'new' | 'old';
export type PdmRemoteType = 'pve' | 'pbs';
/**
 * ok: PDM reads it and every node is up; degraded: some node is not; error: PDM reports
 * an error for it or one of its calls failed; unknown: /resources/list did not say.
 */
export type PdmRemoteHealth = 'ok' | 'degraded' | 'error' | 'unknown';

export interface PdmSnapshot {
  /** `version` of PDM's GET /version, MAJOR.MINOR, e.g. "1.0". */
  version: string;
  release?: string;
  generation: PdmGeneration;
  /** By id. */
  remotes: PdmRemote[];
}

export interface PdmRemote {
  id: string;
  type: PdmRemoteType;
  /** Host of each configured node, as entered in PDM (port and IPv6 brackets removed). */
  hosts: string[];
  /** PVE: the answer of cluster-status was read (so no cluster row means a standalone node). */
  clusterStatusRead?: boolean;
  /** PVE: name of the `cluster` row of cluster-status; absent on a standalone node. */
  clusterName?: string;
  /** The remote's own /version as PDM relays it. */
  version?: string;
  release?: string;
  health: PdmRemoteHealth;
  /** What PDM reported, or what a per-remote call answered, when health is error. */
  error?: string;
}
