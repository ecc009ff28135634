import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/* The benchmark's child processes (fake PVE, agent, floor, Diode ingester) and their messages. */

/** Node ≥ 22.18 runs the .ts sources natively; older 22.x go through tsx, as bin/ does. */
const EXEC_ARGV = process.features.typescript ? [] : ['--import', 'tsx'];

export interface Child<M> {
  proc: ChildProcess;
  next(): Promise<M>;
  exited: Promise<number | null>;
}

/** Forks `file` (relative to test/bench/) with `args` as its one JSON argument, if any; its messages queue until read. */
export function spawnChild<M>(file: string, args?: object, execArgv: string[] = []): Child<M> {
  const proc = fork(fileURLToPath(new URL(file, import.meta.url)), args === undefined ? [] : [JSON.stringify(args)], {
    execArgv: [...EXEC_ARGV, ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: M[] = [];
  const waiters: Array<{ resolve: (m: M) => void; reject: (e: Error) => void }> = [];
  let ended: Error | undefined;
  proc.on('message', (m) => {
    const w = waiters.shift();
    if (w) w.resolve(m as M);
    else queue.push(m as M);
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, signal) => {
      ended = new Error(`${file} exited (${signal ?? code}) before answering`);
      for (const w of waiters.splice(0)) w.reject(ended);
      resolve(code);
    });
  });
  return {
    proc,
    exited,
    next: () => {
      const m = queue.shift();
      if (m !== undefined) return Promise.resolve(m);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
  };
}

/** The child's next message, which must be of `type`; its `error` message or its exit rejects. */
export async function expect<M extends { type: string }, T extends M['type']>(child: Child<M>, type: T): Promise<Extract<M, { type: T }>> {
  const m = await child.next();
  if (m.type === 'error') throw new Error(`benchmark child failed: ${(m as unknown as { message: string }).message}`);
  if (m.type !== type) throw new Error(`benchmark child: expected "${type}", got "${m.type}"`);
  return m as Extract<M, { type: T }>;
}
