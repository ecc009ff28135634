import { COLLECTORS } from '../agent/collectors/registry.ts';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** The registry's ids, as the unknown-collector error lists them. */
const KNOWN_COLLECTORS = [...COLLECTORS.keys()].join(', ');

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const casesDir = join(root, 'test/cases/config');
const cli = join(root, 'bin/diode-agent.js');

async function agentCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const validate = (file: string, env: NodeJS.ProcessEnv = {}) => agentCli(['validate', '-c', file], env);

/** A temp directory with agent.yaml (`text`) and one BOOTSTRAP policy; returns agent.yaml's path. */
function tempConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-cfg-'));
  writeFileSync(join(dir, 'agent.yaml'), text);
  return join(dir, 'agent.yaml');
}

describe('diode-agent validate on broken configs (test/cases/config)', () => {
  for (const name of readdirSync(casesDir).sort()) {
    it(name, async () => {
      const dir = join(casesDir, name);
      const r = await validate(join(dir, 'agent.yaml'));
      const got = r.stderr.split(`${dir}/`).join('');
      const expectedFile = join(dir, 'expected.txt');
      // A missing expected file fails (UPDATE_GOLDEN=1 writes it): a new contract is read before it counts.
      if (process.env.UPDATE_GOLDEN) writeFileSync(expectedFile, got);
      expect(existsSync(expectedFile), `${name}/expected.txt is missing; run with UPDATE_GOLDEN=1 and read it`).toBe(true);
      expect(r.code).toBe(1);
      expect(got).toBe(readFileSync(expectedFile, 'utf8'));
      expect(r.stdout).toBe('');
    });
  }

  it('runs through tsx where Node has no type stripping (Node 22.12 to 22.17)', async () => {
    const r = await run(process.execPath, ['--no-experimental-strip-types', cli, 'validate', '-c', join(root, 'agent.yaml')], {
      env: { PATH: process.env.PATH },
    });
    expect(r.stdout).toMatch(/agent\.yaml: OK \(1 policy: pve-bootstrap\)/);
  });

  it('accepts the repository agent.yaml', async () => {
    const r = await validate(join(root, 'agent.yaml'));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/agent\.yaml: OK \(1 policy: pve-bootstrap\)/);
  });
});

describe('coordination.redis_url problems are config errors, the password masked', () => {
  const config =
    'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  dry_run: true\ncoordination:\n  redis_url: ${env:REDIS_URL}\npolicies:\n  - { name: boot, collector: pve, config: { BOOTSTRAP: true } }\n';

  it('run: port out of range', async () => {
    const file = tempConfig(config);
    const r = await agentCli(['run', '-c', file], { REDIS_URL: 'redis://:hunter2-PW@127.0.0.1:99999/0' });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `${file}:7:14: coordination.redis_url: port 99999 is out of range 1-65535 (redis://:[REDACTED]@127.0.0.1:99999/0)\n`,
    });
  });

  it('once: malformed percent-encoding in the password', async () => {
    const file = tempConfig(config);
    const r = await agentCli(['once', '-c', file], { REDIS_URL: 'redis://:50%off-PW@127.0.0.1:6379/0' });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `${file}:7:14: coordination.redis_url: malformed percent-encoding in the password; write a literal "%" as %25 (redis://:[REDACTED]@127.0.0.1:6379/0)\n`,
    });
  });
});

describe('LOG_LEVEL', () => {
  const config =
    'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  dry_run: true\npolicies:\n  - { name: boot, collector: pve, schedule: "0 0 1 1 *", config: { BOOTSTRAP: true } }\n';
  const problem = 'environment: LOG_LEVEL: "bogus" is not a log level; expected one of fatal, error, warn, info, debug, trace, silent\n';

  it('validate reports an unknown level', async () => {
    expect(await agentCli(['validate', '-c', tempConfig(config)], { LOG_LEVEL: 'bogus' })).toEqual({ code: 1, stdout: '', stderr: problem });
  });

  it.each(['run', 'once'])('%s stops with a config error, not an exception', async (command) => {
    expect(await agentCli([command, '-c', tempConfig(config)], { LOG_LEVEL: 'bogus' })).toEqual({ code: 2, stdout: '', stderr: problem });
  });

  it('is reported with the problems of agent.yaml, and an empty LOG_LEVEL is unset', async () => {
    const file = tempConfig(config.replace('dry_run: true', 'dry_run: maybe'));
    expect(await agentCli(['validate', '-c', file], { LOG_LEVEL: 'bogus' })).toEqual({
      code: 1,
      stdout: '',
      stderr: `${file}:5:12: diode.dry_run: expected a boolean (true/false)\n${problem}`,
    });
    expect(await agentCli(['validate', '-c', tempConfig(config)], { LOG_LEVEL: '' })).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('diode.dry_run_output_dir that cannot be written', () => {
  it('once --dry-run: reported before anything runs, naming the key, the default under agent.state_dir and the path (no line: not from agent.yaml)', async () => {
    const file = tempConfig(
      'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  target: grpc://127.0.0.1:1/diode\n  client_id: a\n  client_secret: s3cret-value\npolicies:\n  - { name: boot, collector: pve, config: { BOOTSTRAP: true } }\n',
    );
    const dir = file.slice(0, -'/agent.yaml'.length);
    writeFileSync(join(dir, 'state'), 'a file where the directory should be');
    expect(await agentCli(['once', '--dry-run', '-c', file])).toEqual({
      code: 2,
      stdout: '',
      stderr: `${file}: diode.dry_run_output_dir: cannot write dry-run files to ${dir}/state/dry-run (the default, under agent.state_dir; set diode.dry_run_output_dir or --dry-run-dir): ${dir}/state is not a directory\n`,
    });
  });

  it('run with diode.dry_run: positioned at the key in agent.yaml', async () => {
    const file = tempConfig(
      'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  dry_run: true\n  dry_run_output_dir: ./agent.yaml/out\npolicies:\n  - { name: boot, collector: pve, config: { BOOTSTRAP: true } }\n',
    );
    const dir = file.slice(0, -'/agent.yaml'.length);
    expect(await agentCli(['run', '-c', file])).toEqual({
      code: 2,
      stdout: '',
      stderr: `${file}:6:23: diode.dry_run_output_dir: cannot write dry-run files to ${dir}/agent.yaml/out: ${file} is not a directory\n`,
    });
  });
});

describe('oversized configuration files', () => {
  it('validate refuses a 2 MiB policy file by its size, naming the file', async () => {
    const file = tempConfig('diode:\n  dry_run: true\npolicies:\n  dir: ./policies\n');
    const dir = file.slice(0, -'/agent.yaml'.length);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'big.yaml'), `name: big\ncollector: pve\nconfig:\n  SITE_NAME: "${'x'.repeat(2 * 1024 * 1024)}"\n  BOOTSTRAP: true\n`);
    expect(await agentCli(['validate', '-c', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: `${dir}/policies/big.yaml: file is too large (2097219 bytes; configuration files are limited to 1 MiB)\n`,
    });
  });
});

describe('validate reports every problem at once', () => {
  it("agent.yaml's and every policy's together, agent.yaml first", async () => {
    const file = tempConfig('agent:\n  state_dir: ./state\ndiode:\n  dry_run: maybe\npolicies:\n  dir: ./policies\n');
    const dir = file.slice(0, -'/agent.yaml'.length);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'a.yaml'), 'name: a\ncollector: pvx\nconfig: {}\n');
    writeFileSync(join(dir, 'policies', 'b.yaml'), 'name: b\ncollector: pve\nconfig: { BOOTSTRAP: true }\n');
    expect(await validate(file)).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        `${file}:4:12: diode.dry_run: expected a boolean (true/false)`,
        `${dir}/policies/a.yaml:2:12: collector: unknown collector "pvx" (known: ${KNOWN_COLLECTORS}); did you mean "pve"?`,
        '',
      ].join('\n'),
    });
  });

  it('inline policies too, when only the rest of agent.yaml is invalid', async () => {
    const file = tempConfig(
      'agent:\n  nmae: x\ndiode:\n  dry_run: true\npolicies:\n  - { name: a, collector: pve, config: { PROXMOX_PORT: x, BOOTSTRAP: true } }\n',
    );
    expect(await validate(file)).toEqual({
      code: 1,
      stdout: '',
      stderr: `${file}:2:3: agent.nmae: unknown key; did you mean "name"?\n${file}:6:56: policies.0.config.PROXMOX_PORT: expected an integer\n`,
    });
  });

  it('a state directory that cannot be written, which would lose delta sync', async () => {
    const body = (stateDir: string, extra = '') =>
      `agent:\n  state_dir: ${stateDir}\ndiode:\n  target: grpc://127.0.0.1:1/diode\n  client_id: a\n  client_secret: s3cret-value\n${extra}policies:\n  - { name: boot, collector: pve, config: { BOOTSTRAP: true } }\n`;
    const file = tempConfig(body('./agent.yaml/state'));
    const dir = file.slice(0, -'/agent.yaml'.length);
    expect(await validate(file)).toEqual({
      code: 1,
      stdout: '',
      stderr: `${file}:2:14: agent.state_dir: cannot save the delta state in ${dir}/agent.yaml/state: ${file} is not a directory; every run would resend everything and be partial\n`,
    });
    // A dry run never writes the state, and with Redis the state is not on disk: not checked.
    const dryDir = join(dir, 'elsewhere');
    expect(await agentCli(['validate', '--dry-run-dir', dryDir, '-c', file])).toEqual({ code: 0, stdout: `${file}: OK (1 policy: boot)\n`, stderr: '' });
    const redis = tempConfig(body('./agent.yaml/state', 'coordination:\n  redis_url: redis://127.0.0.1:6379/0\n'));
    expect(await validate(redis)).toEqual({ code: 0, stdout: `${redis}: OK (1 policy: boot)\n`, stderr: '' });
  });

  it('once warns about that state directory as it starts', async () => {
    const file = tempConfig(
      'agent:\n  state_dir: ./agent.yaml/state\n  status: { enabled: false }\ndiode:\n  target: grpc://127.0.0.1:1/diode\n  client_id: a\n  client_secret: s3cret-value\n  max_attempts: 1\npolicies:\n  - { name: boot, collector: pve, config: { BOOTSTRAP: true } }\n',
    );
    const dir = file.slice(0, -'/agent.yaml'.length);
    const r = await agentCli(['once', '-c', file]);
    const warned = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.key === 'agent.state_dir');
    expect(warned.map((l) => [l.level, l.msg])).toEqual([
      [
        40,
        `${file}:2:14: agent.state_dir: cannot save the delta state in ${dir}/agent.yaml/state: ${file} is not a directory; every run would resend everything and be partial`,
      ],
    ]);
    expect(r.code).toBe(1);
  });
});
