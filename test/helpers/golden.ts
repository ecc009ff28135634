import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** UPDATE_GOLDEN=1 rewrites the golden files instead of comparing; read the diff after. */
export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

export function readJson<T>(url: URL): T {
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

/**
 * Compares `actual` (JSON, or text) with `file` in the case directory `dir`. A missing file
 * fails the test and is not written: a contract is only ever written on purpose, with
 * UPDATE_GOLDEN=1, and read before it counts.
 */
export function expectGolden(dir: URL, file: string, actual: unknown): void {
  const url = new URL(file, dir);
  const text = typeof actual === 'string' ? `${actual}\n` : `${JSON.stringify(actual, null, 2)}\n`;
  if (UPDATE_GOLDEN) {
    writeFileSync(url, text);
    return;
  }
  if (!existsSync(url)) throw new Error(`${fileURLToPath(url)} is missing; write it with UPDATE_GOLDEN=1 and read it before committing`);
  const expected = readFileSync(url, 'utf8');
  if (typeof actual === 'string') expect(actual).toBe(expected.replace(/\n$/, ''));
  // A JSON round trip, so `undefined` members count as absent, as they are on the wire.
  else expect(JSON.parse(JSON.stringify(actual)) as unknown).toEqual(JSON.parse(expected));
}

/** Warnings of concurrent calls arrive in any order: compared sorted. */
export function sortWarnings<W extends { code: string; subject: string; message: string }>(ws: readonly W[]): W[] {
  const key = (w: W) => `${w.code}\u0000${w.subject}\u0000${w.message}`;
  return [...ws].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The case directories under `root`, sorted. */
export function caseNames(root: URL): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}
