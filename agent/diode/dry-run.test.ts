import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DryRunDirError, DryRunSink } from './dry-run.ts';

describe('DryRunSink', () => {
  it('a directory it cannot create is a DryRunDirError naming diode.dry_run_output_dir and the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dry-run-'));
    writeFileSync(join(dir, 'file'), '');
    const out = join(dir, 'file', 'out');
    let err: unknown;
    try {
      new DryRunSink(out, 'app');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DryRunDirError);
    expect((err as DryRunDirError).message).toBe(`cannot create diode.dry_run_output_dir ${out} (ENOTDIR)`);
    expect(((err as DryRunDirError).cause as { code: string }).code).toBe('ENOTDIR');
  });
});
