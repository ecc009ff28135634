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
export type LogState = 'STATE_UNSPECIFIED' | 'QUEUED' | 'OPEN' | 'APPLIED' | 'FAILED' | 'NO_CHANGES' | 'IGNORED' | 'ERRORED' | 'APPLYING' | 'PENDING_RETRY';

/** What a log's state means to the agent once it is final. */
export type Outcome = 'applied' | 'no_changes' | 'failed' | 'ignored';

/**
 * Final states. FAILED is final unless ENABLE_FAILED_RETRY is on, in which case the
 * reconciler writes PENDING_RETRY (not final) and, once its retries run out, ERRORED
 * (netboxlabs/diode diode-server/reconciler/ops_retry_test.go, migration
 * 20260528000002_add_ingestion_log_retry.sql). OPEN is a change set waiting for a person to
 * apply it (auto-apply off): not final for the agent, so it ends as unconfirmed.
 */
const OUTCOME: Partial<Record<LogState, Outcome>> = { APPLIED: 'applied', NO_CHANGES: 'no_changes', FAILED: 'failed', ERRORED: 'failed', IGNORED: 'ignored' };

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

/** An ingestion log as the agent reads it. */
export interface IngestionLogView {
  id: string;
  state: string;
  requestId: string;
  objectType: string;
  /** The decoded Entity message (with its timestamp), for entityIdentity. */
  entity?: object;
  error?: { message: string; code: string };
}

export interface RetrievePage {
  logs: IngestionLogView[];
  nextPageToken: string;
}

const STATE_NAMES = (IngestionLogType.fields.state!.resolve().resolvedType as protobuf.Enum).valuesById;

export function encodeRetrieveRequest(r: RetrieveRequest): Uint8Array {
  return RetrieveIngestionLogsRequestType.encode(RetrieveIngestionLogsRequestType.fromObject(r)).finish();
}

/**
 * Decodes a response. Fields are read off the decoded messages, without converting the
 * entities: a Diode that ignores the request_id filter returns other producers' logs too.
 */
export function decodeRetrieveResponse(b: Uint8Array): RetrievePage {
  const msg = RetrieveIngestionLogsResponseType.decode(b) as unknown as { logs?: RawLog[]; next_page_token?: string };
  const logs: IngestionLogView[] = [];
  for (const m of msg.logs ?? []) {
    const view: IngestionLogView = {
      id: m.id ?? '',
      state: STATE_NAMES[m.state ?? 0] ?? String(m.state),
      requestId: m.request_id ?? '',
      objectType: m.object_type || m.data_type || '',
    };
    if (m.entity) view.entity = m.entity;
    if (m.error && (m.error.message || m.error.code)) view.error = { message: m.error.message ?? '', code: m.error.code ?? '' };
    logs.push(view);
  }
  return { logs, nextPageToken: msg.next_page_token ?? '' };
}

interface RawLog {
  id?: string;
  state?: number;
  request_id?: string;
  object_type?: string;
  data_type?: string;
  entity?: object;
  error?: { message?: string; code?: string };
}

/**
 * What identifies a log's entity among the entities the agent sent: the content
 * fingerprint of its body (the Entity bytes without the timestamp, exactly as the agent
 * fingerprints what it sends) and its delta-state id `kind|natural key`. The fingerprint
 * matches when the bytes come back as they went; Diode stores the entity as protojson
 * (netboxlabs/diode diode-server/dbstore/postgres/repository.go CreateIngestionLog) and Go
 * writes map entries (custom_fields) in no fixed order, so the natural key is the fallback.
 */
export function entityIdentity(entity: Uint8Array | object): { fingerprint: string; id: string } | undefined {
  const decoded = entity instanceof Uint8Array ? EntityMsg.decode(entity) : entity;
  const { timestamp: _ts, ...msg } = decoded as Record<string, unknown>;
  const body = EntityMsg.encode(msg).finish();
  const obj = EntityMsg.toObject(msg as unknown as protobuf.Message, { longs: Number, arrays: true }) as Record<string, unknown>;
  const kind = Object.keys(obj).find((k) => k !== 'timestamp');
  if (!kind) return undefined;
  const value = obj[kind];
  return { fingerprint: fingerprint(body), id: `${kind}|${naturalKey({ kind, value } as AnyEntity)}` };
}
