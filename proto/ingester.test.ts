import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { renderProto, renderTypes } from '../scripts/gen-proto.mjs';

const protoFile = fileURLToPath(new URL('diode/v1/ingester.proto', import.meta.url));
// Committed beside the proto (netboxlabs/diode-sdk-python descriptor; `source` in the file), so this runs on a plain clone.
const schemaFile = fileURLToPath(new URL('diode-schema.json', import.meta.url));

describe('proto/diode/v1/ingester.proto', () => {
  it('is exactly what the Diode wire schema generates', () => {
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
    expect(readFileSync(protoFile, 'utf8')).toBe(renderProto(schema));
    expect(readFileSync(new URL('diode/v1/types.ts', import.meta.url), 'utf8')).toBe(renderTypes(schema));
  });

  it('has every message, field name, number and oneof of the schema', () => {
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as {
      messages: Record<string, Array<{ name: string; number: number; oneof?: string; repeated?: boolean; map?: unknown }>>;
    };
    const root = new protobuf.Root().loadSync(protoFile, { keepCase: true });
    expect(Object.keys(schema.messages)).toHaveLength(112);
    for (const [name, fields] of Object.entries(schema.messages)) {
      const t = root.lookupType(`diode.v1.${name}`);
      const byNumber = (a: [string, number], b: [string, number]) => a[1] - b[1];
      expect(t.fieldsArray.map((f): [string, number] => [f.name, f.id]).sort(byNumber)).toEqual(
        fields.map((f): [string, number] => [f.name, f.number]).sort(byNumber),
      );
      for (const f of fields) {
        const pf = t.fields[f.name]!;
        if (f.oneof) expect(pf.partOf?.name).toBe(f.oneof);
        expect(pf.repeated && !f.map).toBe(Boolean(f.repeated));
      }
    }
  });

  it('loads with @grpc/proto-loader and declares the unary Ingest method at the schema path', () => {
    const pkg = loadSync(protoFile, { keepCase: true });
    const svc = pkg['diode.v1.IngesterService'] as Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;
    expect(svc.Ingest).toMatchObject({ path: '/diode.v1.IngesterService/Ingest', requestStream: false, responseStream: false });
  });
});
