import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './agent-harness.ts';

/** The real binary, as operators run it. */
export const root = new URL('../..', import.meta.url).pathname;
export const BIN = join(root, 'bin/diode-agent.js');
const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `diode-agent ARGS` to its end; env holds only PATH plus `env`. */
export async function agentCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {}): Promise<CliResult> {
  try {
    const r = await exec(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], {
      env: { PATH: process.env.PATH, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A temp directory with agent.yaml (`agentYaml`) and `policies/` holding `policies` (file name → text). */
export function tempAgent(agentYaml: string, policies: Record<string, string> = {}): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'agent.yaml'), agentYaml);
  for (const [name, text] of Object.entries(policies)) writeFileSync(join(dir, 'policies', name), text);
  return { dir, file: join(dir, 'agent.yaml') };
}

/** JSON log lines of a stderr text (other lines, such as a progress line, are skipped). */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A running `diode-agent run`, its stderr collected as it comes. */
export interface RunningAgent {
  proc: ChildProcess;
  stderr(): string;
  logs(): Array<Record<string, unknown>>;
  /** Waits for a log line with this message (and these fields). */
  waitForLog(msg: string, fields?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startAgent(args: string[], env: NodeJS.ProcessEnv = {}): RunningAgent {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const find = (msg: string, fields: Record<string, unknown>) =>
    logLines(err).find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v)));
  return {
    proc,
    stderr: () => err,
    logs: () => logLines(err),
    waitForLog: async (msg, fields = {}, timeoutMs = 20_000) => {
      await waitFor(() => find(msg, fields) !== undefined || proc.exitCode !== null, timeoutMs);
      const line = find(msg, fields);
      if (!line) throw new Error(`the agent exited (${proc.exitCode}) without logging "${msg}":\n${err}`);
      return line;
    },
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** GET a status-server path: status code and body. */
export async function getStatus(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}
