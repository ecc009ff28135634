import type { CephSource } from './config.ts';

/** The policy's config, as the mapper reads it (MapContext.config): part of the contract too. */
export type { CephConfig } from './config.ts';

/*
 * What one ceph run collected, in one shape for both sources. Only stable facts: usage
 * counters (bytes used, PG counts, I/O rates) are left out on purpose, because each change
 * would be a NetBox changelog row (NetBox records one ObjectChange per saved change:
 * netbox-community/netbox netbox/netbox/models/features.py ChangeLoggingMixin).
 */

export interface CephHealthCheck {
  name: string;
  severity: string;
  summary: string;
  count?: number;
  muted: boolean;
}

export interface CephPool {
  id: number;
  name: string;
  type?: string;
  size?: number;
  minSize?: number;
  pgNum?: number;
  pgAutoscaleMode?: string;
  crushRule?: string;
  applications: string[];
}

export interface CephCrushRule {
  name: string;
  id?: number;
  type?: string;
  /** The `take` step's root, without the `~class` shadow-tree suffix. */
  root?: string;
  deviceClass?: string;
  /** The bucket type the rule spreads replicas over (`chooseleaf … type host`). */
  failureDomain?: string;
}

export interface CephFilesystem {
  name: string;
  metadataPool?: string;
  dataPools: string[];
}

export interface CephOsd {
  id: number;
  /** `osd.N`. */
  name: string;
  host: string;
  up: boolean;
  in: boolean;
  deviceClass?: string;
  crushWeight?: number;
  reweight?: number;
  sizeBytes?: number;
}

export const CEPH_DAEMON_TYPES = ['mon', 'mgr'] as const;
export type CephDaemonType = (typeof CEPH_DAEMON_TYPES)[number];

export interface CephDaemon {
  type: CephDaemonType;
  /** The daemon id: `mon.<id>`, `mgr.<id>`. */
  id: string;
  host: string;
  ports: number[];
  /** mon: in-quorum | out-of-quorum; mgr: active | standby. */
  state?: string;
  version?: string;
}

export interface CephClusterSnapshot {
  source: CephSource;
  present: true;
  fsid: string;
  health: string;
  healthChecks: CephHealthCheck[];
  flags: string[];
  version?: string;
  quorum: string[];
  pools: CephPool[];
  crushRules: CephCrushRule[];
  filesystems: CephFilesystem[];
  osds: CephOsd[];
  daemons: CephDaemon[];
  /** Every host seen: OSD hosts, daemon hosts and (dashboard) the host list. */
  hosts: string[];
}

/** PVE answered but Ceph is not there: not installed or not initialised. */
export interface CephAbsentSnapshot {
  source: CephSource;
  present: false;
  reason: 'not_installed' | 'not_initialized';
  message: string;
}

export type CephSnapshot = CephClusterSnapshot | CephAbsentSnapshot;
