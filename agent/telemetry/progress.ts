import type { Logger } from 'pino';

/**
 * Progress of long runs: a log line at most every `intervalMs` per policy (items done of
 * total), and, when `tty` is given (`diode-agent once` on a terminal), one live line
 * rewritten in place.
 */
export class ProgressReporter {
  private readonly last = new Map<string, number>();
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly tty: NodeJS.WriteStream | undefined;
  private readonly now: () => number;
  private live = false;

  constructor(log: Logger, opts: { intervalMs?: number; tty?: NodeJS.WriteStream; now?: () => number } = {}) {
    this.log = log;
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.tty = opts.tty;
    this.now = opts.now ?? Date.now;
  }

  report = (policy: string, collector: string, done: number, total: number): void => {
    const t = this.now();
    if (this.tty) {
      const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
      this.tty.write(`\r\x1b[2K${policy} (${collector}): ${done}/${total} items ${pct}%`);
      this.live = true;
    }
    const prev = this.last.get(policy);
    if (prev === undefined) {
      this.last.set(policy, t);
      return;
    }
    if (t - prev >= this.intervalMs || done === total) {
      this.last.set(policy, t);
      this.log.info({ policy, collector, done, total }, 'progress');
    }
  };

  /** Ends the live line before other output. */
  clear(): void {
    if (this.tty && this.live) this.tty.write('\r\x1b[2K');
    this.live = false;
  }

  reset(policy: string): void {
    this.last.delete(policy);
  }
}
