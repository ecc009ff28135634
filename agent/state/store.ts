import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import { decodeBinaryState, decodeJsonState, encodeStatePieces, isBinaryState, STATE_FORMAT, StateFormatError } from './format.ts';

/** What the agent remembers about one object of one policy. */
export interface ObjectState {
  /** Fingerprint of the entity content Diode last accepted ("" = never accepted). */
  fp: string;
  /** Index of the last successful run that saw it. */
  seen: number;
  /** Set once the object was sent as stale. */
  stale?: boolean;
  /**
   * Last accepted entity body (the Entity message bytes), kept for the kinds that can go
   * stale. A loaded state's bodies are views of the one buffer it was read into.
   */
  body?: Uint8Array;
}

export interface PolicyState {
  /** The stored form's version (agent/state/format.ts); a version-1 state is migrated on load. */
  version: typeof STATE_FORMAT;
  agentVersion: string;
  policyHash: string;
  /** Successful runs so far; the clock of `seen`. */
  runs: number;
  lastFullSync: number | null;
  /** A delivery failed or was partly rejected: the next run resends everything. */
  forceFull: boolean;
  /**
   * By id (`kind|key`). A Map, not a plain object: with tens of thousands of ids a plain
   * object is a dictionary whose every `for…in` collects and sorts all its keys first, and
   * each insertion and lookup cost more (the 50,000-guest save spent 0.7 s in it).
   */
  objects: Map<string, ObjectState>;
  /**
   * What the policy's collector asked to remember for its next run (CollectContext.remember),
   * as it gave it; absent in state written before it existed, which still loads.
   */
  memory?: unknown;
}

/**
 * Reads a stored state, either form: version 2 (binary) or version 1 (JSON, as older agents
 * wrote it). Anything else is a StateLoadError naming `where` (then: warning and full resync).
 */
export function parseState(bytes: Uint8Array | string, where: string): PolicyState {
  try {
    if (typeof bytes !== 'string' && isBinaryState(bytes)) return decodeBinaryState(bytes);
    return decodeJsonState(typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    const what = err instanceof StateFormatError && err.message ? `: ${err.message}` : '';
    throw new StateLoadError(`${where} is corrupt${what}`, err instanceof StateFormatError && err.cause !== undefined ? err.cause : err);
  }
}

export function emptyState(agentVersion: string, policyHash: string): PolicyState {
  return { version: STATE_FORMAT, agentVersion, policyHash, runs: 0, lastFullSync: null, forceFull: true, objects: new Map() };
}

export class StateLoadError extends AgentError {
  constructor(message: string, cause?: unknown) {
    super('state_unreadable', message, { cause });
  }
}

/** The state could not be written; the previously saved state (if any) is still in place. */
export class StateSaveError extends AgentError {
  constructor(message: string, cause?: unknown) {
    super('state_not_saved', message, { cause });
  }
}

export interface StateStore {
  /** The stored state, null when there is none; throws StateLoadError when unreadable. */
  load(policy: string): Promise<PolicyState | null>;
  /** Replaces the stored state atomically; throws StateSaveError, leaving the old state. */
  save(policy: string, state: PolicyState): Promise<void>;
  /** Forgets a policy's state (the policy was deleted); no error when there is none. */
  remove(policy: string): Promise<void>;
  /** The policies that have a stored state, sorted. */
  list(): Promise<string[]>;
}

export interface FileStateStoreOptions {
  /** Writes one piece of the temp file; replaceable so tests can fail a write half-way. */
  writeSync?: (fd: number, piece: Uint8Array) => void;
}

const codeOf = (err: unknown): string => (err as { code?: string }).code ?? (err as Error).message;

/** `<policy>.state`: the binary state (format.ts). */
const STATE_SUFFIX = '.state';
/** `<policy>.state.json`: a version-1 state, read when there is no `.state` yet, removed by the next save. */
const V1_SUFFIX = '.state.json';

/** Policy names are restricted by the policy schema, so they are safe file names. */
export class FileStateStore implements StateStore {
  readonly dir: string;
  private readonly write: (fd: number, piece: Uint8Array) => void;
  constructor(dir: string, opts: FileStateStoreOptions = {}) {
    this.dir = dir;
    this.write =
      opts.writeSync ??
      ((fd, piece) => {
        writeSync(fd, piece);
      });
  }

  /** Where the policy's state is saved. */
  file(policy: string): string {
    return join(this.dir, `${policy}${STATE_SUFFIX}`);
  }

  private v1File(policy: string): string {
    return join(this.dir, `${policy}${V1_SUFFIX}`);
  }

  /** The file's bytes, null when it does not exist. */
  private read(file: string): Buffer | null {
    try {
      return readFileSync(file);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw new StateLoadError(`cannot read ${file}: ${(err as { code?: string }).code ?? 'error'}`, err);
    }
  }

  /**
   * One read into one buffer, which the loaded state's bodies are views of: no text copy
   * of the state exists at any time. Falls back to the version-1 file of older agents.
   */
  async load(policy: string): Promise<PolicyState | null> {
    const file = this.file(policy);
    const bytes = this.read(file);
    if (bytes) return parseState(bytes, file);
    const v1 = this.v1File(policy);
    const old = this.read(v1);
    return old ? parseState(old, v1) : null;
  }

  /**
   * Atomic: write a temp file, fsync it, rename over the old one, fsync the directory.
   * On any failure the temp file is removed: a full disk would otherwise keep a partial
   * one (another each run, as the name carries the pid) and fill the disk further.
   * A version-1 file left by an older agent is removed once the new one is in place.
   */
  async save(policy: string, state: PolicyState): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new StateSaveError(`cannot create the state directory ${this.dir}: ${codeOf(err)}`, err);
    }
    const file = this.file(policy);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        // Each piece is written before the next is made: one buffer serves them all.
        for (const piece of encodeStatePieces(state, { reuse: true })) this.write(fd, piece);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (err) {
      let left = '';
      try {
        rmSync(tmp, { force: true });
      } catch (rmErr) {
        // The write's error is the one to report; say that the temp file stayed.
        left = `; the temp file ${tmp} could not be removed: ${codeOf(rmErr)}`;
      }
      throw new StateSaveError(`cannot write ${file}: ${codeOf(err)}${left}`, err);
    }
    try {
      // The new file is read first, so a version-1 file that stays is never read again.
      rmSync(this.v1File(policy), { force: true });
    } catch {
      // Harmless: load() prefers the new file; remove() tries again.
    }
    try {
      const dfd = openSync(this.dir, 'r');
      fsyncSync(dfd);
      closeSync(dfd);
    } catch {
      // Directory fsync is not supported everywhere; the rename is still atomic.
    }
  }

  async remove(policy: string): Promise<void> {
    rmSync(this.file(policy), { force: true });
    rmSync(this.v1File(policy), { force: true });
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return [];
      throw err;
    }
    // Temp files (`<policy>.state.<pid>.tmp`) end otherwise and are not states.
    const policies = new Set<string>();
    for (const n of names) {
      if (n.endsWith(STATE_SUFFIX)) policies.add(n.slice(0, -STATE_SUFFIX.length));
      else if (n.endsWith(V1_SUFFIX)) policies.add(n.slice(0, -V1_SUFFIX.length));
    }
    return [...policies].sort();
  }
}
