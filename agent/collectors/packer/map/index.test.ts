import { describe, expect, it } from 'vitest';
import { packerConfigSchema, type PackerConfig } from '../config.ts';
import type { PackerBuild, PackerSnapshot } from '../snapshot.ts';
import { PACKER_CUSTOM_FIELDS, mapPacker, planTemplates, platformName } from './index.ts';

const config: PackerConfig = packerConfigSchema.parse({
  PACKER_HISTORY: 2,
  PACKER_DEFINITIONS: [
    {
      name: 'ubuntu-2404',
      builder_type: 'proxmox-iso',
      target_cluster: 'pve-lab',
      iso_storage: 'local:iso/u.iso',
      os_family: 'ubuntu',
      os_release: '24.04',
      description: 'Ubuntu LTS',
    },
    { name: 'debian-12', builder_type: 'proxmox-clone', target_cluster: 'pve-lab', source_template_vmid: 9050, target_node: 'pve1' },
    { name: 'off', enabled: false, builder_type: 'proxmox-iso', target_cluster: 'pve-lab', iso_storage: 'local:iso/o.iso' },
  ],
});
const ctx = { config, scope: { nodes: ['*'] }, now: new Date('2025-01-01T00:00:00Z'), policyName: 't' };

const build = (over: Partial<PackerBuild> & Pick<PackerBuild, 'id' | 'status' | 'seq'>): PackerBuild => ({
  definition: 'ubuntu-2404',
  buildName: 'ubuntu-2404',
  source: 'manifest',
  ...over,
});

const snapshot: PackerSnapshot = {
  definitions: config.PACKER_DEFINITIONS.map((d) => ({ ...d, slug: d.slug ?? d.name })),
  builds: [
    build({ id: 'r1:ubuntu-2404', status: 'completed', completedAt: 1000, outputVmid: 9000, templateName: 'tmpl-1', seq: 0 }),
    build({
      id: 'r2:ubuntu-2404',
      status: 'completed',
      completedAt: 2000,
      startedAt: 1800,
      outputVmid: 9001,
      templateName: 'tmpl-2',
      imageVersion: '2.0',
      targetNode: 'pve2',
      seq: 1,
    }),
    build({
      id: 'proxmox-iso.ubuntu-2404@3000',
      status: 'failed',
      startedAt: 3000,
      completedAt: 3100,
      error: 'Timeout waiting for SSH.',
      source: 'log',
      seq: 2,
    }),
  ],
};

describe('platformName', () => {
  it('uses the os-release NAME the guest agent reports, plus the release', () => {
    expect([
      platformName({ os_family: 'ubuntu', os_release: '24.04' }),
      platformName({ os_family: 'debian', os_release: '12' }),
      platformName({ os_family: 'rocky' }),
      platformName({ os_family: 'almalinux', os_release: '9' }),
      platformName({ os_family: 'freebsd', os_release: '14.2' }),
      platformName({}),
    ]).toEqual(['Ubuntu 24.04', 'Debian GNU/Linux 12', 'Rocky Linux', 'AlmaLinux 9', 'FreeBSD 14.2', undefined]);
  });
});

describe('planTemplates', () => {
  it('takes the latest completed build as the template, the latest attempt as the status, and skips disabled unbuilt definitions', () => {
    const { templates, conflicts } = planTemplates(snapshot, config);
    expect(conflicts).toEqual([]);
    expect(templates.map((t) => [t.definition.name, t.name, t.status, t.current?.id, t.latest?.status, t.history.map((b) => b.id)])).toEqual([
      ['ubuntu-2404', 'tmpl-2', 'offline', 'r2:ubuntu-2404', 'failed', ['proxmox-iso.ubuntu-2404@3000', 'r2:ubuntu-2404']],
      ['debian-12', 'debian-12', 'planned', undefined, undefined, []],
    ]);
  });

  it('prefers the name PVE reports over custom_data.template_name', () => {
    const s = {
      ...snapshot,
      builds: [build({ id: 'x', status: 'completed', seq: 0, templateName: 'a', template: { name: 'from-pve', node: 'pve3', isTemplate: true } })],
    };
    expect(planTemplates(s, config).templates[0]?.name).toBe('from-pve');
  });
});

describe('mapPacker', () => {
  it('emits one template VM per definition with the build custom fields', () => {
    const out = mapPacker(snapshot, ctx);
    expect(out.filter((e) => e.kind === 'custom_field')).toHaveLength(PACKER_CUSTOM_FIELDS.length);
    expect(
      out
        .filter((e) => e.kind === 'custom_field')
        .every(
          (e) =>
            e.kind === 'custom_field' &&
            e.value.ui_editable === 'hidden' &&
            e.value.group_name === 'Packer' &&
            e.value.object_types?.join() === 'virtualization.virtualmachine',
        ),
    ).toBe(true);
    expect(out.filter((e) => e.kind === 'platform')).toEqual([{ kind: 'platform', value: { name: 'Ubuntu 24.04', slug: 'ubuntu-24-04' } }]);
    const vms = out.filter((e) => e.kind === 'virtual_machine');
    // Emission order (mappers/types.ts): VMs by natural key, not by definition.
    expect(vms.map((v) => v.kind === 'virtual_machine' && v.value.name)).toEqual(['debian-12', 'tmpl-2']);
    expect(vms[1]).toEqual({
      kind: 'virtual_machine',
      value: {
        name: 'tmpl-2',
        // The PVE collector's cluster identity (SITE_NAME defaults to PVE's "Proxmox"), and the VM at its site.
        cluster: { name: 'pve-lab', type: { name: 'Proxmox', slug: 'proxmox' }, scope_site: { name: 'Proxmox', slug: 'proxmox' } },
        site: { name: 'Proxmox', slug: 'proxmox' },
        status: 'offline',
        role: { name: 'VM Template', slug: 'vm-template', vm_role: true },
        platform: { name: 'Ubuntu 24.04', slug: 'ubuntu-24-04' },
        description: 'Ubuntu LTS',
        tags: [
          { name: 'packer', slug: 'packer' },
          { name: 'discovered', slug: 'discovered' },
        ],
        custom_fields: {
          packer_definition: { text: 'ubuntu-2404' },
          packer_definition_spec: {
            json: '{"name":"ubuntu-2404","slug":"ubuntu-2404","description":"Ubuntu LTS","enabled":true,"builder_type":"proxmox-iso","target_cluster":"pve-lab","iso_storage":"local:iso/u.iso","default_bridge":"vmbr0","os_family":"ubuntu","os_release":"24.04","default_ciuser":"ubuntu"}',
          },
          packer_builder_type: { text: 'proxmox-iso' },
          packer_build_id: { text: 'r2:ubuntu-2404' },
          packer_build_status: { selection: 'failed' },
          packer_image_version: { text: '2.0' },
          packer_build_started_at: { datetime: { seconds: 1800, nanos: 0 } },
          packer_build_completed_at: { datetime: { seconds: 2000, nanos: 0 } },
          packer_output_vmid: { integer: 9001 },
          packer_target_node: { text: 'pve2' },
          packer_build_error: { long_text: 'Timeout waiting for SSH.' },
          packer_builds: {
            json: '[{"id":"proxmox-iso.ubuntu-2404@3000","status":"failed","started_at":"1970-01-01T00:50:00.000Z","completed_at":"1970-01-01T00:51:40.000Z","error":"Timeout waiting for SSH."},{"id":"r2:ubuntu-2404","status":"completed","started_at":"1970-01-01T00:30:00.000Z","completed_at":"1970-01-01T00:33:20.000Z","output_vmid":9001,"image_version":"2.0","target_node":"pve2"}]',
          },
        },
      },
    });
    expect(
      vms[0]?.kind === 'virtual_machine' && [
        vms[0].value.name,
        vms[0].value.status,
        vms[0].value.custom_fields?.packer_build_status,
        vms[0].value.custom_fields?.packer_target_node,
      ],
    ).toEqual(['debian-12', 'planned', { selection: 'pending' }, { text: 'pve1' }]);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(mapPacker(snapshot, ctx))).toBe(JSON.stringify(mapPacker(structuredClone(snapshot), ctx)));
  });
});
