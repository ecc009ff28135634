import { FakeDiodeIngester } from '../fakes/diode-ingester.ts';

/*
 * The fake Diode ingester of the benchmark, in a process of its own (as pve-process.ts is
 * for the fake PVE), so that its CPU (HTTP/2, gRPC framing, counting the entities) and its
 * memory are not counted as the agent's. Started with child_process.fork by the agent
 * process; it answers on IPC:
 *   → { type: 'ready', target, clientId, clientSecret }  once listening
 *   ← { type: 'count' }  → { type: 'count', counted }     the totals so far
 * and exits when its parent disconnects.
 */

export interface DiodeCounted {
  requests: number;
  entities: number;
  bytes: number;
}

export type DiodeProcessMessage =
  | { type: 'ready'; target: string; clientId: string; clientSecret: string }
  | { type: 'count'; counted: DiodeCounted }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  // 'count' keeps nothing but the totals: the process stays small whatever the run sends.
  const ingester = await new FakeDiodeIngester({ record: 'count' }).start();
  const send = (m: DiodeProcessMessage): void => {
    process.send?.(m);
  };
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'count') send({ type: 'count', counted: { ...ingester.counted } });
  });
  process.on('disconnect', () => {
    void ingester.stop().finally(() => process.exit(0));
  });
  send({ type: 'ready', target: ingester.target, clientId: ingester.opts.clientId, clientSecret: ingester.opts.clientSecret });
}

await main();
