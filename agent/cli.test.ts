import { describe, expect, it } from 'vitest';
import { formatSummary, RUN_SUMMARY } from './cli.ts';
import { registerSecret } from './log.ts';
import type { RunResult } from './pipeline/result.ts';

describe('once summary', () => {
  it('masks registered secrets on every line', () => {
    registerSecret('summary-secret-81f2');
    const r: RunResult = {
      policy: 'lab',
      collector: 'pbs',
      runId: 'r1',
      status: 'partial',
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1234,
      warnings: [{ code: 'datastore_unreadable', subject: 'datastore summary-secret-81f2', message: 'HTTP 500 token summary-secret-81f2 not accepted' }],
      error: 'upstream said: bad secret summary-secret-81f2',
      collected: { device: 1 },
      sent: { device: 1 },
      apiRequests: 3,
      apiByStatus: {},
      diode: { requests: 1, entities: 1, bytes: 10, errors: ['INVALID_ARGUMENT: entity 0 has client_secret=summary-secret-81f2'] },
    };
    expect(formatSummary([r])).toBe(
      [
        'lab (pbs): partial in 1.23s, 3 API requests, 1 warnings',
        '  entities: device 1',
        '  sent: 1 entities in 1 requests (10 bytes)',
        '  warning: datastore [REDACTED]: HTTP 500 token [REDACTED] not accepted [datastore_unreadable]',
        '  diode error: INVALID_ARGUMENT: entity 0 has client_secret=[REDACTED]',
        '  error: upstream said: bad secret [REDACTED]',
      ].join('\n'),
    );
  });
});

describe('once summary sections', () => {
  const base: RunResult = {
    policy: 'lab',
    collector: 'pve',
    runId: 'r2',
    status: 'success',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 500,
    warnings: [],
    collected: { tag: 2 },
    sent: { tag: 2 },
    apiRequests: 0,
    apiByStatus: {},
    diode: { requests: 3, entities: 2, bytes: 99, errors: [] },
  };

  it('a dry run says where it wrote: one file by its path, several by the first and the last', () => {
    expect(formatSummary([{ ...base, dryRunFiles: ['/s/dry-run/lab_1.json'] }]).split('\n')[2]).toBe(
      '  written: 2 entities in 1 file (99 bytes): /s/dry-run/lab_1.json',
    );
    expect(formatSummary([{ ...base, dryRunFiles: ['/s/dry-run/lab_1.json', '/s/dry-run/lab_2.json', '/s/dry-run/lab_3.json'] }]).split('\n')[2]).toBe(
      '  written: 2 entities in 3 files (99 bytes): /s/dry-run/lab_1.json … lab_3.json',
    );
    expect(formatSummary([{ ...base, dryRunFiles: [] }]).split('\n')[2]).toBe('  written: 2 entities in 0 files (99 bytes)');
  });

  it('takes further sections in RUN_SUMMARY order, and lists policies that did not load last', () => {
    RUN_SUMMARY.splice(3, 0, (r) => [`  extra: ${r.runId}`]);
    try {
      expect(formatSummary([base], { notLoaded: [{ file: '/p/b.yaml', line: 2, col: 3, path: 'collector', message: 'is required' }] })).toBe(
        [
          'lab (pve): success in 0.50s, 0 API requests, 0 warnings',
          '  entities: tag 2',
          '  sent: 2 entities in 3 requests (99 bytes)',
          '  extra: r2',
          'not loaded: /p/b.yaml:2:3: collector: is required',
        ].join('\n'),
      );
    } finally {
      RUN_SUMMARY.splice(3, 1);
    }
  });
});
