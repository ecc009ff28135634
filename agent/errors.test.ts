import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DiodeAuthError } from './diode/auth.ts';
import { DiodeError } from './diode/client.ts';
import { AgentError, ConfigError, errorCode, EXIT, isRetryable, runsExitCode } from './errors.ts';
import { DeliveryError } from './pipeline/requests.ts';

const partial = { requests: 0, entities: 0, bytes: 0, errors: [] };

describe('AgentError', () => {
  it('carries its code, its cause and the permanent/retryable distinction (permanent unless said)', () => {
    const cause = new Error('socket hang up');
    const e = new AgentError('x_failed', 'x failed', { cause, retryable: true });
    expect([e.code, e.cause, e.retryable, e.name, isRetryable(e)]).toEqual(['x_failed', cause, true, 'AgentError', true]);
    expect(new AgentError('y', 'y').retryable).toBe(false);
    expect(isRetryable(new ConfigError([{ file: 'a.yaml', path: 'p', message: 'm' }]))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });

  it('is retryable for Diode exactly where the client retries: transient gRPC codes, a token endpoint down or 5xx', () => {
    expect(new DiodeError(status.UNAVAILABLE, 'x').retryable).toBe(true);
    expect(new DiodeError(status.RESOURCE_EXHAUSTED, 'x').retryable).toBe(true);
    expect(new DiodeError(status.INVALID_ARGUMENT, 'x').retryable).toBe(false);
    expect(new DiodeError(status.UNAUTHENTICATED, 'x').retryable).toBe(false);
    // TLS spoken to a plaintext port is UNAVAILABLE to grpc-js, and diode.target to fix.
    expect(
      new DiodeError(
        status.UNAVAILABLE,
        'No connection established. Last error: Error: 00A8B4F7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
      ).retryable,
    ).toBe(false);
    expect(new DiodeAuthError('no answer').retryable).toBe(true);
    expect(new DiodeAuthError('HTTP 502', 502).retryable).toBe(true);
    expect(new DiodeAuthError('invalid_client', 401).retryable).toBe(false);
  });

  it("makes a delivery stopped by a request as retryable as the request's error", () => {
    expect(new DeliveryError(new DiodeError(status.UNAVAILABLE, 'x'), partial, 0).retryable).toBe(true);
    expect(new DeliveryError(new DiodeError(status.UNKNOWN, 'x'), partial, 0).retryable).toBe(false);
    expect(new DeliveryError(new Error('EACCES'), partial, 0).retryable).toBe(false);
  });
});

describe('exit codes', () => {
  it('are one table: 0 done, 1 failed, 2 nothing ran, 75 failed but retryable, 130 a second signal', () => {
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2, tempfail: 75, interrupted: 130 });
  });

  it('fail `once` on a failed or cancelled run, a state not saved or a policy file not loaded; success and partial runs exit 0', () => {
    expect(runsExitCode([{ status: 'success' }, { status: 'partial' }])).toBe(0);
    expect(runsExitCode([])).toBe(0);
    expect(runsExitCode([{ status: 'success' }, { status: 'failed' }])).toBe(1);
    expect(runsExitCode([{ status: 'cancelled' }])).toBe(1);
    expect(runsExitCode([{ status: 'partial', stateError: 'cannot save' }])).toBe(1);
    expect(runsExitCode([{ status: 'success' }], 1)).toBe(1);
  });

  it('exit 75 (EX_TEMPFAIL) only when every failure is a failed run that is retryable', () => {
    expect(runsExitCode([{ status: 'success' }, { status: 'failed', retryable: true }])).toBe(75);
    expect(
      runsExitCode([
        { status: 'failed', retryable: true },
        { status: 'failed', retryable: true },
      ]),
    ).toBe(75);
    expect(runsExitCode([{ status: 'failed', retryable: true }, { status: 'failed' }])).toBe(1);
    expect(runsExitCode([{ status: 'failed', retryable: true }, { status: 'cancelled' }])).toBe(1);
    expect(runsExitCode([{ status: 'failed', retryable: true, stateError: 'cannot save' }])).toBe(1);
    expect(runsExitCode([{ status: 'failed', retryable: true }], 1)).toBe(1);
  });
});

describe('README "Exit codes"', () => {
  it('lists exactly the codes of EXIT', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.split('\n### Exit codes\n')[1]?.split('\n#')[0] ?? '';
    const codes = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual(Object.values(EXIT));
  });
});

describe('errorCode', () => {
  it("reads a system error's string code and nothing else", async () => {
    const enoent = await import('node:fs/promises').then((fs) =>
      fs.readFile('/no/such/file').then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect([
      errorCode(enoent),
      errorCode(Object.assign(new Error('x'), { code: 42 })),
      errorCode(new Error('x')),
      errorCode('ENOENT'),
      errorCode(null),
    ]).toEqual(['ENOENT', undefined, undefined, undefined, undefined]);
  });
});
