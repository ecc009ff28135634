import type { NodeNetworkRow } from '../snapshot.ts';
import type { ParsedGuestConfig } from './parsers.ts';

/** The policy's config, as the mapper reads it (MapContext.config): part of the contract too. */
export type { PveConfig } from './config.ts';
/** A TENANT_MAP rule (selection.ts), which the mapper applies. */
export type { TenantRule } from './selection.ts';

/*
 * What one PVE run saw, as plain JSON-able data: the collector fills it, the mapper
 * (agent/collectors/pve/map) turns it into entities. Guests are already filtered (scope, templates,
 * qemu/lxc only, vmid and name present); everything else is as the API said it, parsed.
 */
export interface PveSnapshot {
  /** BOOTSTRAP mode: no API was called and nodes/guests are empty. */
  bootstrap: boolean;
  /** PROXMOX_HOST (for the proxmox-{hostname} tag and the cluster-name fallback); "" in bootstrap. */
  host: string;
  /** `version` of GET /version, e.g. "8.4.1". */
  apiVersion?: string;
  /** Name of the `type: "cluster"` row of /cluster/status; absent on a standalone node. */
  clusterName?: string;
  /** Nodes in scope, by name. */
  nodes: PveNode[];
  /** Guests in scope, by vmid. */
  guests: PveGuest[];
  /** BACKUP_STATUS was on: guests carry `backup` as far as it could be read. */
  backupStatus?: boolean;
  /**
   * Guests the policy's selection (EXCLUDE_TAGS, EXCLUDE_VMIDS, EXCLUDE_POOLS) left out, by
   * vmid; absent when none was. The mapper names their VMs so the delta forgets them instead
   * of reporting them stale.
   */
  excluded?: PveExcludedGuest[];
}

/** What a PVE snapshot holds besides its guests: final before the first guest is. */
export type PveSnapshotHead = Omit<PveSnapshot, 'guests' | 'excluded'>;

/**
 * A part of a snapshot handed to the mapper while collection runs (CollectContext.part):
 * first the head, then guests one by one in the snapshot's order (by vmid), each once it is
 * final (its HA, replication and backup facts applied). Nodes are mapped before any guest
 * and guests in vmid order, so the first owner of an address is the one mapPveEach picks.
 */
export type PveSnapshotPart = { head: PveSnapshotHead } | { guest: PveGuest };

/** A guest left out by the policy's selection. */
export interface PveExcludedGuest {
  vmid: number;
  name: string;
  /** The setting and value that excluded it, e.g. "EXCLUDE_TAGS no-netbox". */
  reason: string;
}

/** Backup status of one guest (BACKUP_STATUS). */
export interface PveGuestBackup {
  /** Newest backup volume the token could see: ctime (epoch seconds), storage, PBS verification state. */
  last?: { time: number; storage: string; verification?: string };
  /** Whether a backup job covers the guest; absent when /cluster/backup-info/not-backed-up could not be read. */
  inJob?: boolean;
}

export interface PveNode {
  name: string;
  /** /nodes `status`: online, offline, unknown. */
  status: string;
  maxcpu?: number;
  /** Bytes. */
  maxmem?: number;
  /**
   * "X.Y" from `pveversion` of /nodes/{node}/status ("pve-manager/8.2.4/faa83925c9641325" →
   * "8.2", parsers.ts parsePveVersion); absent when the call failed or it did not parse.
   */
  version?: string;
  /** Rows of /nodes/{node}/network; absent when the node could not be read. */
  network?: NodeNetworkRow[];
}

export type GuestType = 'qemu' | 'lxc';

export interface PveGuest {
  type: GuestType;
  vmid: number;
  name: string;
  node: string;
  /** running, stopped, paused, unknown… (from /cluster/resources). */
  status: string;
  maxcpu?: number;
  /** Bytes. */
  maxmem?: number;
  /** Proxmox tags, split and deduplicated. */
  tags: string[];
  /** HA state, only when the guest is HA-managed. */
  hastate?: string;
  /** The PVE pool the guest is in, if any (/cluster/resources `pool`). */
  pool?: string;
  /** Absent when the config could not be read (node down, error, malformed answer). */
  config?: PveGuestConfig;
  /** Guest-agent data of a running QEMU guest with the agent enabled, when it answered. */
  agent?: PveAgentData;
  /** BACKUP_STATUS only. */
  backup?: PveGuestBackup;
  /** LXC_ADDRESSES runtime/both: the running container's interfaces, when it was asked and answered. */
  lxcRuntime?: PveLxcInterface[];
  /** HA_STATUS, when the HA configuration could be read: the guest's HA rules (PVE 9) or group as PVE 9 names it. */
  ha?: { rules: string[] };
  /** REPLICATION_STATUS, when /cluster/replication could be read: the guest's jobs by id. */
  replication?: PveReplicationJob[];
}

/** One interface of GET /nodes/{node}/lxc/{vmid}/interfaces. */
export interface PveLxcInterface {
  name: string;
  /** As PVE sends it (lower case). */
  mac?: string;
  addresses: Array<{ address: string; prefix: number; family: 4 | 6 }>;
}

/** One storage replication job of the guest (GET /cluster/replication). */
export interface PveReplicationJob {
  /** `<vmid>-<jobnum>`. */
  id: string;
  target: string;
  /** Calendar event; PVE's default when the job sets none. */
  schedule: string;
  /** `disable` set: the job does not run. */
  disabled?: boolean;
  /** `remove_job` (local | full): the job is being removed. */
  removal?: string;
}

/** Parsed config; see parsers.ts for the field notes. */
export type PveGuestConfig = ParsedGuestConfig;

export interface PveAgentData {
  osinfo?: { id?: string; name?: string; prettyName?: string; versionId?: string };
  interfaces?: PveAgentInterface[];
}

export interface PveAgentInterface {
  name: string;
  mac?: string;
  addresses: Array<{ address: string; family: string; prefix: number }>;
}
