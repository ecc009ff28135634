import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeRequest, entityWireSize, requestHeaderSize, timestampField, type EncodedEntity, type RequestHeader } from '../diode/codec.ts';
import type { IngestSink } from '../diode/client.ts';
import type { FailedEntity, ReadBackSummary, SentRequest } from '../diode/read-back.ts';
import { AgentError, errorMessage, isRetryable } from '../errors.ts';
import { deliveryPhase, DELIVERY_PHASES } from '../../mappers/order.ts';

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
   * Called between two delivery phases (mappers/order.ts DELIVERY_PHASES), after the last
   * request of one and before the first of the next, with the requests of the phase that
   * ended; the delivery waits for it (read-back: until Diode applied them).
   */
  afterPhase?: (phase: number, requests: readonly SentRequest[]) => Promise<void>;
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

/** Splits ordered entities into requests of ≤ maxEntities and ≤ maxBytes, keeping order. */
export function chunkEntities(
  entities: readonly EncodedEntity[],
  ts: Uint8Array,
  headerBytes: number,
  maxEntities: number,
  maxBytes: number,
): { chunks: EncodedEntity[][]; oversized: EncodedEntity[] } {
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
  constructor(cause: unknown, partial: DeliveryResult, nextChunk: number) {
    super('delivery_failed', errorMessage(cause), { cause, retryable: isRetryable(cause) });
    this.partial = partial;
    this.nextChunk = nextChunk;
  }
}

/** A run's entities split into requests once; `send` can resume after a failure. */
export class ChunkedDelivery {
  readonly chunks: EncodedEntity[][];
  /** The delivery phase of each chunk; a chunk holds entities of one phase only. */
  readonly chunkPhases: number[];
  readonly oversized: EncodedEntity[];
  readonly ts: Uint8Array;
  nextChunk = 0;
  readonly result: DeliveryResult;
  /** Requests Diode accepted, in order. */
  readonly sent: SentRequest[] = [];
  /** Chunk index whose phase boundary was already waited for (a resumed delivery does not wait twice). */
  private settledBefore = 0;
  /** Index in `sent` where the current phase's requests start. */
  private phaseSentFrom = 0;
  private readonly opts: DeliveryOptions;

  constructor(entities: readonly EncodedEntity[], opts: DeliveryOptions) {
    this.opts = opts;
    this.ts = timestampField(opts.at);
    const headerBytes = requestHeaderSize({ ...opts.header, id: (opts.newId ?? randomUUID)() });
    const maxEntities = opts.maxEntities ?? MAX_ENTITIES_PER_REQUEST;
    const maxBytes = opts.maxBytes ?? MAX_REQUEST_BYTES;
    // Phase by phase, each in emission order: what others reference (or whose fields a
    // reference would otherwise pre-empt) is in an earlier phase (mappers/order.ts).
    const phases: EncodedEntity[][] = DELIVERY_PHASES.map(() => []);
    for (const e of entities) phases[deliveryPhase(e.kind)]?.push(e);
    this.chunks = [];
    this.chunkPhases = [];
    const oversized: EncodedEntity[] = [];
    phases.forEach((list, phase) => {
      const c = chunkEntities(list, this.ts, headerBytes, maxEntities, maxBytes);
      for (const chunk of c.chunks) {
        this.chunks.push(chunk);
        this.chunkPhases.push(phase);
      }
      oversized.push(...c.oversized);
    });
    this.oversized = oversized;
    this.result = {
      requests: 0,
      entities: 0,
      bytes: 0,
      errors: oversized.map((e) => `${e.kind} ${e.key}: entity larger than the request size limit, not sent`),
    };
  }

  /**
   * Sends the remaining chunks in order. A request that fails after the sink's retries
   * stops the delivery (later chunks may depend on it) with a DeliveryError.
   */
  async send(signal?: AbortSignal): Promise<DeliveryResult> {
    const newId = this.opts.newId ?? randomUUID;
    while (this.nextChunk < this.chunks.length) {
      const i = this.nextChunk;
      const prevPhase = this.chunkPhases[i - 1];
      if (i > this.settledBefore && prevPhase !== undefined && prevPhase !== this.chunkPhases[i]) {
        this.settledBefore = i;
        const ended = this.sent.slice(this.phaseSentFrom);
        this.phaseSentFrom = this.sent.length;
        await this.opts.afterPhase?.(prevPhase, ended);
      }
      const chunk = this.chunks[this.nextChunk] ?? [];
      const id = newId();
      const bytes = encodeRequest({ ...this.opts.header, id }, chunk, this.ts);
      const sentAt = Date.now();
      let outcome;
      try {
        outcome = await this.opts.sink.ingest(bytes, signal ?? this.opts.signal);
      } catch (err) {
        throw new DeliveryError(err, this.result, this.nextChunk);
      }
      this.result.requests++;
      this.result.entities += chunk.length;
      this.result.bytes += bytes.length;
      if (outcome.errors.length > 0) {
        this.result.errors.push(...outcome.errors);
        this.opts.log.warn(
          { chunk: this.nextChunk, errors: outcome.errors.slice(0, 20), error_count: outcome.errors.length },
          'diode reported ingestion errors',
        );
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
