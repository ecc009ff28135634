import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStateStore } from '../coordination/redis.ts';
import { hasRedis } from '../../test/helpers/redis.ts';
import { crc32 } from 'node:zlib';
import { encodeState, encodeStatePieces, PIECE_BYTES } from './format.ts';
import { emptyState, FileStateStore, parseState, StateLoadError, StateSaveError, type ObjectState, type PolicyState } from './store.ts';

const stateWith = (n: number): PolicyState => {
  const s = emptyState('1.0.0', 'h');
  for (let i = 0; i < n; i++) s.objects.set(`virtual_machine|vm${i}`, { fp: `fp${i}`, seen: 1 });
  return s;
};

/** A directory holding the saved state of policy "pve", and that file's content. */
async function saved(): Promise<{ dir: string; file: string; tmp: string; before: Buffer }> {
  const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
  await new FileStateStore(dir).save('pve', stateWith(3));
  const file = join(dir, 'pve.state');
  return { dir, file, tmp: `${file}.${process.pid}.tmp`, before: readFileSync(file) };
}

describe('FileStateStore.save failures', () => {
  it("disk full in the middle of the write (the kernel's ENOSPC): no temp file is left, the old state is intact", async () => {
    const { dir, file, tmp, before } = await saved();
    // The temp file's path leads to /dev/full: the open succeeds, every write fails with ENOSPC.
    symlinkSync('/dev/full', tmp);
    const err = await new FileStateStore(dir).save('pve', stateWith(5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateSaveError);
    expect((err as StateSaveError).message).toBe(`cannot write ${file}: ENOSPC`);
    expect(((err as StateSaveError).cause as { code?: string }).code).toBe('ENOSPC');
    expect(readdirSync(dir)).toEqual(['pve.state']);
    expect(readFileSync(file)).toEqual(before);
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
    // Large enough for encodeStatePieces to cut it into several pieces of about 1 MB (40,000 × 36 bytes).
    const err = await store.save('pve', stateWith(40_000)).catch((e: unknown) => e);
    expect(pieces).toBe(2);
    expect((err as StateSaveError).message).toBe(`cannot write ${file}: ENOSPC`);
    expect(readdirSync(dir)).toEqual(['pve.state']);
    expect(readFileSync(file)).toEqual(before);
  });

  it('the rename fails (a directory where the state file should be): the written temp file is removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    mkdirSync(join(dir, 'pve.state'));
    const err = await new FileStateStore(dir).save('pve', stateWith(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateSaveError);
    expect((err as StateSaveError).message).toBe(`cannot write ${join(dir, 'pve.state')}: EISDIR`);
    expect(readdirSync(dir)).toEqual(['pve.state']);
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
const OLD_STATE =
  '{"version":1,"agentVersion":"0.1.0","policyHash":"h","runs":3,"lastFullSync":1748779200000,"forceFull":false,"objects":{"virtual_machine|vm0":{"fp":"fp0","seen":3}}}';
const MEMORY = {
  v: 1,
  agents: {
    100: {
      name: 'vm100',
      osinfo: { at: 1748779200000, boot: 1748775600, value: { name: 'Ubuntu', versionId: '24.04' } },
      hung: { at: 1748779200000, skipped: 2 },
    },
  },
};

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
    expect(state).toEqual({
      version: 2,
      agentVersion: '0.1.0',
      policyHash: 'h',
      runs: 3,
      lastFullSync: 1748779200000,
      forceFull: false,
      objects: new Map([['virtual_machine|vm0', { fp: 'fp0', seen: 3 }]]),
    });
    expect(state && 'memory' in state).toBe(false);
  });
});

/** A state with what every field of a stored object can hold: bodies, stale true and false, a UTF-8 id, memory. */
const richState = (): PolicyState => ({
  ...emptyState('1.2.3', 'hash'),
  runs: 7,
  lastFullSync: 1748779200000,
  forceFull: false,
  memory: MEMORY,
  objects: new Map<string, ObjectState>([
    ['virtual_machine|/c/a', { fp: 'AAAAAAAAAAAAAAAAAAAAAA', seen: 7, body: Buffer.from([0x0a, 0x03, 1, 2, 3]) }],
    ['virtual_machine|/c/größe-ü', { fp: 'BBBBBBBBBBBBBBBBBBBBBB', seen: 6, stale: true, body: Buffer.from([0xff, 0]) }],
    ['ip_address|/10.0.0.1/24', { fp: '', seen: 7, stale: false }],
    ['tag|discovered', { fp: 'CCCCCCCCCCCCCCCCCCCCCC', seen: 4294967295 }],
  ]),
});

/** The same bytes with a correct checksum again (for damage the checksum would not see). */
const resealed = (bytes: Buffer): Buffer => {
  const out = Buffer.from(bytes);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)) >>> 0, out.length - 4);
  return out;
};

describe('state format version 2 (agent/state/format.ts)', () => {
  it('round-trips every field through the file store; the bodies are views of the one buffer read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    const store = new FileStateStore(dir);
    await store.save('pve', richState());
    expect(readdirSync(dir)).toEqual(['pve.state']);
    const bytes = readFileSync(join(dir, 'pve.state'));
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from('PDAS\x02', 'latin1'));
    const back = await store.load('pve');
    expect(back).toEqual(richState());
    const buffers = new Set([...back!.objects.values()].flatMap((o) => (o.body ? [o.body.buffer] : [])));
    expect(buffers.size).toBe(1);
  });

  it('loads a version-1 file (JSON, base64 bodies) as the same state, and the next save replaces it with version 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    const v1 = {
      version: 1,
      agentVersion: '1.2.3',
      policyHash: 'hash',
      runs: 7,
      lastFullSync: 1748779200000,
      forceFull: false,
      memory: MEMORY,
      objects: Object.fromEntries([...richState().objects].map(([id, o]) => [id, { ...o, ...(o.body && { body: Buffer.from(o.body).toString('base64') }) }])),
    };
    writeFileSync(join(dir, 'pve.state.json'), JSON.stringify(v1));
    const store = new FileStateStore(dir);
    expect(await store.list()).toEqual(['pve']);
    const state = await store.load('pve');
    expect(state).toEqual(richState());
    await store.save('pve', state!);
    expect(readdirSync(dir)).toEqual(['pve.state']);
    expect(await store.load('pve')).toEqual(richState());
  });

  it('the file store writes one reused buffer, byte for byte what the pieces a caller may keep make', async () => {
    // A head of several pieces (collector memory in two- to four-byte UTF-8; `{"ss":"` is 7
    // characters, so the first cut of the head's text falls inside a surrogate pair), small
    // bodies, and a body larger than a piece.
    const s = stateWith(30_000);
    s.memory = { ss: '😀'.repeat(300_000), agents: Array.from({ length: 60_000 }, (_, i) => ({ n: i, os: i % 7 === 0 ? 'Windows Server ™ 😀' : 'Debian' })) };
    for (let i = 0; i < 30_000; i += 3) (s.objects.get(`virtual_machine|vm${i}`) as { body?: Uint8Array }).body = Buffer.alloc(40 + (i % 90), i % 251);
    s.objects.set('virtual_machine|huge', { fp: 'h', seen: 1, body: Buffer.alloc(PIECE_BYTES + 7, 9) });
    const copies: Buffer[] = [];
    const seen = new Set<ArrayBufferLike>();
    for (const piece of encodeStatePieces(s, { reuse: true })) {
      expect(piece.length).toBeLessThanOrEqual(PIECE_BYTES + 7);
      seen.add(piece.buffer);
      copies.push(Buffer.from(piece));
    }
    const whole = encodeState(s);
    expect(Buffer.concat(copies).equals(whole)).toBe(true);
    // One piece buffer, the huge body's own (a view, no copy) and the head's first piece at most.
    expect(seen.size).toBeLessThanOrEqual(3);
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    const store = new FileStateStore(dir);
    await store.save('pve', s);
    expect(readFileSync(store.file('pve')).equals(whole)).toBe(true);
    expect(await store.load('pve')).toEqual(s);
  });

  it('list names a policy with both files once; remove deletes both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    const store = new FileStateStore(dir);
    await store.save('pve', richState());
    writeFileSync(join(dir, 'pve.state.json'), OLD_STATE);
    writeFileSync(join(dir, 'old.state.json'), OLD_STATE);
    expect(await store.list()).toEqual(['old', 'pve']);
    // The version-2 file wins over a version-1 file beside it.
    expect((await store.load('pve'))?.runs).toBe(7);
    await store.remove('pve');
    expect(readdirSync(dir)).toEqual(['old.state.json']);
  });

  it('a damaged file is a StateLoadError naming the file and what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
    const store = new FileStateStore(dir);
    await store.save('pve', richState());
    const file = join(dir, 'pve.state');
    const good = readFileSync(file);
    const headLen = good.readUInt32LE(5);
    const cases: Array<[Buffer, string]> = [
      [good.subarray(0, good.length - 9), 'checksum mismatch (truncated or damaged)'],
      [Buffer.concat([good.subarray(0, 40), Buffer.from([good[40]! ^ 1]), good.subarray(41)]), 'checksum mismatch (truncated or damaged)'],
      [good.subarray(0, 12), 'truncated'],
      [resealed(Buffer.concat([good.subarray(0, 4), Buffer.from([9]), good.subarray(5)])), 'unknown format version 9'],
      // One object more than the file holds.
      [resealed(Buffer.from(good).map((b, i) => (i === 9 + headLen ? b + 1 : b)) as Buffer), 'truncated'],
      [resealed(Buffer.concat([good.subarray(0, good.length - 4), Buffer.from([1, 2, 3]), good.subarray(good.length - 4)])), '3 bytes after the last object'],
      [resealed(Buffer.concat([good.subarray(0, 9), Buffer.from('x'.repeat(headLen)), good.subarray(9 + headLen)])), 'head unreadable'],
    ];
    for (const [bytes, what] of cases) {
      writeFileSync(file, bytes);
      const err = await store.load('pve').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateLoadError);
      expect((err as StateLoadError).message).toBe(`${file} is corrupt: ${what}`);
    }
  });

  it('a file that is neither version is corrupt, not a crash', () => {
    expect(() => parseState(Buffer.from([0, 1, 2, 3]), 'f')).toThrow(new StateLoadError('f is corrupt'));
    expect(() => parseState(Buffer.alloc(0), 'f')).toThrow(new StateLoadError('f is corrupt'));
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

  it('stores the binary form, loads a version-1 JSON value as the same state, and names the key of a damaged one', async () => {
    const store = new RedisStateStore(redis, 'fmt');
    await store.save('pve', richState());
    const value = await redis.getBuffer('fmt:state:pve');
    expect(value?.subarray(0, 4).toString('latin1')).toBe('PDAS');
    expect(await store.load('pve')).toEqual(richState());
    const v1 = {
      version: 1,
      agentVersion: '1.2.3',
      policyHash: 'hash',
      runs: 7,
      lastFullSync: 1748779200000,
      forceFull: false,
      memory: MEMORY,
      objects: Object.fromEntries([...richState().objects].map(([id, o]) => [id, { ...o, ...(o.body && { body: Buffer.from(o.body).toString('base64') }) }])),
    };
    await redis.set('fmt:state:v1', JSON.stringify(v1));
    expect(await store.load('v1')).toEqual(richState());
    await redis.set('fmt:state:bad', value!.subarray(0, value!.length - 1));
    await expect(store.load('bad')).rejects.toThrow(new StateLoadError('redis key fmt:state:bad is corrupt: checksum mismatch (truncated or damaged)'));
  });
});
