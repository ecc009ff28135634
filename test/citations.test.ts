import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Comments and docs cite upstream sources (repo + path) or files in this repository, never
 * the product notes that live outside it (DESIGN.md, the API reference, the seed documents,
 * anything under ../shared): a reader of the repository cannot open those, so a pointer to
 * them is a broken link. This test reads every source, doc and fixture file of the
 * repository and fails on such a pointer, except where the allow list below says why.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = 'test/citations.test.ts';

/** Pointers to documents outside the repository, and bare section signs naming no document. */
const OUTSIDE_POINTERS: readonly { name: string; re: RegExp }[] = [
  { name: 'DESIGN.md', re: /\bDESIGN(?:\.md)?\b/g },
  { name: 'the shared API reference', re: /\breference\/|proxmox-apis\.md|diode-schema\.md/g },
  {
    name: 'a seed document',
    re: /\bseeds?\/|proxmox-ve-mapping\.txt|netbox-packer\.txt|netbox-pbs\.txt|companion-plugins\.txt|netbox-enterprise-custom-plugins\.txt/g,
  },
  { name: 'a path outside the repository', re: /\.\.\/shared\b|\/work\/shared\b/g },
  // A section sign is only a citation with its document beside it; RFCs are public.
  { name: 'a section of no named document', re: /(?<!RFC \d{3,5} )§\s?\d/g },
];

/** What may stay, and why. Each entry must still match something (a stale entry fails). */
const ALLOWED: readonly { file: string; line: RegExp; why: string }[] = [
  {
    file: '.ci/run',
    line: /\.\.\/shared\b/,
    why: 'the CI entry point runs beside ../shared, which CI provides (ensure-node, docker-sandbox); it is not a citation',
  },
];

/** Directories that hold no file of the repository (dependencies, local run output). */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dry-run', '.state', 'bench-results']);
const TEXT_FILE = /\.(?:ts|mjs|cjs|js|json|md|yaml|yml|proto|tpl|txt)$|(?:^|\/)(?:Dockerfile|NOTICE|run|\.dockerignore|\.gitignore)$/;

function repoFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    const rel = relative(ROOT, path).split('\\').join('/');
    if (statSync(path).isDirectory()) out.push(...repoFiles(path));
    else if (TEXT_FILE.test(rel) && !rel.endsWith('.log')) out.push(rel);
  }
  return out.sort();
}

interface Hit {
  file: string;
  line: number;
  pointer: string;
  text: string;
}

function outsidePointers(file: string, text: string): Hit[] {
  const hits: Hit[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { name, re } of OUTSIDE_POINTERS) {
      re.lastIndex = 0;
      if (re.test(line)) hits.push({ file, line: i + 1, pointer: name, text: line.trim() });
    }
  });
  return hits;
}

const allowed = (h: Hit) => ALLOWED.some((a) => a.file === h.file && a.line.test(h.text));

describe('citations', () => {
  it('finds each kind of outside pointer, and lets upstream and in-repo citations through', () => {
    const bad = [
      ' * (DESIGN.md §6 "PBS")',
      ' * (reference/proxmox-apis.md §1.3)',
      ' * following ../shared/seeds/proxmox-ve-mapping.txt row by row',
      '"_source": "Generated from /work/shared/reference/diode-schema.json"',
      '/* ---- Dashboard (§4a) */',
      ' * the seed (netbox-packer.txt "Data Models")',
    ];
    expect(bad.map((line) => outsidePointers('x.ts', line).map((h) => h.pointer))).toEqual([
      ['DESIGN.md', 'a section of no named document'],
      ['the shared API reference', 'a section of no named document'],
      ['a seed document', 'a path outside the repository'],
      ['the shared API reference', 'a path outside the repository'],
      ['a section of no named document'],
      ['a seed document'],
    ]);
    const good = [
      ' * (qemu-server src/PVE/QemuServer/Agent.pm assert_agent_available)',
      ' * (agent/collectors/pbs/README.md "What lands in NetBox")',
      '  /** The OAuth2 error code of a refused request (RFC 6749 §5.2), e.g. invalid_scope. */',
      '    // RFC 9110 §10.2.3: Retry-After comes with 429 and with 503.',
      'The design is right; the seed is restated in this README.',
    ];
    expect(good.flatMap((line) => outsidePointers('x.ts', line))).toEqual([]);
  });

  it('no source, doc or fixture file points outside the repository', () => {
    const files = repoFiles().filter((f) => f !== SELF);
    // The walk reaches every part of the tree that holds citations.
    for (const f of [
      'README.md',
      'Dockerfile',
      '.ci/run',
      'agent/collectors/pve/README.md',
      'mappers/order.ts',
      'test/fixtures/ceph/NOTICE',
      'test/fakes/netbox-diode/choices.json',
    ]) {
      expect(files).toContain(f);
    }
    const hits = files.flatMap((f) => outsidePointers(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(hits.filter((h) => !allowed(h))).toEqual([]);
    for (const a of ALLOWED)
      expect(
        hits.some((h) => h.file === a.file && a.line.test(h.text)),
        `${a.file}: ${a.why}`,
      ).toBe(true);
  });
});
