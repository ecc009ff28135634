import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COLLECTORS } from './registry.ts';

/*
 * A collector is one folder and one registry line (Renovate's lib/modules/datasource model:
 * the list comes from the folders). Every folder under agent/collectors/ must be registered
 * and have each file below; README.md's "Adding a collector" lists the same files.
 */

const ROOT = new URL('../../', import.meta.url);
const exists = (path: string): boolean => existsSync(new URL(path, ROOT));
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');
const dirs = (path: string): string[] =>
  readdirSync(new URL(path, ROOT), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

/** What each collector has, `<id>` standing for its id. */
const REQUIRED_FILES = [
  'agent/collectors/<id>/index.ts',
  'agent/collectors/<id>/config.ts',
  'agent/collectors/<id>/client.ts',
  'agent/collectors/<id>/schema.ts',
  'agent/collectors/<id>/collect.ts',
  'agent/collectors/<id>/snapshot.ts',
  'agent/collectors/<id>/warnings.ts',
  'agent/collectors/<id>/README.md',
  'agent/collectors/<id>/map/index.ts',
  'agent/collectors/<id>/example.yaml',
  'agent/collectors/<id>/cases/harness.ts',
  'agent/collectors/<id>/cases/lab.ts',
] as const;

/** The headings every collector README has, once each (among its own). */
const README_HEADINGS = ['## What lands in NetBox', '## Warnings', '## Limits'] as const;

const ids = dirs('agent/collectors');

describe('collector registry', () => {
  it('lists exactly the collector folders, each under its folder name', () => {
    expect(ids.length).toBeGreaterThan(0);
    expect([...COLLECTORS.keys()].sort()).toEqual(ids);
    for (const [id, def] of COLLECTORS) expect(def.id).toBe(id);
  });

  it('keeps nothing of a collector outside its folder: mappers/ is the shared NetBox vocabulary, policies/ the JSON Schemas', () => {
    expect(dirs('mappers')).toEqual(['common']);
    expect(readdirSync(new URL('policies/', ROOT)).sort()).toEqual(['agent.schema.json', 'policy.schema.json']);
  });

  for (const id of ids) {
    describe(id, () => {
      it('has every file a collector has', () => {
        expect(REQUIRED_FILES.map((f) => f.replaceAll('<id>', id)).filter((f) => !exists(f))).toEqual([]);
      });

      it('its example policy names the collector', () => {
        expect(read(`agent/collectors/${id}/example.yaml`)).toMatch(new RegExp(`^collector: ${id}$`, 'm'));
      });

      it('its README names it in the title and has each fixed heading once', () => {
        const text = read(`agent/collectors/${id}/README.md`);
        expect(text.split('\n')[0]).toMatch(new RegExp(`^# .*\`(collector: )?${id}\``));
        const lines = text.split('\n');
        expect(README_HEADINGS.map((h) => [h, lines.filter((l) => l === h).length])).toEqual(README_HEADINGS.map((h) => [h, 1]));
      });

      it("its golden cases run against a fake of an upstream API (its own fake.ts, or the PVE API's)", () => {
        expect(dirs(`agent/collectors/${id}/cases`).length).toBeGreaterThan(0);
        const fakes = [...read(`agent/collectors/${id}/cases/harness.ts`).matchAll(/from '\.\.\/(?:\.\.\/([a-z0-9-]+)\/)?fake\.ts'/g)].map(
          (m) => `agent/collectors/${m[1] ?? id}/fake.ts`,
        );
        expect(fakes.length).toBeGreaterThan(0);
        expect(fakes.filter((f) => !exists(f))).toEqual([]);
      });
    });
  }
});

describe('README: Adding a collector', () => {
  const readme = read('README.md');
  const start = readme.indexOf('\n### Adding a collector\n');
  const section = readme.slice(start, readme.indexOf('\n#', start + 1));

  it('lists exactly the files the registry test requires', () => {
    expect(start).toBeGreaterThan(0);
    const listed = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual([...REQUIRED_FILES]);
  });

  it('names the one registry line, the fixed README headings and the warnings renderer', () => {
    expect(section).toContain('agent/collectors/registry.ts');
    for (const h of README_HEADINGS) expect(section).toContain(`\`${h}\``);
    expect(section).toContain('npm run docs:warnings');
  });
});
