import { hash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint } from './codec.ts';

describe('fingerprint', () => {
  it('is the first 22 characters of the base64url SHA-256 of the bytes', () => {
    for (let n = 0; n < 600; n++) {
      const bytes = randomBytes(n);
      expect(fingerprint(bytes)).toBe(hash('sha256', bytes, 'base64url').slice(0, 22));
    }
    // Each call gives a string of its own, not one overwritten by the next.
    const a = fingerprint(Buffer.from('a'));
    fingerprint(Buffer.from('b'));
    expect(a).toBe(hash('sha256', 'a', 'base64url').slice(0, 22));
  });
});
