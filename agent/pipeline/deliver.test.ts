import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DiodeAuthError } from '../diode/auth.ts';
import { DiodeError } from '../diode/client.ts';
import { isOutage, outboxDecision } from './deliver.ts';
import { DeliveryError } from './requests.ts';

const failedDelivery = (cause: Error) => new DeliveryError(cause, { requests: 0, entities: 0, bytes: 0, errors: [] }, 0);

describe('the outbox retry rule', () => {
  it('takes a Diode outage for one: the gRPC codes the client retries, a token endpoint down or 5xx', () => {
    for (const code of [status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL]) {
      expect(isOutage(failedDelivery(new DiodeError(code, 'x')))).toBe(true);
    }
    expect(isOutage(failedDelivery(new DiodeAuthError('token endpoint unreachable')))).toBe(true);
    expect(isOutage(failedDelivery(new DiodeAuthError('token endpoint answered 503', 503)))).toBe(true);
  });

  it('does not take a refusal for one: validation, a refused credential, anything else', () => {
    for (const code of [status.UNKNOWN, status.INVALID_ARGUMENT, status.UNAUTHENTICATED, status.PERMISSION_DENIED]) {
      expect(isOutage(failedDelivery(new DiodeError(code, 'x')))).toBe(false);
    }
    expect(isOutage(failedDelivery(new DiodeAuthError('invalid_client', 401)))).toBe(false);
    expect(isOutage(failedDelivery(new Error('disk full')))).toBe(false);
  });

  it('keeps a snapshot while Diode is down in the background, drops it when stopping, fails otherwise', () => {
    const down = failedDelivery(new DiodeError(status.UNAVAILABLE, 'x'));
    const refused = failedDelivery(new DiodeError(status.INVALID_ARGUMENT, 'x'));
    expect(outboxDecision(down, { background: true, stopping: false, attempt: 1 })).toBe('keep');
    expect(outboxDecision(down, { background: true, stopping: false, attempt: 10_000 })).toBe('keep');
    expect(outboxDecision(down, { background: true, stopping: true, attempt: 3 })).toBe('drop');
    expect(outboxDecision(down, { background: false, stopping: false, attempt: 1 })).toBe('fail');
    expect(outboxDecision(refused, { background: true, stopping: false, attempt: 1 })).toBe('fail');
    expect(outboxDecision(refused, { background: true, stopping: true, attempt: 1 })).toBe('fail');
  });
});
