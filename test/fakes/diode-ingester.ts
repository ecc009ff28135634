import { createServer as createHttp1, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2c, createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNet, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { IngestRequestType, IngestResponseType, EntityType } from '../../agent/diode/codec.ts';
import { TEST_CERT, TEST_KEY } from './https-server.ts';

/** gRPC status codes used by the fake (google.rpc.Code). */
export const GrpcCode = {
  OK: 0, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, ABORTED: 10,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16,
} as const;

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
  private readonly tokens = new Map<string, number>();
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
      ...(opts.port !== undefined ? { port: opts.port } : {}),
    };
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
    const token = `tok-${++this.tokenCounter}`;
    this.tokens.set(token, Date.now() + this.opts.tokenTtlSeconds * 1000);
    (res as ServerResponse).writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: this.opts.tokenTtlSeconds, scope: form.scope }));
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
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const expiry = token ? this.tokens.get(token) : undefined;
    let fault: Fault | undefined;
    if (!token || expiry === undefined || expiry < Date.now()) fault = { code: GrpcCode.UNAUTHENTICATED, message: 'invalid or expired token' };
    else fault = this.faultFn?.(rec, n) ?? this.faults.shift() ?? validate(decoded);
    if (fault?.delayMs) await sleep(fault.delayMs);
    const code = fault?.code ?? GrpcCode.OK;
    rec.code = code;
    if (code === GrpcCode.OK) {
      this.countAccepted(decoded.entities.length, bytes.length);
      this.onAccepted?.(decoded);
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
    const auth = req.headers.authorization as string | undefined;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const expiry = token ? this.tokens.get(token) : undefined;
    if (!token || expiry === undefined || expiry < Date.now()) return this.answer(res, GrpcCode.UNAUTHENTICATED, { code: GrpcCode.UNAUTHENTICATED, message: 'invalid or expired token' });
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
  return Array.from(Buffer.from(msg, 'utf8')).map((b) => (b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
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

export { EntityType };
