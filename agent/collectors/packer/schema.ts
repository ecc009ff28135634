import { z } from 'zod';
import { looseBool, looseInt, opt, text } from '../../http/loose.ts';

/*
 * zod schema of a packer-manifest.json row, naming only the fields the collector uses
 * (hashicorp/packer post-processor/manifest/artifact.go ArtifactFile/Artifact), and of the PVE
 * lookup's /cluster/resources rows.
 */

/** Go's map[string]string; hand-edited files sometimes carry numbers or booleans. */
const customData = z.union([z.null(), z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))]).transform((m) =>
  Object.fromEntries(
    Object.entries(m ?? {})
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, String(v)]),
  ),
);

export const manifestRowSchema = z.object({
  name: z.string().min(1),
  builder_type: z.string().min(1),
  // `omitempty`: absent when the post-processor has strip_time = true.
  build_time: z.number().int().nonnegative().optional(),
  // The Proxmox builder's Artifact.Id() is strconv.Itoa(vmid) (packer-plugin-proxmox builder/proxmox/common/artifact.go).
  artifact_id: z.union([z.string(), z.number().transform(String)]).optional(),
  packer_run_uuid: z.string().min(1).optional(),
  custom_data: customData.optional().transform((m) => m ?? {}),
});

/**
 * A row of PVE's GET /cluster/resources?type=vm, the fields the lookup uses: `type` is
 * qemu or lxc, `template` 0/1 (pve-manager PVE/API2/Cluster.pm resources).
 */
export const pveGuestRowSchema = z.object({ type: z.string(), vmid: opt(looseInt), name: opt(text), node: opt(text), template: opt(looseBool) });
export type PveGuestRow = z.output<typeof pveGuestRowSchema>;
