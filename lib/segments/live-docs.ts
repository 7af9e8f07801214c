/**
 * Live-docs bitmaps: which docs of a segment are still alive, one generation per change.
 *
 * In memory a bitmap is a `Uint8Array` of `ceil(maxDoc / 8)` bytes, bit `doc & 7` of byte
 * `doc >> 3` set ⇔ doc is live (LSB first); `null` means every doc is live. Bitmaps reachable from
 * a published snapshot are never mutated: a change clones first (`LiveDocsEditor`).
 *
 * Stored record (data db), key `0x02 <segmentId u32 BE> <generation u32 BE>`, value:
 *   u8      format version (LIVE_DOCS_FORMAT_VERSION)
 *   u32 LE  maxDoc
 *   u32 LE  delCount
 *   bytes   bitmap, ceil(maxDoc / 8) bytes
 *   u32 LE  CRC32C of everything before it
 * Generations start at 1 per segment (0 = no deletes, nothing stored) and only grow.
 */
import { crc32c } from '../common/crc32c.js';
import { QuarryError } from '../common/errors.js';
import { assert } from '../common/assert.js';
import { KEY_SPACE, type ShardStorage } from './env.js';

/** Version byte of the stored live-docs record. */
export const LIVE_DOCS_FORMAT_VERSION = 1;
const HEADER_BYTES = 9;
const CRC_BYTES = 4;

/** Bytes of a bitmap covering `maxDoc` docs. */
export function liveDocsByteLength(maxDoc: number): number {
  return (maxDoc + 7) >>> 3;
}

/** True when `doc` is live in `liveDocs` (null = all live). */
export function isLive(liveDocs: Uint8Array | null, doc: number): boolean {
  return liveDocs === null || (liveDocs[doc >>> 3] & (1 << (doc & 7))) !== 0;
}

/** A bitmap with every doc of [0, maxDoc) live and the padding bits clear. */
export function allLiveDocs(maxDoc: number): Uint8Array {
  const bits = new Uint8Array(liveDocsByteLength(maxDoc));
  bits.fill(0xff);
  const tail = maxDoc & 7;
  if (tail !== 0) bits[bits.length - 1] = (1 << tail) - 1;
  return bits;
}

/** A bitmap with the given docs deleted, or null when none is. */
export function liveDocsWithDeleted(maxDoc: number, deletedDocs: Iterable<number>): Uint8Array | null {
  let bits: Uint8Array | null = null;
  for (const doc of deletedDocs) {
    assert(doc >= 0 && doc < maxDoc, `deleted doc ${doc} out of [0, ${maxDoc})`);
    bits ??= allLiveDocs(maxDoc);
    bits[doc >>> 3] &= ~(1 << (doc & 7));
  }
  return bits;
}

/** Number of deleted docs in a bitmap of `maxDoc` docs. */
export function countDeleted(liveDocs: Uint8Array | null, maxDoc: number): number {
  if (liveDocs === null) return 0;
  let live = 0;
  for (let i = 0; i < liveDocs.length; i++) live += POPCOUNT[liveDocs[i]];
  return maxDoc - live;
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >>> 1];

/**
 * Copy-on-write deletes against a published bitmap: the base is cloned on the first delete, so
 * snapshots holding the base never see the change.
 */
export class LiveDocsEditor {
  private bits: Uint8Array | null;
  private cloned = false;
  /** Deleted docs counted so far (base included). */
  delCount: number;

  constructor(
    base: Uint8Array | null,
    readonly maxDoc: number,
    baseDelCount: number,
  ) {
    this.bits = base;
    this.delCount = baseDelCount;
  }

  /** True once a delete changed something. */
  get changed(): boolean {
    return this.cloned;
  }

  /** Marks `doc` deleted; returns false when it already was. */
  delete(doc: number): boolean {
    assert(doc >= 0 && doc < this.maxDoc, `doc ${doc} out of [0, ${this.maxDoc})`);
    if (!isLive(this.bits, doc)) return false;
    if (!this.cloned) {
      this.bits = this.bits === null ? allLiveDocs(this.maxDoc) : this.bits.slice();
      this.cloned = true;
    }
    this.bits![doc >>> 3] &= ~(1 << (doc & 7));
    this.delCount++;
    return true;
  }

  /** The resulting bitmap (the base itself when nothing changed). */
  result(): Uint8Array | null {
    return this.bits;
  }
}

/** The data-db key of one live-docs generation. */
export function liveDocsKey(segmentId: number, generation: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = KEY_SPACE.liveDocs;
  key.writeUInt32BE(segmentId, 1);
  key.writeUInt32BE(generation, 5);
  return key;
}

/** Segment id and generation from a live-docs key. */
export function parseLiveDocsKey(key: Uint8Array): { segmentId: number; generation: number } {
  assert(key.length === 9 && key[0] === KEY_SPACE.liveDocs, 'not a live-docs key');
  const view = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { segmentId: view.readUInt32BE(1), generation: view.readUInt32BE(5) };
}

/** Encodes a bitmap as its stored record (see the module comment). */
export function encodeLiveDocs(liveDocs: Uint8Array, maxDoc: number, delCount: number): Buffer {
  assert(liveDocs.length === liveDocsByteLength(maxDoc), 'bitmap length does not match maxDoc');
  const out = Buffer.allocUnsafe(HEADER_BYTES + liveDocs.length + CRC_BYTES);
  out[0] = LIVE_DOCS_FORMAT_VERSION;
  out.writeUInt32LE(maxDoc, 1);
  out.writeUInt32LE(delCount, 5);
  out.set(liveDocs, HEADER_BYTES);
  const end = HEADER_BYTES + liveDocs.length;
  out.writeUInt32LE(crc32c(out, 0, end), end);
  return out;
}

/** Decodes and verifies a stored record; a mismatch is a `corrupt_index_exception` naming the key. */
export function decodeLiveDocs(value: Uint8Array, segmentId: number, generation: number, maxDoc: number): { liveDocs: Uint8Array; delCount: number } {
  const where = `live docs of segment [${segmentId}] generation [${generation}]`;
  const corrupt = (why: string) => new QuarryError('corrupt_index_exception', `${where}: ${why}`, { segment: segmentId, generation });
  if (value.length < HEADER_BYTES + CRC_BYTES) throw corrupt(`record of ${value.length} bytes is too short`);
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const end = buf.length - CRC_BYTES;
  const expectedCrc = buf.readUInt32LE(end);
  const actualCrc = crc32c(buf, 0, end);
  if (expectedCrc !== actualCrc) throw corrupt(`checksum mismatch (stored ${expectedCrc}, computed ${actualCrc})`);
  if (buf[0] !== LIVE_DOCS_FORMAT_VERSION) throw corrupt(`unknown format version ${buf[0]}`);
  const storedMaxDoc = buf.readUInt32LE(1);
  const delCount = buf.readUInt32LE(5);
  if (storedMaxDoc !== maxDoc) throw corrupt(`maxDoc ${storedMaxDoc} does not match the segment's ${maxDoc}`);
  if (end - HEADER_BYTES !== liveDocsByteLength(maxDoc)) throw corrupt('bitmap length does not match maxDoc');
  // Copy out of LMDB's buffer: the bitmap outlives the read transaction.
  const liveDocs = new Uint8Array(buf.subarray(HEADER_BYTES, end));
  if (countDeleted(liveDocs, maxDoc) !== delCount) throw corrupt(`delCount ${delCount} does not match the bitmap`);
  return { liveDocs, delCount };
}

/** Queues the write of one generation (resolves when committed, not when durable). */
export function writeLiveDocs(storage: ShardStorage, segmentId: number, generation: number, liveDocs: Uint8Array, maxDoc: number, delCount: number): Promise<boolean> {
  assert(generation >= 1, 'live-docs generations start at 1');
  return storage.data.put(liveDocsKey(segmentId, generation), encodeLiveDocs(liveDocs, maxDoc, delCount));
}

/** Reads and verifies one stored generation; a missing record is a `corrupt_index_exception`. */
export function readLiveDocs(storage: ShardStorage, segmentId: number, generation: number, maxDoc: number): { liveDocs: Uint8Array; delCount: number } {
  const value = storage.data.getBinary(liveDocsKey(segmentId, generation));
  if (value === undefined) {
    throw new QuarryError('corrupt_index_exception', `live docs of segment [${segmentId}] generation [${generation}] are missing`, {
      segment: segmentId,
      generation,
    });
  }
  return decodeLiveDocs(value, segmentId, generation, maxDoc);
}

/** Every stored live-docs generation, in key order. */
export function listStoredLiveDocs(storage: ShardStorage): Array<{ segmentId: number; generation: number }> {
  const out: Array<{ segmentId: number; generation: number }> = [];
  const start = Buffer.from([KEY_SPACE.liveDocs]);
  const end = Buffer.from([KEY_SPACE.liveDocs + 1]);
  for (const key of storage.data.getKeys({ start, end })) out.push(parseLiveDocsKey(key as Buffer));
  return out;
}
