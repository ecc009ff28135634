import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Who may import whom (issue #18). Collectors and mappers meet only at the snapshot type:
 * - a collector file (agent/collectors/<id>/*, and the shared agent/collectors/*.ts) imports
 *   no mapper code; mappers/types.ts (entity and MapContext types, no snapshot in them) is
 *   the one mapper module a collector may name, for the definition's types;
 * - a collector's definition (agent/collectors/<id>/index.ts) binds its collector to its own
 *   mapper: it may import mappers/<id>/ too, and nothing else of mappers/;
 * - a mapper imports nothing of agent/ but `import type` from a snapshot.ts
 *   (agent/collectors/<id>/snapshot.ts, or agent/collectors/snapshot.ts for the shared rows);
 * - no collector folder imports another's (what two share is in agent/collectors/*.ts);
 * - agent/ (tests aside) imports nothing of test/, which the image does not carry.
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

const isTest = (f: string) => f.endsWith('.test.ts');
const collectorOf = (f: string): string | undefined => /^agent\/collectors\/([^/]+)\//.exec(f)?.[1];

/** What is wrong with one import, or undefined. */
function violation(i: Import): string | undefined {
  const { from, to } = i;
  const fromCollector = collectorOf(from);
  const toCollector = collectorOf(to);
  if (from.startsWith('agent/collectors/') && to.startsWith('mappers/') && to !== 'mappers/types.ts') {
    const own = fromCollector !== undefined && from === `agent/collectors/${fromCollector}/index.ts` && to.startsWith(`mappers/${fromCollector}/`);
    if (!own) return 'a collector imports mapper code';
  }
  if (from.startsWith('mappers/') && to.startsWith('agent/')) {
    if (!(to.startsWith('agent/collectors/') && to.endsWith('/snapshot.ts') && i.typeOnly)) return 'a mapper imports agent code other than a snapshot type';
  }
  if (fromCollector !== undefined && toCollector !== undefined && fromCollector !== toCollector) return "a collector folder imports another's";
  if (from.startsWith('agent/') && to.startsWith('test/')) return 'agent code imports test code';
  return undefined;
}

/*
 * Crossings still there, each with why; the test fails when one goes away (remove it
 * here) or a new one appears.
 * - A packer definition's default slug is NetBox's slugify of its name (netbox-packer's
 *   PackerImageDefinition.slug); the policy checks slugs for duplicates and matches builds
 *   by them, so the config needs the mapper vocabulary's slugify.
 */
const KNOWN = ['agent/collectors/packer/config.ts -> mappers/common/refs.ts: a collector imports mapper code'];

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
      v('agent/collectors/pve/collect.ts', 'mappers/pve/index.ts'),
      v('agent/collectors/pve/index.ts', 'mappers/pve/index.ts'),
      v('agent/collectors/pve/index.ts', 'mappers/common/refs.ts'),
      v('agent/collectors/pve/index.ts', 'mappers/types.ts'),
      v('agent/collectors/proxmox-config.ts', 'mappers/common/refs.ts'),
      v('mappers/pve/index.ts', 'agent/collectors/pve/snapshot.ts', true),
      v('mappers/pve/index.ts', 'agent/collectors/pve/snapshot.ts'),
      v('mappers/pve/index.ts', 'agent/collectors/pve/config.ts', true),
      v('mappers/pbs/index.ts', 'agent/collectors/snapshot.ts', true),
      v('agent/collectors/pdm/config.ts', 'agent/collectors/pbs/config.ts'),
      v('agent/collectors/pdm/config.ts', 'agent/collectors/proxmox-config.ts'),
      v('agent/cli.ts', 'test/demo/lab.ts'),
      v('agent/pipeline/order.ts', 'mappers/order.ts'),
    ]).toEqual([
      'a collector imports mapper code',
      undefined,
      'a collector imports mapper code',
      undefined,
      'a collector imports mapper code',
      undefined,
      'a mapper imports agent code other than a snapshot type',
      'a mapper imports agent code other than a snapshot type',
      undefined,
      "a collector folder imports another's",
      undefined,
      'agent code imports test code',
      undefined,
    ]);
  });

  it('finds no crossing in agent/ and mappers/ (tests aside) beyond the known ones', () => {
    expect(sources.length).toBeGreaterThan(100);
    const found = sources
      .filter((f) => !isTest(f))
      .flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')))
      .flatMap((i) => {
        const why = violation(i);
        return why === undefined ? [] : [`${i.from} -> ${i.to}: ${why}`];
      });
    // One line per pair of files (agent/cli.ts names the lab twice: by URL and in a type).
    expect([...new Set(found)]).toEqual(KNOWN);
  });

  it('keeps collector tests inside their collector too', () => {
    const found = sources
      .filter(isTest)
      .flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')))
      .filter((i) => collectorOf(i.from) !== undefined && collectorOf(i.to) !== undefined && collectorOf(i.from) !== collectorOf(i.to))
      .map((i) => `${i.from} -> ${i.to}`);
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
