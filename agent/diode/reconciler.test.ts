import { describe, expect, it } from 'vitest';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { encodeEntity, EntityType, timestampField } from './codec.ts';
import { decodeRetrieveResponse, entityIdentity, IngestionLogType, outcomeOf, RetrieveIngestionLogsResponseType } from './reconciler.ts';
import type { AnyEntity } from '../../mappers/types.ts';

const vm = {
  kind: 'virtual_machine',
  value: { name: 'vm1', cluster: { name: 'c1', scope_site: { name: 'Lab' } }, status: 'active', custom_fields: { a: { text: '1' }, b: { integer: 2 } } },
} as AnyEntity;

describe('ingestion log → the agent entity', () => {
  it('matches a log entity sent back byte for byte by fingerprint, with its timestamp', () => {
    const e = encodeEntity(vm);
    const wire = Buffer.concat([timestampField(new Date('2026-11-21T10:00:00Z')), e.body]);
    expect(entityIdentity(wire)).toEqual({ fingerprint: e.fingerprint, id: e.id });
  });

  it('falls back to the natural key when Diode writes map entries in another order (Go maps)', () => {
    const e = encodeEntity(vm);
    const swapped = EntityType.encode({ virtual_machine: { ...vm.value, custom_fields: { b: { integer: 2 }, a: { text: '1' } } } }).finish();
    const ident = entityIdentity(swapped)!;
    expect(ident.fingerprint).not.toBe(e.fingerprint);
    expect(ident.id).toBe(e.id);
  });

  it('reads state names, request id, object type and error from the wire', () => {
    const bytes = RetrieveIngestionLogsResponseType.encode(
      RetrieveIngestionLogsResponseType.fromObject({
        logs: [
          {
            id: 'x',
            state: 'FAILED',
            request_id: 'r1',
            object_type: 'virtualization.virtualmachine',
            ingestion_ts: 1_700_000_000_000_000_000,
            entity: { virtual_machine: { name: 'vm1' } },
            error: { message: 'Field type is required', code: '400' },
          },
        ],
        next_page_token: 'AAAAZA==',
      }),
    ).finish();
    const page = decodeRetrieveResponse(bytes);
    expect(page.nextPageToken).toBe('AAAAZA==');
    expect(page.logs).toHaveLength(1);
    expect(page.logs[0]).toMatchObject({
      id: 'x',
      state: 'FAILED',
      requestId: 'r1',
      objectType: 'virtualization.virtualmachine',
      error: { message: 'Field type is required', code: '400' },
    });
    expect(outcomeOf(page.logs[0]!.state)).toBe('failed');
  });

  it('final states as the newest upstream proto numbers them; the others are not final', () => {
    expect(['APPLIED', 'NO_CHANGES', 'FAILED', 'ERRORED', 'IGNORED'].map(outcomeOf)).toEqual(['applied', 'no_changes', 'failed', 'failed', 'ignored']);
    expect(['STATE_UNSPECIFIED', 'QUEUED', 'OPEN', 'APPLYING', 'PENDING_RETRY'].map(outcomeOf)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const state = IngestionLogType.fields.state!.resolvedType as unknown as { values: Record<string, number> };
    expect(state.values).toEqual({
      STATE_UNSPECIFIED: 0,
      QUEUED: 1,
      OPEN: 2,
      APPLIED: 3,
      FAILED: 4,
      NO_CHANGES: 5,
      IGNORED: 6,
      ERRORED: 7,
      APPLYING: 8,
      PENDING_RETRY: 9,
    });
  });

  it('proto/diode/v1/reconciler.proto loads with @grpc/proto-loader: the unary RPC at its upstream path, the upstream field numbers', () => {
    const file = fileURLToPath(new URL('../../proto/diode/v1/reconciler.proto', import.meta.url));
    const pkg = loadSync(file, { keepCase: true, includeDirs: [fileURLToPath(new URL('../../proto/diode/v1/', import.meta.url))] });
    const svc = pkg['diode.v1.ReconcilerService'] as Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;
    expect(svc.RetrieveIngestionLogs).toMatchObject({ path: '/diode.v1.ReconcilerService/RetrieveIngestionLogs', requestStream: false, responseStream: false });
    expect(Object.fromEntries(IngestionLogType.fieldsArray.map((f) => [f.name, f.id]))).toEqual({
      id: 1,
      data_type: 2,
      state: 3,
      request_id: 4,
      ingestion_ts: 5,
      producer_app_name: 6,
      producer_app_version: 7,
      sdk_name: 8,
      sdk_version: 9,
      entity: 10,
      error: 11,
      change_set: 12,
      object_type: 13,
      source_ts: 14,
    });
  });
});
