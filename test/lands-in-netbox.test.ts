import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NetBoxDiodeModel, wireEntity, type IngestionLog } from './fakes/netbox-diode/model.ts';
import { deliveryPhase, DELIVERY_PHASES } from '../mappers/order.ts';
import type { EntityKind } from '../mappers/types.ts';

/*
 * Every golden case's entities, applied the way today's Diode applies them (the model in
 * test/fakes/netbox-diode/: each entity on its own, several workers, an order that is not the
 * emission order, references created from what they carry). Sent as the agent sends them:
 * phase by phase (mappers/order.ts DELIVERY_PHASES), each applied before the next.
 */

const ROOT = new URL('./cases/', import.meta.url);

type Mapped = { kind: string; value: object };

export function goldenCases(): Array<{ collector: string; name: string; entities: Mapped[] }> {
  const out: Array<{ collector: string; name: string; entities: Mapped[] }> = [];
  for (const collector of readdirSync(ROOT).sort()) {
    const dir = new URL(`${collector}/`, ROOT);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = new URL(`${name}/expected.json`, dir);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      out.push({ collector, name, entities: JSON.parse(text) as Mapped[] });
    }
  }
  return out;
}

let requests = 0;
/** One run as the agent delivers it: phase by phase, each drained before the next. */
export function applyRun(model: NetBoxDiodeModel, entities: readonly Mapped[]): IngestionLog[] {
  const logs: IngestionLog[] = [];
  for (let phase = 0; phase < DELIVERY_PHASES.length; phase++) {
    const part = entities.filter((e) => deliveryPhase(e.kind as EntityKind) === phase);
    if (part.length === 0) continue;
    model.ingest({ id: `req-${++requests}`, entities: part.map((e) => wireEntity(e.kind, e.value)) });
    logs.push(...model.drain());
  }
  return logs;
}

const describeFailures = (logs: IngestionLog[]) => logs.filter((l) => l.state === 'failed').map((l) => `${l.member}: ${l.error ?? ''}`);
const changed = (logs: IngestionLog[]) => logs.filter((l) => l.state !== 'no_changes').map((l) => `${l.member} ${l.state}: ${JSON.stringify(l.changes)}`);

/** Object types with two rows of one identity. */
export function duplicatesIn(model: NetBoxDiodeModel): string[] {
  return Object.keys(model.dump()).flatMap((type) => model.duplicates(type).map((rows) => `${type}: ${rows.map((r) => model.keyOf(type, r)).join(' = ')}`));
}

const cases = goldenCases();

describe('golden cases land in NetBox as Diode applies them', () => {
  it('covers every collector', () => {
    expect([...new Set(cases.map((c) => c.collector))]).toEqual(['ceph', 'packer', 'pbs', 'pdm', 'pve']);
  });

  for (const c of cases) {
    it(`${c.collector}/${c.name}: no failed entity, no duplicate, no change on a repeated run`, () => {
      const model = new NetBoxDiodeModel({ seed: 7 });
      const first = applyRun(model, c.entities);
      expect(describeFailures(first)).toEqual([]);
      expect(first).toHaveLength(c.entities.length);
      expect(duplicatesIn(model)).toEqual([]);
      const again = applyRun(model, c.entities);
      expect(changed(again)).toEqual([]);
    });
  }

  it('ends in the same NetBox whatever order the workers take', () => {
    const all = cases.filter((c) => c.collector === 'pve' && c.name === 'multi-node-cluster')[0]!;
    const dumps = [1, 2, 3].map((seed) => {
      const m = new NetBoxDiodeModel({ seed, workers: 4 });
      applyRun(m, all.entities);
      return m.dump();
    });
    expect(dumps[1]).toEqual(dumps[0]);
    expect(dumps[2]).toEqual(dumps[0]);
  });
});
