import { createServer as createHttp1, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2c, createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNet, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { IngestRequestType, IngestResponseType } from '../../agent/diode/codec.ts';
import { RetrieveIngestionLogsRequestType, RetrieveIngestionLogsResponseType } from '../../agent/diode/reconciler.ts';
import { TEST_CERT, TEST_KEY } from './https-server.ts';

/** gRPC status codes used by the fake (google.rpc.Code). */
export const GrpcCode = {
  OK: 0,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * One ingestion log as a model of NetBox behind Diode records it (test/fakes/netbox-diode on
 * the model branch: one per entity, `{ requestId, index, objectType, state, error? }`).
 */
export interface ModelLog {
  requestId: string;
  /** Position of the entity in its IngestRequest. */
  index: number;
  /** NetBox object type (e.g. ipam.ipaddress); the entity's kind when absent. */
  objectType?: string;
  state: 'queued' | 'reconciled' | 'no_changes' | 'failed';
  error?: string;
}

/**
 * The logs of one accepted request as of now. An index left out has no log, as for an entity
 * Diode matched to an identical earlier one (it requeues that one's log instead).
 */
export type ReconcilerSource = (requestId: string) => ModelLog[];

/** What the scripted source does with one entity (see FakeDiodeIngester.scriptLogs). */
export type ScriptedLog =
  | { state: 'reconciled' | 'no_changes' | 'failed'; error?: string; objectType?: string; queuedPolls?: number }
  | { state: 'queued' }
  | 'absent';

/** One call the fake answered, ingest or read-back, in the order they arrived. */
export interface FakeEvent {
  seq: number;
  type: 'ingest' | 'retrieve';
  /** Ingest: the request's id; retrieve: the request_id filter asked for ('' for none). */
  requestId: string;
  code: number;
  /** Retrieve, first page of a listing: every log it saw, newest first. */
  logs?: Array<{ requestId: string; index: number; state: ModelLog['state'] }>;
}

/** diode.v1.State numbers (proto/diode/v1/reconciler.proto). */
const STATE_NAME: Record<ModelLog['state'], string> = { queued: 'QUEUED', reconciled: 'APPLIED', no_changes: 'NO_CHANGES', failed: 'FAILED' };

export interface RecordedIngest {
  path: string;
  authorization: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  request: Record<string, unknown> & { id: string; entities: Array<Record<string, unknown>> };
  /** The status the fake answered with. */
  code: number;
}

export interface Fault {
  code: number;
  message?: string;
  delayMs?: number;
  /** IngestResponse.errors to return with an OK status. */
  errors?: string[];
}

export interface IngesterOptions {
  tls?: boolean;
  pathPrefix?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  port?: number;
  /**
   * 'full' (default) decodes, validates and keeps every request; 'count' keeps only the
   * totals in `counted`, so a benchmark's agent process does not pay for the recording.
   */
  record?: 'full' | 'count';
  /** Scopes the OAuth2 client may request (default diode:ingest and diode:read). */
  allowedScopes?: string[];
  /**
   * A token request with a scope the client is not allowed: 'reject' (default) answers 400
   * invalid_scope, as Ory Hydra behind Diode's auth service does (ory/fosite
   * handler/oauth2/flow_client_credentials.go); 'drop' grants only the allowed ones, as a
   * more lenient OAuth2 server might.
   */
  unallowedScope?: 'reject' | 'drop';
  /** Serve diode.v1.ReconcilerService (default true); false answers HTTP 404, as a proxy without the route. */
  reconcilerService?: boolean;
  /**
   * Honour RetrieveIngestionLogsRequest.request_id. Default false: every stored version of
   * Diode's query ignores it (dbstore/postgres/queries/ingestion_logs.sql).
   */
  requestIdFilter?: boolean;
}

/**
 * An in-process Diode ingester speaking the real protocols on ONE port, like Diode behind
 * its reverse proxy: the OAuth2 token endpoint over HTTP/1.1 and IngesterService/Ingest
 * over HTTP/2 gRPC (h2c prior knowledge in plaintext, ALPN with TLS). It validates
 * requests as Diode does, records them with their metadata, and can be scripted to fail.
 */
export class FakeDiodeIngester {
  readonly opts: Required<Omit<IngesterOptions, 'port'>> & { port?: number };
  readonly ingests: RecordedIngest[] = [];
  /** Accepted requests, their entities and message bytes (kept in both record modes). */
  readonly counted = { requests: 0, entities: 0, bytes: 0 };
  readonly tokenRequests: Array<Record<string, string>> = [];
  /** Faults consumed one per Ingest call, in order. */
  readonly faults: Fault[] = [];
  /** Called for every Ingest; a returned fault overrides the queue. */
  faultFn?: (req: RecordedIngest, n: number) => Fault | undefined;
  /**
   * Called with every request answered OK (record: 'full'), e.g. to feed a
   * NetBoxDiodeModel (test/fakes/netbox-diode): `ingester.onAccepted = (r) => model.ingest(r)`.
   */
  onAccepted?: (request: RecordedIngest['request']) => void;
  /** Where RetrieveIngestionLogs gets its logs; default: every entity applied at once. */
  reconciler: ReconcilerSource = (requestId) =>
    (this.accepted.get(requestId)?.rec.request.entities ?? []).map((_e, index) => ({ requestId, index, state: 'reconciled' }));
  /** Ingest and RetrieveIngestionLogs calls in arrival order. */
  readonly events: FakeEvent[] = [];
  readonly retrieveRequests: Array<Record<string, unknown>> = [];
  /** Accepted requests by id, with the ingester's ingestion_ts (Unix ns) and arrival number. */
  private readonly accepted = new Map<string, { rec: RecordedIngest; ingestionTs: number; n: number }>();
  private readonly listings = new Map<string, ModelLogWire[]>();
  private listingCounter = 0;
  private readonly tokens = new Map<string, { expiry: number; scopes: Set<string> }>();
  private tokenCounter = 0;
  private server?: Server | ReturnType<typeof createSecureServer>;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(opts: IngesterOptions = {}) {
    this.opts = {
      tls: opts.tls ?? false,
      pathPrefix: opts.pathPrefix ?? '/diode',
      clientId: opts.clientId ?? 'diode-agent-test',
      clientSecret: opts.clientSecret ?? 's3cr3t-client-value',
      tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600,
      record: opts.record ?? 'full',
      allowedScopes: opts.allowedScopes ?? ['diode:ingest', 'diode:read'],
      unallowedScope: opts.unallowedScope ?? 'reject',
      reconcilerService: opts.reconcilerService ?? true,
      requestIdFilter: opts.requestIdFilter ?? false,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
    };
  }

  /**
   * The default source for tests: `fn` decides per entity (request number from 1, index,
   * kind, decoded entity) whether it is applied, unchanged, failed (with Diode's error) or
   * without a log; `queuedPolls` keeps it QUEUED for that many listings of its request first.
   */
  scriptLogs(fn: (e: { request: number; requestId: string; index: number; kind: string; entity: Record<string, unknown> }) => ScriptedLog): void {
    const listed = new Map<string, number>();
    this.reconciler = (requestId) => {
      const acc = this.accepted.get(requestId);
      if (!acc) return [];
      const n = (listed.get(requestId) ?? 0) + 1;
      listed.set(requestId, n);
      const out: ModelLog[] = [];
      acc.rec.request.entities.forEach((entity, index) => {
        const kind = Object.keys(entity).find((k) => k !== 'timestamp') ?? '';
        const s = fn({ request: acc.n, requestId, index, kind, entity });
        if (s === 'absent') return;
        if (s.state === 'queued' || (s.queuedPolls !== undefined && n <= s.queuedPolls)) {
          out.push({ requestId, index, state: 'queued' });
          return;
        }
        out.push({
          requestId,
          index,
          state: s.state,
          ...(s.error !== undefined ? { error: s.error } : {}),
          ...(s.objectType !== undefined ? { objectType: s.objectType } : {}),
        });
      });
      return out;
    };
  }

  /** The accepted Ingest calls' request ids, in arrival order. */
  acceptedRequestIds(): string[] {
    return [...this.accepted.values()].sort((a, b) => a.n - b.n).map((a) => a.rec.request.id);
  }

  get target(): string {
    return `${this.opts.tls ? 'grpcs' : 'grpc'}://127.0.0.1:${this.port}${this.opts.pathPrefix}`;
  }

  /** Every entity of every accepted request, in arrival order, as decoded objects. */
  acceptedEntities(): Array<Record<string, unknown>> {
    return this.ingests.filter((r) => r.code === GrpcCode.OK).flatMap((r) => r.request.entities);
  }

  /** Revokes every issued token, as if they had expired. */
  expireTokens(): void {
    this.tokens.clear();
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
      void this.handle(req, res);
    };
    if (this.opts.tls) {
      const s = createSecureServer({ cert: TEST_CERT, key: TEST_KEY, allowHTTP1: true }, handler);
      s.on('connection', (sock: Socket) => this.track(sock));
      this.server = s;
    } else {
      const h2 = createH2c({}, handler);
      const h1 = createHttp1(handler);
      this.server = createNet((sock) => {
        this.track(sock);
        sock.once('data', (first: Buffer) => {
          sock.pause();
          // HTTP/2 with prior knowledge starts with the connection preface "PRI * HTTP/2.0".
          if (first.subarray(0, 3).toString('latin1') !== 'PRI') {
            sock.unshift(first);
            h1.emit('connection', sock);
            sock.resume();
            return;
          }
          // nghttp2 reads from the socket's native handle and would miss the bytes already
          // read here, so the session gets a JS stream that replays them first.
          h2.emit('connection', replaying(sock, first));
        });
      });
    }
    await new Promise<void>((resolve) => this.server!.listen(this.opts.port ?? 0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private track(sock: Socket): void {
    // As Go servers (Diode) do: without it, Nagle holds the trailers back until the
    // client's delayed ACK, 40 ms per Ingest call on Linux.
    sock.setNoDelay(true);
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path === `${this.opts.pathPrefix}/auth/token` && req.method === 'POST') return this.token(body, res);
    if (path.endsWith('/diode.v1.IngesterService/Ingest') && String(req.headers['content-type'] ?? '').startsWith('application/grpc')) {
      return this.ingest(path, req, body, res as Http2ServerResponse);
    }
    // Routed by path beside the ingester, as Diode's nginx does (diode-server/docker/nginx/nginx.conf).
    if (
      this.opts.reconcilerService &&
      path === `${this.opts.pathPrefix}/diode.v1.ReconcilerService/RetrieveIngestionLogs` &&
      String(req.headers['content-type'] ?? '').startsWith('application/grpc')
    ) {
      return this.retrieve(req, body, res as Http2ServerResponse);
    }
    (res as ServerResponse).writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  private token(body: Buffer, res: ServerResponse | Http2ServerResponse): void {
    const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    this.tokenRequests.push(form);
    if (form.grant_type !== 'client_credentials' || form.client_id !== this.opts.clientId || form.client_secret !== this.opts.clientSecret) {
      (res as ServerResponse).writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_client' }));
      return;
    }
    // RFC 6749 §3.3: space-separated scopes.
    const asked = (form.scope ?? '').split(' ').filter(Boolean);
    const refused = asked.filter((sc) => !this.opts.allowedScopes.includes(sc));
    if (refused.length && this.opts.unallowedScope === 'reject') {
      (res as ServerResponse).writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: 'invalid_scope',
          error_description: `The requested scope is invalid, unknown, or malformed. The OAuth 2.0 Client is not allowed to request scope '${refused[0]}'.`,
        }),
      );
      return;
    }
    const granted = asked.filter((sc) => this.opts.allowedScopes.includes(sc));
    const token = `tok-${++this.tokenCounter}`;
    this.tokens.set(token, { expiry: Date.now() + this.opts.tokenTtlSeconds * 1000, scopes: new Set(granted) });
    (res as ServerResponse).writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: this.opts.tokenTtlSeconds, scope: granted.join(' ') }));
  }

  /** Whether the call's bearer token is live and was granted `scope`. */
  private authorized(req: IncomingMessage | Http2ServerRequest, scope: string): boolean {
    const auth = req.headers.authorization as string | undefined;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const t = token ? this.tokens.get(token) : undefined;
    return t !== undefined && t.expiry >= Date.now() && t.scopes.has(scope);
  }

  private retrieve(req: IncomingMessage | Http2ServerRequest, body: Buffer, res: Http2ServerResponse): void {
    const len = body.readUInt32BE(1);
    const q = RetrieveIngestionLogsRequestType.toObject(RetrieveIngestionLogsRequestType.decode(body.subarray(5, 5 + len)), {
      longs: Number,
      defaults: true,
    }) as { request_id: string; ingestion_ts_start: number; page_size?: number; page_token: string };
    this.retrieveRequests.push({ ...q });
    const event: FakeEvent = { seq: this.events.length + 1, type: 'retrieve', requestId: q.request_id, code: GrpcCode.OK };
    this.events.push(event);
    // Every reconciler RPC requires diode:read (netboxlabs/diode diode-server/cmd/reconciler/main.go).
    if (!this.authorized(req, 'diode:read')) {
      event.code = GrpcCode.UNAUTHENTICATED;
      this.reply(res, GrpcCode.UNAUTHENTICATED, 'missing or invalid authorization: scope diode:read required');
      return;
    }
    let listing: string;
    let offset: number;
    if (q.page_token) {
      const [id, off] = q.page_token.split(':');
      listing = id ?? '';
      offset = Number(off);
      if (!this.listings.has(listing) || !Number.isInteger(offset)) {
        this.reply(res, GrpcCode.INVALID_ARGUMENT, 'error decoding page token');
        return;
      }
    } else {
      // A listing is read once, at its first page: later pages serve that picture.
      listing = String(++this.listingCounter);
      offset = 0;
      const wire: ModelLogWire[] = [];
      const requests = [...this.accepted.values()]
        .filter((a) => !(this.opts.requestIdFilter && q.request_id) || a.rec.request.id === q.request_id)
        .filter((a) => !q.ingestion_ts_start || a.ingestionTs >= q.ingestion_ts_start)
        .sort((a, b) => b.n - a.n);
      for (const a of requests) {
        const logs = this.reconciler(a.rec.request.id)
          .filter((l) => l.requestId === a.rec.request.id)
          .sort((x, y) => y.index - x.index);
        for (const l of logs) wire.push({ model: l, acc: a });
      }
      this.listings.set(listing, wire);
      event.logs = wire.map((w) => ({ requestId: w.model.requestId, index: w.model.index, state: w.model.state }));
    }
    const all = this.listings.get(listing) ?? [];
    const size = q.page_size && q.page_size > 0 ? q.page_size : 100;
    const page = all.slice(offset, offset + size);
    const next = offset + size < all.length ? `${listing}:${offset + size}` : '';
    const payload = RetrieveIngestionLogsResponseType.encode(
      RetrieveIngestionLogsResponseType.fromObject({
        logs: page.map(({ model, acc }, i) => {
          const entity = acc.rec.request.entities[model.index] ?? {};
          const kind = Object.keys(entity).find((k) => k !== 'timestamp') ?? '';
          return {
            id: `log-${listing}-${offset + i}-${model.requestId}-${model.index}`,
            state: STATE_NAME[model.state],
            request_id: model.requestId,
            ingestion_ts: acc.ingestionTs,
            producer_app_name: acc.rec.request.producer_app_name,
            producer_app_version: acc.rec.request.producer_app_version,
            sdk_name: acc.rec.request.sdk_name,
            sdk_version: acc.rec.request.sdk_version,
            entity,
            object_type: model.objectType ?? kind,
            ...(model.state === 'failed' ? { error: { message: model.error ?? '', code: 'FAILED' } } : {}),
          };
        }),
        next_page_token: next,
      }),
    ).finish();
    this.reply(res, GrpcCode.OK, '', payload);
  }

  private reply(res: Http2ServerResponse, code: number, message: string, payload?: Uint8Array): void {
    res.writeHead(200, { 'content-type': 'application/grpc+proto' });
    if (payload) {
      const frame = Buffer.alloc(5 + payload.length);
      frame.writeUInt32BE(payload.length, 1);
      Buffer.from(payload).copy(frame, 5);
      res.write(frame);
    }
    res.addTrailers({ 'grpc-status': String(code), 'grpc-message': percentEncode(message) });
    res.end();
  }

  private async ingest(path: string, req: IncomingMessage | Http2ServerRequest, body: Buffer, res: Http2ServerResponse): Promise<void> {
    // gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length.
    const len = body.readUInt32BE(1);
    const bytes = body.subarray(5, 5 + len);
    if (this.opts.record === 'count') return this.count(req, bytes, res);
    const decoded = IngestRequestType.toObject(IngestRequestType.decode(bytes), { longs: Number, arrays: true, defaults: false }) as RecordedIngest['request'];
    const auth = req.headers.authorization as string | undefined;
    const rec: RecordedIngest = { path, authorization: auth, headers: { ...req.headers }, bytes: Buffer.from(bytes), request: decoded, code: GrpcCode.OK };
    this.ingests.push(rec);
    const n = this.ingests.length;
    const event: FakeEvent = { seq: this.events.length + 1, type: 'ingest', requestId: decoded.id, code: GrpcCode.OK };
    this.events.push(event);
    let fault: Fault | undefined;
    if (!this.authorized(req, 'diode:ingest')) fault = { code: GrpcCode.UNAUTHENTICATED, message: 'invalid or expired token' };
    else fault = this.faultFn?.(rec, n) ?? this.faults.shift() ?? validate(decoded);
    if (fault?.delayMs) await sleep(fault.delayMs);
    const code = fault?.code ?? GrpcCode.OK;
    rec.code = code;
    event.code = code;
    if (code === GrpcCode.OK) {
      this.countAccepted(decoded.entities.length, bytes.length);
      // The ingester stamps ingestion_ts in Unix nanoseconds; IngestResponse errors mean nothing was queued.
      this.onAccepted?.(decoded);
      if (!fault?.errors?.length) this.accepted.set(decoded.id, { rec, ingestionTs: Date.now() * 1e6, n: this.accepted.size + 1 });
    }
    this.answer(res, code, fault);
  }

  private countAccepted(entities: number, bytes: number): void {
    this.counted.requests++;
    this.counted.entities += entities;
    this.counted.bytes += bytes;
  }

  /** record: 'count': the token is checked, the entities counted from the wire, nothing kept. */
  private count(req: IncomingMessage | Http2ServerRequest, bytes: Buffer, res: Http2ServerResponse): void {
    if (!this.authorized(req, 'diode:ingest')) {
      this.answer(res, GrpcCode.UNAUTHENTICATED, { code: GrpcCode.UNAUTHENTICATED, message: 'invalid or expired token' });
      return;
    }
    this.countAccepted(countEntities(bytes), bytes.length);
    this.answer(res, GrpcCode.OK, undefined);
  }

  private answer(res: Http2ServerResponse, code: number, fault: Fault | undefined): void {
    res.writeHead(200, { 'content-type': 'application/grpc+proto' });
    if (code === GrpcCode.OK) {
      const payload = IngestResponseType.encode({ errors: fault?.errors ?? [] }).finish();
      const frame = Buffer.alloc(5 + payload.length);
      frame.writeUInt32BE(payload.length, 1);
      Buffer.from(payload).copy(frame, 5);
      res.write(frame);
    }
    res.addTrailers({ 'grpc-status': String(code), 'grpc-message': percentEncode(fault?.message ?? '') });
    res.end();
  }
}

/** Top-level field 2 (entities) of an IngestRequest, counted by walking the wire format. */
function countEntities(b: Buffer): number {
  let n = 0;
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = b[i++] ?? 0;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
  };
  while (i < b.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 2) {
      const len = varint();
      if (tag >>> 3 === 2) n++;
      i += len;
    } else if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return n;
}

/** grpc-message encoding per the gRPC HTTP/2 spec: only '%' and bytes outside 0x20-0x7E. */
function percentEncode(msg: string): string {
  return Array.from(Buffer.from(msg, 'utf8'))
    .map((b) => (b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

interface ModelLogWire {
  model: ModelLog;
  acc: { rec: RecordedIngest; ingestionTs: number; n: number };
}

function replaying(sock: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read() {
      sock.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      sock.write(chunk, cb);
    },
    final(cb) {
      sock.end();
      cb();
    },
    destroy(err, cb) {
      sock.destroy(err ?? undefined);
      cb(err);
    },
  });
  d.push(first);
  sock.on('data', (c: Buffer) => {
    if (!d.push(c)) sock.pause();
  });
  sock.on('end', () => d.push(null));
  sock.on('error', (e) => d.destroy(e));
  return d;
}

/** The checks Diode's ingester makes before accepting a request (INVALID_ARGUMENT otherwise). */
function validate(r: RecordedIngest['request']): Fault | undefined {
  const problems: string[] = [];
  if (!r.stream) problems.push('stream is empty');
  if (!r.id) problems.push('id is empty');
  if (!r.producer_app_name) problems.push('producer_app_name is empty');
  if (!r.producer_app_version) problems.push('producer_app_version is empty');
  if (!r.sdk_name) problems.push('sdk_name is empty');
  if (!/^\d+\.\d+\.\d+$/.test(String(r.sdk_version ?? ''))) problems.push('sdk_version is not x.y.z');
  const entities = r.entities ?? [];
  if (entities.length < 1 || entities.length > 1000) problems.push(`entities: ${entities.length} (must be 1..1000)`);
  const now = Date.now() / 1000 + 5;
  for (const e of entities) {
    const ts = e.timestamp as { seconds?: number } | undefined;
    if (!ts || Number(ts.seconds) > now) problems.push('entity timestamp missing or in the future');
    const kinds = Object.keys(e).filter((k) => k !== 'timestamp');
    if (kinds.length !== 1) problems.push('entity must set exactly one member');
  }
  return problems.length ? { code: GrpcCode.INVALID_ARGUMENT, message: problems.slice(0, 5).join('; ') } : undefined;
}
