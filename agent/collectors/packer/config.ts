import { z } from 'zod';
import { boolish, intish } from '../../config/coerce.ts';
import { slugify } from '../../../mappers/common/slug.ts';
import { nodeSiteMapSchema, pveConnectionShape, splitPveTokenId } from '../proxmox-config.ts';

/*
 * The policy's `config:` block for the packer collector. Image definitions are declared
 * in the policy with the fields of netbox-packer's PackerImageDefinition
 * (listed in this folder's README.md "Configuration"), including its builder validation
 * ("Builder validation": proxmox-clone needs target_cluster and source_template_vmid,
 * proxmox-iso needs iso_url or iso_storage), reported at the offending key:
 * `file:line:col: config.PACKER_DEFINITIONS.0.source_template_vmid: …`.
 */

export const BUILDER_TYPES = ['proxmox-clone', 'proxmox-iso'] as const;
export const OS_FAMILIES = ['ubuntu', 'debian', 'rocky', 'almalinux', 'freebsd'] as const;
export const PROVISIONER_RECIPES = ['ubuntu-base', 'debian-base', 'docker-host', 'qemu-agent'] as const;

/** PVE VMIDs are 100..999999999 (pve-common PVE/JSONSchema.pm pve-vmid). */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;

/** Packer's `iso_checksum` forms: `<algo>:<hex>`, `file:<url>`, `none` (packer-plugin-sdk multistep/commonsteps ISOConfig). */
const ISO_CHECKSUM = /^(?:(?:md5|sha1|sha256|sha512):[0-9a-fA-F]+|file:\S+|none)$/;

export const packerDefinitionSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    slug: z
      .string()
      .regex(/^[-a-zA-Z0-9_]+$/, 'a slug is letters, digits, "-" and "_"')
      .max(100)
      .optional(),
    description: z.string().optional(),
    enabled: boolish.default(true),
    builder_type: z.enum(BUILDER_TYPES),
    /** The PVE endpoint the definition builds on (the seed's FK to ProxmoxEndpoint), free text. */
    proxmox_endpoint: z.string().trim().min(1).optional(),
    /** NetBox cluster of the resulting template. */
    target_cluster: z.string().trim().min(1).optional(),
    target_node: z.string().trim().min(1).optional(),
    source_template_vmid: intish(VMID_MIN, VMID_MAX).optional(),
    iso_url: z.url({ protocol: /^(?:https?|ftp|file)$/, error: 'expected an http(s), ftp or file URL' }).optional(),
    iso_checksum: z.string().trim().regex(ISO_CHECKSUM, 'expected sha256:<hex> (or md5/sha1/sha512:<hex>, file:<url>, none)').optional(),
    iso_storage: z.string().trim().min(1).optional(),
    default_storage: z.string().trim().min(1).optional(),
    default_bridge: z.string().trim().min(1).default('vmbr0'),
    os_family: z.enum(OS_FAMILIES).optional(),
    os_release: z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().min(1)).optional(),
    default_ciuser: z.string().trim().min(1).default('ubuntu'),
    provisioner_recipe: z.enum(PROVISIONER_RECIPES).optional(),
    default_variables: z.record(z.string(), z.unknown()).default({}),
    /** Tenant names (the seed's M2M to tenancy.Tenant). */
    allowed_tenants: z.array(z.string().trim().min(1)).default([]),
    /**
     * The Packer build that produces this image: the HCL2 source name (`source
     * "proxmox-iso" "ubuntu"` → "ubuntu"), which is the manifest's `name`. Default: the
     * definition's slug and name.
     */
    build_name: z.string().trim().min(1).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    // netbox-packer "Builder validation".
    if (d.builder_type === 'proxmox-clone') {
      if (d.target_cluster === undefined) ctx.addIssue({ code: 'custom', path: ['target_cluster'], message: 'proxmox-clone definitions need target_cluster' });
      if (d.source_template_vmid === undefined)
        ctx.addIssue({ code: 'custom', path: ['source_template_vmid'], message: 'proxmox-clone definitions need source_template_vmid (the VMID to clone)' });
    } else if (d.iso_url === undefined && d.iso_storage === undefined) {
      ctx.addIssue({ code: 'custom', path: ['iso_url'], message: 'proxmox-iso definitions need iso_url or iso_storage' });
    }
  });

export type PackerDefinition = z.output<typeof packerDefinitionSchema>;

/** One path or glob, or a list of them. */
const pathList = z.union([
  z
    .string()
    .min(1)
    .transform((s) => [s]),
  z.array(z.string().min(1)),
]);

const packerConfigObject = z
  .object({
    PACKER_DEFINITIONS: z.array(packerDefinitionSchema).min(1, 'declare at least one image definition'),
    /** packer-manifest.json files (paths or globs, relative to the agent's working directory). */
    PACKER_MANIFESTS: pathList.default([]),
    /** `packer build -machine-readable` logs (paths or globs). */
    PACKER_LOGS: pathList.default([]),
    /** Cluster of definitions that name no target_cluster (proxmox-iso ones may omit it). */
    PACKER_CLUSTER: z.string().trim().min(1).optional(),
    /*
     * The site the target clusters are scoped to: the PVE policy's SITE_NAME for that cluster
     * (same default). Diode matches a cluster on (name, scope) and NetBox wants a VM at its
     * cluster's site, so the template VM names both. CLUSTER_SITE_MAP ("cluster:site,…") for
     * clusters at other sites.
     */
    SITE_NAME: z.string().trim().min(1).default('Proxmox'),
    CLUSTER_SITE_MAP: nodeSiteMapSchema.default({}),
    /** How many builds per definition the packer_builds history keeps. */
    PACKER_HISTORY: intish(1, 100).default(10),
    // Optional PVE connection that resolves output VMIDs to template names and nodes.
    ...pveConnectionShape,
  })
  .strict()
  .superRefine(
    (c, ctx) => {
      // Runs even when a definition failed its own checks (`when` below), so a duplicate is
      // reported together with everything else; hence the defensive reads.
      const names = new Map<string, number>();
      const slugs = new Map<string, number>();
      (Array.isArray(c.PACKER_DEFINITIONS) ? c.PACKER_DEFINITIONS : []).forEach((d: Partial<PackerDefinition> | undefined, i) => {
        if (typeof d?.name !== 'string') return;
        const name = d.name.trim().toLowerCase();
        const slug = typeof d.slug === 'string' ? d.slug : slugify(d.name);
        if (names.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['PACKER_DEFINITIONS', i, 'name'],
            message: `duplicate definition name "${d.name}" (also PACKER_DEFINITIONS.${names.get(name)})`,
          });
          return;
        }
        names.set(name, i);
        if (slugs.has(slug))
          ctx.addIssue({
            code: 'custom',
            path: ['PACKER_DEFINITIONS', i, 'slug'],
            message: `duplicate slug "${slug}" (also PACKER_DEFINITIONS.${slugs.get(slug)})`,
          });
        else slugs.set(slug, i);
      });
      if (typeof c.PROXMOX_HOST === 'string') {
        for (const key of ['PROXMOX_TOKEN_NAME', 'PROXMOX_TOKEN_VALUE'] as const) {
          if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required when PROXMOX_HOST is set (template lookup)` });
        }
      }
    },
    { when: () => true },
  );

/** PROXMOX_TOKEN_NAME takes the whole token id too (splitPveTokenId). */
export const packerConfigSchema = z.preprocess(splitPveTokenId, packerConfigObject);

export type PackerConfig = z.output<typeof packerConfigSchema>;
export type PackerConfigInput = z.input<typeof packerConfigObject>;

/** The slug the definition goes by: its own, else NetBox's slugify of its name. */
export function definitionSlug(d: Pick<PackerDefinition, 'name' | 'slug'>): string {
  return d.slug ?? slugify(d.name);
}

/** The Packer build names (manifest `name`, HCL2 source name) that count as this definition's. */
export function definitionBuildNames(d: Pick<PackerDefinition, 'name' | 'slug' | 'build_name'>): string[] {
  return d.build_name !== undefined ? [d.build_name] : [...new Set([definitionSlug(d), d.name])];
}
