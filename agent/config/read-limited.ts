import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The largest agent.yaml, policy file or `${file:}` value read, in bytes (1 MiB). A policy
 * is a few kilobytes; the YAML parser's document tree, the substituted copy, zod's output and
 * the content hash multiply a file's size roughly forty times (a 50 MB value cost 2 GB in
 * `validate`), so a larger file is refused before it is parsed.
 */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export class FileTooLargeError extends Error {
  readonly size: number;
  constructor(size: number) {
    super(`${size} bytes, over ${MAX_CONFIG_FILE_BYTES}`);
    this.name = 'FileTooLargeError';
    this.size = size;
  }
}

/**
 * Reads a UTF-8 file of at most MAX_CONFIG_FILE_BYTES, or throws FileTooLargeError (or the
 * fs error). At most one byte over the limit is read, also from a FIFO or a file that grows.
 */
export function readLimited(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_CONFIG_FILE_BYTES) throw new FileTooLargeError(size);
    const buf = Buffer.allocUnsafe(MAX_CONFIG_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_CONFIG_FILE_BYTES) throw new FileTooLargeError(Math.max(size, n));
    }
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}
