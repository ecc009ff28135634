import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { RunCoordinator } from 'node-cron';
import type { Logger } from 'pino';
import { parseState, StateLoadError, type PolicyState, type StateStore } from '../state/store.ts';

/*
 * Several replicas share one Redis: node-cron asks the run coordinator before each
 * scheduled run, with a key naming the task (the policy) and the scheduled time; the
 * first replica to SET that key (NX) runs it, the others skip. The key is left to expire
 * rather than deleted, so a replica whose clock or tick is late cannot run the same slot
 * again. A stopped replica simply stops competing; the next slots go to the others.
 */
export function connectRedis(url: string, log: Logger): Redis {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  client.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
  return client;
}

export class RedisRunCoordinator implements RunCoordinator {
  private readonly redis: Redis;
  private readonly prefix: string;
  readonly replica: string;

  constructor(redis: Redis, prefix: string, replica = `${hostname()}:${process.pid}`) {
    this.redis = redis;
    this.prefix = prefix;
    this.replica = replica;
  }

  async shouldRun(key: string, ttlMs: number): Promise<boolean> {
    const res = await this.redis.set(`${this.prefix}:lease:${key}`, this.replica, 'PX', Math.max(1000, ttlMs), 'NX');
    return res === 'OK';
  }
}

/** Delta state in Redis, so whichever replica runs a policy continues its delta sync. */
export class RedisStateStore implements StateStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private key(policy: string): string {
    return `${this.prefix}:state:${policy}`;
  }

  async load(policy: string): Promise<PolicyState | null> {
    let text: string | null;
    try {
      text = await this.redis.get(this.key(policy));
    } catch (err) {
      throw new StateLoadError(`cannot read state of ${policy} from redis: ${(err as Error).message}`, err);
    }
    return text === null ? null : parseState(text, `redis key ${this.key(policy)}`);
  }

  /** A single SET replaces the value atomically. */
  async save(policy: string, state: PolicyState): Promise<void> {
    await this.redis.set(this.key(policy), JSON.stringify(state));
  }

  async remove(policy: string): Promise<void> {
    await this.redis.del(this.key(policy));
  }

  /** SCAN, not KEYS: it does not block a Redis that others share (redis.io/commands/keys). */
  async list(): Promise<string[]> {
    const head = this.key('');
    // MATCH is a glob: the prefix's own glob characters are escaped (redis.io/commands/scan).
    const pattern = `${head.replace(/[*?[\]\\]/g, '\\$&')}*`;
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) names.add(k.slice(head.length));
    } while (cursor !== '0');
    return [...names].sort();
  }
}
