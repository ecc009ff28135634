import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorCode } from '../errors.ts';

export interface FsProbe {
  stat(path: string): { isDirectory(): boolean };
  access(path: string, mode: number): void;
}

const nodeFs: FsProbe = { stat: (p) => statSync(p), access: (p, m) => accessSync(p, m) };

const REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'symlink loop',
  ENAMETOOLONG: 'name too long',
};

const codeOf = (err: unknown): string => errorCode(err) ?? 'error';
const reason = (code: string): string => REASONS[code] ?? code;

/**
 * Why files cannot be written to `dir` (created with its parents if missing), or undefined.
 * Checks without creating anything, so `validate` leaves no directory behind: the nearest
 * existing ancestor must be a directory this process may write to. access(2) answers EROFS
 * for a read-only mount even to root.
 */
export function dirWriteProblem(dir: string, fs: FsProbe = nodeFs): string | undefined {
  let p = dir;
  for (;;) {
    try {
      if (!fs.stat(p).isDirectory()) return `${p} is not a directory`;
    } catch (err) {
      const code = codeOf(err);
      const parent = dirname(p);
      // ENOTDIR: an ancestor is a file; walking up finds and names it.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== p) {
        p = parent;
        continue;
      }
      return `${p}: ${reason(code)}`;
    }
    try {
      fs.access(p, constants.W_OK | constants.X_OK);
    } catch (err) {
      return `${p} is not writable (${reason(codeOf(err))})`;
    }
    return undefined;
  }
}
