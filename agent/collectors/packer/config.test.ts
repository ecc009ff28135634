import { describe, expect, it } from 'vitest';
import { definitionBuildNames, packerConfigSchema } from './config.ts';

const iso = { name: 'ubuntu-2404', builder_type: 'proxmox-iso', iso_url: 'https://releases.ubuntu.com/u.iso' } as const;
const clone = { name: 'debian-12', builder_type: 'proxmox-clone', target_cluster: 'pve-lab', source_template_vmid: 9050 } as const;

function issues(input: unknown): string[] {
  const r = packerConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('packerConfigSchema', () => {
  it('fills the seed defaults of a definition and the collector defaults', () => {
    expect(packerConfigSchema.parse({ PACKER_DEFINITIONS: [iso], PACKER_MANIFESTS: 'builds/packer-manifest.json' })).toEqual({
      PACKER_DEFINITIONS: [{ ...iso, enabled: true, default_bridge: 'vmbr0', default_ciuser: 'ubuntu', default_variables: {}, allowed_tenants: [] }],
      PACKER_MANIFESTS: ['builds/packer-manifest.json'],
      PACKER_LOGS: [],
      PACKER_HISTORY: 10,
      SITE_NAME: 'Proxmox',
      CLUSTER_SITE_MAP: {},
      PROXMOX_PORT: 8006,
      PROXMOX_USER: 'root@pam',
      PROXMOX_SSL_VERIFY: false,
      PROXMOX_API_TIMEOUT: 30,
      PROXMOX_API_MAX_RESPONSE_BYTES: 67_108_864,
    });
  });

  it("applies the seed's builder validation at the offending key", () => {
    expect(
      issues({
        PACKER_DEFINITIONS: [
          { name: 'c', builder_type: 'proxmox-clone' },
          { name: 'i', builder_type: 'proxmox-iso' },
        ],
      }),
    ).toEqual([
      'PACKER_DEFINITIONS.0.target_cluster: proxmox-clone definitions need target_cluster',
      'PACKER_DEFINITIONS.0.source_template_vmid: proxmox-clone definitions need source_template_vmid (the VMID to clone)',
      'PACKER_DEFINITIONS.1.iso_url: proxmox-iso definitions need iso_url or iso_storage',
    ]);
    expect(issues({ PACKER_DEFINITIONS: [{ name: 'i', builder_type: 'proxmox-iso', iso_storage: 'local:iso/u.iso' }, clone] })).toEqual([]);
  });

  it('checks field formats: VMID range, checksum, URL, enums, unknown keys', () => {
    expect(
      issues({
        PACKER_DEFINITIONS: [
          { ...clone, source_template_vmid: 42, os_family: 'arch', extra: 1 },
          { ...iso, iso_checksum: 'abc', iso_url: 'ubuntu.iso' },
        ],
      }),
    ).toEqual([
      'PACKER_DEFINITIONS.0.source_template_vmid: Too small: expected number to be >=100',
      'PACKER_DEFINITIONS.0.os_family: Invalid option: expected one of "ubuntu"|"debian"|"rocky"|"almalinux"|"freebsd"',
      'PACKER_DEFINITIONS.0: Unrecognized key: "extra"',
      'PACKER_DEFINITIONS.1.iso_url: expected an http(s), ftp or file URL',
      'PACKER_DEFINITIONS.1.iso_checksum: expected sha256:<hex> (or md5/sha1/sha512:<hex>, file:<url>, none)',
    ]);
  });

  it('reports duplicate names and slugs together with the other problems', () => {
    expect(issues({ PACKER_DEFINITIONS: [iso, { ...iso, name: 'Ubuntu-2404', os_family: 'x' }, { ...clone, slug: 'ubuntu-2404' }] })).toEqual([
      'PACKER_DEFINITIONS.1.os_family: Invalid option: expected one of "ubuntu"|"debian"|"rocky"|"almalinux"|"freebsd"',
      'PACKER_DEFINITIONS.1.name: duplicate definition name "Ubuntu-2404" (also PACKER_DEFINITIONS.0)',
      'PACKER_DEFINITIONS.2.slug: duplicate slug "ubuntu-2404" (also PACKER_DEFINITIONS.0)',
    ]);
  });

  it('needs a definition, and a token when a PVE host is given', () => {
    expect(issues({ PACKER_DEFINITIONS: [] })).toEqual(['PACKER_DEFINITIONS: declare at least one image definition']);
    expect(issues({ PACKER_DEFINITIONS: [iso], PROXMOX_HOST: 'pve1' })).toEqual([
      'PROXMOX_TOKEN_NAME: PROXMOX_TOKEN_NAME is required when PROXMOX_HOST is set (template lookup)',
      'PROXMOX_TOKEN_VALUE: PROXMOX_TOKEN_VALUE is required when PROXMOX_HOST is set (template lookup)',
    ]);
  });
});

describe('definitionBuildNames', () => {
  it('is build_name, else the slug and the name', () => {
    expect(definitionBuildNames({ name: 'Rocky Linux 9' })).toEqual(['rocky-linux-9', 'Rocky Linux 9']);
    expect(definitionBuildNames({ name: 'Rocky Linux 9', slug: 'rocky-9' })).toEqual(['rocky-9', 'Rocky Linux 9']);
    expect(definitionBuildNames({ name: 'ubuntu', build_name: 'ubuntu-2404' })).toEqual(['ubuntu-2404']);
  });
});
