/*
 * The entity as the plugin receives it. The reconciler sends each entity to the plugin as
 * protoJSON: D `diode-server/netboxdiodeplugin/client.go` `protoToJSON` uses
 * `protojson.MarshalOptions{UseProtoNames: true}` (EmitUnpopulated false). So fields without
 * presence that hold their zero value (0, "", false), empty repeated fields and empty maps are
 * NOT sent, while a set oneof member, a proto3 `optional` field and a message (even an empty
 * one) are. Timestamps become RFC 3339 strings. int64 stays a number here: the plugin turns
 * protoJSON's int64 strings back into ints (P plugin_utils.py `int_from_int64string`).
 */
import protobuf from 'protobufjs';
import { EntityType } from '../../../agent/diode/codec.ts';

function hasPresence(f: protobuf.Field): boolean {
  return (f as unknown as { hasPresence?: boolean }).hasPresence ?? f.partOf !== null;
}

function isZero(v: unknown): boolean {
  return v === 0 || v === '' || v === false || (v instanceof Uint8Array && v.length === 0);
}

function timestamp(v: Record<string, unknown>): string {
  const ms = Number(v.seconds ?? 0) * 1000 + Math.floor(Number(v.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function view(type: protobuf.Type, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    f.resolve();
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const msg = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const one = (x: unknown): unknown => {
      if (!msg) return x;
      if (msg.fullName === '.google.protobuf.Timestamp') return timestamp(x as Record<string, unknown>);
      if (msg.fullName === '.google.protobuf.Struct') return x;
      return view(msg, x as Record<string, unknown>);
    };
    if (f.map) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length) out[f.name] = Object.fromEntries(entries.map(([k, x]) => [k, one(x)]));
    } else if (f.repeated) {
      if ((v as unknown[]).length) out[f.name] = (v as unknown[]).map(one);
    } else if (msg) out[f.name] = one(v);
    else if (hasPresence(f) || !isZero(v)) out[f.name] = v;
  }
  return out;
}

/** `{ member, json }` of a decoded Entity (`{ <member>: value, timestamp }`). */
export function entityJson(entity: Record<string, unknown>): { member: string; json: Record<string, unknown> } {
  const member = Object.keys(entity).find((k) => k !== 'timestamp');
  if (!member) throw new Error('entity has no member');
  const field = EntityType.fields[member];
  if (!field) throw new Error(`unknown entity member ${member}`);
  field.resolve();
  const type = field.resolvedType as protobuf.Type;
  return { member, json: view(type, entity[member] as Record<string, unknown>) };
}
