import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { artifactVmid, isProxmoxBuilder, parseManifest, PackerManifestError } from './manifest.ts';

const FIXTURE = new URL('../../../test/fixtures/packer/multi-run/packer-manifest.json', import.meta.url);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('parseManifest', () => {
  it('reads every row of a multi-run manifest in file order', () => {
    const m = parseManifest(readFileSync(FIXTURE, 'utf8'), 'packer-manifest.json');
    expect(m.lastRunUuid).toBe('f1e4c3b2-8a7d-4e6f-b5a4-3c2d1e0f9a87');
    expect(m.dropped).toEqual([]);
    expect(m.builds.map((b) => [b.index, b.name, b.builderType, b.artifactId, b.runUuid?.slice(0, 8)])).toEqual([
      [0, 'ubuntu-2404', 'proxmox-iso', '9000', '3b0c6f1e'],
      [1, 'debian-12', 'proxmox-clone', '9100', '3b0c6f1e'],
      [2, 'ci-runner', 'docker', 'sha256:8f3c1a2b9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1', '3b0c6f1e'],
      [3, 'ubuntu-2404', 'proxmox-iso', '9001', 'a7d2e9c4'],
      [4, 'debian-12', 'proxmox-clone', '9101', 'f1e4c3b2'],
      [5, 'legacy', 'proxmox-iso', '9200', 'f1e4c3b2'],
    ]);
    expect(m.builds[0]).toEqual({
      index: 0,
      name: 'ubuntu-2404',
      builderType: 'proxmox-iso',
      buildTime: 1733139002,
      artifactId: '9000',
      runUuid: '3b0c6f1e-2d7a-4c4e-9a51-7f0e5d1c2b11',
      customData: { git_sha: '4e1f0a9', image_version: '2024.12.02', template_name: 'tmpl-ubuntu-2404-20241202' },
    });
    expect(m.builds[2]?.customData).toEqual({});
  });

  it('accepts strip_time rows, a BOM, numeric artifact ids and non-string custom_data', () => {
    const m = parseManifest(
      '\uFEFF{"builds":[{"name":"u","builder_type":"proxmox-iso","files":null,"artifact_id":9000,"packer_run_uuid":"r","custom_data":{"n":1,"b":true,"z":null}}],"last_run_uuid":"r"}',
      'f',
    );
    expect(m.builds).toEqual([{ index: 0, name: 'u', builderType: 'proxmox-iso', artifactId: '9000', runUuid: 'r', customData: { n: '1', b: 'true' } }]);
  });

  it('drops a malformed row and keeps the others', () => {
    const m = parseManifest(
      '{"builds":[{"builder_type":"proxmox-iso"},{"name":"ok","builder_type":"proxmox-clone","build_time":-1},{"name":"ok","builder_type":"proxmox-clone"}]}',
      'f',
    );
    expect(m.dropped).toEqual([
      { index: 0, why: 'name: Invalid input: expected string, received undefined' },
      { index: 1, why: 'build_time: Too small: expected number to be >=0' },
    ]);
    expect(m.builds.map((b) => b.index)).toEqual([2]);
    expect(m.lastRunUuid).toBeUndefined();
  });

  it('names the file when the content is not a manifest', () => {
    expect(thrown(() => parseManifest('{"builds": [', '/m/packer-manifest.json'))).toMatchObject({
      name: 'PackerManifestError',
      code: 'packer_manifest_invalid',
      file: '/m/packer-manifest.json',
    });
    expect((thrown(() => parseManifest('', '/m/a.json')) as Error).message).toMatch(/^packer manifest \/m\/a\.json: is not JSON \(/);
    expect((thrown(() => parseManifest('[]', 'a.json')) as Error).message).toBe(
      'packer manifest a.json: expected an object with "builds" and "last_run_uuid", got an array',
    );
    expect((thrown(() => parseManifest('{"builds":{}}', 'a.json')) as Error).message).toBe('packer manifest a.json: "builds" must be a list, got object');
  });

  it('throws nothing but PackerManifestError on any text (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ builds: v })),
        ),
        (text) => {
          const err = thrown(() => parseManifest(text, 'f'));
          return err === undefined || err instanceof PackerManifestError;
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps every well-formed row, in order (property)', () => {
    const row = fc.record(
      {
        name: fc.string({ minLength: 1 }),
        builder_type: fc.constantFrom('proxmox-iso', 'proxmox-clone', 'docker'),
        build_time: fc.option(fc.nat(), { nil: undefined }),
        artifact_id: fc.option(fc.string(), { nil: undefined }),
        packer_run_uuid: fc.option(fc.uuid(), { nil: undefined }),
        files: fc.constant(null),
        custom_data: fc.option(fc.dictionary(fc.string(), fc.string()), { nil: null }),
      },
      { requiredKeys: ['name', 'builder_type'] },
    );
    fc.assert(
      fc.property(fc.array(row), (rows) => {
        const m = parseManifest(JSON.stringify({ builds: rows, last_run_uuid: 'x' }), 'f');
        expect(m.dropped).toEqual([]);
        expect(m.builds.map((b) => [b.name, b.builderType, b.buildTime, b.artifactId, b.runUuid])).toEqual(
          rows.map((r) => [r.name, r.builder_type, r.build_time, r.artifact_id === '' ? undefined : r.artifact_id, r.packer_run_uuid]),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('artifactVmid / isProxmoxBuilder', () => {
  it('accepts VMIDs 100..999999999 written as decimals', () => {
    expect(['9000', ' 100 ', '999999999', '99', '1000000000', 'sha256:ab', '9e3', undefined].map(artifactVmid)).toEqual([
      9000,
      100,
      999999999,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
  it('knows the Proxmox builder types', () => {
    expect(['proxmox-iso', 'proxmox-clone', 'proxmox', 'docker', 'proxmoxish', undefined].map(isProxmoxBuilder)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
