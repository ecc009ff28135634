import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { substitute } from '../agent/config/substitute.ts';
import { CENSOR, createLogger, redactSecrets } from '../agent/log.ts';
import { generatedBlock, renderCollectorWarnings, renderedFiles } from '../scripts/render-warnings.ts';

/*
 * Each collector's vocabulary lives in its definition (agent/collectors/<id>/index.ts): the
 * secret config keys and the warning catalog. These tests hold the rest of the repository to it.
 */

const ROOT = new URL('../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, ROOT), 'utf8');

/** The .ts files under `dir` (relative to the repository), recursively, but its test code (tests, fake.ts, cases/). */
function sources(dir: string): string[] {
  return readdirSync(new URL(`${dir}/`, ROOT), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'fake.ts' && !f.startsWith('cases/'))
    .map((f) => `${dir}/${f}`)
    .sort();
}

/*
 * zod's own issue codes (`ctx.addIssue({ code: 'custom' })` in schemas) are not warnings:
 * zod lists them in z.ZodIssueCode (colinhacks/zod packages/zod/src/v4/classic/compat.ts).
 */
const ZOD_CODES = new Set<string>(Object.values(z.ZodIssueCode));

/** Every string literal in the value of a `code:` member: `code: 'a'`, `code: x ? 'a' : 'b'`, `code: 'a' | 'b'`. */
function emittedCodes(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\bcode\??:\s*([^,;}\n]+)/g)) {
    // A literal compared with (`reason === 'not_installed' ? …`) chooses the code; it is not one.
    const value = (m[1] ?? '').replace(/(?:[!=]==?)\s*'[^']*'|'[^']*'\s*(?:[!=]==?)/g, '');
    for (const lit of value.matchAll(/'([a-z][a-z0-9_]*)'/g)) if (lit[1] !== undefined && !ZOD_CODES.has(lit[1])) out.add(lit[1]);
  }
  return [...out].sort();
}

const collectors = [...COLLECTORS.values()];

describe('collector warning catalogs', () => {
  it('the code scan sees literals and ternaries, and leaves zod issue codes out', () => {
    expect(emittedCodes(`ctx.warn({ code: 'x_a', subject }); code: r === 'why' ? 'x_b' : 'x_c', code: 'custom', code?: 'x_d' | 'x_e';`)).toEqual([
      'x_a',
      'x_b',
      'x_c',
      'x_d',
      'x_e',
    ]);
  });

  for (const c of collectors) {
    describe(c.id, () => {
      it('lists each code once, with a subject, a meaning and what is lost', () => {
        const codes = c.warnings.map((w) => w.code);
        expect(new Set(codes).size).toBe(codes.length);
        for (const w of c.warnings) expect([w.code, w.subject !== '', w.meaning !== '', w.lost !== '']).toEqual([w.code, true, true, true]);
      });

      it('catalogs exactly the codes its collector and mapper sources emit', () => {
        const files = sources(`agent/collectors/${c.id}`);
        const emitted = [...new Set(files.flatMap((f) => emittedCodes(read(f))))].sort();
        // A code missing here: add it to agent/collectors/<id>/warnings.ts and run `npm run docs:warnings`.
        expect(emitted).toEqual(c.warnings.map((w) => w.code).sort());
      });

      it('its README has the catalog under "## Warnings", as rendered', () => {
        const text = read(`agent/collectors/${c.id}/README.md`);
        const section = text.slice(text.indexOf('\n## Warnings\n'), text.indexOf('\n## ', text.indexOf('\n## Warnings\n') + 1));
        expect(generatedBlock(section)).toBe(renderCollectorWarnings(c.warnings));
      });
    });
  }

  it("every warning a golden case records is in its collector's catalog", () => {
    for (const c of collectors) {
      const catalog = new Set(c.warnings.map((w) => w.code));
      for (const name of readdirSync(new URL(`agent/collectors/${c.id}/cases/`, ROOT))) {
        let text: string;
        try {
          text = read(`agent/collectors/${c.id}/cases/${name}/warnings.json`);
        } catch {
          continue;
        }
        for (const w of JSON.parse(text) as Array<{ code: string }>) expect(catalog.has(w.code), `${c.id}/${name}: ${w.code}`).toBe(true);
      }
    }
  });

  it('the README Troubleshooting section has every catalog, as rendered', () => {
    const text = read('README.md');
    const start = text.indexOf('\n## Troubleshooting\n');
    const section = text.slice(start, text.indexOf('\n## ', start + 1));
    const rendered = renderedFiles().find((f) => f.file === 'README.md');
    expect(generatedBlock(section)).toBe(rendered?.body);
    for (const c of collectors) for (const w of c.warnings) expect(section).toContain(`| \`${w.code}\` | \`${c.id}\` |`);
  });
});

describe('collector secret keys', () => {
  for (const c of collectors) {
    for (const key of c.secretKeys) {
      it(`${c.id}: ${key} is a config key, registered on substitution and redacted from logs`, () => {
        const properties =
          (z.toJSONSchema(c.configSchema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> }).properties ?? {};
        expect(Object.keys(properties)).toContain(key);
        const value = `s3cr3t-${c.id}-${key}`;
        // A value written in the file (no ${…}) is registered because its key is declared secret.
        substitute({ collector: c.id, config: { [key]: value } }, '/', {}, []);
        expect(redactSecrets(`got ${value}`)).toBe(`got ${CENSOR}`);
        // And pino's path redaction masks the key even for a value never registered.
        const lines: string[] = [];
        const log = createLogger({ level: 'info', destination: { write: (s: string) => lines.push(s) } });
        log.info({ config: { [key]: 'unregistered-value' }, nested: { deeper: { [key]: 'unregistered-too' } } }, 'policy');
        const line = JSON.parse(lines[0] ?? '{}') as { config: Record<string, unknown> };
        expect(line.config[key]).toBe(CENSOR);
        expect(lines[0]).not.toContain('unregistered-value');
      });
    }
  }
});
