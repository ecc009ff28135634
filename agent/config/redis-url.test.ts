import { describe, expect, it } from 'vitest';
import { maskRedisUrl, redisPasswordForms, redisUrlProblem } from './redis-url.ts';

describe('coordination.redis_url', () => {
  it.each([
    ['redis://redis:6379/0'],
    ['redis://redis'],
    ['rediss://:s3cret@redis.example.com:6380/2'],
    ['redis://agent:p%40ss%25word@redis:6379/15'],
    ['redis://[::1]:6379/0'],
    ['redis://redis:6379/'],
    ['redis://redis:6379/0?family=6'],
    ['https://redis:6379/0'], // the schema's pattern reports the scheme
  ])('accepts %s', (url) => {
    expect(redisUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ['redis://:hunter2-PW@127.0.0.1:99999/0', 'port 99999 is out of range 1-65535 (redis://:[REDACTED]@127.0.0.1:99999/0)'],
    ['redis://:hunter2-PW@127.0.0.1:0/0', 'port 0 is out of range 1-65535 (redis://:[REDACTED]@127.0.0.1:0/0)'],
    ['redis://:hunter2-PW@redis:63x9/0', 'port "63x9" is not a number (redis://:[REDACTED]@redis:63x9/0)'],
    ['redis://:hunter2-PW@:6379/0', 'the host is missing (redis://:[REDACTED]@:6379/0)'],
    ['redis://:hunter2-PW@redis:6379/zero', 'database "zero" is not a number (e.g. redis://host:6379/0) (redis://:[REDACTED]@redis:6379/zero)'],
    ['redis://:50%off-PW@redis:6379/0', 'malformed percent-encoding in the password; write a literal "%" as %25 (redis://:[REDACTED]@redis:6379/0)'],
    ['redis://a%zz:pw-PW@redis:6379/0', 'malformed percent-encoding in the user name; write a literal "%" as %25 (redis://a%zz:[REDACTED]@redis:6379/0)'],
    [
      'redis://:pa/ss-PW@redis:6379/0',
      'the user name or password contains "/", "?" or "#"; percent-encode them as %2F, %3F, %23 (redis://:[REDACTED]@redis:6379/0)',
    ],
    ['redis://:pw-PW@[::1/0', 'is not a valid URL (redis://:[REDACTED]@[::1/0)'],
    ['redis://:pw-PW@re dis:6379/0', 'is not a valid URL (redis://:[REDACTED]@re dis:6379/0)'],
  ])('rejects %s', (url, problem) => {
    expect(redisUrlProblem(url)).toBe(problem);
  });

  it('masks only the password and registers it as written and decoded', () => {
    expect(maskRedisUrl('redis://agent:p%40ss@redis:6379/0')).toBe('redis://agent:[REDACTED]@redis:6379/0');
    expect(maskRedisUrl('redis://agent@redis:6379/0')).toBe('redis://agent@redis:6379/0');
    expect(redisPasswordForms('redis://agent:p%40ss@redis:6379/0')).toEqual(['p%40ss', 'p@ss']);
    expect(redisPasswordForms('redis://:50%off@redis')).toEqual(['50%off']);
    expect(redisPasswordForms('redis://redis')).toEqual([]);
  });
});
