import protobuf from 'protobufjs';

/*
 * A protobuf encoder for the entity messages that writes the same bytes as protobufjs's
 * Type.encode, with two differences that matter at tens of thousands of entities:
 *
 * - it writes straight into one growing buffer instead of building a list of write
 *   operations per field (protobufjs allocates an Op object per field and a Writer per
 *   call: about 4 KB of garbage per entity, measured with the benchmark);
 * - a nested reference object (tag, site, cluster, platform…: SHARED_TYPES) met again
 *   within one encoder's life is written from the bytes of its first encoding: the
 *   mappers build each once (one helper per kind, mappers/common/refs.ts) and reuse it in
 *   every entity, never changing it afterwards, so its bytes stay valid even while mapping
 *   goes on (test/golden.test.ts encodes as a run does and compares, for every collector with mapEach).
 *
 * protobufjs semantics followed (src/encoder.js): fields in field-number order; a
 * singular field is written when present and not null, defaults included; a repeated
 * field when non-empty, scalars packed where proto3 packs them; map entries in
 * Object.keys order, key then value. Field types it does not know fall back to
 * protobufjs for that message, so the output never differs.
 */

type ScalarKind = 'string' | 'bool' | 'uint32' | 'int32' | 'int64' | 'double' | 'float' | 'bytes';

interface FieldPlan {
  name: string;
  /** Tag of one element (wire type of the element, or 2 when packed). */
  tag: number;
  kind: ScalarKind | 'message';
  message?: MessagePlan;
  repeated: boolean;
  packed: boolean;
  /** map<K, V>: key and value plans; `kind` is the value's. */
  mapKey?: ScalarKind;
}

interface MessagePlan {
  type: protobuf.Type;
  /** A reference type the mappers share between entities: worth remembering by object. */
  shared: boolean;
  fields: FieldPlan[];
  /** A field type this encoder does not handle: protobufjs encodes the message. */
  fallback: boolean;
  /** Index in `fields` of each field, by name. */
  byName: Map<string, number>;
}

const SCALAR: Record<string, ScalarKind | undefined> = {
  string: 'string',
  bool: 'bool',
  bytes: 'bytes',
  double: 'double',
  float: 'float',
  uint32: 'uint32',
  int32: 'int32',
  int64: 'int64',
  uint64: 'int64',
};
const WIRE: Record<ScalarKind, number> = { string: 2, bytes: 2, bool: 0, uint32: 0, int32: 0, int64: 0, double: 1, float: 5 };

/**
 * The references a run's entities share by object (mappers/common/refs.ts and the mappers'
 * memos): looking every nested message up by identity would cost more than it saves, and
 * a weak set of hundreds of thousands of one-off objects burdens the collector.
 */
const SHARED_TYPES: ReadonlySet<string> = new Set([
  'Tag',
  'Site',
  'Region',
  'SiteGroup',
  'Location',
  'Tenant',
  'Cluster',
  'ClusterType',
  'ClusterGroup',
  'Platform',
  'Manufacturer',
  'DeviceType',
  'DeviceRole',
  'Role',
]);

const plans = new Map<protobuf.Type, MessagePlan>();

function planOf(type: protobuf.Type): MessagePlan {
  let plan = plans.get(type);
  if (plan) return plan;
  plan = { type, shared: SHARED_TYPES.has(type.name), fields: [], fallback: false, byName: new Map() };
  plans.set(type, plan);
  for (const f of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    f.resolve();
    const resolved = f.resolvedType;
    const scalar = SCALAR[f.type];
    let kind: FieldPlan['kind'];
    let message: MessagePlan | undefined;
    if (resolved instanceof protobuf.Type) {
      kind = 'message';
      message = planOf(resolved);
    } else if (resolved instanceof protobuf.Enum) {
      kind = 'int32';
    } else if (scalar) {
      kind = scalar;
    } else {
      plan.fallback = true;
      continue;
    }
    if (f instanceof protobuf.MapField) {
      const mapKey = SCALAR[f.keyType];
      if (!mapKey) {
        plan.fallback = true;
        continue;
      }
      plan.fields.push({ name: f.name, tag: (f.id << 3) | 2, kind, ...(message && { message }), repeated: false, packed: false, mapKey });
      continue;
    }
    const packed = f.repeated && f.packed && kind !== 'message' && kind !== 'string' && kind !== 'bytes';
    const wire = kind === 'message' || packed ? 2 : WIRE[kind];
    plan.fields.push({ name: f.name, tag: (f.id << 3) | wire, kind, ...(message && { message }), repeated: f.repeated, packed });
  }
  for (const [i, f] of plan.fields.entries()) plan.byName.set(f.name, i);
  return plan;
}

export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes `n` (0 ≤ n < 2^53) as a varint at `offset`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}
const SLAB_BYTES = 256 * 1024;

/**
 * Encodes messages into one reused buffer. With `shareNested`, nested reference objects
 * (SHARED_TYPES) met more than once are written from the bytes of their first encoding:
 * only for a set of objects that no longer change (one run's mapped entities), so one
 * encoder per run.
 */
export class MessageEncoder {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;
  /**
   * Encoded messages are handed out as views of shared slabs: one small ArrayBuffer per
   * entity would cost an allocation and a GC-tracked backing store each.
   */
  private slab = Buffer.allocUnsafeSlow(0);
  private slabPos = 0;
  /** Field indices of the messages being written, innermost last (message()). */
  private readonly present: number[] = [];
  /** Content bytes of nested message objects seen more than once, with the type they were written as. */
  private readonly cache: WeakMap<object, { plan: MessagePlan; bytes: Uint8Array }> | undefined;
  /** Nested message objects seen once: the second sighting caches them. */
  private readonly seen: WeakSet<object> | undefined;

  constructor(opts: { shareNested?: boolean } = {}) {
    if (opts.shareNested) {
      this.cache = new WeakMap();
      this.seen = new WeakSet();
    }
  }

  /** `value` as message `type`; with `outerTag`, as that length-delimited field of an enclosing message. */
  encode(type: protobuf.Type, value: object, outerTag?: number): Uint8Array {
    this.pos = 0;
    const plan = planOf(type);
    if (outerTag === undefined) this.message(plan, value);
    else {
      this.varint(outerTag);
      const lenAt = this.reserveLength();
      this.message(plan, value);
      this.fixLength(lenAt);
    }
    return this.output();
  }

  /** A copy of what was written, in the current slab. */
  private output(): Uint8Array {
    const len = this.pos;
    if (this.slabPos + len > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, len));
      this.slabPos = 0;
    }
    const out = this.slab.subarray(this.slabPos, this.slabPos + len);
    this.buf.copy(out, 0, 0, len);
    this.slabPos += len;
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private varint(n: number): void {
    this.ensure(10);
    this.pos = writeVarint(this.buf, this.pos, n);
  }

  /** Reserves one byte for the length of what follows; fixLength fills it in (and makes room). */
  private reserveLength(): number {
    this.ensure(1);
    return this.pos++;
  }

  /**
   * A 64-bit integer from a number as protobufjs writes it (LongBits.fromNumber): the
   * fraction dropped, NaN and infinities as 0, negative values two's complement in ten bytes.
   */
  private signed(n: number): void {
    if (!Number.isFinite(n)) {
      this.varint(0);
      return;
    }
    if (n >= 0) {
      this.varint(Math.trunc(n));
      return;
    }
    let v = BigInt.asUintN(64, BigInt(Math.trunc(n)));
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  private string(s: string): void {
    const n = s.length;
    // Short ASCII strings (names, slugs, statuses: nearly all of them) are copied in JS; a
    // call into Buffer's UTF-8 writer costs more than the copy.
    if (n < 128) {
      this.ensure(n + 1);
      const b = this.buf;
      const lenAt = this.pos;
      let p = lenAt + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      if (i === n) {
        b[lenAt] = n;
        this.pos = p;
        return;
      }
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  private raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private scalar(kind: ScalarKind, v: unknown): void {
    switch (kind) {
      case 'string':
        this.string(String(v));
        return;
      case 'bool':
        this.varint(v ? 1 : 0);
        return;
      // protobufjs Writer: uint32 is `value >>> 0`; int32 is ToInt32, negative in ten bytes.
      case 'uint32':
        this.varint(Number(v) >>> 0);
        return;
      case 'int32': {
        const n = Number(v) | 0;
        if (n < 0) this.signed(n);
        else this.varint(n);
        return;
      }
      case 'int64':
        this.signed(Number(v));
        return;
      case 'double':
        this.ensure(8);
        this.buf.writeDoubleLE(Number(v), this.pos);
        this.pos += 8;
        return;
      case 'float':
        this.ensure(4);
        this.buf.writeFloatLE(Number(v), this.pos);
        this.pos += 4;
        return;
      case 'bytes': {
        const b = v as Uint8Array;
        this.varint(b.length);
        this.raw(b);
        return;
      }
    }
  }

  /** Length-prefixed message content, from the cache when this object was written before. */
  private delimited(plan: MessagePlan, value: object): void {
    if (!plan.shared || !this.cache) {
      const lenAt = this.reserveLength();
      this.message(plan, value);
      this.fixLength(lenAt);
      return;
    }
    const cached = this.cache.get(value);
    if (cached && cached.plan === plan) {
      this.varint(cached.bytes.length);
      this.raw(cached.bytes);
      return;
    }
    const lenAt = this.reserveLength();
    this.message(plan, value);
    if (this.seen?.has(value)) this.cache.set(value, { plan, bytes: Uint8Array.prototype.slice.call(this.buf, lenAt + 1, this.pos) });
    else this.seen?.add(value);
    this.fixLength(lenAt);
  }

  private message(plan: MessagePlan, value: object): void {
    if (plan.fallback) {
      this.raw(plan.type.encode(value).finish());
      return;
    }
    const m = value as Record<string, unknown>;
    /*
     * The object's own keys, as field indices in field-number order: a message type has
     * dozens of fields (an Interface over fifty) of which an entity sets a few, and looking
     * up every absent one cost more than the writing.
     */
    const present = this.present;
    const from = present.length;
    for (const k in m) {
      const i = plan.byName.get(k);
      if (i === undefined) continue;
      let j = present.length;
      present.push(i);
      while (j > from && (present[j - 1] as number) > i) {
        present[j] = present[j - 1] as number;
        j--;
      }
      present[j] = i;
    }
    const to = present.length;
    for (let p = from; p < to; p++) {
      const f = plan.fields[present[p] as number] as FieldPlan;
      const v = m[f.name];
      if (v == null) continue;
      if (f.mapKey) {
        const entries = v as Record<string, unknown>;
        for (const k of Object.keys(entries)) {
          const item = entries[k];
          this.varint(f.tag);
          const lenAt = this.reserveLength();
          this.varint((1 << 3) | WIRE[f.mapKey]);
          this.scalar(f.mapKey, k);
          if (f.message) {
            this.varint((2 << 3) | 2);
            this.delimited(f.message, item as object);
          } else if (f.kind !== 'message') {
            this.varint((2 << 3) | WIRE[f.kind]);
            this.scalar(f.kind, item);
          }
          this.fixLength(lenAt);
        }
        continue;
      }
      if (f.repeated) {
        const list = v as unknown[];
        if (!list.length) continue;
        if (f.packed && f.kind !== 'message') {
          this.varint(f.tag);
          const lenAt = this.reserveLength();
          for (const item of list) this.scalar(f.kind, item);
          this.fixLength(lenAt);
          continue;
        }
        for (const item of list) {
          this.varint(f.tag);
          if (f.message) this.delimited(f.message, item as object);
          else if (f.kind !== 'message') this.scalar(f.kind, item);
        }
        continue;
      }
      this.varint(f.tag);
      if (f.message) this.delimited(f.message, v as object);
      else if (f.kind !== 'message') this.scalar(f.kind, v);
    }
    present.length = from;
  }

  /** Writes the length of what follows the byte reserved at `lenAt`, moving it up when the length needs more bytes. */
  private fixLength(lenAt: number): void {
    const start = lenAt + 1;
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[lenAt] = len;
      return;
    }
    const extra = varintLength(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(start + extra, start, this.pos);
    this.pos = lenAt;
    this.varint(len);
    this.pos = start + extra + len;
  }
}
