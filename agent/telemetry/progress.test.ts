import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from './progress.ts';

describe('ProgressReporter', () => {
  it('logs at most once per interval per policy, always at completion, and draws a live line', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
    let t = 0;
    let screen = '';
    const tty = { write: (s: string) => (screen += s) } as unknown as NodeJS.WriteStream;
    const p = new ProgressReporter(log, { intervalMs: 1000, now: () => t, tty });
    p.report('lab', 'pve', 0, 100);
    for (let i = 1; i <= 100; i++) {
      t += 50;
      p.report('lab', 'pve', i, 100);
    }
    expect(lines.map((l) => [l.msg, l.done, l.total])).toEqual([
      ['progress', 20, 100],
      ['progress', 40, 100],
      ['progress', 60, 100],
      ['progress', 80, 100],
      ['progress', 100, 100],
    ]);
    expect(screen.endsWith('\r\x1b[2Klab (pve): 100/100 items 100%')).toBe(true);
    p.clear();
    expect(screen.endsWith('\r\x1b[2K')).toBe(true);
  });
});
