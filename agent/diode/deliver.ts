import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeRequest, entityWireSize, requestHeaderSize, timestampField, type EncodedEntity, type RequestHeader } from './codec.ts';
import type { IngestSink } from './client.ts';
import type { FailedEntity, ReadBackSummary, SentRequest } from './read-back.ts';
import { AgentError } from '../errors.ts';

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
  onAccepted?: (request: SentRequest) => void;
  /**
   * Called once, after the requests of definitions (DEFINITION_KINDS) went out and before
   * the first request of the rest; the delivery waits for it (read-back: until Diode applied
   * the definitions). Not called when one of the two groups is empty.
   */
  afterDefinitions?: (requests: readonly SentRequest[]) => Promise<void>;
}

export interface DeliveryResult {
  requests: number;
  entities: number;
  bytes: number;
  /** IngestResponse.errors, and entities too large to send. */
  errors: string[];
  /** diode.read_back: what the ingestion logs said, when read back. */
  readBack?: ReadBackSummary;
  /** Entities Diode failed to apply (read-back), with its error; not counted as delivered. */
  failed?: FailedEntity[];
}

/**
 * Kinds other entities' values depend on: Diode rejects a custom field value whose
 * CustomField does not exist yet ("Unknown field name" in the plugin's custom field
 * validation) and a select value outside its choice set. They go in requests of their own,
 * ahead of the rest.
 */
export const DEFINITION_KINDS: ReadonlySet<string> = new Set(['custom_field_choice_set', 'custom_field', 'tag']);

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

/** A delivery stopped by a request that failed after the sink's retries. */
export class DeliveryError extends AgentError {
  readonly partial: DeliveryResult;
  /** Index of the chunk that failed: resuming starts there, so nothing is sent twice. */
  readonly nextChunk: number;
  constructor(cause: Error, partial: DeliveryResult, nextChunk: number) {
    super('delivery_failed', cause.message, { cause });
    this.partial = partial;
    this.nextChunk = nextChunk;
  }
}

/** A run's entities split into requests once; `send` can resume after a failure. */
export class ChunkedDelivery {
  readonly chunks: EncodedEntity[][];
  /** The first `definitionChunks` chunks hold the definitions, nothing else. */
  readonly definitionChunks: number;
  readonly oversized: EncodedEntity[];
  readonly ts: Uint8Array;
  nextChunk = 0;
  readonly result: DeliveryResult;
  /** Requests Diode accepted, in order. */
  readonly sent: SentRequest[] = [];
  private definitionsSettled = false;
  private readonly opts: DeliveryOptions;

  constructor(entities: readonly EncodedEntity[], opts: DeliveryOptions) {
    this.opts = opts;
    this.ts = timestampField(opts.at);
    const headerBytes = requestHeaderSize({ ...opts.header, id: (opts.newId ?? randomUUID)() });
    const maxEntities = opts.maxEntities ?? MAX_ENTITIES_PER_REQUEST;
    const maxBytes = opts.maxBytes ?? MAX_REQUEST_BYTES;
    const defs = entities.filter((e) => DEFINITION_KINDS.has(e.kind));
    const rest = defs.length ? entities.filter((e) => !DEFINITION_KINDS.has(e.kind)) : entities;
    const d = chunkEntities(defs, this.ts, headerBytes, maxEntities, maxBytes);
    const r = chunkEntities(rest, this.ts, headerBytes, maxEntities, maxBytes);
    this.chunks = [...d.chunks, ...r.chunks];
    this.definitionChunks = d.chunks.length;
    const oversized = [...d.oversized, ...r.oversized];
    this.oversized = oversized;
    this.result = { requests: 0, entities: 0, bytes: 0, errors: oversized.map((e) => `${e.kind} ${e.key}: entity larger than the request size limit, not sent`) };
  }

  get done(): boolean {
    return this.nextChunk >= this.chunks.length;
  }

  /**
   * Sends the remaining chunks in order. A request that fails after the sink's retries
   * stops the delivery (later chunks may depend on it) with a DeliveryError.
   */
  async send(signal?: AbortSignal): Promise<DeliveryResult> {
    const newId = this.opts.newId ?? randomUUID;
    while (this.nextChunk < this.chunks.length) {
      if (this.nextChunk === this.definitionChunks && this.definitionChunks > 0 && !this.definitionsSettled) {
        this.definitionsSettled = true;
        await this.opts.afterDefinitions?.(this.sent.slice());
      }
      const chunk = this.chunks[this.nextChunk] ?? [];
      const id = newId();
      const bytes = encodeRequest({ ...this.opts.header, id }, chunk, this.ts);
      const sentAt = Date.now();
      let outcome;
      try {
        outcome = await this.opts.sink.ingest(bytes, signal ?? this.opts.signal);
      } catch (err) {
        throw new DeliveryError(err as Error, this.result, this.nextChunk);
      }
      this.result.requests++;
      this.result.entities += chunk.length;
      this.result.bytes += bytes.length;
      if (outcome.errors.length > 0) {
        this.result.errors.push(...outcome.errors);
        this.opts.log.warn({ chunk: this.nextChunk, errors: outcome.errors.slice(0, 20), error_count: outcome.errors.length }, 'diode reported ingestion errors');
      } else {
        const req: SentRequest = { id, entities: chunk, sentAt };
        this.sent.push(req);
        this.opts.onAccepted?.(req);
      }
      this.nextChunk++;
    }
    return this.result;
  }
}

/** Sends one run's ordered entities as consecutive requests (see ChunkedDelivery). */
export async function deliver(entities: readonly EncodedEntity[], opts: DeliveryOptions): Promise<DeliveryResult> {
  return new ChunkedDelivery(entities, opts).send();
}
