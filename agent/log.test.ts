import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { createLogger, crashReport, redactSecrets, registerSecret } from './log.ts';
// As in the agent (cli.ts), the registry is loaded: it declares the collectors' secret keys (PROXMOX_TOKEN_VALUE…).
import './collectors/registry.ts';
import { Metrics } from './telemetry/metrics.ts';
import { StatusServer } from './telemetry/status-server.ts';

describe('logger', () => {
  it('refuses an unknown level: from $LOG_LEVEL as a config error naming it, from code as an AgentError', () => {
    const saved = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'bogus';
    try {
      expect(() => createLogger()).toThrow(ConfigError);
      expect(() => createLogger()).toThrow(
        'environment: LOG_LEVEL: "bogus" is not a log level; expected one of fatal, error, warn, info, debug, trace, silent',
      );
      expect(createLogger({ level: 'warn' }).level).toBe('warn');
    } finally {
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    }
    expect(() => createLogger({ level: 'loud' })).toThrow('"loud" is not a log level; expected one of fatal, error, warn, info, debug, trace, silent');
  });

  it('redacts secret keys and every registered secret value, wherever it appears', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (s: string) => lines.push(s) } });
    registerSecret('pve-token-0123456789');
    log.info({ config: { PROXMOX_TOKEN_VALUE: 'literal-value-x', PROXMOX_HOST: 'pve1' }, client_secret: 'abc-123-secret' }, 'loaded');
    log.warn({ reason: 'GET /x failed with header PVEAPIToken=root@pam!netbox=pve-token-0123456789' }, 'error text');
    const out = lines.join('');
    expect(out).not.toContain('literal-value-x');
    expect(out).not.toContain('abc-123-secret');
    expect(out).not.toContain('pve-token-0123456789');
    expect(out).toContain('"PROXMOX_HOST":"pve1"');
    expect(out.match(/\[REDACTED\]/g)).toHaveLength(3);
    expect(redactSecrets('x pve-token-0123456789 y')).toBe('x [REDACTED] y');
  });
});

/*
 * Secrets holding the characters an encoder escapes: JSON turns `"` `\` newline and tab into
 * `\"` `\\` `\n` `\t`, Prometheus label values turn `"` `\` newline into `\"` `\\` `\n`. A
 * scrubber that looks for the secret as written in the encoded text misses all of them.
 */
const QUOTED = 'pa"ss\\word\n';
const TABBED = 'tab\tsecret-value';
registerSecret(QUOTED);
registerSecret(TABBED);

/** The secret as written, JSON-escaped once and twice, Prometheus-escaped, and the pieces between its special characters. */
function forms(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  const prom = secret.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return [secret, once, JSON.stringify(once).slice(1, -1), prom];
}

function expectClean(text: string): void {
  for (const s of [QUOTED, TABBED]) for (const f of forms(s)) expect(text).not.toContain(f);
}

describe('secrets with characters that encoders escape', () => {
  it('are masked at every level, in messages, fields, bindings and printf arguments', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'trace', destination: { write: (s: string) => lines.push(s) } });
    const child = log.child({ policy: 'p', upstream: `user:${TABBED}` });
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
      child[level](
        { reason: `echoed ${QUOTED} and ${TABBED}`, nested: { deep: [`x${QUOTED}`], body: JSON.stringify({ password: QUOTED }) } },
        'static message',
      );
      child[level](`message with ${QUOTED}`);
      child[level]('printf %s', TABBED);
    }
    expect(lines).toHaveLength(18);
    const out = lines.join('');
    expectClean(out);
    const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(first).toMatchObject({
      level: 10,
      policy: 'p',
      upstream: 'user:[REDACTED]',
      msg: 'static message',
      reason: 'echoed [REDACTED] and [REDACTED]',
      nested: { deep: ['x[REDACTED]'], body: '{"password":"[REDACTED]"}' },
    });
    expect((JSON.parse(lines[1] ?? '') as { msg: string }).msg).toBe('message with [REDACTED]');
    expect((JSON.parse(lines[2] ?? '') as { msg: string }).msg).toBe('printf [REDACTED]');
  });

  it('are masked in logged errors: message, stack, own properties, the cause chain and errors under other keys', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'trace', destination: { write: (s: string) => lines.push(s) } });
    const root = new Error(`token ${TABBED} refused`);
    const err = Object.assign(new Error(`request with ${QUOTED} failed`, { cause: root }), { code: 'E_X', response: { headers: { 'x-echo': QUOTED } } });
    log.error({ err }, 'run failed');
    log.error({ error: err, list: [root] }, 'other keys');
    log.error(err);
    const out = lines.join('');
    expectClean(out);
    const e = (JSON.parse(lines[0] ?? '') as { err: Record<string, unknown> }).err;
    expect(e).toMatchObject({
      type: 'Error',
      message: 'request with [REDACTED] failed: token [REDACTED] refused',
      code: 'E_X',
      response: { headers: { 'x-echo': '[REDACTED]' } },
    });
    expect(e.stack).toMatch(/^Error: request with \[REDACTED\] failed\n {4}at /);
    expect(e.stack).toContain('\ncaused by: Error: token [REDACTED] refused\n    at ');
    const other = JSON.parse(lines[1] ?? '') as { error: Record<string, unknown>; list: Array<Record<string, unknown>> };
    expect(other.error).toMatchObject({ type: 'Error', message: 'request with [REDACTED] failed: token [REDACTED] refused', code: 'E_X' });
    expect(other.list[0]).toMatchObject({ type: 'Error', message: 'token [REDACTED] refused' });
    expect(JSON.parse(lines[2] ?? '')).toMatchObject({
      msg: 'request with [REDACTED] failed',
      err: { message: 'request with [REDACTED] failed: token [REDACTED] refused' },
    });
  });

  it('are masked in /status and /metrics', async () => {
    const metrics = new Metrics();
    metrics.diodeResult(`INVALID_ARGUMENT ${QUOTED}`, false);
    metrics.diodeResult(`INVALID_ARGUMENT ${TABBED}`, false);
    const server = new StatusServer({ ready: () => true, status: () => ({ error: `echo ${QUOTED}`, warnings: [{ reason: `echo ${TABBED}` }] }) }, metrics);
    await server.listen('127.0.0.1:0');
    try {
      const status = await (await fetch(`http://127.0.0.1:${server.port}/status`)).text();
      const prom = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expectClean(status);
      expectClean(prom);
      expect(JSON.parse(status)).toEqual({ error: 'echo [REDACTED]', warnings: [{ reason: 'echo [REDACTED]' }] });
      expect(prom).toContain('diode_agent_diode_requests_total{code="INVALID_ARGUMENT [REDACTED]"} 1');
      expect(prom.match(/code="INVALID_ARGUMENT \[REDACTED\]"/g)).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('are masked in crash reports, the cause chain and properties included', () => {
    const cause = new Error(`connect with ${TABBED}`);
    const err = Object.assign(new TypeError(`Invalid URL ${QUOTED}`, { cause }), { input: `redis://:${QUOTED}@h` });
    const report = crashReport(err);
    expectClean(report);
    expect(report).toMatch(/^TypeError: Invalid URL \[REDACTED\]\n {4}at /);
    expect(report).toContain("  { input: 'redis://:[REDACTED]@h' }\n");
    expect(report).toMatch(/\ncaused by: Error: connect with \[REDACTED\]\n {4}at /);
    expect(crashReport(`thrown string ${QUOTED}`)).toBe("'thrown string [REDACTED]'");
  });
});
