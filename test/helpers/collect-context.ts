import { pino } from 'pino';
import { HttpTarget } from '../../agent/http/client.ts';
import type { CollectContext, Scope, Warning } from '../../agent/collectors/types.ts';

export interface TestCollectContext<C> extends CollectContext<C> {
  warnings: Warning[];
  targets: HttpTarget[];
  close(): Promise<void>;
}

/** A CollectContext for unit and golden tests: real HTTP targets, warnings recorded. */
export function testCollectContext<C>(config: C, opts: { scope?: Scope; concurrency?: number; policyName?: string } = {}): TestCollectContext<C> {
  const warnings: Warning[] = [];
  const targets: HttpTarget[] = [];
  const controller = new AbortController();
  return {
    policyName: opts.policyName ?? 'test',
    config,
    scope: opts.scope ?? { nodes: ['*'] },
    log: pino({ level: 'silent' }),
    signal: controller.signal,
    target: (o) => {
      const t = new HttpTarget({ ...o, concurrency: opts.concurrency ?? 8, signal: controller.signal, backoffBaseMs: 1, backoffMaxMs: 5 });
      targets.push(t);
      return t;
    },
    warn: (w) => warnings.push(w),
    progress: () => {},
    warnings,
    targets,
    close: async () => {
      await Promise.all(targets.map((t) => t.close()));
    },
  };
}
