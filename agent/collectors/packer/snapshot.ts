import type { PackerDefinition } from './config.ts';

/** The policy's config, as the mapper reads it (MapContext.config): part of the contract too. */
export type { PackerConfig, PackerDefinition } from './config.ts';

/*
 * What one packer run collected: the policy's definitions and every Proxmox build record
 * that matched one, from manifests and machine-readable logs, merged where both show the
 * same build. Times are Unix seconds from the files, never the agent's clock.
 */

/** netbox-packer PackerImageBuild.status choices (this folder's README.md, "netbox-packer model fields"); the mapper's choice set lists the same values. */
export type BuildStatus = 'pending' | 'running' | 'failed' | 'completed' | 'cancelled';

export interface PackerBuild {
  /** Stable id: `<packer_run_uuid>:<name>` from a manifest, `<build name>@<start>` from a log. */
  id: string;
  /** Name of the matched definition. */
  definition: string;
  /** The Packer build name as the source shows it (manifest `name`, log build name). */
  buildName: string;
  builderType?: string;
  status: BuildStatus;
  /** Where the record came from: a manifest row, a log, or both merged. */
  source: 'manifest' | 'log' | 'manifest+log';
  runUuid?: string;
  /** The row belongs to its manifest's `last_run_uuid`. */
  latestRun?: boolean;
  startedAt?: number;
  completedAt?: number;
  outputVmid?: number;
  /** `A template was created: 9000`, or custom_data.template_name. */
  outputName?: string;
  imageVersion?: string;
  targetNode?: string;
  /** custom_data.template_name: the template's name in PVE as the build set it. */
  templateName?: string;
  error?: string;
  /** The PVE guest with the output VMID, when a PVE connection is configured and found it. */
  template?: { name: string; node: string; isTemplate: boolean };
  /** Order of discovery (file, then row/line), the tie-break for equal times. */
  seq: number;
}

/** A declared definition with the slug it goes by (its own, else NetBox's slugify of its name). */
export type PackerSnapshotDefinition = PackerDefinition & { slug: string };

export interface PackerSnapshot {
  /** In the policy's order. */
  definitions: PackerSnapshotDefinition[];
  /** Oldest first: by completion (else start) time, then by discovery order (`seq`). */
  builds: PackerBuild[];
}
