import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStateStore } from '../coordination/redis.ts';
import { hasRedis } from '../../test/helpers/redis.ts';
import { emptyState, FileStateStore, StateSaveError, type PolicyState } from './store.ts';

const stateWith = (n: number): PolicyState => {
  const s = emptyState('1.0.0', 'h');
  for (let i = 0; i < n; i++) s.objects[`virtual_machine|vm${i}`] = { fp: `fp${i}`, seen: 1 };
  return s;
};

/** A directory holding the saved state of policy "pve", and that file's content. */
async function saved(): Promise<{ dir: string; file: string; tmp: string; before: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
  await new FileStateStore(dir).save('pve', stateWith(3));
  const file = join(dir, 'pve.state.json');
  return { dir, file, tmp: `${file}.${process.pid}.tmp`, before: readFileSync(file, 'utf8') };
}

describe('FileStateStore.save failures', () => {
  it('disk full in the middle of the write (the kernel\'s ENOSPC): no temp file is left, the old state is intact', async () => {
    const { dir, file, tmp, before } = await saved();
    // The temp file's path leads to /dev/full: the open succeeds, every write fails with ENOSPC.
    symlinkSync('/dev/full', tmp);
    const err = await new FileStateStore(dir).save('pve', stateWith(5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateSaveError);
    expect((err as StateSaveError).message).toBe(`cannot write ${file}: ENOSPC`);
    expect(((err as StateSaveError).cause as { code?: string }).code).toBe('ENOSPC');
    expect(readdirSync(dir)).toEqual(['pve.state.json']);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a write that fails after the first megabyte: the partial temp file is removed, the old state is intact', async () => {
    const { dir, file, before } = await saved();
    let pieces = 0;
    const store = new FileStateStore(dir, {
      writeSync: (fd, text) => {
        if (++pieces > 1) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        writeSync(fd, text);
      },
    });
    // Large enough for stateJsonPieces to cut it into several pieces of about 1 MB.
    const err = await store.save('pve', stateWith(40_000)).catch((e: unknown) => e);
    expect(pieces).toBe(2);
    expect((err as StateSaveError).message).toBe(`cannot write ${file}: ENOSPC`);
    expect(readdirSync(dir)).toEqual(['pve.state.json']);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('the rename fails (a directory where the state file should be): the written temp file is removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    mkdirSync(join(dir, 'pve.state.json'));
    const err = await new FileStateStore(dir).save('pve', stateWith(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateSaveError);
    expect((err as StateSaveError).message).toBe(`cannot write ${join(dir, 'pve.state.json')}: EISDIR`);
    expect(readdirSync(dir)).toEqual(['pve.state.json']);
  });

  it('state_dir is a file: a StateSaveError naming the directory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'state-store-')), 'state');
    writeFileSync(dir, '');
    const err = await new FileStateStore(dir).save('pve', stateWith(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateSaveError);
    expect((err as StateSaveError).message).toBe(`cannot create the state directory ${dir}: EEXIST`);
  });
});

/** A state as a version-1 agent wrote it before the collector memory existed. */
const OLD_STATE = '{"version":1,"agentVersion":"0.1.0","policyHash":"h","runs":3,"lastFullSync":1748779200000,"forceFull":false,"objects":{"virtual_machine|vm0":{"fp":"fp0","seen":3}}}';
const MEMORY = { v: 1, agents: { 100: { name: 'vm100', osinfo: { at: 1748779200000, boot: 1748775600, value: { name: 'Ubuntu', versionId: '24.04' } }, hung: { at: 1748779200000, skipped: 2 } } } };

describe('collector memory in the state (PolicyState.memory)', () => {
  it('round-trips through the file store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    const state = { ...stateWith(2), memory: MEMORY };
    await new FileStateStore(dir).save('pve', state);
    expect(await new FileStateStore(dir).load('pve')).toEqual(state);
  });

  it('loads a state file written before it existed, without memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    writeFileSync(join(dir, 'pve.state.json'), OLD_STATE);
    const state = await new FileStateStore(dir).load('pve');
    expect(state).toEqual({ version: 1, agentVersion: '0.1.0', policyHash: 'h', runs: 3, lastFullSync: 1748779200000, forceFull: false, objects: { 'virtual_machine|vm0': { fp: 'fp0', seen: 3 } } });
    expect(state && 'memory' in state).toBe(false);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!hasRedis)('collector memory in the Redis state store', () => {
  let proc: ChildProcess;
  let redis: Redis;
  beforeAll(async () => {
    const port = await freePort();
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redis = new Redis(`redis://127.0.0.1:${port}/0`, { retryStrategy: () => 100 });
    redis.on('error', () => {});
    await redis.ping();
  });
  afterAll(() => {
    redis?.disconnect();
    proc?.kill('SIGKILL');
  });

  it('round-trips, and a state stored without memory still loads', async () => {
    const store = new RedisStateStore(redis, 'test');
    const state = { ...stateWith(2), memory: MEMORY };
    await store.save('pve', state);
    expect(await store.load('pve')).toEqual(state);
    await redis.set('test:state:old', OLD_STATE);
    const old = await store.load('old');
    expect(old?.runs).toBe(3);
    expect(old && 'memory' in old).toBe(false);
  });
});
