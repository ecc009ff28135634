import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const tlsDir = new URL('../tls/', import.meta.url);
export const TEST_CERT = readFileSync(new URL('server.pem', tlsDir));
export const TEST_KEY = readFileSync(new URL('server.key', tlsDir));
export const TEST_CA_FILE = new URL('ca.pem', tlsDir).pathname;
/** SHA-256 of test/tls/server.pem, colon hex, as PVE and PBS show fingerprints. */
export const TEST_CERT_FINGERPRINT = '47:E8:40:64:DC:EA:A0:73:E4:64:34:F7:FA:CD:7F:AB:FA:0A:90:F0:2A:C4:58:59:BB:4B:5F:8C:4F:06:7F:89';

export interface FakeRequest {
  method: string;
  /** Path without the query string, e.g. /api2/json/nodes. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeResponse {
  status: number;
  /** HTTP reason phrase; PVE puts its error message here. */
  statusText?: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Drop the connection without answering (a connection reset). */
  destroy?: boolean;
  /**
   * Send the body `bytes` at a time (default 1), one piece every `everyMs`, the way a
   * struggling proxy or node trickles an answer. With `endless` the headers promise no
   * length and filler follows the body until the client goes away.
   */
  trickle?: { everyMs: number; bytes?: number; endless?: boolean };
}

export type FakeHandler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeServer {
  url: string;
  port: number;
  requests: FakeRequest[];
  close(): Promise<void>;
}

/**
 * An HTTPS server with the test certificate for fakes of upstream APIs. It records every
 * request and adds `latencyMs` before each answer (the benchmark's fixed latency).
 */
export async function startFakeHttps(handler: FakeHandler, opts: { port?: number; latencyMs?: number; host?: string } = {}): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const server = createServer({ cert: TEST_CERT, key: TEST_KEY, keepAliveTimeout: 60_000 }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'https://fake');
        const fr: FakeRequest = {
          method: req.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        requests.push(fr);
        let out: FakeResponse;
        try {
          out = await handler(fr);
        } catch (err) {
          out = { status: 500, statusText: `fake server error: ${(err as Error).message}`, body: { data: null } };
        }
        const delay = (opts.latencyMs ?? 0) + (out.delayMs ?? 0);
        if (delay > 0) await sleep(delay);
        if (out.destroy) {
          req.socket.destroy();
          return;
        }
        const body = out.body === undefined ? '' : typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
        res.statusCode = out.status;
        if (out.statusText) res.statusMessage = out.statusText;
        res.setHeader('content-type', out.headers?.['content-type'] ?? 'application/json;charset=UTF-8');
        for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
        if (out.trickle) await trickle(res, Buffer.from(body), out.trickle);
        else res.end(body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function trickle(res: ServerResponse, body: Buffer, t: NonNullable<FakeResponse['trickle']>): Promise<void> {
  const step = Math.max(1, t.bytes ?? 1);
  if (!t.endless) res.setHeader('content-length', String(body.length));
  res.flushHeaders();
  const gone = (): boolean => res.destroyed || res.socket === null || res.socket.destroyed;
  for (let at = 0; !gone() && (t.endless || at < body.length); at += step) {
    await sleep(t.everyMs);
    if (gone()) return;
    res.write(at < body.length ? body.subarray(at, at + step) : Buffer.alloc(step, 0x20));
  }
  if (!gone()) res.end();
}
