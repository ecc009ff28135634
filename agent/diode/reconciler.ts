import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { AnyEntity } from '../../mappers/types.ts';
import { naturalKey } from '../../mappers/keys.ts';
import { fingerprint } from './codec.ts';

const INGESTER = fileURLToPath(new URL('../../proto/diode/v1/ingester.proto', import.meta.url));
const RECONCILER = fileURLToPath(new URL('../../proto/diode/v1/reconciler.proto', import.meta.url));

/** A root of its own: the reconciler messages import Entity from ingester.proto. */
export const reconcilerRoot = new protobuf.Root().loadSync([INGESTER, RECONCILER], { keepCase: true });
export const RetrieveIngestionLogsRequestType = reconcilerRoot.lookupType('diode.v1.RetrieveIngestionLogsRequest');
export const RetrieveIngestionLogsResponseType = reconcilerRoot.lookupType('diode.v1.RetrieveIngestionLogsResponse');
export const IngestionLogType = reconcilerRoot.lookupType('diode.v1.IngestionLog');
const EntityMsg = reconcilerRoot.lookupType('diode.v1.Entity');

/** diode.v1.State names (proto/diode/v1/reconciler.proto), as protobufjs writes enums as strings. */
export type LogState =
  | 'STATE_UNSPECIFIED' | 'QUEUED' | 'OPEN' | 'APPLIED' | 'FAILED' | 'NO_CHANGES'
  | 'IGNORED' | 'ERRORED' | 'APPLYING' | 'PENDING_RETRY';

/** What a log's state means to the agent once it is final. */
export type Outcome = 'applied' | 'no_changes' | 'failed' | 'ignored';

/**
 * Final states. FAILED is final unless ENABLE_FAILED_RETRY is on, in which case the
 * reconciler writes PENDING_RETRY (not final) and, once its retries run out, ERRORED
 * (netboxlabs/diode diode-server/reconciler/ops_retry_test.go, migration
 * 20260528000002_add_ingestion_log_retry.sql). OPEN is a change set waiting for a person to
 * apply it (auto-apply off): not final for the agent, so it ends as unconfirmed.
 */
const OUTCOME: Partial<Record<LogState, Outcome>> = {
  APPLIED: 'applied',
  NO_CHANGES: 'no_changes',
  FAILED: 'failed',
  ERRORED: 'failed',
  IGNORED: 'ignored',
};

export function outcomeOf(state: string): Outcome | undefined {
  return OUTCOME[state as LogState];
}

export interface RetrieveRequest {
  request_id?: string;
  /** Unix nanoseconds (the ingester stamps ingestion_ts with time.Now().UnixNano()). */
  ingestion_ts_start?: number;
  page_size?: number;
  page_token?: string;
}

/** An ingestion log as the agent reads it: the entity kept as its wire bytes. */
export interface IngestionLogView {
  id: string;
  state: string;
  requestId: string;
  objectType: string;
  /** Entity message bytes as Diode stored them (with their timestamp). */
  entity?: Uint8Array;
  error?: { message: string; code: string };
}

export interface RetrievePage {
  logs: IngestionLogView[];
  nextPageToken: string;
}

export function encodeRetrieveRequest(r: RetrieveRequest): Uint8Array {
  return RetrieveIngestionLogsRequestType.encode(RetrieveIngestionLogsRequestType.fromObject(r)).finish();
}

/** Decodes a response; each log's entity is re-encoded once, for matching (entityIdentity). */
export function decodeRetrieveResponse(b: Uint8Array): RetrievePage {
  const msg = RetrieveIngestionLogsResponseType.decode(b) as unknown as { logs?: protobuf.Message[]; next_page_token?: string };
  const logs: IngestionLogView[] = [];
  for (const m of msg.logs ?? []) {
    const o = IngestionLogType.toObject(m, { enums: String, longs: String, defaults: true }) as {
      id: string; state: string; request_id: string; object_type: string; data_type: string;
      error?: { message?: string; code?: string };
    };
    const raw = (m as unknown as { entity?: protobuf.Message }).entity;
    const view: IngestionLogView = { id: o.id, state: o.state, requestId: o.request_id, objectType: o.object_type || o.data_type };
    if (raw) view.entity = EntityMsg.encode(raw).finish();
    if (o.error && (o.error.message || o.error.code)) view.error = { message: o.error.message ?? '', code: o.error.code ?? '' };
    logs.push(view);
  }
  return { logs, nextPageToken: msg.next_page_token ?? '' };
}

/**
 * What identifies a log's entity among the entities the agent sent: the content
 * fingerprint of its body (the Entity bytes without the timestamp, exactly as the agent
 * fingerprints what it sends) and its delta-state id `kind|natural key`. The fingerprint
 * matches when the bytes come back as they went; Diode stores the entity as protojson
 * (netboxlabs/diode diode-server/dbstore/postgres/repository.go CreateIngestionLog) and Go
 * writes map entries (custom_fields) in no fixed order, so the natural key is the fallback.
 */
export function entityIdentity(entityBytes: Uint8Array): { fingerprint: string; id: string } | undefined {
  const msg = EntityMsg.decode(entityBytes) as unknown as Record<string, unknown>;
  delete msg.timestamp;
  const body = EntityMsg.encode(msg).finish();
  const obj = EntityMsg.toObject(msg as unknown as protobuf.Message, { longs: Number, arrays: true }) as Record<string, unknown>;
  const kind = Object.keys(obj).find((k) => k !== 'timestamp');
  if (!kind) return undefined;
  const value = obj[kind];
  return { fingerprint: fingerprint(body), id: `${kind}|${naturalKey({ kind, value } as AnyEntity)}` };
}
