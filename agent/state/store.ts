import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentError } from '../errors.ts';

/** What the agent remembers about one object of one policy. */
export interface ObjectState {
  /** Fingerprint of the entity content Diode last accepted ("" = never accepted). */
  fp: string;
  /** Index of the last successful run that saw it. */
  seen: number;
  /** Set once the object was sent as stale. */
  stale?: boolean;
  /** Last accepted entity body (base64), kept for the kinds that can go stale. */
  body?: string;
}

export interface PolicyState {
  version: 1;
  agentVersion: string;
  policyHash: string;
  /** Successful runs so far; the clock of `seen`. */
  runs: number;
  lastFullSync: number | null;
  /** A delivery failed or was partly rejected: the next run resends everything. */
  forceFull: boolean;
  objects: Record<string, ObjectState>;
  /**
   * What the policy's collector asked to remember for its next run (CollectContext.remember),
   * as it gave it; absent in state written before it existed, which still loads (version 1).
   */
  memory?: unknown;
}

const stateSchema = z.object({
  version: z.literal(1),
  agentVersion: z.string(),
  policyHash: z.string(),
  runs: z.number().int().nonnegative(),
  lastFullSync: z.number().nullable(),
  forceFull: z.boolean(),
  // Checked by a plain loop in parseState: a zod record would build a second copy of the
  // largest part of the state, entry by entry.
  objects: z.custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'expected an object'),
  // The collector checks its own memory's shape when it reads it.
  memory: z.unknown().optional(),
});

/** Validates stored state; anything else is a StateLoadError (then: warning and full resync). */
export function parseState(text: string, where: string): PolicyState {
  let state: PolicyState;
  try {
    state = stateSchema.parse(JSON.parse(text)) as PolicyState;
  } catch (err) {
    throw new StateLoadError(`${where} is corrupt`, err);
  }
  for (const id in state.objects) {
    const o = state.objects[id];
    const ok = o !== null && typeof o === 'object' && typeof o.fp === 'string' && Number.isInteger(o.seen)
      && (o.stale === undefined || typeof o.stale === 'boolean') && (o.body === undefined || typeof o.body === 'string');
    if (!ok) throw new StateLoadError(`${where} is corrupt: object ${JSON.stringify(id)} is malformed`);
  }
  return state;
}

/**
 * JSON.stringify(state) in pieces of about a megabyte: the state of a large estate is tens
 * of megabytes of JSON, which as one string (and its UTF-8 copy for the write) would be the
 * largest thing a run holds at its end.
 */
export function* stateJsonPieces(state: PolicyState): Generator<string, void, undefined> {
  const { objects, ...head } = state;
  let piece = `${JSON.stringify(head).slice(0, -1)},"objects":{`;
  let first = true;
  for (const id in objects) {
    piece += `${first ? '' : ','}${JSON.stringify(id)}:${JSON.stringify(objects[id])}`;
    first = false;
    if (piece.length >= 1 << 20) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}}}`;
}

export function emptyState(agentVersion: string, policyHash: string): PolicyState {
  return { version: 1, agentVersion, policyHash, runs: 0, lastFullSync: null, forceFull: true, objects: {} };
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
  writeSync?: (fd: number, text: string) => void;
}

const codeOf = (err: unknown): string => (err as { code?: string }).code ?? (err as Error).message;

const STATE_SUFFIX = '.state.json';

/** Policy names are restricted by the policy schema, so they are safe file names. */
export class FileStateStore implements StateStore {
  readonly dir: string;
  private readonly write: (fd: number, text: string) => void;
  constructor(dir: string, opts: FileStateStoreOptions = {}) {
    this.dir = dir;
    this.write = opts.writeSync ?? ((fd, text) => {
      writeSync(fd, text);
    });
  }

  private file(policy: string): string {
    return join(this.dir, `${policy}${STATE_SUFFIX}`);
  }

  async load(policy: string): Promise<PolicyState | null> {
    let text: string;
    try {
      text = readFileSync(this.file(policy), 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw new StateLoadError(`cannot read ${this.file(policy)}: ${(err as { code?: string }).code ?? 'error'}`, err);
    }
    return parseState(text, this.file(policy));
  }

  /**
   * Atomic: write a temp file, fsync it, rename over the old one, fsync the directory.
   * On any failure the temp file is removed: a full disk would otherwise keep a partial
   * one (another each run, as the name carries the pid) and fill the disk further.
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
        for (const piece of stateJsonPieces(state)) this.write(fd, piece);
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
      const dfd = openSync(this.dir, 'r');
      fsyncSync(dfd);
      closeSync(dfd);
    } catch {
      // Directory fsync is not supported everywhere; the rename is still atomic.
    }
  }

  async remove(policy: string): Promise<void> {
    rmSync(this.file(policy), { force: true });
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return [];
      throw err;
    }
    // Temp files (`<policy>.state.json.<pid>.tmp`) end otherwise and are not states.
    return names.filter((n) => n.endsWith(STATE_SUFFIX)).map((n) => n.slice(0, -STATE_SUFFIX.length)).sort();
  }
}
