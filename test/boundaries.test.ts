import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Who may import whom (issue #18). A collector is one folder, agent/collectors/<id>/: its
 * collector code, its mapper (map/), and its test code (*.test.ts, the fake of its upstream
 * API fake.ts, its golden cases cases/). Collector and mapper meet only at the snapshot type:
 * - collector code (agent/collectors/<id>/*, and the shared agent/collectors/*.ts) imports
 *   no mapper code but mappers/types.ts (entity and MapContext types, no snapshot in them,
 *   for the definition's types) and mappers/common/slug.ts (NetBox's slug rule, which a
 *   policy's identifiers are checked against);
 * - a collector's definition (agent/collectors/<id>/index.ts) binds its collector to its own
 *   mapper: it may import its own map/ too, and nothing else of a mapper;
 * - a mapper (agent/collectors/<id>/map/, and the shared NetBox vocabulary in mappers/)
 *   imports nothing of agent/ but `import type` from a snapshot.ts (its collector's, or
 *   agent/collectors/snapshot.ts for the shared rows) and other files of its own map/;
 *   what two collectors' mappers share is in mappers/common/;
 * - no collector folder imports another's (what two share is in agent/collectors/*.ts);
 * - agent/ (test code aside) imports nothing of test/ nor any collector's test code, which
 *   the image does not carry (.dockerignore).
 * Test code stays inside its collector too, with one exception: the PVE API has one fake,
 * agent/collectors/pve/fake.ts, which the collectors that read PVE's API besides the PVE
 * collector (ceph's PVE source, packer's template lookup) use.
 * Imports are read from the text: `import … from`, `export … from`, `import(…)`, and
 * `new URL(…, import.meta.url)` (a dynamic import by URL).
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const path = `${dir}/${d.name}`;
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : files(path);
    return d.name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  from: string;
  /** Repository-relative path of the imported file. */
  to: string;
  typeOnly: boolean;
}

const STATIC = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/gm;
const DYNAMIC = /\bimport\(\s*'([^']+)'\s*\)|new URL\(\s*'([^']+\.ts)'\s*,\s*import\.meta\.url\s*\)/g;

function importsOf(from: string, text: string): Import[] {
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return;
    out.push({
      from,
      to: normalize(join(dirname(from), spec))
        .split('\\')
        .join('/'),
      typeOnly,
    });
  };
  for (const m of text.matchAll(STATIC)) {
    const clause = m[3] ?? '';
    const names =
      /\{([^}]*)\}/
        .exec(clause)?.[1]
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean) ?? [];
    const allTyped = names.length > 0 && !/^[\w$]+\s*,/.test(clause) && names.every((n) => n.startsWith('type '));
    add(m[4] ?? '', m[2] !== undefined || allTyped);
  }
  for (const m of text.matchAll(DYNAMIC)) add(m[1] ?? m[2] ?? '', false);
  return out;
}

/** Test code: tests, a collector's fake and its golden cases (none of it is in the image). */
const isTest = (f: string) => f.endsWith('.test.ts') || /^agent\/collectors\/[^/]+\/(fake\.ts$|cases\/)/.test(f);
const collectorOf = (f: string): string | undefined => /^agent\/collectors\/([^/]+)\//.exec(f)?.[1];
const isMapper = (f: string): boolean => f.startsWith('mappers/') || /^agent\/collectors\/[^/]+\/map\//.test(f);
/** The one fake other collectors' test code may use: the PVE API's. */
const SHARED_FAKE = 'agent/collectors/pve/fake.ts';

/** What is wrong with one import, or undefined. */
function violation(i: Import): string | undefined {
  const { from, to } = i;
  const fromCollector = collectorOf(from);
  const toCollector = collectorOf(to);
  if (isTest(from)) {
    if (fromCollector !== undefined && toCollector !== undefined && fromCollector !== toCollector && to !== SHARED_FAKE) {
      return "a collector's test code imports another's";
    }
    return undefined;
  }
  if (isTest(to) || to.startsWith('test/')) return 'agent code imports test code';
  if (isMapper(from)) {
    if (to.startsWith('agent/') && !isMapper(to)) {
      if (!(to.startsWith('agent/collectors/') && to.endsWith('/snapshot.ts') && i.typeOnly)) return 'a mapper imports agent code other than a snapshot type';
    }
    if (fromCollector !== undefined && toCollector !== undefined && fromCollector !== toCollector) return "a collector folder imports another's";
    return undefined;
  }
  if (from.startsWith('agent/collectors/') && isMapper(to) && !SHARED_WITH_COLLECTORS.has(to)) {
    const own = fromCollector !== undefined && from === `agent/collectors/${fromCollector}/index.ts` && to.startsWith(`agent/collectors/${fromCollector}/map/`);
    if (!own) return 'a collector imports mapper code';
  }
  if (fromCollector !== undefined && toCollector !== undefined && fromCollector !== toCollector) return "a collector folder imports another's";
  return undefined;
}

/** The mapper modules collector code may name: the entity types, and NetBox's slug rule (mappers/common/slug.ts says why). */
const SHARED_WITH_COLLECTORS = new Set(['mappers/types.ts', 'mappers/common/slug.ts']);

const sources = [...files('agent'), ...files('mappers')].sort();

describe('import boundaries', () => {
  it('reads imports of every kind, type-only or not', () => {
    expect(
      importsOf(
        'agent/collectors/x/a.ts',
        [
          "import { a, type B } from '../../../mappers/x/index.ts';",
          "import type { S } from './snapshot.ts';",
          "import { type C, type D } from '../y/snapshot.ts';",
          "export { e } from '../../http/client.ts';",
          "const lab = new URL('../../../test/demo/lab.ts', import.meta.url);",
          "await import('./late.ts'); import { z } from 'zod';",
        ].join('\n'),
      ),
    ).toEqual([
      { from: 'agent/collectors/x/a.ts', to: 'mappers/x/index.ts', typeOnly: false },
      { from: 'agent/collectors/x/a.ts', to: 'agent/collectors/x/snapshot.ts', typeOnly: true },
      { from: 'agent/collectors/x/a.ts', to: 'agent/collectors/y/snapshot.ts', typeOnly: true },
      { from: 'agent/collectors/x/a.ts', to: 'agent/http/client.ts', typeOnly: false },
      { from: 'agent/collectors/x/a.ts', to: 'test/demo/lab.ts', typeOnly: false },
      { from: 'agent/collectors/x/a.ts', to: 'agent/collectors/x/late.ts', typeOnly: false },
    ]);
  });

  it('names each kind of crossing', () => {
    const v = (from: string, to: string, typeOnly = false) => violation({ from, to, typeOnly });
    expect([
      v('agent/collectors/pve/collect.ts', 'agent/collectors/pve/map/index.ts'),
      v('agent/collectors/pve/index.ts', 'agent/collectors/pve/map/index.ts'),
      v('agent/collectors/pve/index.ts', 'agent/collectors/pbs/map/index.ts'),
      v('agent/collectors/pve/index.ts', 'mappers/common/refs.ts'),
      v('agent/collectors/pve/index.ts', 'mappers/types.ts'),
      v('agent/collectors/packer/config.ts', 'mappers/common/slug.ts'),
      v('agent/collectors/proxmox-config.ts', 'mappers/common/refs.ts'),
      v('agent/collectors/pve/map/index.ts', 'agent/collectors/pve/snapshot.ts', true),
      v('agent/collectors/pve/map/index.ts', 'agent/collectors/pve/map/ha.ts'),
      v('agent/collectors/pve/map/index.ts', 'agent/collectors/pve/snapshot.ts'),
      v('agent/collectors/pve/map/index.ts', 'agent/collectors/pve/config.ts', true),
      v('agent/collectors/pbs/map/index.ts', 'agent/collectors/snapshot.ts', true),
      v('agent/collectors/pdm/map/index.ts', 'agent/collectors/pbs/map/index.ts'),
      v('mappers/common/refs.ts', 'agent/http/client.ts'),
      v('agent/collectors/pdm/config.ts', 'agent/collectors/pbs/config.ts'),
      v('agent/collectors/pdm/config.ts', 'agent/collectors/proxmox-config.ts'),
      v('agent/cli.ts', 'test/demo/lab.ts'),
      v('agent/collectors/pve/collect.ts', 'agent/collectors/pve/fake.ts'),
      v('agent/pipeline/order.ts', 'agent/collectors/pve/cases/lab.ts'),
      v('agent/pipeline/order.ts', 'mappers/order.ts'),
      v('agent/collectors/ceph/cases/harness.ts', 'agent/collectors/pve/fake.ts'),
      v('agent/collectors/packer/collect.test.ts', 'agent/collectors/pve/fake.ts'),
      v('agent/collectors/ceph/fake.ts', 'agent/collectors/pbs/fake.ts'),
      v('agent/collectors/pdm/collect.test.ts', 'agent/collectors/pbs/config.ts'),
      v('agent/collectors/pve/cases/lab.ts', 'test/demo/site.ts'),
    ]).toEqual([
      'a collector imports mapper code',
      undefined,
      'a collector imports mapper code',
      'a collector imports mapper code',
      undefined,
      undefined,
      'a collector imports mapper code',
      undefined,
      undefined,
      'a mapper imports agent code other than a snapshot type',
      'a mapper imports agent code other than a snapshot type',
      undefined,
      "a collector folder imports another's",
      'a mapper imports agent code other than a snapshot type',
      "a collector folder imports another's",
      undefined,
      'agent code imports test code',
      'agent code imports test code',
      'agent code imports test code',
      undefined,
      undefined,
      undefined,
      "a collector's test code imports another's",
      "a collector's test code imports another's",
      undefined,
    ]);
  });

  it('finds no crossing in agent/ and mappers/ (test code aside)', () => {
    expect(sources.length).toBeGreaterThan(100);
    const found = sources
      .filter((f) => !isTest(f))
      .flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')))
      .flatMap((i) => {
        const why = violation(i);
        return why === undefined ? [] : [`${i.from} -> ${i.to}: ${why}`];
      });
    expect([...new Set(found)]).toEqual([]);
  });

  it("keeps a collector's test code inside its collector, but for the PVE API's fake", () => {
    const found = sources
      .filter(isTest)
      .flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')))
      .flatMap((i) => {
        const why = violation(i);
        return why === undefined ? [] : [`${i.from} -> ${i.to}: ${why}`];
      });
    expect(found).toEqual([]);
  });

  it('resolves imports to files that exist', () => {
    const all = new Set(sources.map((f) => relative(ROOT, join(ROOT, f)).split('\\').join('/')));
    const missing = sources
      .flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')))
      .filter((i) => (i.to.startsWith('agent/') || i.to.startsWith('mappers/')) && !all.has(i.to))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(missing).toEqual([]);
  });
});
