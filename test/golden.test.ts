import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import type { Scope } from '../agent/collectors/types.ts';
import { parsePolicy } from '../agent/config/load.ts';
import { YamlSource } from '../agent/config/yaml-source.ts';
import { encodeEntity, encodeEntityWith, type EncodedEntity } from '../agent/diode/codec.ts';
import { MessageEncoder } from '../agent/diode/message-encoder.ts';
import { formatIssue } from '../agent/errors.ts';
import { orderEntities } from '../mappers/order.ts';
import { orderRun } from '../agent/pipeline/order.ts';
import type { AnyEntity } from '../mappers/types.ts';
import type { FakeServer } from './fakes/https-server.ts';
import { testCollectContext, type TestCollectContext } from './helpers/collect-context.ts';
import { casesDir } from './helpers/collectors.ts';
import { caseNames, expectGolden, readJson, sortWarnings } from './helpers/golden.ts';
import { plainRequestLine, type GoldenCase, type GoldenHarness } from './golden/harness.ts';

/*
 * The golden cases of every collector the registry lists: agent/collectors/<collector>/cases/<case>/,
 * run by that folder's harness.ts. The case format is described in test/golden/harness.ts.
 */

const REPO = fileURLToPath(new URL('../', import.meta.url)).replace(/\/$/, '');

/** A `{"$file": …, "$pick": …}` object stands for that file (under test/fixtures/<collector>/) or one of its members. */
function resolveIncludes(v: unknown, fixtures: URL): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveIncludes(x, fixtures));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$file === 'string') {
      const content = readJson<unknown>(new URL(o.$file, fixtures));
      return typeof o.$pick === 'string' ? (content as Record<string, unknown>)[o.$pick] : content;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveIncludes(x, fixtures)]));
  }
  return v;
}

async function loadScenario(dir: URL, id: string): Promise<unknown> {
  const ts = new URL('scenario.ts', dir);
  if (existsSync(ts)) return ((await import(ts.href)) as { default: unknown }).default;
  const json = new URL('scenario.json', dir);
  return existsSync(json) ? resolveIncludes(readJson(json), new URL(`./fixtures/${id}/`, import.meta.url)) : undefined;
}

let server: FakeServer | undefined;
let ctx: TestCollectContext<unknown> | undefined;
afterEach(async () => {
  await ctx?.close();
  await server?.close();
  ctx = undefined;
  server = undefined;
});

const collectors = [...COLLECTORS.values()];

describe('golden cases', () => {
  it('a missing contract file fails the case and is not written', () => {
    const dir = pathToFileURL(`${mkdtempSync(join(tmpdir(), 'golden-'))}/`);
    expect(() => expectGolden(dir, 'expected.json', [])).toThrow(
      `${fileURLToPath(dir)}expected.json is missing; write it with UPDATE_GOLDEN=1 and read it before committing`,
    );
    expect(existsSync(new URL('expected.json', dir))).toBe(false);
  });

  it('every collector has a harness and cases', () => {
    for (const def of collectors) {
      expect(existsSync(new URL('harness.ts', casesDir(def.id))), `agent/collectors/${def.id}/cases/harness.ts`).toBe(true);
      expect(caseNames(casesDir(def.id)).length, `cases of ${def.id}`).toBeGreaterThan(0);
    }
  });

  for (const def of collectors) {
    describe(def.id, () => {
      const root = casesDir(def.id);
      it('has the cases its harness requires', async () => {
        const { harness } = (await import(new URL('harness.ts', root).href)) as { harness: GoldenHarness };
        const names = caseNames(root);
        expect((harness.requiredCases ?? []).filter((n) => !names.includes(n))).toEqual([]);
      });
      for (const name of existsSync(root) ? caseNames(root) : []) {
        it(name, async () => {
          const { harness } = (await import(new URL('harness.ts', root).href)) as { harness: GoldenHarness };
          const dir = new URL(`${name}/`, root);
          const file = (f: string): URL => new URL(f, dir);
          const meta = existsSync(file('case.json')) ? readJson<Record<string, unknown>>(file('case.json')) : {};

          let c: GoldenCase;
          let policyName = name;
          if (existsSync(file('policy.yaml'))) {
            // Through the real loader, so a policy that does not load is reported as an operator sees it.
            const text = readFileSync(file('policy.yaml'), 'utf8');
            const src = new YamlSource('policy.yaml', text);
            const loaded = parsePolicy(src, src.toJS(), [], new Map([[def.id, def]]), {});
            if (existsSync(file('issues.txt'))) {
              expect(loaded.policy).toBeUndefined();
              expectGolden(dir, 'issues.txt', loaded.issues.map(formatIssue).join('\n'));
              return;
            }
            expect(loaded.issues.map(formatIssue)).toEqual([]);
            const policy = loaded.policy!;
            expect(policy.collector).toBe(def.id);
            policyName = policy.name;
            const raw = (src.toJS() as { config?: Record<string, unknown> }).config ?? {};
            c = { name, dir, meta, raw, declared: policy.config, scope: policy.scope, scenario: await loadScenario(dir, def.id) };
          } else {
            // The PVE cases' first format: policy.json {config, scope}, the config read as written.
            const p = readJson<{ config: Record<string, unknown>; scope: Scope }>(file('policy.json'));
            c = { name, dir, meta, raw: p.config, declared: p.config, scope: p.scope, scenario: await loadScenario(dir, def.id) };
          }

          const run = await harness.start(c);
          server = run.server;
          const port = run.server?.port ?? run.port;
          const normalize = <T>(v: T): T => {
            let text = JSON.stringify(v).replaceAll(REPO, '<repo>');
            if (port !== undefined) text = text.replaceAll(`127.0.0.1:${port}`, '127.0.0.1:PORT');
            return JSON.parse(text) as T;
          };
          const collectCtx = testCollectContext(run.collectConfig, { scope: c.scope, policyName });
          ctx = collectCtx;
          const mctx = { config: run.mapConfig, scope: c.scope, now: harness.now, policyName };
          let snapshot: unknown;
          let error: string | undefined;
          // A collector that maps while collecting: its parts mapped and encoded as a run does, checked below.
          const parts = def.mapParts && { mapper: def.mapParts(mctx), encoder: new MessageEncoder({ shareNested: true }), encoded: [] as EncodedEntity[] };
          const takePart = (e: AnyEntity): void => {
            if (parts) parts.encoded.push(encodeEntityWith(parts.encoder, e));
          };
          if (parts) collectCtx.part = (p) => parts.mapper.part(p, takePart);
          try {
            snapshot = await def.collect(collectCtx);
          } catch (err) {
            // A collection that throws is a failed run (agent/pipeline/collect.ts): nothing is mapped or sent.
            error = (err as Error).message;
          }
          const warnings = harness.warningOrder === 'sorted' ? sortWarnings(collectCtx.warnings) : collectCtx.warnings;

          if (error !== undefined) {
            expectGolden(dir, 'error.txt', normalize(error));
            if (existsSync(file('expected.json'))) expectGolden(dir, 'expected.json', []);
          } else {
            expect(existsSync(file('error.txt')), 'error.txt names an error, but the collection did not fail').toBe(false);
            const mapped = def.map(snapshot, mctx);
            const entities = orderEntities(mapped);
            // Mappers return emission order (mappers/types.ts): ordering it again changes nothing.
            expect(mapped).toStrictEqual(entities);
            expectGolden(dir, 'expected.json', normalize(entities));
            if (def.mapEach) {
              // What a run maps one at a time is the same set, emitted in the same order once sorted…
              expect(orderEntities([...(def.mapEach(snapshot, mctx) as Iterable<AnyEntity>)])).toStrictEqual(entities);
              // …and encoded as a run does, with shared references written once, the bytes of each entity encoded alone.
              const encoder = new MessageEncoder({ shareNested: true });
              const streamed: EncodedEntity[] = [];
              for (const e of def.mapEach(snapshot, mctx) as Iterable<AnyEntity>) streamed.push(encodeEntityWith(encoder, e));
              const hex = (list: EncodedEntity[]) => list.map((e) => `${e.id} ${Buffer.from(e.body).toString('hex')}`);
              expect(hex(orderRun(streamed))).toEqual(hex(entities.map(encodeEntity)));
              if (parts) {
                // …and so is what was mapped part by part while collecting, with the rest mapped at the end.
                const summary = parts.mapper.end(snapshot, takePart);
                expect(hex(orderRun(parts.encoded))).toEqual(hex(entities.map(encodeEntity)));
                const each = def.mapEach(snapshot, mctx);
                let step = each.next();
                while (!step.done) step = each.next();
                expect(summary).toStrictEqual(step.value);
              }
            }
            harness.check?.(c, snapshot, entities);
          }
          expectGolden(dir, 'warnings.json', normalize(warnings));
          if (run.server) expectGolden(dir, 'requests.json', run.server.requests.map(run.requestLine ?? plainRequestLine).sort());
          else expect(existsSync(file('requests.json')), 'requests.json, but the case starts no fake').toBe(false);
        });
      }
    });
  }
});
