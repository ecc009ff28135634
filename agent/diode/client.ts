import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AgentError } from '../errors.ts';
import { BACKOFF, backoffDelay } from '../backoff.ts';
import { currentRun } from '../run-context.ts';
import { DiodeAuthError, isPlaintextServer, PLAINTEXT_HINT, PLAINTEXT_MESSAGE, TokenProvider } from './auth.ts';
import { IngestResponseType } from './codec.ts';
import { decodeRetrieveResponse, encodeRetrieveRequest, type RetrievePage, type RetrieveRequest } from './reconciler.ts';
import { grpcCodeName, readBackFailure, RETRYABLE_GRPC, shouldRetryGrpc } from './retry.ts';
import { parseTarget, type DiodeTarget } from './target.ts';

export class DiodeError extends AgentError {
  readonly grpcCode: number;
  constructor(grpcCode: number, message: string, cause?: unknown) {
    // Retryable when the client retries the code (agent/diode/retry.ts), except TLS spoken to a
    // plaintext port: grpc-js reports that UNAVAILABLE too, but it is diode.target to fix, and
    // no later run succeeds with nothing changed.
    super('diode_rejected', `Diode ${grpcCodeName(grpcCode)}: ${message}`, {
      cause,
      retryable: RETRYABLE_GRPC.has(grpcCode) && !isPlaintextServer(cause) && !PLAINTEXT_MESSAGE.test(message),
    });
    this.grpcCode = grpcCode;
  }
}

export interface IngestOutcome {
  errors: string[];
  attempts: number;
}

/**
 * Reading back ingestion outcomes could not work and will not by trying again now: the
 * credential may not have diode:read, or this Diode does not serve the RPC. The delivery
 * goes on as without read-back.
 */
export class ReadBackUnavailableError extends AgentError {
  constructor(message: string, cause?: unknown) {
    super('diode_read_back_unavailable', message, { cause });
  }
}

/** Ingestion logs, one page per call (diode.v1.ReconcilerService/RetrieveIngestionLogs). */
export interface IngestionLogReader {
  /**
   * Throws ReadBackUnavailableError when reading back cannot work, DiodeError with a
   * transient code when a later poll may succeed.
   */
  retrieveIngestionLogs(request: RetrieveRequest, signal?: AbortSignal): Promise<RetrievePage>;
}

/** Where encoded IngestRequests go: Diode over gRPC, or files in dry-run mode. */
export interface IngestSink {
  ingest(request: Uint8Array, signal?: AbortSignal): Promise<IngestOutcome>;
  close(): Promise<void>;
  /** Present on sinks that can read back what Diode did with the requests (not dry runs). */
  readonly logs?: IngestionLogReader;
}

export interface DiodeClientOptions {
  target: string;
  clientId: string;
  clientSecret: string;
  caFile?: string | undefined;
  skipTlsVerify?: boolean;
  timeoutMs: number;
  maxAttempts: number;
  backoffBaseMs?: number;
  backoffMaxMs: number;
  log: Logger;
  /** Each Ingest call's outcome; `retrying` when the agent will try again. */
  onResult?: (code: string, retrying: boolean) => void;
}

const identity = (b: Buffer | Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export class DiodeClient implements IngestSink, IngestionLogReader {
  readonly target: DiodeTarget;
  private readonly client: grpc.Client;
  private readonly tokens: TokenProvider;
  /** diode:read, for read-back only: a client without it still ingests (see TokenProvider.scope). */
  private readonly readTokens: TokenProvider;
  private readonly opts: DiodeClientOptions;

  constructor(opts: DiodeClientOptions) {
    this.opts = opts;
    this.target = parseTarget(opts.target);
    const ca = opts.caFile ? readFileSync(opts.caFile) : null;
    const creds = this.target.tls
      ? grpc.credentials.createSsl(ca, null, null, opts.skipTlsVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {})
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(this.target.address, creds, {
      'grpc.max_send_message_length': 8 * 1024 * 1024,
      'grpc.max_receive_message_length': 8 * 1024 * 1024,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.enable_retries': 0,
    });
    const credentials = {
      tokenUrl: this.target.tokenUrl,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      caFile: opts.caFile,
      skipTlsVerify: opts.skipTlsVerify ?? false,
      timeoutMs: opts.timeoutMs,
    };
    this.tokens = new TokenProvider(credentials);
    // A token of its own for read-back: asking for both scopes at once makes Hydra refuse the
    // whole request when the client lacks diode:read (see agent/diode/README.md).
    this.readTokens = new TokenProvider({ ...credentials, scope: 'diode:read' });
  }

  get logs(): IngestionLogReader {
    return this;
  }

  private call(request: Uint8Array, token: string): Promise<{ errors: string[] }> {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        this.target.ingestPath,
        identity,
        (b: Buffer) => IngestResponseType.toObject(IngestResponseType.decode(b), { arrays: true }) as { errors: string[] },
        request,
        md,
        { deadline: Date.now() + this.opts.timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res ?? { errors: [] })),
      );
    });
  }

  /**
   * Sends one request: retries transient codes with bounded backoff, refreshes the token
   * once after UNAUTHENTICATED, and never retries a validation error.
   */
  async ingest(request: Uint8Array, signal?: AbortSignal): Promise<IngestOutcome> {
    // The run's logger when the agent delivers a run: retry lines then name the policy and run.
    const log = currentRun()?.log ?? this.opts.log;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        const token = await this.tokens.get();
        const res = await this.call(request, token);
        this.opts.onResult?.('OK', false);
        return { errors: res.errors ?? [], attempts: attempt };
      } catch (err) {
        if (err instanceof DiodeAuthError) {
          // A refused credential is final; an unreachable or failing token endpoint is
          // the same outage as an unreachable gRPC endpoint.
          if (err.status !== undefined && err.status < 500) throw err;
        }
        const e = err as grpc.ServiceError;
        const code = err instanceof DiodeAuthError ? grpc.status.UNAVAILABLE : typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
        const reason = `${e.details || e.message || String(err)}${!(err instanceof DiodeAuthError) && isPlaintextServer(err) ? PLAINTEXT_HINT : ''}`;
        const reauth = code === grpc.status.UNAUTHENTICATED && !reauthenticated;
        const retrying = reauth || shouldRetryGrpc(code, attempt, this.opts.maxAttempts);
        this.opts.onResult?.(grpcCodeName(code), retrying);
        if (reauth) {
          reauthenticated = true;
          this.tokens.invalidate();
          log.info({ code: 'UNAUTHENTICATED', reason }, 'diode token rejected, refreshing');
          continue;
        }
        if (!retrying) throw new DiodeError(code, reason, err);
        const delay = backoffDelay(attempt, {
          ...BACKOFF.grpc,
          ...(this.opts.backoffBaseMs !== undefined && { baseMs: this.opts.backoffBaseMs }),
          maxMs: this.opts.backoffMaxMs,
        });
        log.warn({ code: grpcCodeName(code), attempt, delay_ms: delay, reason }, 'diode request failed, retrying');
        await sleep(delay, undefined, signal ? { signal } : undefined);
      }
    }
  }

  private callRetrieve(request: Uint8Array, token: string, signal?: AbortSignal): Promise<RetrievePage> {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        this.target.retrieveLogsPath,
        identity,
        (b: Buffer) => decodeRetrieveResponse(b),
        request,
        md,
        { deadline: Date.now() + this.opts.timeoutMs },
        (err, res) => {
          signal?.removeEventListener('abort', cancel);
          if (err) reject(err);
          else resolve(res ?? { logs: [], nextPageToken: '' });
        },
      );
      // A stopping agent does not wait out the call's deadline.
      const cancel = () => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /**
   * One page of ingestion logs, with a diode:read token of its own. No backoff here: the
   * poller's interval is the pause, and its timeout the bound.
   */
  async retrieveIngestionLogs(request: RetrieveRequest, signal?: AbortSignal): Promise<RetrievePage> {
    const bytes = encodeRetrieveRequest(request);
    let reauthenticated = false;
    for (;;) {
      signal?.throwIfAborted();
      let token: string;
      try {
        token = await this.readTokens.get();
      } catch (err) {
        const e = err as DiodeAuthError;
        if (e.status !== undefined && e.status < 500) {
          const scope = e.oauthError === 'invalid_scope' ? ': the OAuth2 client is not allowed the diode:read scope' : '';
          throw new ReadBackUnavailableError(`${e.message}${scope}`, err);
        }
        throw new DiodeError(grpc.status.UNAVAILABLE, e.message, err);
      }
      try {
        return await this.callRetrieve(bytes, token, signal);
      } catch (err) {
        const e = err as grpc.ServiceError;
        const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
        const decision = readBackFailure(code, reauthenticated);
        if (decision === 'reauthenticate') {
          reauthenticated = true;
          this.readTokens.invalidate();
          continue;
        }
        const details = e.details || e.message || String(err);
        if (decision === 'next_poll') throw new DiodeError(code, details, err);
        throw new ReadBackUnavailableError(readBackHint(code, details, this.target.retrieveLogsPath), err);
      }
    }
  }

  async close(): Promise<void> {
    this.client.close();
    await this.tokens.close();
    await this.readTokens.close();
  }
}

/** What a refused RetrieveIngestionLogs call means for the operator. */
function readBackHint(code: number, details: string, path: string): string {
  const name = grpcCodeName(code);
  if (code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED) {
    return `Diode refused RetrieveIngestionLogs (${name}: ${details}): the reconciler requires the diode:read scope, which this credential's token does not carry`;
  }
  if (code === grpc.status.UNIMPLEMENTED) {
    return `Diode does not serve ${path} (${name}: ${details}): a release without ReconcilerService, or a proxy that does not route it`;
  }
  return `RetrieveIngestionLogs failed (${name}: ${details})`;
}
