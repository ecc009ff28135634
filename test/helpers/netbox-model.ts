import { readFileSync } from 'node:fs';
import { casesDir, collectorFolders } from './collectors.ts';
import { caseNames } from './golden.ts';
import { type NetBoxDiodeModel, wireEntity, type IngestionLog } from '../fakes/netbox-diode/model.ts';
import { deliveryPhase, DELIVERY_PHASES } from '../../mappers/order.ts';
import type { FakeDiodeIngester } from '../fakes/diode-ingester.ts';
import type { EntityKind } from '../../mappers/types.ts';

/*
 * Feeding the NetBox/Diode model (test/fakes/netbox-diode/) the way the agent delivers:
 * phase by phase (mappers/order.ts DELIVERY_PHASES), each applied before the next.
 */

type Mapped = { kind: string; value: object };

export function goldenCases(): Array<{ collector: string; name: string; entities: Mapped[] }> {
  const out: Array<{ collector: string; name: string; entities: Mapped[] }> = [];
  for (const collector of collectorFolders()) {
    const dir = casesDir(collector);
    for (const name of caseNames(dir)) {
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
/** Decoded entities (as the ingester records them) phase by phase, each drained before the next. */
export function deliverWire(model: NetBoxDiodeModel, entities: ReadonlyArray<Record<string, unknown>>): IngestionLog[] {
  const memberOf = (e: Record<string, unknown>): string => Object.keys(e).find((k) => k !== 'timestamp') ?? '';
  const logs: IngestionLog[] = [];
  for (let phase = 0; phase < DELIVERY_PHASES.length; phase++) {
    const part = entities.filter((e) => deliveryPhase(memberOf(e) as EntityKind) === phase);
    if (part.length === 0) continue;
    model.ingest({ id: `req-${++requests}`, entities: part });
    logs.push(...model.drain());
  }
  return logs;
}

/** One run of mapped entities as the agent delivers it (see deliverWire). */
export function applyRun(model: NetBoxDiodeModel, entities: readonly Mapped[]): IngestionLog[] {
  return deliverWire(
    model,
    entities.map((e) => wireEntity(e.kind, e.value)),
  );
}

export const describeFailures = (logs: IngestionLog[]) => logs.filter((l) => l.state === 'failed').map((l) => `${l.member}: ${l.error ?? ''}`);
export const changed = (logs: IngestionLog[]) =>
  logs.filter((l) => l.state !== 'no_changes').map((l) => `${l.member} ${l.state}: ${JSON.stringify(l.changes)}`);

/** Object types with two rows of one identity. */
export function duplicatesIn(model: NetBoxDiodeModel): string[] {
  return Object.keys(model.dump()).flatMap((type) => model.duplicates(type).map((rows) => `${type}: ${rows.map((r) => model.keyOf(type, r)).join(' = ')}`));
}

/**
 * Puts the model behind a fake Diode: every accepted request is ingested into it, and the
 * reconciler's ingestion logs (the agent's read-back) are the model's, after it has applied
 * what it holds.
 */
export function modelBehind(ingester: FakeDiodeIngester, model: NetBoxDiodeModel): void {
  ingester.onAccepted = (r) => model.ingest(r);
  ingester.reconciler = (requestId) => {
    model.drain();
    return model
      .logs({ requestId })
      .map((l) => ({ requestId: l.requestId, index: l.index, objectType: l.objectType, state: l.state, ...(l.error !== undefined && { error: l.error }) }));
  };
}
