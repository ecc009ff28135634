import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { AnyEntity } from '../../mappers/types.ts';
import { EntityType, encodeEntity, encodeEntityWith, protoRoot } from './codec.ts';
import { MessageEncoder } from './message-encoder.ts';
import { goldenCases } from '../../test/helpers/netbox-model.ts';

/*
 * The encoder must write exactly what protobufjs writes: fingerprints, dry-run files and
 * every byte sent to Diode depend on it. Checked against protobufjs on every entity of
 * every golden case (all five collectors), with nested objects shared the way the mappers
 * share them, and on edge values.
 */

const reference = (e: AnyEntity): Uint8Array => EntityType.encode({ [e.kind]: e.value }).finish();

const goldenEntities = goldenCases().flatMap((c) => c.entities) as AnyEntity[];

/** Replaces equal nested objects by one instance, as the mappers' memoized references are. */
function share(entities: AnyEntity[]): AnyEntity[] {
  const canon = new Map<string, unknown>();
  const intern = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(intern);
    if (v === null || typeof v !== 'object') return v;
    const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, intern(x)]));
    const key = JSON.stringify(o);
    const hit = canon.get(key);
    if (hit) return hit;
    canon.set(key, o);
    return o;
  };
  return entities.map((e) => ({ kind: e.kind, value: Object.fromEntries(Object.entries(e.value).map(([k, x]) => [k, intern(x)])) }) as AnyEntity);
}

describe('MessageEncoder', () => {
  it('writes the bytes protobufjs writes for every golden entity of every collector', () => {
    expect(goldenEntities.length).toBeGreaterThan(500);
    expect(new Set(goldenEntities.map((e) => e.kind)).size).toBeGreaterThan(12);
    for (const e of goldenEntities) expect(Buffer.from(encodeEntity(e).body).toString('hex')).toBe(Buffer.from(reference(e)).toString('hex'));
  });

  it('writes shared nested objects from their first encoding, with the same bytes', () => {
    const shared = share(goldenEntities);
    const encoder = new MessageEncoder({ shareNested: true });
    // Twice over: the second pass is served from the cache for every shared reference.
    for (const pass of [1, 2]) {
      for (const e of shared) {
        expect(Buffer.from(encodeEntityWith(encoder, e).body).toString('hex'), `pass ${pass}`).toBe(Buffer.from(reference(e)).toString('hex'));
      }
    }
  });

  it("does not reuse an object's bytes for another message type", () => {
    const encoder = new MessageEncoder({ shareNested: true });
    // Written as a Site it has no colour field, as a Tag it has: the bytes differ.
    const ref = { name: 'lab', slug: 'lab', color: 'ff0000' };
    const a: AnyEntity = { kind: 'virtual_machine', value: { name: 'a', site: ref, tags: [ref, ref] } } as AnyEntity;
    for (let i = 0; i < 3; i++) expect(encodeEntityWith(encoder, a).body).toEqual(reference(a));
  });

  it('matches protobufjs on edge values: lengths over 127 and 16383 bytes, non-ASCII, zero, negatives, fractions', () => {
    const long = 'x'.repeat(20_000);
    const entities = [
      { kind: 'virtual_machine', value: { name: 'ü–✓ 🙂', comments: long, vcpus: 0.25, memory: 0, disk: 2 ** 40, status: 'active' } },
      { kind: 'virtual_machine', value: { name: 'n', comments: 'y'.repeat(200), vcpus: -1.5, memory: 3.9 } },
      { kind: 'device', value: { name: 'd', custom_fields: { a: { integer: -1 }, b: { text: '' }, c: { boolean: false } }, tags: [] } },
    ] as unknown as AnyEntity[];
    for (const e of entities) expect(Buffer.from(encodeEntity(e).body).toString('hex')).toBe(Buffer.from(reference(e)).toString('hex'));
  });

  it('matches protobufjs on arbitrary IP address messages', () => {
    const Ip = protoRoot.lookupType('diode.v1.IPAddress');
    const encoder = new MessageEncoder({ shareNested: true });
    fc.assert(
      fc.property(
        fc.record(
          {
            address: fc.string(),
            status: fc.constantFrom('active', 'reserved'),
            description: fc.string({ maxLength: 300 }),
            tags: fc.array(fc.record({ name: fc.string(), slug: fc.string() }), { maxLength: 4 }),
            custom_fields: fc.dictionary(
              fc.string({ maxLength: 8 }),
              fc.oneof(fc.record({ integer: fc.integer() }), fc.record({ text: fc.string() }), fc.record({ decimal: fc.double({ noNaN: true }) })),
              { maxKeys: 3 },
            ),
          },
          { requiredKeys: ['address'] },
        ),
        (v) => {
          expect(Buffer.from(encoder.encode(Ip, v))).toEqual(Buffer.from(Ip.encode(v).finish()));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches protobufjs on integer corner cases of every integer type', () => {
    const root = protobuf.parse('syntax = "proto3"; message N { int32 a = 1; int64 b = 2; uint32 c = 3; uint64 d = 4; repeated int64 e = 5; }').root;
    const N = root.lookupType('N');
    for (const x of [0, 1, 127, 128, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, -1, -(2 ** 31), -(2 ** 40), 1.9, -1.9, Number.NaN, Number.POSITIVE_INFINITY]) {
      const v = { a: x, b: x, c: x, d: Math.abs(x), e: [x, 0, x] };
      expect(Buffer.from(new MessageEncoder().encode(N, v)).toString('hex'), String(x)).toBe(Buffer.from(N.encode(v).finish()).toString('hex'));
    }
  });

  it('falls back to protobufjs for a field type it does not write itself', () => {
    const root = protobuf.parse('syntax = "proto3"; message M { sint32 a = 1; string b = 2; }').root;
    const M = root.lookupType('M');
    expect(new MessageEncoder().encode(M, { a: -3, b: 'x' })).toEqual(M.encode({ a: -3, b: 'x' }).finish());
  });
});
