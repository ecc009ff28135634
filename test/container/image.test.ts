import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDryRunFiles, readDryRunFile } from '../../agent/diode/dry-run.ts';
import { NODE_FLAGS } from '../../agent/node-flags.ts';
import { FakeDiodeIngester } from '../fakes/diode-ingester.ts';
import type { FakeServer } from '../fakes/https-server.ts';
import { generatePveScenario, startFakePve } from '../../agent/collectors/pve/fake.ts';
import { entitiesOf, freePort, pveLabConfigYaml } from '../helpers/agent-harness.ts';

/*
 * Builds the repository's Dockerfile and runs the image the way operators do: host
 * network (all traffic stays on loopback), read-only root file system, config mounted
 * read-only under /etc/diode-agent, state on a writable volume.
 */
const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const IMAGE = 'proxmox-diode-agent:test';
const TOKEN = { tokenId: 'root@pam!netbox', secret: 'container-test-token-secret-1' };

class HardenedContainer extends GenericContainer {
  protected override async beforeContainerCreated(): Promise<void> {
    this.hostConfig.ReadonlyRootfs = true;
  }
}

let ingester: FakeDiodeIngester;
let pve: FakeServer;

beforeAll(async () => {
  await GenericContainer.fromDockerfile(root).build(IMAGE, { deleteOnExit: false });
  ingester = await new FakeDiodeIngester().start();
  const scenario = generatePveScenario({ guests: 6, nodes: 2, seed: 3 });
  pve = await startFakePve(scenario, TOKEN);
}, 900_000);

afterAll(async () => {
  await ingester?.stop();
  await pve?.close();
});

function configDir(agentYaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-etc-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'agent.yaml'), agentYaml);
  chmodSync(dir, 0o755);
  return dir;
}

function goodConfig(): string {
  return `
agent:
  name: container-test
  shutdown_grace_period: 5s
diode:
  target: ${ingester.target}
  client_id: \${env:DIODE_CLIENT_ID}
  client_secret: \${env:DIODE_CLIENT_SECRET}
policies:
  dir: ./policies
  inline:
    - name: pve-lab
      collector: pve
      config:
${pveLabConfigYaml(pve.port, '        ')}
`;
}

async function referenceEntities(): Promise<unknown[]> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-ref-'));
  const out = join(dir, 'dry-run');
  mkdirSync(join(dir, 'policies'));
  writeFileSync(
    join(dir, 'agent.yaml'),
    goodConfig()
      .replace(/diode:\n( {2}.*\n)+?policies:/, `diode:\n  dry_run: true\n  dry_run_output_dir: ${out}\npolicies:`)
      .replace('dir: ./policies', `dir: ${join(dir, 'policies')}`)
      .replace('name: container-test', `name: container-test\n  state_dir: ${join(dir, 'state')}\n  status: { enabled: false }`),
  );
  await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '-c', join(dir, 'agent.yaml')], { env: { ...process.env, PVE_TOKEN: TOKEN.secret } });
  return entitiesOf(listDryRunFiles(out).map(readDryRunFile));
}

async function exitCode(id: string): Promise<number> {
  const { stdout } = await exec('docker', ['inspect', '-f', '{{.State.ExitCode}}', id]);
  return Number(stdout.trim());
}

async function logs(id: string): Promise<string> {
  const { stdout, stderr } = await exec('docker', ['logs', id]);
  return stdout + stderr;
}

describe('container image', () => {
  let container: StartedTestContainer;
  let statusPort: number;

  it('runs as uid 1000 on a read-only root file system and delivers the entities', async () => {
    statusPort = await freePort();
    const dir = configDir(goodConfig());
    container = await new HardenedContainer(IMAGE)
      .withNetworkMode('host')
      .withBindMounts([{ source: dir, target: '/etc/diode-agent', mode: 'ro' }])
      .withTmpFs({ '/var/lib/diode-agent': 'rw,size=64m,uid=1000,gid=1000' })
      .withEnvironment({
        DIODE_CLIENT_ID: ingester.opts.clientId,
        DIODE_CLIENT_SECRET: ingester.opts.clientSecret,
        PVE_TOKEN: TOKEN.secret,
        DIODE_AGENT_STATUS_LISTEN: `127.0.0.1:${statusPort}`,
      })
      .withAutoRemove(false)
      .withWaitStrategy(Wait.forLogMessage(/"msg":"run finished"/))
      .withStartupTimeout(120_000)
      .start();
    // The same policy run in-process (dry run) is the reference: the container must deliver
    // exactly those entities, in the same order.
    const expected = await referenceEntities();
    expect(expected.length).toBeGreaterThan(40);
    expect(entitiesOf(ingester.ingests.filter((r) => r.code === 0).map((r) => r.bytes))).toEqual(expected);
    const uid = await container.exec(['sh', '-c', 'grep ^Uid: /proc/1/status']);
    expect(uid.output.split(/\s+/).slice(1, 3)).toEqual(['1000', '1000']);
    // The agent runs with the heap flags the benchmark measured (agent/node-flags.ts).
    const cmdline = await container.exec(['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline']);
    expect(cmdline.output.trim()).toBe(['node', ...NODE_FLAGS, '/app/bin/diode-agent.js', 'run'].join(' '));
    const write = await container.exec(['sh', '-c', 'touch /app/probe']);
    expect(write.exitCode).not.toBe(0);
    expect(write.output).toMatch(/Read-only file system/);
    const state = await container.exec(['sh', '-c', 'ls /var/lib/diode-agent']);
    // The delta state, format version 2 (agent/state/format.ts).
    expect(state.output.trim().split('\n')).toContain('pve-lab.state');
    const health = await fetch(`http://127.0.0.1:${statusPort}/healthz`);
    expect(health.status).toBe(200);
    const all = await logs(container.getId());
    for (const secret of [TOKEN.secret, ingester.opts.clientSecret, 'tok-1']) expect(all).not.toContain(secret);
  });

  it('stops on SIGTERM with exit code 0 within the grace period', async () => {
    const t0 = Date.now();
    await container.stop({ timeout: 20_000, remove: false });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await exitCode(container.getId())).toBe(0);
    expect(await logs(container.getId())).toMatch(/"msg":"stopped"/);
    await exec('docker', ['rm', '-f', container.getId()]);
  });

  it("has diode-agent on PATH, running the agent with the entrypoint's heap flags", async () => {
    // As an operator would use it: `kubectl exec … -- diode-agent validate`, read-only root.
    const help = await exec('docker', [
      'run',
      '--rm',
      '--network',
      'host',
      '--read-only',
      '--entrypoint',
      'sh',
      IMAGE,
      '-c',
      'command -v diode-agent && diode-agent --help',
    ]);
    const [path, ...usage] = help.stdout.split('\n');
    expect(path).toBe('/usr/local/bin/diode-agent');
    expect(usage.join('\n')).toMatch(
      /^diode-agent \d+\.\d+\.\d+: Proxmox discovery for NetBox through Diode\n\nUsage: diode-agent COMMAND \[OPTIONS\]\n\n {2}run {7}/,
    );
    const version = await exec('docker', ['run', '--rm', '--network', 'host', '--read-only', '--entrypoint', 'diode-agent', IMAGE, 'version']);
    expect(version.stdout.trim()).toMatch(/\d+\.\d+\.\d+/);
    const wrapper = await exec('docker', ['run', '--rm', '--network', 'host', '--entrypoint', 'cat', IMAGE, '/usr/local/bin/diode-agent']);
    expect(wrapper.stdout).toBe(`#!/bin/sh\nexec node ${NODE_FLAGS.join(' ')} /app/bin/diode-agent.js "$@"\n`);
  });

  it('leaves out what Node 24 never loads: tsx and esbuild', async () => {
    const { stdout } = await exec('docker', [
      'run',
      '--rm',
      '--network',
      'host',
      '--entrypoint',
      'sh',
      IMAGE,
      '-c',
      'node --version; ls /app/node_modules /app/node_modules/.bin; find / -xdev \\( -name tsx -o -name "esbuild*" -o -name "@esbuild" \\) -print 2>/dev/null; node -e "console.log(process.features.typescript)"; node -p "Object.keys(require(\'/app/package.json\').dependencies).join(\',\')"',
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^v24\./);
    // bin/diode-agent.js loads tsx only where Node cannot strip types; Node 24 can.
    expect(lines).toContain('strip');
    expect(lines).toContain('@grpc');
    expect(lines.filter((l) => /tsx|esbuild/.test(l))).toEqual([]);
    expect(lines.at(-1)).not.toMatch(/tsx/);
  });

  it("holds no test code: no *.test.ts file, no collector's fake.ts or cases/, no test/ folder under /app", async () => {
    // .dockerignore leaves them out of the build context and the Dockerfile deletes any that
    // would still come with agent/ or mappers/; `find` prints what is left, nothing.
    const { stdout } = await exec('docker', [
      'run',
      '--rm',
      '--network',
      'host',
      '--entrypoint',
      'find',
      IMAGE,
      '/app',
      '-not',
      '-path',
      '/app/node_modules/*',
      '(',
      '-name',
      '*.test.ts',
      '-o',
      '-path',
      '/app/test',
      '-o',
      '-path',
      '/app/agent/collectors/*/fake.ts',
      '-o',
      '-path',
      '/app/agent/collectors/*/cases',
      ')',
      '-print',
    ]);
    expect(stdout).toBe('');
  });

  it('exits non-zero with a readable message on a config error', async () => {
    const dir = configDir('agent:\n  name: broken\ndiode:\n  target: https://netbox.example.com/diode\n  client_id: x\n  client_secret: y\n');
    const r = await exec('docker', ['run', '--rm', '--network', 'host', '--read-only', '-v', `${dir}:/etc/diode-agent:ro`, IMAGE]).then(
      (ok) => ({ code: 0, out: ok.stdout + ok.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
    );
    expect(r.code).toBe(2);
    expect(r.out.trim()).toBe('/etc/diode-agent/agent.yaml:4:11: diode.target: must be grpc://host[:port][/path] or grpcs://host[:port][/path]');
  });
});
