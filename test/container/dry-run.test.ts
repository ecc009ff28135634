import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

/*
 * `once --dry-run` in the container as the README runs it: configuration mounted read-only
 * at /etc/diode-agent (deploy/example's agent.yaml), the state directory a writable volume.
 * The dry-run directory used to default to ./dry-run beside agent.yaml, and the run
 * stopped on the read-only mount; it is now under agent.state_dir.
 */
const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
// Its own tag: other container tests build and run theirs at the same time.
const IMAGE = 'proxmox-diode-agent:cli-dry-run-test';

beforeAll(async () => {
  await exec('docker', ['build', '-q', '-t', IMAGE, root], { maxBuffer: 16 * 1024 * 1024 });
}, 900_000);

describe('once --dry-run in the container', () => {
  it('writes its files under the state volume, named after the policy, and says where', async () => {
    const etc = mkdtempSync(join(tmpdir(), 'agent-etc-'));
    mkdirSync(join(etc, 'policies'));
    copyFileSync(join(root, 'deploy/example/agent.yaml'), join(etc, 'agent.yaml'));
    writeFileSync(join(etc, 'policies', 'boot.yaml'), 'name: boot\ncollector: pve\nconfig: { BOOTSTRAP: true }\n');
    chmodSync(etc, 0o755);
    const r = await exec('docker', [
      'run',
      '--rm',
      '--network',
      'host',
      '--read-only',
      '-v',
      `${etc}:/etc/diode-agent:ro`,
      '--tmpfs',
      '/var/lib/diode-agent:rw,size=16m,uid=1000,gid=1000',
      '-e',
      'DIODE_CLIENT_ID=id',
      '-e',
      'DIODE_CLIENT_SECRET=never-sent',
      IMAGE,
      'once',
      '--dry-run',
      '--quiet',
    ]).then(
      (x) => ({ code: 0, ...x }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = r.stdout
      .replace(/ in \d+\.\d\ds,/, ' in T,')
      .replace(/\(\d+ bytes\)/, '(B bytes)')
      .replace(/boot_\d{19}\.json/g, 'boot_NS.json')
      .split('\n');
    // Two files: one request per delivery phase (the tags, then custom fields and cluster type).
    expect(lines).toEqual([
      'boot (pve): success in T, 0 API requests, 0 warnings',
      '  entities: tag 2, custom_field 12, cluster_type 1',
      '  written: 15 entities in 2 files (B bytes): /var/lib/diode-agent/dry-run/boot_NS.json … boot_NS.json',
      '',
    ]);
  }, 120_000);
});
