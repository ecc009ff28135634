import { describe, expect, it } from 'vitest';
import { formatSummary } from './cli.ts';
import { registerSecret } from './log.ts';
import type { RunResult } from './run.ts';

describe('once summary', () => {
  it('masks registered secrets on every line', () => {
    registerSecret('summary-secret-81f2');
    const r: RunResult = {
      policy: 'lab', collector: 'pbs', runId: 'r1', status: 'partial', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1234,
      warnings: [{ code: 'datastore_unreadable', subject: 'datastore summary-secret-81f2', message: 'HTTP 500 token summary-secret-81f2 not accepted' }],
      error: 'upstream said: bad secret summary-secret-81f2',
      collected: { device: 1 }, sent: { device: 1 }, apiRequests: 3, apiByStatus: {},
      diode: { requests: 1, entities: 1, bytes: 10, errors: ['INVALID_ARGUMENT: entity 0 has client_secret=summary-secret-81f2'] },
    };
    expect(formatSummary([r])).toBe([
      'lab (pbs): partial in 1.23s, 3 API requests, 1 warnings',
      '  entities: device 1',
      '  sent: 1 entities in 1 requests (10 bytes)',
      '  warning: datastore [REDACTED]: HTTP 500 token [REDACTED] not accepted [datastore_unreadable]',
      '  diode error: INVALID_ARGUMENT: entity 0 has client_secret=[REDACTED]',
      '  error: upstream said: bad secret [REDACTED]',
    ].join('\n'));
  });
});
