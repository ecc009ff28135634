import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
