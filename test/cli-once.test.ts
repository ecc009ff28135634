import { COLLECTORS } from '../agent/collectors/registry.ts';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDryRunFiles, readDryRunFile } from '../agent/diode/dry-run.ts';
import { FakeDiodeIngester, GrpcCode } from './fakes/diode-ingester.ts';
import { agentCli, BIN, logLines, root, tempAgent } from './helpers/cli.ts';

/** The registry's ids, as the unknown-collector error lists them. */
const KNOWN_COLLECTORS = [...COLLECTORS.keys()].join(', ');

/*
 * What `diode-agent once` tells the operator: every policy, also one that did not load; in
 * a dry run where each request went, in files named after the policy; and on a terminal a
 * summary that JSON logs do not bury.
 */

const AGENT = 'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  dry_run: true\npolicies:\n  dir: ./policies\n';
const boot = (name: string) => `name: ${name}\ncollector: pve\nconfig: { BOOTSTRAP: true }\n`;
/** The summary with its durations as T. */
const stable = (s: string) => s.replace(/ in \d+\.\d\ds,/g, ' in T,');
const ns = (f: string) => /_(\d+)\.json$/.exec(f)?.[1] ?? '';

let ingester: FakeDiodeIngester;
beforeAll(async () => {
  ingester = await new FakeDiodeIngester().start();
});
afterAll(async () => {
  await ingester.stop();
});

describe('once: a policy that did not load', () => {
  it('is in the summary with its reason, after the runs, and once exits 1', async () => {
    const { dir, file } = tempAgent(AGENT, { 'a.yaml': boot('good'), 'b.yaml': 'name: bad\ncollector: pve\nconfig:\n  PROXMOX_PORT: x\n  BOOTSTRAP: true\n' });
    const r = await agentCli(['once', '-q', '-c', file]);
    const files = listDryRunFiles(join(dir, 'state', 'dry-run'));
    expect({ ...r, stdout: stable(r.stdout) }).toEqual({
      code: 1,
      stdout: [
        'good (pve): success in T, 0 API requests, 0 warnings',
        '  entities: tag 2, custom_field 12, cluster_type 1',
        // One request per delivery phase: the tags, then the custom fields and cluster type.
        `  written: 15 entities in 2 files (${/\((\d+) bytes\)/.exec(r.stdout)?.[1]} bytes): ${files[0]} … ${basename(files[1] ?? '')}`,
        `not loaded: ${dir}/policies/b.yaml:4:17: config.PROXMOX_PORT: expected an integer`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('--policy naming it says it did not load and why', async () => {
    const { file, dir } = tempAgent(AGENT, { 'a.yaml': boot('good'), 'b.yaml': 'name: bad\ncollector: pvx\nconfig: {}\n' });
    expect(await agentCli(['once', '-q', '--policy', 'bad', '-c', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: `no such policy: bad (loaded: good)\nnot loaded: ${dir}/policies/b.yaml:2:12: collector: unknown collector "pvx" (known: ${KNOWN_COLLECTORS}); did you mean "pve"?\n`,
    });
  });
});

describe('once --policy with a name no policy has', () => {
  it('exits 1 with a clear message naming it and the loaded policies, and runs nothing', async () => {
    const { file, dir } = tempAgent(AGENT, { 'a.yaml': boot('good'), 'b.yaml': boot('other') });
    expect(await agentCli(['once', '-q', '--policy', 'good', '--policy', 'nope', '-c', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'no such policy: nope (loaded: good, other)\n',
    });
    const out = join(dir, 'state', 'dry-run');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('with no policy loaded at all, says so', async () => {
    const { file } = tempAgent(AGENT);
    expect(await agentCli(['once', '-q', '--policy', 'UNKNOWN', '-c', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'no such policy: UNKNOWN (loaded: none)\n',
    });
  });
});

describe('once in dry run', () => {
  it('says "written" and names the file, named after the policy, under agent.state_dir by default', async () => {
    const { dir, file } = tempAgent(AGENT, { 'a.yaml': boot('lab-one') });
    const r = await agentCli(['once', '-q', '-c', file]);
    const out = join(dir, 'state', 'dry-run');
    const files = readdirSync(out);
    expect(files).toHaveLength(2);
    for (const f of files) expect(f).toMatch(/^lab-one_\d{19}\.json$/);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[2]).toMatch(new RegExp(`^ {2}written: 15 entities in 2 files \\(\\d+ bytes\\): ${join(out, files[0]!)} … ${files[1]!}$`));
    // Nothing beside agent.yaml: on the image that directory is a read-only mount.
    expect(existsSync(join(dir, 'dry-run'))).toBe(false);
  });

  it('--dry-run-dir puts the files there, and implies --dry-run', async () => {
    const live = tempAgent(
      `agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  target: ${ingester.target}\n  client_id: x\n  client_secret: never-used\npolicies:\n  dir: ./policies\n`,
      { 'a.yaml': boot('lab') },
    );
    const out = join(mkdtempSync(join(tmpdir(), 'dry-dir-')), 'out');
    const before = ingester.ingests.length;
    const r = await agentCli(['once', '-q', '--dry-run-dir', out, '-c', live.file]);
    expect(r.code).toBe(0);
    expect(ingester.ingests.length).toBe(before);
    const files = listDryRunFiles(out);
    expect(files.map((f) => f.slice(out.length + 1).replace(/\d{19}/, 'NS'))).toEqual(['lab_NS.json', 'lab_NS.json']);
    expect(stable(r.stdout).split('\n')[2]).toMatch(new RegExp(`^ {2}written: 15 entities in 2 files \\(\\d+ bytes\\): ${files[0]} … ${basename(files[1]!)}$`));
  });

  it('files of several policies keep the order they were written in, and replay sends them in it', async () => {
    // zeta runs first (a.yaml), alpha second: by name alpha's files would sort first.
    const { dir, file } = tempAgent(AGENT, { 'a.yaml': boot('zeta'), 'b.yaml': boot('alpha') });
    expect((await agentCli(['once', '-q', '-c', file])).code).toBe(0);
    const files = listDryRunFiles(join(dir, 'state', 'dry-run'));
    expect(files.map((f) => f.split('/').pop()?.split('_')[0])).toEqual(['zeta', 'zeta', 'alpha', 'alpha']);
    for (let i = 1; i < files.length; i++) expect(BigInt(ns(files[i - 1]!))).toBeLessThan(BigInt(ns(files[i]!)));
    const replayCfg = tempAgent(`diode:\n  target: ${ingester.target}\n  client_id: ${ingester.opts.clientId}\n  client_secret: \${env:S}\n`);
    const before = ingester.ingests.length;
    const r = await agentCli(['replay', join(dir, 'state', 'dry-run'), '-c', replayCfg.file], { env: { S: ingester.opts.clientSecret, LOG_LEVEL: 'silent' } });
    expect(r).toEqual({ code: 0, stdout: 'replayed 4 of 4 files\n', stderr: '' });
    expect(ingester.ingests.slice(before).map((x) => [x.code, Buffer.from(x.bytes).toString('base64')])).toEqual(
      files.map((f) => [GrpcCode.OK, Buffer.from(readDryRunFile(f)).toString('base64')]),
    );
  });
});

describe('once on a terminal', () => {
  const pretendTty = ['--import', join(root, 'test/fixtures/pretend-tty.mjs')];

  it('logs only warnings and errors unless LOG_LEVEL or agent.log_level asks for more', async () => {
    const { file } = tempAgent(AGENT, { 'a.yaml': boot('lab') });
    const quiet = await agentCli(['once', '-c', file], { nodeArgs: pretendTty });
    expect(quiet.code).toBe(0);
    expect(logLines(quiet.stderr)).toEqual([]);
    const chatty = await agentCli(['once', '-c', file], { nodeArgs: pretendTty, env: { LOG_LEVEL: 'info' } });
    expect(logLines(chatty.stderr).map((l) => l.msg)).toContain('run finished');
    const configured = tempAgent(AGENT.replace('  state_dir: ./state\n', '  state_dir: ./state\n  log_level: info\n'), { 'a.yaml': boot('lab') });
    expect(logLines((await agentCli(['once', '-c', configured.file], { nodeArgs: pretendTty })).stderr).map((l) => l.msg)).toContain('run finished');
    // Not on a terminal (cron, a Job, a pipe): the configured level, info by default.
    expect(logLines((await agentCli(['once', '-c', file])).stderr).map((l) => l.msg)).toContain('run finished');
  });

  it('--quiet: no log line at all, only the summary', async () => {
    const { file } = tempAgent(AGENT, { 'a.yaml': boot('lab') });
    const r = await agentCli(['once', '--quiet', '-c', file], { env: { LOG_LEVEL: 'debug' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(stable(r.stdout).split('\n')[0]).toBe('lab (pve): success in T, 0 API requests, 0 warnings');
  });

  it('writes every log line before the summary, none into it or after it', async () => {
    // Diode refuses: the last log lines (delivery failed) are written just before the summary.
    const { dir, file } = tempAgent(
      `agent:\n  state_dir: ./state\n  status: { enabled: false }\n  log_level: debug\ndiode:\n  target: grpc://127.0.0.1:${ingester.port}\n  client_id: x\n  client_secret: y-secret\n  max_attempts: 1\npolicies:\n  dir: ./policies\n`,
      { 'a.yaml': boot('lab') },
    );
    const both = join(dir, 'terminal.txt');
    const fd = openSync(both, 'w');
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'once', '-c', file], { env: { PATH: process.env.PATH }, stdio: ['ignore', fd, fd] });
      p.once('exit', resolve);
    });
    closeSync(fd);
    expect(code).toBe(1);
    const lines = readFileSync(both, 'utf8').split('\n');
    const first = lines.findIndex((l) => l.startsWith('lab (pve): failed'));
    expect(first).toBeGreaterThan(0);
    expect(lines.slice(0, first).every((l) => l.startsWith('{'))).toBe(true);
    expect(lines.slice(first).filter((l) => l.startsWith('{'))).toEqual([]);
    expect(lines.slice(first).map((l) => l.replace(/ in \d+\.\d\ds,/, ' in T,'))).toEqual([
      'lab (pve): failed in T, 0 API requests, 0 warnings',
      '  entities: tag 2, custom_field 12, cluster_type 1',
      '  sent: 0 entities in 0 requests (0 bytes)',
      `  error: delivery failed: token request to http://127.0.0.1:${ingester.port}/auth/token was refused: HTTP 404 (nothing at /auth/token: Diode behind the NetBox Enterprise ingress needs the /diode path prefix, e.g. diode.target: grpcs://netbox.example.com/diode)`,
      '',
    ]);
  });
});
