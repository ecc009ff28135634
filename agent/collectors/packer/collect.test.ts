import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_PVE_TOKEN, startFakePveRoutes } from '../pve/fake.ts';
import type { FakeServer } from '../../../test/fakes/https-server.ts';
import { testCollectContext, type TestCollectContext } from '../../../test/helpers/collect-context.ts';
import { collectPacker, expandPaths, PackerSourceError } from './collect.ts';
import { packerCollector } from './index.ts';
import { packerConfigSchema, type PackerConfig, type PackerConfigInput } from './config.ts';

const iso = { name: 'ubuntu-2404', builder_type: 'proxmox-iso', target_cluster: 'pve-lab', iso_url: 'https://releases.ubuntu.com/u.iso' } as const;

let server: FakeServer | undefined;
let ctx: TestCollectContext<PackerConfig> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'packer-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

const row = (over: Record<string, unknown>) => ({
  name: 'ubuntu-2404',
  builder_type: 'proxmox-iso',
  files: null,
  packer_run_uuid: 'run-1',
  custom_data: null,
  ...over,
});
const manifest = (rows: unknown[], last = 'run-1') => JSON.stringify({ builds: rows, last_run_uuid: last });

async function run(input: Partial<PackerConfigInput>) {
  ctx = testCollectContext(packerConfigSchema.parse({ PACKER_DEFINITIONS: [iso], ...input }));
  return { snap: await collectPacker(ctx), warnings: ctx.warnings };
}

describe('expandPaths', () => {
  it('keeps literal paths, sorts glob matches, warns about an empty glob', async () => {
    const d = dir({ 'b/packer-manifest.json': '{}', 'a/packer-manifest.json': '{}' });
    const warnings: unknown[] = [];
    const out = await expandPaths([join(d, '*/packer-manifest.json'), join(d, 'missing.json'), join(d, 'none/*.json')], 'manifest', (w) => warnings.push(w));
    expect(out).toEqual([join(d, 'a/packer-manifest.json'), join(d, 'b/packer-manifest.json'), join(d, 'missing.json')]);
    expect(warnings).toEqual([
      { code: 'packer_glob_empty', subject: join(d, 'none/*.json'), message: `no manifest matches this pattern (relative to ${process.cwd()})` },
    ]);
  });
});

describe('collectPacker', () => {
  it('fails naming the file when a manifest is missing', async () => {
    const d = dir({});
    const err = await run({ PACKER_MANIFESTS: join(d, 'packer-manifest.json') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackerSourceError);
    expect((err as Error).message).toBe(`packer manifest ${join(d, 'packer-manifest.json')}: file not found`);
  });

  it('matches a row by custom_data.definition before its name', async () => {
    const d = dir({ 'm.json': manifest([row({ name: 'base', artifact_id: '9000', custom_data: { definition: 'ubuntu-2404' } })]) });
    const { snap, warnings } = await run({ PACKER_MANIFESTS: join(d, 'm.json') });
    expect(snap.builds.map((b) => [b.definition, b.buildName, b.outputVmid])).toEqual([['ubuntu-2404', 'base', 9000]]);
    expect(warnings).toEqual([]);
  });

  it('warns about an artifact id that is not a VMID and a row that does not parse', async () => {
    const d = dir({ 'm.json': manifest([row({ artifact_id: 'local:9000/base-9000-disk-0' }), { name: 7 }]) });
    const { snap, warnings } = await run({ PACKER_MANIFESTS: join(d, 'm.json') });
    expect(snap.builds.map((b) => b.outputVmid)).toEqual([undefined]);
    expect(warnings).toEqual([
      {
        code: 'packer_manifest_row_dropped',
        subject: `${join(d, 'm.json')} builds[1]`,
        message: 'name: Invalid input: expected string, received number; builder_type: Invalid input: expected string, received undefined',
      },
      {
        code: 'packer_artifact_not_vmid',
        subject: `${join(d, 'm.json')} builds[0]`,
        message: 'artifact_id "local:9000/base-9000-disk-0" is not a Proxmox VMID; the output VMID is left out',
      },
    ]);
  });

  it('folds a log build into the manifest row of the same build, not into an older row with the reused VMID', async () => {
    const d = dir({
      'm.json': manifest(
        [row({ packer_run_uuid: 'run-1', build_time: 1000, artifact_id: '9000' }), row({ packer_run_uuid: 'run-2', build_time: 5000, artifact_id: '9000' })],
        'run-2',
      ),
      'b.log': [
        '4700,,ui,say,==> proxmox-iso.ubuntu-2404: Creating VM',
        '5001,proxmox-iso.ubuntu-2404,artifact,0,id,9000',
        '5001,proxmox-iso.ubuntu-2404,artifact,0,string,A template was created: 9000',
        "5001,,ui,say,Build 'proxmox-iso.ubuntu-2404' finished after 5 minutes.",
      ].join('\n'),
    });
    const { snap } = await run({ PACKER_MANIFESTS: join(d, 'm.json'), PACKER_LOGS: join(d, 'b.log') });
    expect(snap.builds.map((b) => [b.id, b.source, b.startedAt, b.completedAt, b.outputName, b.latestRun])).toEqual([
      ['run-1:ubuntu-2404', 'manifest', undefined, 1000, undefined, false],
      ['run-2:ubuntu-2404', 'manifest+log', 4700, 5000, 'A template was created: 9000', true],
    ]);
  });

  it('ignores builds of other builders and warns once per unmatched build name', async () => {
    const d = dir({ 'm.json': manifest([row({ builder_type: 'docker' }), row({ name: 'legacy' }), row({ name: 'legacy', packer_run_uuid: 'run-2' })]) });
    const { snap, warnings } = await run({ PACKER_MANIFESTS: join(d, 'm.json') });
    expect(snap.builds).toEqual([]);
    expect(warnings).toEqual([
      {
        code: 'packer_build_unmatched',
        subject: 'build "legacy"',
        message: `${join(d, 'm.json')}: no definition in PACKER_DEFINITIONS matches this build; set build_name on the definition that produces it`,
      },
    ]);
  });

  it("reports definitions that cannot become a VM (the definition, from the mapper's plan), and collectPacker alone does not", async () => {
    const d = dir({
      'm.json': manifest([
        row({ artifact_id: '9000', custom_data: { template_name: 'tmpl' } }),
        row({ name: 'b', artifact_id: '9001', custom_data: { template_name: 'tmpl' } }),
      ]),
    });
    const input = {
      PACKER_MANIFESTS: join(d, 'm.json'),
      PACKER_DEFINITIONS: [iso, { ...iso, name: 'b' }, { name: 'c', builder_type: 'proxmox-iso' as const, iso_storage: 'local:iso/c.iso' }],
    };
    expect((await run(input)).warnings).toEqual([]);
    await ctx?.close();
    ctx = testCollectContext(packerConfigSchema.parse(input));
    await packerCollector.collect(ctx);
    expect(ctx.warnings).toEqual([
      {
        code: 'packer_template_conflict',
        subject: 'definition "b"',
        message: 'VM "tmpl" in cluster "pve-lab" is already the template of definition "ubuntu-2404"',
      },
      { code: 'packer_no_cluster', subject: 'definition "c"', message: 'no target_cluster and no PACKER_CLUSTER: NetBox needs a cluster for the template VM' },
    ]);
  });

  it('goes on with the build records when the PVE lookup fails, and says a guest is not a template', async () => {
    const d = dir({ 'm.json': manifest([row({ artifact_id: '9000' })]) });
    const pve = { PROXMOX_HOST: '127.0.0.1', PROXMOX_TOKEN_NAME: FAKE_PVE_TOKEN.tokenName, PROXMOX_TOKEN_VALUE: FAKE_PVE_TOKEN.secret };
    server = await startFakePveRoutes({ routes: {}, errors: { '/cluster/resources': { status: 403, reason: 'Permission check failed (/vms, VM.Audit)' } } });
    let r = await run({ PACKER_MANIFESTS: join(d, 'm.json'), ...pve, PROXMOX_PORT: server.port });
    expect(r.snap.builds[0]?.template).toBeUndefined();
    expect(r.warnings).toEqual([
      {
        code: 'packer_pve_unavailable',
        subject: 'PVE 127.0.0.1',
        message: 'GET /cluster/resources?type=vm: HTTP 403 Permission check failed (/vms, VM.Audit); template names and nodes come from the build records',
      },
    ]);
    await ctx?.close();
    await server.close();
    server = await startFakePveRoutes({ routes: { '/cluster/resources': [{ type: 'qemu', vmid: 9000, name: 'ubuntu-tmpl', node: 'pve2', template: 0 }] } });
    r = await run({ PACKER_MANIFESTS: join(d, 'm.json'), ...pve, PROXMOX_PORT: server.port });
    expect([r.snap.builds[0]?.template, r.snap.builds[0]?.targetNode]).toEqual([{ name: 'ubuntu-tmpl', node: 'pve2', isTemplate: false }, 'pve2']);
    expect(r.warnings).toEqual([
      { code: 'packer_not_a_template', subject: 'VMID 9000', message: 'guest 9000 "ubuntu-tmpl" on pve2 is not a template (skip_convert_to_template?)' },
    ]);
    expect(server.requests.map((q) => `${q.path}?${q.query.toString()}`)).toEqual(['/api2/json/cluster/resources?type=vm']);
  });
});
