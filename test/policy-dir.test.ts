import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { loadAgentConfig, loadPolicies } from '../agent/config/load.ts';
import { waitFor } from './helpers/agent-harness.ts';

/*
 * policies.dir as Kubernetes mounts a ConfigMap (kubernetes/kubernetes
 * pkg/volume/util/atomic_writer.go): the files live in a hidden timestamped directory
 * `..2026_12_03_10_00_00.NNN`, `..data` links to it, and each visible file is a link
 * `x.yaml -> ..data/x.yaml`. An update writes a new timestamped directory, creates the
 * links of new files (dangling until the swap), renames `..data_tmp` over `..data`
 * (atomic), then removes the links of deleted files (dangling until then) and the old
 * directory. A dangling link or a loop is that file's problem only.
 */
const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

const policy = (name: string, concurrency = 2) =>
  `name: ${name}\ncollector: pve\nschedule: "0 0 1 1 *"\nconcurrency: ${concurrency}\nconfig: { BOOTSTRAP: true }\n`;

interface Mount {
  base: string;
  dir: string;
  configFile: string;
  /** Steps 5-6: a new timestamped directory holding `files`. */
  writeTs(stamp: string, files: Record<string, string>): void;
  /** Step 7: the visible link of a new file. */
  link(name: string): void;
  /** Steps 8-9: ..data_tmp -> the new directory, renamed over ..data. */
  swap(stamp: string): void;
}

function mount(): Mount {
  const base = mkdtempSync(join(tmpdir(), 'k8s-mount-'));
  const dir = join(base, 'policies');
  mkdirSync(dir);
  const configFile = join(base, 'agent.yaml');
  writeFileSync(configFile, 'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  dry_run: true\npolicies:\n  dir: ./policies\n');
  return {
    base,
    dir,
    configFile,
    writeTs: (stamp, files) => {
      mkdirSync(join(dir, stamp));
      for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, stamp, f), text);
    },
    link: (name) => symlinkSync(`..data/${name}`, join(dir, name)),
    swap: (stamp) => {
      symlinkSync(stamp, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    },
  };
}

const TS1 = '..2026_12_03_10_00_00.123456789';
const TS2 = '..2026_12_03_10_05_00.987654321';

const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop(0);
});

describe('policies.dir mounted from a Kubernetes ConfigMap', () => {
  it('at start: a dangling link and a loop are reported, each alone; the other policies load once each', async () => {
    const m = mount();
    m.writeTs(TS1, { 'a.yaml': policy('a'), 'b.yaml': policy('b') });
    m.swap(TS1);
    m.link('a.yaml');
    m.link('b.yaml');
    m.link('c.yaml'); // an update caught between steps 7 and 9
    symlinkSync('loop.yaml', join(m.dir, 'loop.yaml'));
    // A hidden file is no policy, even with a policy in it (it would be a duplicate "b").
    writeFileSync(join(m.dir, '.b.yaml'), policy('b'));

    const set = loadPolicies(loadAgentConfig(m.configFile, {}), COLLECTORS, {});
    expect(set.policies.map((p) => [p.name, p.source])).toEqual([
      ['a', `${m.dir}/a.yaml:1`],
      ['b', `${m.dir}/b.yaml:1`],
    ]);
    expect(set.issues).toEqual([
      { file: join(m.dir, 'c.yaml'), path: '', message: 'cannot read file: dangling symlink to ..data/c.yaml' },
      { file: join(m.dir, 'loop.yaml'), path: '', message: 'cannot read file: symlink loop' },
    ]);

    let r: { code: number; stdout: string; stderr: string };
    try {
      r = {
        code: 0,
        ...(await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'validate', '-c', m.configFile], { env: { PATH: process.env.PATH } })),
      };
    } catch (err) {
      const e = err as typeof r;
      r = { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `${m.dir}/c.yaml: cannot read file: dangling symlink to ..data/c.yaml\n${m.dir}/loop.yaml: cannot read file: symlink loop\n`,
    });
  });

  it('on hot reload: an atomic update keeps every other policy scheduled while a link dangles', async () => {
    const m = mount();
    m.writeTs(TS1, { 'a.yaml': policy('a'), 'b.yaml': policy('b') });
    m.swap(TS1);
    m.link('a.yaml');
    m.link('b.yaml');
    const a = new Agent(loadAgentConfig(m.configFile, {}), COLLECTORS, pino({ level: 'silent' }), { env: {} });
    agents.push(a);
    a.loadPolicies();
    a.start();
    a.watchPolicies(50);
    const names = () => a.policies.map((p) => p.name).sort();
    const concurrencyOf = (n: string) => a.policies.find((p) => p.name === n)?.concurrency;
    const issues = () => a.policyIssues.map((i) => `${i.file.slice(m.dir.length + 1)}: ${i.message}`);
    expect(names()).toEqual(['a', 'b']);
    expect(a.policyIssues).toEqual([]);

    // The update: a changes, b goes, c comes.
    m.writeTs(TS2, { 'a.yaml': policy('a', 3), 'c.yaml': policy('c') });
    m.link('c.yaml');
    await waitFor(() => issues().length > 0, 10_000);
    expect(issues()).toEqual(['c.yaml: cannot read file: dangling symlink to ..data/c.yaml']);
    expect(names()).toEqual(['a', 'b']);
    expect(concurrencyOf('a')).toBe(2);
    expect(a.nextRun('a')).toBeInstanceOf(Date);
    expect(a.nextRun('b')).toBeInstanceOf(Date);

    m.swap(TS2);
    await waitFor(() => concurrencyOf('a') === 3, 10_000);
    await waitFor(() => names().includes('c'), 10_000);
    // b's link dangles until step 10: its previous version keeps running.
    expect(issues()).toEqual(['b.yaml: cannot read file: dangling symlink to ..data/b.yaml']);
    expect(names()).toEqual(['a', 'b', 'c']);
    expect(a.nextRun('b')).toBeInstanceOf(Date);

    unlinkSync(join(m.dir, 'b.yaml'));
    rmSync(join(m.dir, TS1), { recursive: true });
    await waitFor(() => !names().includes('b'), 10_000);
    expect(names()).toEqual(['a', 'c']);
    expect(a.policyIssues).toEqual([]);
    expect(a.policies.map((p) => p.source).sort()).toEqual([`${m.dir}/a.yaml:1`, `${m.dir}/c.yaml:1`]);
    expect(a.nextRun('a')).toBeInstanceOf(Date);
    expect(a.nextRun('c')).toBeInstanceOf(Date);
  });

  it('on reload: a directory that cannot be read keeps its policies running', async () => {
    const m = mount();
    m.writeTs(TS1, { 'a.yaml': policy('a') });
    m.swap(TS1);
    m.link('a.yaml');
    const a = new Agent(loadAgentConfig(m.configFile, {}), COLLECTORS, pino({ level: 'silent' }), { env: {} });
    agents.push(a);
    a.loadPolicies();
    a.start();
    renameSync(m.dir, `${m.dir}.gone`);
    a.reloadPolicies();
    expect(a.policies.map((p) => p.name)).toEqual(['a']);
    expect(a.nextRun('a')).toBeInstanceOf(Date);
    expect(a.policyIssues).toEqual([{ file: m.configFile, path: 'policies.dir', message: `cannot read directory ${m.dir} (ENOENT)` }]);
  });
});
