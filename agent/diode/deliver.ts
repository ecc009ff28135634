import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeRequest, entityWireSize, requestHeaderSize, timestampField, type EncodedEntity, type RequestHeader } from './codec.ts';
import type { IngestSink } from './client.ts';

export const MAX_ENTITIES_PER_REQUEST = 1000;
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

export interface DeliveryOptions {
  sink: IngestSink;
  header: Omit<RequestHeader, 'id'>;
  /** Entity timestamp: the collection time, never in the future. */
  at: Date;
  maxEntities?: number;
  maxBytes?: number;
  signal?: AbortSignal;
  log: Logger;
  newId?: () => string;
  /** Called after each request Diode accepted, with the entities it carried. */
  onAccepted?: (entities: readonly EncodedEntity[]) => void;
}

export interface DeliveryResult {
  requests: number;
  entities: number;
  bytes: number;
  /** IngestResponse.errors, and entities too large to send. */
  errors: string[];
}

/** Splits ordered entities into requests of ≤ maxEntities and ≤ maxBytes, keeping order. */
export function chunkEntities(entities: readonly EncodedEntity[], ts: Uint8Array, headerBytes: number, maxEntities: number, maxBytes: number): { chunks: EncodedEntity[][]; oversized: EncodedEntity[] } {
  const chunks: EncodedEntity[][] = [];
  const oversized: EncodedEntity[] = [];
  let cur: EncodedEntity[] = [];
  let size = headerBytes;
  for (const e of entities) {
    const s = entityWireSize(e, ts);
    if (headerBytes + s > maxBytes) {
      oversized.push(e);
      continue;
    }
    if (cur.length >= maxEntities || size + s > maxBytes) {
      chunks.push(cur);
      cur = [];
      size = headerBytes;
    }
    cur.push(e);
    size += s;
  }
  if (cur.length > 0) chunks.push(cur);
  return { chunks, oversized };
}

/**
 * Sends one run's ordered entities as consecutive requests. A request that fails after
 * the sink's retries stops the delivery (later chunks may depend on it) and rethrows.
 */
export async function deliver(entities: readonly EncodedEntity[], opts: DeliveryOptions): Promise<DeliveryResult> {
  const ts = timestampField(opts.at);
  const newId = opts.newId ?? randomUUID;
  const headerBytes = requestHeaderSize({ ...opts.header, id: newId() });
  const { chunks, oversized } = chunkEntities(entities, ts, headerBytes, opts.maxEntities ?? MAX_ENTITIES_PER_REQUEST, opts.maxBytes ?? MAX_REQUEST_BYTES);
  const result: DeliveryResult = { requests: 0, entities: 0, bytes: 0, errors: oversized.map((e) => `${e.kind} ${e.key}: entity larger than the request size limit, not sent`) };
  for (const [i, chunk] of chunks.entries()) {
    const bytes = encodeRequest({ ...opts.header, id: newId() }, chunk, ts);
    const outcome = await opts.sink.ingest(bytes, opts.signal);
    result.requests++;
    result.entities += chunk.length;
    result.bytes += bytes.length;
    if (outcome.errors.length > 0) {
      result.errors.push(...outcome.errors);
      opts.log.warn({ chunk: i, errors: outcome.errors.slice(0, 20), error_count: outcome.errors.length }, 'diode reported ingestion errors');
    } else {
      opts.onAccepted?.(chunk);
    }
  }
  return result;
}
