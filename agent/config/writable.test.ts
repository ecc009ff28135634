import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirWriteProblem } from './writable.ts';

const fsError = (code: string) => Object.assign(new Error(code), { code });

describe('dirWriteProblem', () => {
  it('accepts an existing writable directory and one that can be created, creating nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'writable-'));
    expect(dirWriteProblem(dir)).toBeUndefined();
    expect(dirWriteProblem(join(dir, 'a', 'b'))).toBeUndefined();
    expect(() => mkdirSync(join(dir, 'a'))).not.toThrow();
  });

  it('names the path that is a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'writable-'));
    writeFileSync(join(dir, 'f'), '');
    expect(dirWriteProblem(join(dir, 'f'))).toBe(`${dir}/f is not a directory`);
    expect(dirWriteProblem(join(dir, 'f', 'out', 'x'))).toBe(`${dir}/f is not a directory`);
  });

  it('names the nearest existing directory on a read-only mount or without permission', () => {
    // A read-only mount cannot be set up without privileges: the file system is simulated.
    const probe = (code: string) => ({
      stat: (p: string) => {
        if (p === '/data' || p === '/') return { isDirectory: () => true };
        throw fsError('ENOENT');
      },
      access: (p: string) => {
        if (p === '/data') throw fsError(code);
      },
    });
    expect(dirWriteProblem('/data/dry-run/out', probe('EROFS'))).toBe('/data is not writable (read-only file system)');
    expect(dirWriteProblem('/data/dry-run', probe('EACCES'))).toBe('/data is not writable (permission denied)');
  });

  it.skipIf(process.getuid?.() === 0)('finds a directory without write permission (not as root, which may write anywhere)', async () => {
    const { chmodSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'writable-'));
    mkdirSync(join(dir, 'ro'));
    chmodSync(join(dir, 'ro'), 0o555);
    expect(dirWriteProblem(join(dir, 'ro', 'out'))).toBe(`${dir}/ro is not writable (permission denied)`);
  });
});
