import protobuf from 'protobufjs';

/*
 * proto3 JSON with the proto field names (snake_case), as Python's
 * json_format.MessageToJson(preserving_proto_field_name=True) writes it, which is what
 * Diode's dry-run files hold: int64 as strings, Timestamp as RFC 3339, Struct as plain
 * JSON, default values of implicit-presence fields omitted.
 */
type Msg = Record<string, unknown>;

function isExplicit(field: protobuf.Field): boolean {
  return Boolean(field.partOf) || field.resolvedType instanceof protobuf.Type;
}

function isDefault(v: unknown): boolean {
  return (
    v === '' ||
    v === 0 ||
    v === false ||
    (v instanceof Uint8Array && v.length === 0) ||
    (typeof v === 'object' && v !== null && 'low' in v && 'high' in v && (v as { low: number; high: number }).low === 0 && (v as { high: number }).high === 0)
  );
}

function scalarToJson(field: protobuf.Field, v: unknown): unknown {
  if (field.type === 'int64' || field.type === 'uint64' || field.type === 'sint64' || field.type === 'fixed64' || field.type === 'sfixed64') return String(v);
  if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  return v;
}

function valueToJson(v: Msg): unknown {
  if ('null_value' in v && v.null_value !== undefined) return null;
  if ('number_value' in v && v.number_value !== undefined) return v.number_value;
  if ('string_value' in v && v.string_value !== undefined) return v.string_value;
  if ('bool_value' in v && v.bool_value !== undefined) return v.bool_value;
  if ('struct_value' in v && v.struct_value) return structToJson(v.struct_value as Msg);
  if ('list_value' in v && v.list_value) return (((v.list_value as Msg).values as Msg[] | undefined) ?? []).map(valueToJson);
  return null;
}

function structToJson(s: Msg): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((s.fields as Record<string, Msg> | undefined) ?? {})) out[k] = valueToJson(v);
  return out;
}

function jsonToValue(v: unknown): Msg {
  if (v === null) return { null_value: 0 };
  if (typeof v === 'number') return { number_value: v };
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (Array.isArray(v)) return { list_value: { values: v.map(jsonToValue) } };
  return { struct_value: jsonToStruct(v as Record<string, unknown>) };
}

function jsonToStruct(o: Record<string, unknown>): Msg {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, jsonToValue(v)])) };
}

function timestampToJson(t: Msg): string {
  const seconds = Number(String(t.seconds ?? 0));
  const nanos = Number(t.nanos ?? 0);
  const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  if (nanos === 0) return `${iso}Z`;
  const nine = String(nanos).padStart(9, '0');
  const frac = nine.endsWith('000000') ? nine.slice(0, 3) : nine.endsWith('000') ? nine.slice(0, 6) : nine;
  return `${iso}.${frac}Z`;
}

function jsonToTimestamp(s: string): Msg {
  const m = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(s);
  if (!m) throw new Error(`invalid timestamp ${s}`);
  const seconds = Math.floor(Date.parse(`${m[1]}Z`) / 1000);
  if (!Number.isFinite(seconds)) throw new Error(`invalid timestamp ${s}`);
  const nanos = Number((m[2] ?? '').padEnd(9, '0'));
  return nanos ? { seconds, nanos } : { seconds };
}

function messageToJson(type: protobuf.Type, v: Msg): unknown {
  if (type.fullName === '.google.protobuf.Timestamp') return timestampToJson(v);
  if (type.fullName === '.google.protobuf.Struct') return structToJson(v);
  return toProto3Json(type, v);
}

export function toProto3Json(type: protobuf.Type, msg: Msg): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    // Decoded protobufjs messages expose defaults through the prototype; only fields that
    // were on the wire are own properties.
    if (!Object.hasOwn(msg, field.name)) continue;
    const v = msg[field.name];
    if (v === undefined || v === null) continue;
    const rt = field.resolvedType;
    if (field.map) {
      const entries = Object.entries(v as Msg);
      if (entries.length === 0) continue;
      out[field.name] = Object.fromEntries(entries.map(([k, x]) => [k, rt instanceof protobuf.Type ? messageToJson(rt, x as Msg) : scalarToJson(field, x)]));
    } else if (field.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      out[field.name] = arr.map((x) => (rt instanceof protobuf.Type ? messageToJson(rt, x as Msg) : scalarToJson(field, x)));
    } else if (rt instanceof protobuf.Type) {
      out[field.name] = messageToJson(rt, v as Msg);
    } else {
      if (!isExplicit(field) && isDefault(v)) continue;
      out[field.name] = scalarToJson(field, v);
    }
  }
  return out;
}

function messageFromJson(type: protobuf.Type, v: unknown): unknown {
  if (type.fullName === '.google.protobuf.Timestamp') return jsonToTimestamp(String(v));
  if (type.fullName === '.google.protobuf.Struct') return jsonToStruct(v as Record<string, unknown>);
  return fromProto3JsonPlain(type, v as Msg);
}

function fromProto3JsonPlain(type: protobuf.Type, json: Msg): Msg {
  const out: Msg = {};
  for (const [name, v] of Object.entries(json)) {
    const field = type.fields[name];
    if (!field) throw new Error(`unknown field ${type.name}.${name}`);
    field.resolve();
    const rt = field.resolvedType;
    if (!(rt instanceof protobuf.Type)) {
      out[name] = v;
    } else if (field.map) {
      out[name] = Object.fromEntries(Object.entries(v as Msg).map(([k, x]) => [k, messageFromJson(rt, x)]));
    } else if (field.repeated) {
      out[name] = (v as unknown[]).map((x) => messageFromJson(rt, x));
    } else {
      out[name] = messageFromJson(rt, v);
    }
  }
  return out;
}

/** proto3 JSON (snake_case) → a protobufjs message of `type`. */
export function fromProto3Json(type: protobuf.Type, json: Record<string, unknown>): protobuf.Message {
  return type.fromObject(fromProto3JsonPlain(type, json));
}
