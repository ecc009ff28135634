import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const casesDir = join(root, 'test/cases/config');
const cli = join(root, 'bin/diode-agent.js');

async function validate(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cli, 'validate', '-c', file], { env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('diode-agent validate on broken configs (test/cases/config)', () => {
  for (const name of readdirSync(casesDir).sort()) {
    it(name, async () => {
      const dir = join(casesDir, name);
      const r = await validate(join(dir, 'agent.yaml'));
      const got = r.stderr.split(`${dir}/`).join('');
      const expectedFile = join(dir, 'expected.txt');
      if (process.env.UPDATE_GOLDEN || !existsSync(expectedFile)) writeFileSync(expectedFile, got);
      expect(r.code).toBe(1);
      expect(got).toBe(readFileSync(expectedFile, 'utf8'));
      expect(r.stdout).toBe('');
    });
  }

  it('runs through tsx where Node has no type stripping (Node 22.12 to 22.17)', async () => {
    const r = await run(process.execPath, ['--no-experimental-strip-types', cli, 'validate', '-c', join(root, 'agent.yaml')], { env: { PATH: process.env.PATH } });
    expect(r.stdout).toMatch(/agent\.yaml: OK \(1 policy: pve-bootstrap\)/);
  });

  it('accepts the repository agent.yaml', async () => {
    const r = await validate(join(root, 'agent.yaml'));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/agent\.yaml: OK \(1 policy: pve-bootstrap\)/);
  });
});
