import { z } from 'zod';

/*
 * Decoders for the loose types of the Proxmox APIs, shared by every collector, so a quirk
 * is coerced the same way at every edge: Perl (PVE) sends booleans as 0/1 (pve-common
 * src/PVE/JSONSchema.pm check_type) and some numbers as strings (`"vlan-id": "2"`, pve-common
 * src/PVE/INotify.pm; luthermonson/go-proxmox tests/mocks/pve9x network fixture); the Rust
 * servers (PBS, PDM) send real JSON types but accepting both costs
 * nothing and keeps one oddly typed field from costing a whole list.
 */

/** A number, or a numeric string. */
export const looseNumber = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(?:\.\d+)?$/, 'expected a number')
    .transform(Number),
]);
export const looseInt = looseNumber.pipe(z.number().int());

/** Perl booleans (0/1, "0"/"1") and real booleans ("true"/"false" too). */
export const looseBool = z.union([
  z.boolean(),
  z.literal([0, 1]).transform((n) => n === 1),
  z.literal(['0', '1', 'true', 'false']).transform((s) => s === '1' || s === 'true'),
]);

/** Text that means nothing when empty (a name or comment of "" is none). */
export const text = z.string().transform((s) => (s.trim() === '' ? undefined : s));

/** An optional field that Perl may also send as null (undef); both read as absent
 * (go-proxmox pve9x network fixture: `"exists": null`). */
export function opt<T extends z.ZodType>(schema: T) {
  return z.union([schema, z.null().transform(() => undefined)]).optional();
}

/**
 * An array whose bad items are dropped and reported through `onDrop`, so one odd row
 * (a PVE 9 `network` row, a half-written guest) does not cost the whole list.
 */
export function lenientList<T extends z.ZodType>(item: T, onDrop: (index: number, why: string) => void) {
  return z.array(z.unknown()).transform((items) => parseEach(item, items, onDrop));
}

/** The items of `rows` that `item` accepts; each rejected one is reported through `onDrop`.
 * Unlike lenientList it builds no schema, so a hot path can reuse one item schema. */
export function parseEach<T extends z.ZodType>(item: T, rows: readonly unknown[], onDrop: (index: number, why: string) => void): z.output<T>[] {
  const out: z.output<T>[] = [];
  const fast = fastPaths.get(item) as FastPath<z.output<T>> | undefined;
  for (let index = 0; index < rows.length; index++) {
    const raw = rows[index];
    if (fast) {
      const v = fast(raw);
      if (v !== UNSURE) {
        out.push(v);
        continue;
      }
    }
    const r = item.safeParse(raw);
    if (r.success) out.push(r.data as z.output<T>);
    else onDrop(index, summarizeIssues(r.error));
  }
  return out;
}

/*
 * Fast paths. zod builds its output through a generic walk of the schema (a result object
 * and a context per value, issue arrays, a union tried member by member), which at 10,000
 * guests was a good part of the agent's CPU per answer. A fast path is a hand-written
 * reader of the usual, well-formed shape that gives exactly what the schema would (the same
 * keys, in the same order, with the same values) or UNSURE for anything else; on UNSURE the
 * schema itself decides, so a bad item is still dropped with zod's own message and nothing
 * odd is accepted that the schema would not accept. fast-path.test.ts checks the two agree.
 */

/** A fast path's "ask the schema": the value is not of the plain shape it reads. */
export const UNSURE: unique symbol = Symbol('unsure');
export type FastPath<T> = (value: unknown) => T | typeof UNSURE;

const fastPaths = new WeakMap<z.ZodType, FastPath<unknown>>();

/** `schema`, with `fast` used before it by safeParseFast and parseEach. */
export function withFastPath<T extends z.ZodType>(schema: T, fast: FastPath<z.output<T>>): T {
  fastPaths.set(schema, fast);
  return schema;
}

/** schema.safeParse(value), through the schema's fast path when it has one and is sure. */
export function safeParseFast<T extends z.ZodType>(schema: T, value: unknown): z.ZodSafeParseResult<z.output<T>> {
  const fast = fastPaths.get(schema);
  if (fast) {
    const v = fast(value);
    if (v !== UNSURE) return { success: true, data: v as z.output<T> };
  }
  return schema.safeParse(value) as z.ZodSafeParseResult<z.output<T>>;
}

/** A JSON object (not null, not an array), as z.object accepts it. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/*
 * The fast readers of the loose decoders above, each giving what its schema gives or UNSURE.
 * Only the plain JSON types are read here; strings that hold numbers or booleans, and
 * nulls, go to the schema.
 */

/** z.number(): a finite number. */
export function fastNumber(v: unknown): number | typeof UNSURE {
  return typeof v === 'number' && Number.isFinite(v) ? v : UNSURE;
}

/** looseInt: z.number().int() takes safe integers only. */
export function fastInt(v: unknown): number | typeof UNSURE {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : UNSURE;
}

/** looseBool for a boolean, 0 or 1. */
export function fastBool(v: unknown): boolean | typeof UNSURE {
  if (typeof v === 'boolean') return v;
  return v === 1 ? true : v === 0 ? false : UNSURE;
}

/** z.string(). */
export function fastString(v: unknown): string | typeof UNSURE {
  return typeof v === 'string' ? v : UNSURE;
}

/** `text`: "" (or blanks) is none. */
export function fastText(v: unknown): string | undefined | typeof UNSURE {
  if (typeof v !== 'string') return UNSURE;
  return v.trim() === '' ? undefined : v;
}

/** The first three issues of a zod error as one line. */
export function summarizeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}
