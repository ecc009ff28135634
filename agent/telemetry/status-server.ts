import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redactSecrets } from '../log.ts';
import type { Metrics } from './metrics.ts';

export interface StatusSource {
  ready(): boolean;
  /** Why it is not ready, one line each, for the body of a 503 from /readyz. */
  notReadyReasons?(): string[];
  status(): unknown;
}

/**
 * /healthz (process alive), /readyz (config loaded, scheduler running, no policy overdue), /metrics
 * (Prometheus text), /status (JSON per policy). Output is scrubbed of registered secrets.
 */
export class StatusServer {
  private server?: Server;
  private readonly source: StatusSource;
  private readonly metrics: Metrics;
  port = 0;

  constructor(source: StatusSource, metrics: Metrics) {
    this.source = source;
    this.metrics = metrics;
  }

  async listen(listen: string): Promise<void> {
    const idx = listen.lastIndexOf(':');
    const host = listen.slice(0, idx).replace(/^\[|\]$/g, '');
    const port = Number(listen.slice(idx + 1));
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const send = (code: number, type: string, body: string) => {
        res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
      if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
      if (path === '/readyz') {
        if (this.source.ready()) return send(200, 'text/plain', 'ready\n');
        const reasons = this.source.notReadyReasons?.() ?? [];
        return send(503, 'text/plain', redactSecrets(`${['not ready', ...reasons].join('\n')}\n`));
      }
      if (path === '/status') return send(200, 'application/json', redactSecrets(`${JSON.stringify(this.source.status(), null, 2)}\n`));
      if (path === '/metrics') {
        void this.metrics.registry.metrics().then(
          (m) => send(200, this.metrics.registry.contentType, redactSecrets(m)),
          (err: Error) => send(500, 'text/plain', `${err.message}\n`),
        );
        return;
      }
      send(404, 'text/plain', 'not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host || '0.0.0.0', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}
