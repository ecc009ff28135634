import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEntity, type EncodedEntity } from '../diode/codec.ts';
import { compareEmission, sortByEmission } from '../../mappers/order.ts';
import { entity, type EntityKind } from '../../mappers/types.ts';
import { mergeInOrder, orderRun } from './order.ts';

const tag = (name: string) => encodeEntity(entity('tag', { name, slug: name }));
const vm = (name: string) => encodeEntity(entity('virtual_machine', { name, cluster: { name: 'c' } }));
const field = (name: string) => encodeEntity(entity('custom_field', { name, type: 'boolean', object_types: ['virtualization.virtualmachine'] }));
const ids = (list: readonly EncodedEntity[]) => list.map((e) => e.id);

describe('order once', () => {
  it('orderRun sorts by the emission table: kind rank, then natural key', () => {
    expect(ids(orderRun([vm('b'), tag('x'), vm('a'), field('f')]))).toEqual(['tag|x', 'custom_field|f', 'virtual_machine|/c/a', 'virtual_machine|/c/b']);
  });

  it('sortByEmission is a stable sort by compareEmission, for kinds in and outside the table and equal keys', () => {
    const kinds = ['virtual_machine', 'tag', 'custom_field', 'device', 'ip_address', 'zz_unknown', 'aa_unknown'] as unknown as EntityKind[];
    const item = fc.record({ kind: fc.constantFrom(...kinds), key: fc.constantFrom('a', 'b', 'c', '/x/a', '') });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 60 }), (raw) => {
        const items = raw.map((x, n) => ({ ...x, n }));
        const stable = [...items].sort((a, b) => compareEmission(a.kind, a.key, b.kind, b.key) || a.n - b.n);
        expect(sortByEmission([...items]).map((x) => x.n)).toEqual(stable.map((x) => x.n));
      }),
    );
  });

  it('orderRun returns an ordered list itself, unsorted', () => {
    const ordered = [tag('x'), vm('a')];
    expect(orderRun(ordered)).toBe(ordered);
  });

  it('mergeInOrder puts each extra where a stable sort of both lists would, ordered entities first on a tie', () => {
    const ordered = [tag('a'), tag('m'), vm('b'), vm('d')];
    const extra = [vm('e'), field('stale'), vm('c'), tag('b'), vm('a')];
    const merged = mergeInOrder(ordered, extra);
    expect(ids(merged)).toEqual([
      'tag|a',
      'tag|b',
      'tag|m',
      'custom_field|stale',
      'virtual_machine|/c/a',
      'virtual_machine|/c/b',
      'virtual_machine|/c/c',
      'virtual_machine|/c/d',
      'virtual_machine|/c/e',
    ]);
    expect(ids(merged)).toEqual(ids(orderRun([...ordered, ...extra])));
    const twin = tag('m');
    expect(mergeInOrder(ordered, [twin])[1]).toBe(ordered[1]);
    expect(mergeInOrder(ordered, [twin])[2]).toBe(twin);
  });

  it('mergeInOrder without extras is the ordered list itself (no copy of a large run)', () => {
    const ordered = [tag('a'), vm('b')];
    expect(mergeInOrder(ordered, [])).toBe(ordered);
  });
});
