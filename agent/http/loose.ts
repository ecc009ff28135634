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
  rows.forEach((raw, index) => {
    const r = item.safeParse(raw);
    if (r.success) out.push(r.data as z.output<T>);
    else onDrop(index, summarizeIssues(r.error));
  });
  return out;
}

/** The first three issues of a zod error as one line. */
export function summarizeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}
