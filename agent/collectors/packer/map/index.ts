import type { CustomFieldChoiceSet, CustomFieldValue, VirtualMachine } from '../../../../proto/diode/v1/types.ts';
import type { BuildStatus, PackerBuild, PackerConfig, PackerSnapshot, PackerSnapshotDefinition } from '../snapshot.ts';
import { cf, customFieldEntities, platformRef, siteFrom, tagEntity, tagRef, vmRef, type CustomFieldDef } from '../../../../mappers/common/refs.ts';
import { slugify } from '../../../../mappers/common/slug.ts';
import { DISCOVERED_TAG, pveClusterRef } from '../../../../mappers/common/vocabulary.ts';
import { orderEntities } from '../../../../mappers/order.ts';
import { entity, type AnyEntity, type MapContext } from '../../../../mappers/types.ts';

/*
 * Packer snapshot → Diode entities (agent/collectors/packer/README.md "What lands in NetBox"). One VirtualMachine per image
 * definition: the template its latest completed build produced (status offline, role
 * "VM Template", platform from os_family/os_release, tag packer), in the definition's
 * target cluster. The build history is summarised on it as custom fields: the build that
 * made the template, the status of the latest attempt (which may have failed), and a JSON
 * list of recent builds. An enabled definition never built yet is a planned VM with
 * status pending, so the definition registry is visible in NetBox before the first build.
 */

export const PACKER_TAG = { name: 'packer', color: '02a8ef' } as const;
export const VM_TEMPLATE_ROLE = { name: 'VM Template', slug: slugify('VM Template'), vm_role: true } as const;
export const PACKER_CF_GROUP = 'Packer';
export const BUILD_STATUS_CHOICE_SET = 'packer_build_statuses';

/** netbox-packer PackerImageBuild.status, every value of the snapshot's BuildStatus (the check below keeps them equal). */
const BUILD_STATUSES = ['pending', 'running', 'failed', 'completed', 'cancelled'] as const satisfies readonly BuildStatus[];
// A BuildStatus missing from the list fails to compile here.
type MissingStatus = Exclude<BuildStatus, (typeof BUILD_STATUSES)[number]>;
const _BUILD_STATUSES_COMPLETE: [MissingStatus] extends [never] ? true : never = true;

/**
 * os-release NAME of each family, the string the QEMU guest agent reports as `name`, so a
 * template and the VMs cloned from it (platform "<agent name> <version-id>" in the PVE
 * collector) share one Platform: "Ubuntu 24.04", "Debian GNU/Linux 12".
 */
export const OS_FAMILY_NAMES: Readonly<Record<NonNullable<PackerSnapshotDefinition['os_family']>, string>> = {
  ubuntu: 'Ubuntu',
  debian: 'Debian GNU/Linux',
  rocky: 'Rocky Linux',
  almalinux: 'AlmaLinux',
  freebsd: 'FreeBSD',
};

export function platformName(d: Pick<PackerSnapshotDefinition, 'os_family' | 'os_release'>): string | undefined {
  if (d.os_family === undefined) return undefined;
  const name = OS_FAMILY_NAMES[d.os_family];
  return (d.os_release ? `${name} ${d.os_release}` : name).slice(0, 100);
}

const VM = 'virtualization.virtualmachine';
type CfDef = Omit<CustomFieldDef, 'object_types'>;
const BUILD_STATUS_SET: CustomFieldChoiceSet = {
  name: BUILD_STATUS_CHOICE_SET,
  description: 'netbox-packer build statuses',
  extra_choices: [...BUILD_STATUSES],
};

export const PACKER_CUSTOM_FIELDS = [
  { name: 'packer_definition', label: 'Packer Definition', type: 'text', description: 'Name of the Packer image definition that builds this template' },
  {
    name: 'packer_definition_spec',
    label: 'Packer Definition Spec',
    type: 'json',
    description: 'The image definition as declared: builder, source VMID or ISO, storage, bridge, OS, recipe, variables, tenants',
  },
  { name: 'packer_builder_type', label: 'Packer Builder Type', type: 'text', description: 'proxmox-clone or proxmox-iso' },
  {
    name: 'packer_build_id',
    label: 'Packer Build ID',
    type: 'text',
    description: 'Build that produced this template (<packer_run_uuid>:<build name>), or the latest attempt when none succeeded',
  },
  {
    name: 'packer_build_status',
    label: 'Packer Build Status',
    type: 'select',
    description: 'Status of the latest build attempt: pending, running, failed, completed or cancelled',
    choice_set: BUILD_STATUS_CHOICE_SET,
  },
  {
    name: 'packer_image_version',
    label: 'Packer Image Version',
    type: 'text',
    description: 'Image version of the build (manifest custom_data image_version or version)',
  },
  { name: 'packer_build_started_at', label: 'Packer Build Started', type: 'datetime', description: 'When the build started (from the machine-readable log)' },
  {
    name: 'packer_build_completed_at',
    label: 'Packer Build Completed',
    type: 'datetime',
    description: 'When the build completed (manifest build_time or log)',
  },
  {
    name: 'packer_output_vmid',
    label: 'Packer Output VMID',
    type: 'integer',
    description: 'Proxmox VMID of the template the build produced (the manifest artifact_id)',
  },
  {
    name: 'packer_target_node',
    label: 'Packer Target Node',
    type: 'text',
    description: 'Proxmox node the template lives on (PVE lookup, build data or the definition)',
  },
  {
    name: 'packer_build_error',
    label: 'Packer Build Error',
    type: 'longtext',
    description: 'Error of the latest build attempt when it failed or was cancelled',
  },
  {
    name: 'packer_builds',
    label: 'Packer Builds',
    type: 'json',
    description: 'Recent builds, newest first: id, status, times, output VMID and name, version, node, error',
  },
] as const satisfies ReadonlyArray<CfDef>;

export type PackerCustomFieldName = (typeof PACKER_CUSTOM_FIELDS)[number]['name'];

export interface PlannedTemplate {
  definition: PackerSnapshotDefinition;
  cluster: string;
  name: string;
  status: 'offline' | 'planned';
  /** The latest completed build: the one whose template this is. */
  current?: PackerBuild;
  /** The latest build attempt, whatever its status. */
  latest?: PackerBuild;
  /** Newest first, at most PACKER_HISTORY. */
  history: PackerBuild[];
}

export interface TemplateConflict {
  definition: string;
  code: 'packer_no_cluster' | 'packer_template_conflict';
  message: string;
}

/**
 * Which VM each definition becomes, and the definitions that cannot become one (no
 * cluster, or a name another definition already takes in that cluster; the one declared
 * first in the policy wins). The collector reports the conflicts as warnings.
 */
export function planTemplates(
  snapshot: PackerSnapshot,
  config: Pick<PackerConfig, 'PACKER_CLUSTER' | 'PACKER_HISTORY'>,
): { templates: PlannedTemplate[]; conflicts: TemplateConflict[] } {
  const templates: PlannedTemplate[] = [];
  const conflicts: TemplateConflict[] = [];
  const taken = new Map<string, string>();
  for (const def of snapshot.definitions) {
    // The snapshot's builds are oldest first.
    const builds = snapshot.builds.filter((b) => b.definition === def.name);
    const latest = builds.at(-1);
    const current = builds.filter((b) => b.status === 'completed').at(-1);
    if (!current && !def.enabled) continue;
    const cluster = def.target_cluster ?? config.PACKER_CLUSTER;
    if (cluster === undefined) {
      conflicts.push({
        definition: def.name,
        code: 'packer_no_cluster',
        message: 'no target_cluster and no PACKER_CLUSTER: NetBox needs a cluster for the template VM',
      });
      continue;
    }
    const name = (current?.template?.name ?? current?.templateName ?? def.name).slice(0, 64);
    const key = `${cluster}\u0000${name}`;
    const owner = taken.get(key);
    if (owner !== undefined) {
      conflicts.push({
        definition: def.name,
        code: 'packer_template_conflict',
        message: `VM "${name}" in cluster "${cluster}" is already the template of definition "${owner}"`,
      });
      continue;
    }
    taken.set(key, def.name);
    templates.push({
      definition: def,
      cluster,
      name,
      status: current ? 'offline' : 'planned',
      ...(current && { current }),
      ...(latest && { latest }),
      history: builds.slice(-config.PACKER_HISTORY).reverse(),
    });
  }
  return { templates, conflicts };
}

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t * 1000).toISOString());

/** The definition as declared, in the seed's field order (PackerImageDefinition). */
function definitionSpec(d: PackerSnapshotDefinition): Record<string, unknown> {
  return {
    name: d.name,
    slug: d.slug,
    description: d.description,
    enabled: d.enabled,
    builder_type: d.builder_type,
    proxmox_endpoint: d.proxmox_endpoint,
    target_cluster: d.target_cluster,
    target_node: d.target_node,
    source_template_vmid: d.source_template_vmid,
    iso_url: d.iso_url,
    iso_checksum: d.iso_checksum,
    iso_storage: d.iso_storage,
    default_storage: d.default_storage,
    default_bridge: d.default_bridge,
    os_family: d.os_family,
    os_release: d.os_release,
    default_ciuser: d.default_ciuser,
    provisioner_recipe: d.provisioner_recipe,
    default_variables: d.default_variables,
    allowed_tenants: d.allowed_tenants,
  };
}

function historyEntry(b: PackerBuild): Record<string, unknown> {
  return {
    id: b.id,
    status: b.status,
    started_at: iso(b.startedAt),
    completed_at: iso(b.completedAt),
    output_vmid: b.outputVmid,
    output_name: b.outputName,
    image_version: b.imageVersion,
    target_node: b.targetNode,
    run_uuid: b.runUuid,
    latest_run: b.latestRun,
    error: b.error,
  };
}

function vmFields(t: PlannedTemplate): Partial<Record<PackerCustomFieldName, CustomFieldValue>> {
  const d = t.definition;
  const shown = t.current ?? t.latest;
  const status: BuildStatus = t.latest?.status ?? 'pending';
  const node = shown?.targetNode ?? d.target_node;
  const error = t.latest && (t.latest.status === 'failed' || t.latest.status === 'cancelled') ? t.latest.error : undefined;
  return {
    packer_definition: cf.text(d.name),
    packer_definition_spec: cf.json(definitionSpec(d)),
    packer_builder_type: cf.text(d.builder_type),
    ...(shown && { packer_build_id: cf.text(shown.id) }),
    packer_build_status: { selection: status },
    ...(shown?.imageVersion !== undefined && { packer_image_version: cf.text(shown.imageVersion) }),
    ...(shown?.startedAt !== undefined && { packer_build_started_at: cf.datetime(new Date(shown.startedAt * 1000)) }),
    ...(shown?.completedAt !== undefined && { packer_build_completed_at: cf.datetime(new Date(shown.completedAt * 1000)) }),
    ...(shown?.outputVmid !== undefined && { packer_output_vmid: cf.integer(shown.outputVmid) }),
    ...(node !== undefined && { packer_target_node: cf.text(node) }),
    ...(error !== undefined && { packer_build_error: { long_text: error } }),
    packer_builds: cf.json(t.history.map(historyEntry)),
  };
}

export function mapPacker(snapshot: PackerSnapshot, ctx: MapContext<PackerConfig>): AnyEntity[] {
  const { templates } = planTemplates(snapshot, ctx.config);
  const tags = [tagRef(PACKER_TAG.name), tagRef(DISCOVERED_TAG.name)];
  const out: AnyEntity[] = [
    tagEntity(PACKER_TAG.name, PACKER_TAG.color),
    tagEntity(DISCOVERED_TAG.name, DISCOVERED_TAG.color),
    entity('custom_field_choice_set', BUILD_STATUS_SET),
    ...customFieldEntities(
      PACKER_CUSTOM_FIELDS.map((f) => ({ ...f, object_types: [VM] })),
      PACKER_CF_GROUP,
      { hidden: true, choiceSets: [BUILD_STATUS_SET] },
    ),
  ];
  const platforms = new Set<string>();
  for (const t of templates) {
    const platform = platformName(t.definition);
    if (platform !== undefined) platforms.add(platform);
    // The PVE collector's identity of the cluster (mappers/common/vocabulary.ts pveClusterRef): name, type, scope site.
    const vm: VirtualMachine = {
      ...vmRef(t.name, pveClusterRef(t.cluster, siteFrom(ctx.config.CLUSTER_SITE_MAP, t.cluster, ctx.config.SITE_NAME))),
      status: t.status,
      role: { ...VM_TEMPLATE_ROLE },
      ...(platform !== undefined && { platform: platformRef(platform) }),
      ...(t.definition.description !== undefined && t.definition.description !== '' && { description: t.definition.description }),
      tags,
      custom_fields: vmFields(t),
    };
    out.push(entity('virtual_machine', vm));
  }
  for (const p of [...platforms].sort()) out.push(entity('platform', platformRef(p)));
  return orderEntities(out);
}
