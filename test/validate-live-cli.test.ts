import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { PVE_AUDIT_PRIVILEGES, without } from './fakes/acl.ts';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import type { FakeServer } from './fakes/https-server.ts';
import { startFakePve } from '../agent/collectors/pve/fake.ts';

const exec = promisify(execFile);
const BIN = new URL('../bin/diode-agent.js', import.meta.url).pathname;
const TOKEN = { tokenId: 'diode@pve!discovery', secret: 'live-cli-secret-"q\\' };

let pve: FakeServer | undefined;
let ingester: FakeDiodeIngester | undefined;
afterEach(async () => {
  await pve?.close();
  await ingester?.stop();
});

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('diode-agent validate --live (the real binary)', () => {
  it('reaches the target and Diode, names the missing privilege, exits 1; and never prints the secret', async () => {
    pve = await startFakePve(
      {
        cluster: 'lab',
        nodes: [{ name: 'pve1' }],
        guests: [{ resource: { id: 'lxc/200', type: 'lxc', vmid: 200, name: 'ct200', node: 'pve1', status: 'running', template: 0 }, config: {} }],
        acl: { user: { '/': without([...PVE_AUDIT_PRIVILEGES, 'VM.Monitor'], 'Sys.Audit') } },
      },
      TOKEN,
    );
    ingester = await new FakeDiodeIngester().start();
    const dir = mkdtempSync(join(tmpdir(), 'live-'));
    writeFileSync(
      join(dir, 'agent.yaml'),
      `agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  target: ${ingester.target}\n  client_id: ${ingester.opts.clientId}\n  client_secret: \${env:S}\npolicies:\n  - name: lab\n    collector: pve\n    config:\n      PROXMOX_HOST: 127.0.0.1\n      PROXMOX_PORT: ${pve.port}\n      PROXMOX_USER: diode@pve\n      PROXMOX_TOKEN_NAME: discovery\n      PROXMOX_TOKEN_VALUE: \${env:T}\n`,
    );
    const env = { S: ingester.opts.clientSecret, T: TOKEN.secret };
    const plain = await cli(['validate', '-c', join(dir, 'agent.yaml')], env);
    expect(plain.code).toBe(0);
    const r = await cli(['validate', '--live', '-c', join(dir, 'agent.yaml')], env);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${join(dir, 'agent.yaml')}: OK (1 policy: lab)`);
    expect(lines).toContain('  ok    GET /version: Proxmox VE 8.4.1');
    expect(lines.find((l) => l.includes('GET /cluster/status'))).toMatch(
      /^ {2}FAIL {2}GET \/cluster\/status: HTTP 403 Permission check failed \(\/, Sys\.Audit\): the token lacks Sys\.Audit on \/; /,
    );
    expect(lines.find((l) => l.includes('GET /nodes/pve1/status'))).toMatch(/^ {2}FAIL .*the token lacks Sys\.Audit on \/nodes\/pve1; /);
    expect(lines).toContain(`  ok    POST http://127.0.0.1:${ingester.port}/diode/auth/token: a token was issued (scope diode:ingest)`);
    expect(lines).toContain('preflight failed: 2 of 8 checks, 3 not called: lab: GET /cluster/status, lab: GET /nodes/pve1/status');
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain(TOKEN.secret);
      expect(out).not.toContain(ingester.opts.clientSecret);
    }
    expect(ingester.tokenRequests).toHaveLength(1);
  });

  it('is an unknown option on other commands', async () => {
    const r = await cli(['once', '--live'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option --live');
  });
});
