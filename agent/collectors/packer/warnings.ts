import type { WarningDoc } from '../types.ts';

/**
 * Every warning a packer run can emit (collect.ts, and the template conflicts
 * agent/collectors/packer/map/index.ts plans). Rendered into README.md "## Warnings" (test/vocabulary.test.ts).
 */
export const PACKER_WARNINGS: readonly WarningDoc[] = [
  {
    code: 'packer_glob_empty',
    subject: 'the pattern',
    meaning: 'a `PACKER_MANIFESTS` or `PACKER_LOGS` pattern matches no file',
    lost: 'nothing yet: no build record there',
  },
  { code: 'packer_manifest_row_dropped', subject: '`<file> builds[<n>]`', meaning: 'a manifest build row does not parse', lost: 'that build record' },
  {
    code: 'packer_artifact_not_vmid',
    subject: '`<file> builds[<n>]`',
    meaning: "a build's `artifact_id` is not a Proxmox VMID",
    lost: "the build's output VMID",
  },
  {
    code: 'packer_build_unmatched',
    subject: '`build "<name>"`',
    meaning: 'no definition in `PACKER_DEFINITIONS` matches the build (set `build_name` on the one that produces it)',
    lost: 'that build record',
  },
  {
    code: 'packer_no_cluster',
    subject: '`definition "<name>"`',
    meaning: 'the definition has no `target_cluster` and there is no `PACKER_CLUSTER`',
    lost: 'the template VM (NetBox needs a cluster for it)',
  },
  {
    code: 'packer_template_conflict',
    subject: '`definition "<name>"`',
    meaning: 'another definition already owns the template VM of that name in that cluster',
    lost: "this definition's template VM",
  },
  {
    code: 'packer_pve_unavailable',
    subject: '`PVE <host>`',
    meaning: 'the PVE lookup (`/cluster/resources`) failed',
    lost: 'template names and nodes from PVE; they come from the build records',
  },
  {
    code: 'packer_template_missing',
    subject: '`VMID <vmid>`',
    meaning: "PVE has no guest with the latest build's VMID (deleted?)",
    lost: 'the PVE name and node of that template',
  },
  {
    code: 'packer_not_a_template',
    subject: '`VMID <vmid>`',
    meaning: 'the guest of the latest build is not a template (`skip_convert_to_template`?)',
    lost: 'nothing; the guest is reported as it is',
  },
  { code: 'packer_item_dropped', subject: 'the row', meaning: 'a `/cluster/resources` row did not parse', lost: 'that row' },
];
