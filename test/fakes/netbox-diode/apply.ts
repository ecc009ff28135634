/*
 * P applier.py `apply_changeset`: the changes of one entity, in order, in one transaction
 * (P views.py `_apply_one_changeset`: transaction.atomic per entity). Any error rolls the
 * whole entity back.
 */
import { findExisting, Unresolved } from './matcher.ts';
import { ValidationError, type NetBox, type Row } from './netbox.ts';
import type { Change } from './plan.ts';
import { specOf } from './schema.ts';

export interface AppliedChange {
  /** `bind`: a create that resolved onto an existing row without writing to it. */
  action: 'create' | 'update' | 'bind';
  objectType: string;
  id: number;
}

export class ApplyError extends Error {}

function resolve(v: unknown, created: Map<string, Row>, type: string): unknown {
  if (v instanceof Unresolved) {
    const row = created.get(v.uuid);
    // P applier.py: a dangling "new_object:..." reference is a per-entity error.
    if (!row) throw new ApplyError(`${type}: __all__: unresolved reference ${v.toString()} applying ${type}`);
    return row.id;
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, created, type));
  return v;
}

export function applyChanges(nb: NetBox, changes: Change[]): AppliedChange[] {
  const tx = nb.snapshot();
  const done: AppliedChange[] = [];
  const created = new Map<string, Row>();
  try {
    for (const c of changes) {
      const spec = specOf(c.objectType);
      if (!spec) throw new ApplyError(`${c.objectType}: __all__: not modelled`);
      const data: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.data)) data[k] = resolve(v, created, c.objectType);
      if (c.changeType === 'create') {
        let row: Row | undefined;
        let action: AppliedChange['action'] = 'create';
        // Auto-created components and `_REQUIRES_PRE_SAVE_MATCH` types look for the row
        // first and apply the payload to it (`_try_find_and_update_existing_instance`).
        if (spec.autoCreatedComponent || spec.preSaveMatch) {
          const hit = findExisting(nb, c.objectType, { data });
          if (hit) {
            row = nb.update(c.objectType, hit.id, data);
            action = 'update';
          }
        }
        if (!row) {
          try {
            row = nb.create(c.objectType, data);
          } catch (e) {
            // `_create_or_find_instance`: on ValidationError/IntegrityError bind to the row
            // the matcher finds (nothing written to it); if there is none, re-raise.
            if (!(e instanceof ValidationError)) throw e;
            const hit = findExisting(nb, c.objectType, { data });
            if (!hit) throw e;
            row = hit;
            action = 'bind';
          }
        }
        if (c.refId) created.set(c.refId, row);
        done.push({ action, objectType: c.objectType, id: row.id });
      } else {
        const target = c.objectId ?? (c.refId ? created.get(c.refId)?.id : undefined);
        if (target === undefined) throw new ApplyError(`${c.objectType}: object_id: ${c.objectType} with id ${String(c.objectId)} does not exist`);
        const row = nb.update(c.objectType, target, data);
        done.push({ action: 'update', objectType: c.objectType, id: row.id });
      }
    }
    return done;
  } catch (e) {
    nb.restore(tx);
    if (e instanceof ValidationError) {
      throw new ApplyError(
        Object.entries(e.errors)
          .map(([f, m]) => `${e.objectType}: ${f}: ${m.join(' ')}`)
          .join('; '),
      );
    }
    throw e;
  }
}
