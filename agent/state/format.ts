import { crc32 } from 'node:zlib';
import { z } from 'zod';
import type { ObjectState, PolicyState } from './store.ts';

/*
 * The stored form of a PolicyState (version 2): a binary file, so that loading it needs
 * neither the whole state as JSON text nor a JS string per entity body. Version 1 was the
 * JSON of the state with base64 bodies: at 50,000 guests ~120 MB of text, read into one
 * string and parsed beside it, which made loading the largest moment of a delta run.
 * Version 2 is read into one Buffer; every body stays a view of it (no copy, no base64).
 *
 *   "PDAS"  magic (4 bytes)
 *   u8      format version (2)
 *   u32     length of the head, then the head: UTF-8 JSON of every PolicyState field but
 *           `objects` and `version` (agentVersion, policyHash, runs, lastFullSync,
 *           forceFull, memory)
 *   u32     number of objects, then per object:
 *             u16 id length, id (UTF-8)
 *             u8  fingerprint length, fingerprint (ASCII base64url, "" = never accepted)
 *             u32 seen
 *             u8  flags: 1 stale is set, 2 stale is true, 4 a body follows
 *             [u32 body length, body (the Entity message bytes)]
 *   u32     CRC-32 of every byte before it (a torn or damaged file is reported, not half-read)
 *
 * Integers are little-endian. Version 1 (JSON, first byte "{") is still read, and the next
 * save writes version 2.
 */

export const STATE_MAGIC = Buffer.from('PDAS', 'latin1');
export const STATE_FORMAT = 2;
const FLAG_STALE_SET = 1;
const FLAG_STALE_TRUE = 2;
const FLAG_BODY = 4;
/** Pieces handed to the writer: about a megabyte, so no second copy of the state is built. */
export const PIECE_BYTES = 1 << 20;

/** A stored state that cannot be read; `where` names the file or key. */
export class StateFormatError extends Error {}

const headSchema = z.object({
  agentVersion: z.string(),
  policyHash: z.string(),
  runs: z.number().int().nonnegative(),
  lastFullSync: z.number().nullable(),
  forceFull: z.boolean(),
  // The collector checks its own memory's shape when it reads it.
  memory: z.unknown().optional(),
});

const v1Schema = headSchema.extend({
  version: z.literal(1),
  // Checked by a plain loop: a zod record would build a second copy of the largest part of the state.
  objects: z.custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'expected an object'),
});

export interface EncodeOptions {
  /**
   * Hand out one buffer again and again, each piece valid only until the next is asked for:
   * for a writer that writes each piece before taking the next (FileStateStore). Without
   * it every piece is a fresh megabyte; at 50,000 guests a save made a hundred of them,
   * garbage outside the V8 heap until a collection, which was most of a delta run's peak.
   */
  reuse?: boolean;
}

/** Characters of the head's JSON put in a piece at a time: at most 3 bytes each in UTF-8 (a surrogate pair is 4 bytes for 2). */
const HEAD_CHARS = PIECE_BYTES >> 2;

/**
 * The state in pieces of about PIECE_BYTES, the last one ending with the checksum. Each
 * piece is a fresh buffer the caller may keep (the Redis store joins them), unless
 * `reuse` is set.
 */
export function* encodeStatePieces(state: PolicyState, opts: EncodeOptions = {}): Generator<Buffer, void, undefined> {
  const reuse = opts.reuse === true;
  const { objects, version: _version, ...head } = state;
  // The head (with the collector's memory, megabytes at 50,000 guests) goes into the pieces
  // straight from its JSON text, without a second copy of it as bytes.
  const headJson = JSON.stringify(head);
  const headLen = Buffer.byteLength(headJson, 'utf8');
  let buf = Buffer.allocUnsafe(PIECE_BYTES);
  let off = 0;
  let crc = 0;
  const flush = function* (): Generator<Buffer, void, undefined> {
    if (off === 0) return;
    const piece = buf.subarray(0, off);
    crc = crc32(piece, crc);
    yield piece;
    if (!reuse) buf = Buffer.allocUnsafe(PIECE_BYTES);
    off = 0;
  };
  STATE_MAGIC.copy(buf, 0);
  buf[4] = STATE_FORMAT;
  buf.writeUInt32LE(headLen, 5);
  off = 9;
  for (let at = 0; at < headJson.length; ) {
    let end = Math.min(headJson.length, at + HEAD_CHARS);
    // Never between the two halves of a surrogate pair.
    if (end < headJson.length && (headJson.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--;
    const part = headJson.slice(at, end);
    if (off + 3 * part.length > buf.length) yield* flush();
    off += buf.write(part, off, 'utf8');
    at = end;
  }
  if (off + 4 > buf.length) yield* flush();
  buf.writeUInt32LE(objects.size, off);
  off += 4;
  for (const [id, o] of objects) {
    const idLen = Buffer.byteLength(id, 'utf8');
    const fpLen = o.fp.length;
    if (idLen > 0xffff || fpLen > 0xff) throw new RangeError(`state object ${JSON.stringify(id.slice(0, 80))} has an id or fingerprint too long to store`);
    const body = o.body;
    // id, fingerprint, seen, flags and the body's length: the fixed part of a record.
    const need = 2 + idLen + 1 + fpLen + 4 + 1 + 4;
    if (off + need > buf.length) yield* flush();
    buf.writeUInt16LE(idLen, off);
    off += 2;
    off += buf.write(id, off, idLen, 'utf8');
    buf[off++] = fpLen;
    off += buf.write(o.fp, off, fpLen, 'latin1');
    buf.writeUInt32LE(o.seen, off);
    off += 4;
    buf[off++] = (o.stale === undefined ? 0 : FLAG_STALE_SET | (o.stale ? FLAG_STALE_TRUE : 0)) | (body ? FLAG_BODY : 0);
    if (!body) continue;
    buf.writeUInt32LE(body.byteLength, off);
    off += 4;
    if (off + body.byteLength > buf.length) yield* flush();
    if (off + body.byteLength <= buf.length) {
      buf.set(body, off);
      off += body.byteLength;
    } else {
      // Larger than a piece: it goes out as a piece of its own (a copy only for a caller that keeps pieces).
      const own = reuse ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : Buffer.from(body);
      crc = crc32(own, crc);
      yield own;
    }
  }
  if (off + 4 > buf.length) yield* flush();
  buf.writeUInt32LE(crc32(buf.subarray(0, off), crc) >>> 0, off);
  off += 4;
  yield buf.subarray(0, off);
}

/** The whole stored form at once (the Redis store's value). */
export function encodeState(state: PolicyState): Buffer {
  return Buffer.concat([...encodeStatePieces(state)]);
}

/** Is this a version-2 state (else it may be a version-1 JSON state)? */
export function isBinaryState(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x44 && bytes[2] === 0x41 && bytes[3] === 0x53;
}

/**
 * Reads a version-2 state. Every body is a view of `bytes`, which the state keeps alive.
 * Throws StateFormatError saying what is wrong.
 */
export function decodeBinaryState(bytes: Uint8Array): PolicyState {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 13 + 4) throw new StateFormatError('truncated');
  if (buf[4] !== STATE_FORMAT) throw new StateFormatError(`unknown format version ${buf[4]}`);
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) >>> 0 !== buf.readUInt32LE(end)) throw new StateFormatError('checksum mismatch (truncated or damaged)');
  const need = (at: number, n: number): void => {
    if (at + n > end) throw new StateFormatError('truncated');
  };
  const headLen = buf.readUInt32LE(5);
  need(9, headLen + 4);
  let head: z.infer<typeof headSchema>;
  try {
    head = headSchema.parse(JSON.parse(buf.toString('utf8', 9, 9 + headLen)));
  } catch (err) {
    throw new StateFormatError('head unreadable', { cause: err });
  }
  let off = 9 + headLen;
  const count = buf.readUInt32LE(off);
  off += 4;
  const objects = new Map<string, ObjectState>();
  for (let i = 0; i < count; i++) {
    need(off, 2);
    const idLen = buf.readUInt16LE(off);
    off += 2;
    need(off, idLen + 1);
    const id = buf.toString('utf8', off, off + idLen);
    off += idLen;
    const fpLen = buf[off++] as number;
    need(off, fpLen + 5);
    const fp = buf.toString('latin1', off, off + fpLen);
    off += fpLen;
    const seen = buf.readUInt32LE(off);
    off += 4;
    const flags = buf[off++] as number;
    const o: ObjectState = { fp, seen };
    if (flags & FLAG_STALE_SET) o.stale = (flags & FLAG_STALE_TRUE) !== 0;
    if (flags & FLAG_BODY) {
      need(off, 4);
      const len = buf.readUInt32LE(off);
      off += 4;
      need(off, len);
      o.body = buf.subarray(off, off + len);
      off += len;
    }
    objects.set(id, o);
  }
  if (off !== end) throw new StateFormatError(`${end - off} bytes after the last object`);
  const state: PolicyState = {
    version: STATE_FORMAT,
    agentVersion: head.agentVersion,
    policyHash: head.policyHash,
    runs: head.runs,
    lastFullSync: head.lastFullSync,
    forceFull: head.forceFull,
    objects,
  };
  if (head.memory !== undefined) state.memory = head.memory;
  return state;
}

/**
 * Reads a version-1 state (JSON, bodies in base64) into the current form: the migration
 * of a state written by an older agent. Throws StateFormatError saying what is wrong.
 */
export function decodeJsonState(text: string): PolicyState {
  let v1: z.infer<typeof v1Schema>;
  try {
    v1 = v1Schema.parse(JSON.parse(text));
  } catch (err) {
    throw new StateFormatError('', { cause: err });
  }
  const objects = new Map<string, ObjectState>();
  for (const id in v1.objects) {
    const o = v1.objects[id] as { fp?: unknown; seen?: unknown; stale?: unknown; body?: unknown } | null;
    const ok =
      o !== null &&
      typeof o === 'object' &&
      typeof o.fp === 'string' &&
      Number.isInteger(o.seen) &&
      (o.stale === undefined || typeof o.stale === 'boolean') &&
      (o.body === undefined || typeof o.body === 'string');
    if (!ok) throw new StateFormatError(`object ${JSON.stringify(id)} is malformed`);
    const next: ObjectState = { fp: o.fp as string, seen: o.seen as number };
    if (o.stale !== undefined) next.stale = o.stale as boolean;
    if (o.body !== undefined) next.body = Buffer.from(o.body as string, 'base64');
    objects.set(id, next);
  }
  const state: PolicyState = {
    version: STATE_FORMAT,
    agentVersion: v1.agentVersion,
    policyHash: v1.policyHash,
    runs: v1.runs,
    lastFullSync: v1.lastFullSync,
    forceFull: v1.forceFull,
    objects,
  };
  if (v1.memory !== undefined) state.memory = v1.memory;
  return state;
}
