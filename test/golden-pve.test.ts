import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectPve } from '../agent/collectors/pve/collect.ts';
import { pveConfigSchema } from '../agent/collectors/pve/config.ts';
import type { Warning } from '../agent/collectors/types.ts';
import { mapPve, mapPveEach } from '../mappers/pve/index.ts';
import { orderEntities, sortByEmission } from '../mappers/order.ts';
import { encodeEntity, encodeEntityWith, type EncodedEntity } from '../agent/diode/codec.ts';
import { MessageEncoder } from '../agent/diode/message-encoder.ts';
import { startFakePve, type PveScenario } from './fakes/pve-server.ts';
import { testCollectContext } from './helpers/collect-context.ts';

/*
 * Golden cases: test/cases/pve/<case>/ holds scenario.json (or scenario.ts), policy.json
 * ({config, scope}) and the contract: expected.json (the mapper's exact entity list),
 * warnings.json (the run's warnings, sorted) and requests.json (every request the fake
 * received, sorted). UPDATE_GOLDEN=1 rewrites the three contract files; read the diff.
 */

const ROOT = new URL('./cases/pve/', import.meta.url);
const NOW = new Date('2025-06-01T12:00:00Z');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface Policy {
  config: Record<string, unknown>;
  scope: { nodes: string[] };
}

const readJson = (url: URL): unknown => JSON.parse(readFileSync(url, 'utf8'));

async function loadScenario(dir: URL): Promise<PveScenario> {
  const ts = new URL('scenario.ts', dir);
  if (existsSync(ts)) return ((await import(ts.href)) as { default: PveScenario }).default;
  return readJson(new URL('scenario.json', dir)) as PveScenario;
}

function check(dir: URL, file: string, actual: unknown): void {
  const url = new URL(file, dir);
  if (UPDATE) {
    writeFileSync(url, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  expect(existsSync(url), `${file} is missing; run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  // A JSON round trip, so `undefined` members count as absent, as they are on the wire.
  expect(JSON.parse(JSON.stringify(actual))).toEqual(readJson(url));
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortWarnings = (ws: Warning[]): Warning[] => [...ws].sort((a, b) => byText(a.code, b.code) || byText(a.subject, b.subject) || byText(a.message, b.message));

const cases = readdirSync(ROOT).filter((name) => statSync(new URL(`${name}/`, ROOT)).isDirectory()).sort();

describe('PVE golden cases', () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(14);
  });

  for (const name of cases) {
    it(name, async () => {
      const dir = new URL(`${name}/`, ROOT);
      const policy = readJson(new URL('policy.json', dir)) as Policy;
      const scenario = await loadScenario(dir);
      const user = typeof policy.config.PROXMOX_USER === 'string' ? policy.config.PROXMOX_USER : 'root@pam';
      const server = await startFakePve(scenario, {
        tokenId: `${user}!${String(policy.config.PROXMOX_TOKEN_NAME ?? 'netbox')}`,
        secret: String(policy.config.PROXMOX_TOKEN_VALUE ?? 'golden-secret'),
      });
      const config = pveConfigSchema.parse({ ...policy.config, PROXMOX_PORT: server.port });
      const ctx = testCollectContext(config, { scope: policy.scope, policyName: `golden-${name}` });
      try {
        const snapshot = await collectPve(ctx);
        const mctx = { config, scope: policy.scope, now: NOW, policyName: `golden-${name}` };
        const entities = mapPve(snapshot, mctx);
        if (config.BOOTSTRAP) expect(server.requests).toHaveLength(0);
        check(dir, 'expected.json', entities);
        // What a run maps one at a time (mapPveEach) is the same set, emitted in the same order once sorted.
        expect(orderEntities([...mapPveEach(snapshot, mctx)])).toStrictEqual(entities);
        // And encoded as a run does, each entity as it is mapped with shared references written
        // once, the bytes are those of each entity encoded on its own.
        const encoder = new MessageEncoder({ shareNested: true });
        const streamed: EncodedEntity[] = [];
        for (const e of mapPveEach(snapshot, mctx)) streamed.push(encodeEntityWith(encoder, e));
        const hex = (list: EncodedEntity[]) => list.map((e) => `${e.id} ${Buffer.from(e.body).toString('hex')}`);
        expect(hex(sortByEmission(streamed))).toEqual(hex(entities.map(encodeEntity)));
        check(dir, 'warnings.json', sortWarnings(ctx.warnings));
        check(dir, 'requests.json', server.requests.map((r) => `${r.method} ${r.path}${r.query.size ? `?${r.query}` : ''}`).sort());
      } finally {
        await ctx.close();
        await server.close();
      }
    });
  }
});
