import { Pool } from 'undici';

/*
 * The machine's floor for one scenario: a bare HTTP client, in a fresh process, that
 * sends the very requests the agent's first run sent (paths as the fake recorded them),
 * with the same cap of C in flight over C kept-alive TLS connections, and only reads
 * and JSON-parses each body: no validation, mapping, encoding or delivery. Its wall time
 * is what this machine, this fake and undici allow; the agent's wall over it is what
 * the agent itself adds. Started with child_process.fork and one JSON argument
 * (FloorProcessArgs); it waits for { type: 'paths', paths } on IPC (too many for argv),
 * answers once with { type: 'floor', sample } and exits.
 */

export interface FloorProcessArgs {
  pvePort: number;
  concurrency: number;
  authorization: string;
}

export interface FloorSample {
  requests: number;
  wallMs: number;
  cpuMs: number;
  /** Answers other than 200 (there should be none). */
  errors: number;
}

export type FloorProcessMessage = { type: 'floor'; sample: FloorSample } | { type: 'error'; message: string };

async function main(): Promise<FloorSample> {
  const args = JSON.parse(process.argv[2] ?? '{}') as FloorProcessArgs;
  const paths = await new Promise<string[]>((resolve) => {
    process.once('message', (m: { paths?: string[] }) => resolve(m.paths ?? []));
  });
  const pool = new Pool(`https://127.0.0.1:${args.pvePort}`, {
    connections: args.concurrency,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connect: { rejectUnauthorized: false },
  });
  const headers = { accept: 'application/json', authorization: args.authorization };
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++] ?? '/';
      const res = await pool.request({ method: 'GET', path: encodeURI(path), headers });
      JSON.parse(await res.body.text());
      if (res.statusCode !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await pool.close();
  return { requests: paths.length, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, errors };
}

main().then(
  (sample) => {
    process.send?.({ type: 'floor', sample } satisfies FloorProcessMessage);
    process.disconnect?.();
  },
  (err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FloorProcessMessage);
    process.exitCode = 1;
    process.disconnect?.();
  },
);
