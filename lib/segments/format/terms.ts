/**
 * Segment format v2: the term dictionary of one field (in the spirit of Lucene's BlockTree and
 * Tantivy's sstable). Terms are written in UTF-8 byte order and grouped into blocks; a small terms
 * index (the first term of every block) is loaded once per reader and binary-searched in memory, so
 * a term lookup is one LMDB get of one block plus a scan of at most TERM_BLOCK_TERMS_MAX entries.
 *
 * Key `0x01 <segId> 'T' <field> 0x00 <block u32 BE>` → term block:
 *   u32 LE   CRC32C of bytes [4, end)
 *   varint   termCount                 (1..TERM_BLOCK_TERMS_MAX; 1..ID_BLOCK_TERMS_MAX for `_id`)
 *   varint   firstExternalOrd          ordinal of the first non-inline term at or after this block
 *   termCount entries, in UTF-8 byte order:
 *     varint sharedBytes               bytes shared with the previous term of the block (0 for the first)
 *     varint suffixBytes, suffix       the rest of the term
 *     varint docFreq
 *     varint totalTermFreq − docFreq   (0 for docs-only fields)
 *     varint inlineBytes               0: the postings are under 'F'/'P' <next external ordinal>;
 *                                      else the length of the inline postings that follow:
 *     inline postings                  a postings.ts doc/freq value without its first 4 bytes (head CRC)
 *     [varint positionsBytes, inline positions]   fields with positions, inline terms only: a
 *                                      postings.ts positions value without its first 4 bytes
 *
 * Key `0x01 <segId> 'I' <field>` → terms index:
 *   u32 LE   CRC32C of bytes [4, end)
 *   varint   blockCount
 *   per block: varint sharedBytes (with the previous block's first term), varint suffixBytes, suffix
 *
 * A term is inline ("pulsed", as Lucene says) when its postings and positions without their heads
 * take at most INLINE_POSTINGS_BYTES_MAX bytes: most of a vocabulary (every `_id`) then costs no key
 * of its own. Longer lists keep format v1's values (128-doc blocks, skip table with block-max data).
 */
import { crc32c } from '../../common/crc32c.js';
import { ByteScratch, putVarint, varintSize } from './scratch.js';
import { corruptIndex, readU32, writeU32 } from './keys.js';

/** A term block closes after this many terms (bounds the scan of a lookup). */
export const TERM_BLOCK_TERMS_MAX = 32;
/**
 * ... except in the `_id` field, whose lookups (a version lookup per write, random ids) find one
 * term per block read: smaller blocks make that read and scan shorter, for a 4× larger terms index.
 */
export const ID_BLOCK_TERMS_MAX = 8;
/** ... or once its entries reach this many bytes (one 4 KB LMDB page). */
export const TERM_BLOCK_BYTES_TARGET = 4096;
/** Postings + positions (without heads) up to this size are stored inline in the term block. */
export const INLINE_POSTINGS_BYTES_MAX = 64;



function sharedPrefix(a: Uint8Array, aLength: number, b: Uint8Array, bLength: number): number {
  const n = Math.min(aLength, bLength);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Whether a term's postings (and positions) values, as encoded by postings.ts, go inline. */
export function isInline(postings: Uint8Array, positions: Uint8Array | null): boolean {
  const bytes = postings.length - 4 + (positions === null ? 0 : positions.length - 4 + varintSize(positions.length - 4));
  return bytes <= INLINE_POSTINGS_BYTES_MAX;
}

/**
 * Encodes one field's term blocks and terms index. Terms must be added in strictly ascending UTF-8
 * byte order. `add` returns the block it closed (to be written under block number `blockCount - 1`).
 */
export class TermBlockWriter {
  /** Blocks closed so far. */
  blockCount = 0;
  /** Ordinal the next non-inline term gets. */
  nextExternalOrd = 0;
  private readonly block = new ByteScratch(8192);
  private count = 0;
  private firstExternalOrd = 0;
  private prev = new Uint8Array(256);
  private prevLength = -1;
  private readonly index = new ByteScratch(8192);
  private prevFirst = new Uint8Array(256);
  private prevFirstLength = 0;

  /** `termsPerBlock`: TERM_BLOCK_TERMS_MAX, or ID_BLOCK_TERMS_MAX for the `_id` field (readers need not know it). */
  constructor(
    private readonly hasPositions: boolean,
    private readonly termsPerBlock = TERM_BLOCK_TERMS_MAX,
  ) {
    this.index.pos = 0;
  }

  /** Whether a term was added (the field is not empty). */
  get termAdded(): boolean {
    return this.prevLength >= 0;
  }

  /**
   * Adds a term: `term[0, termLength)` must sort after the previous one. When `inline`, `postings`
   * (and `positions` for fields with positions) are postings.ts values stored without their heads;
   * otherwise the caller stores them under ordinal `nextExternalOrd` (before this call).
   */
  add(
    term: Uint8Array,
    termLength: number,
    docFreq: number,
    totalTermFreq: number,
    inline: boolean,
    postings: Uint8Array,
    positions: Uint8Array | null,
  ): Buffer | null {
    if (this.prevLength >= 0 && compareRange(term, termLength, this.prev, this.prevLength) <= 0) {
      throw new Error('terms must be added in strictly ascending UTF-8 byte order');
    }
    let closed: Buffer | null = null;
    if (this.count >= this.termsPerBlock || this.block.pos >= TERM_BLOCK_BYTES_TARGET) closed = this.closeBlock();
    const b = this.block;
    let shared = 0;
    if (this.count === 0) {
      this.firstExternalOrd = this.nextExternalOrd;
      // Terms index entry: the block's first term, prefix-compressed against the previous block's.
      const firstShared = sharedPrefix(term, termLength, this.prevFirst, this.prevFirstLength);
      this.index.varint(firstShared);
      this.index.varint(termLength - firstShared);
      this.index.bytes(term, firstShared, termLength);
      if (this.prevFirst.length < termLength) this.prevFirst = new Uint8Array(termLength * 2);
      this.prevFirst.set(term.subarray(0, termLength));
      this.prevFirstLength = termLength;
    } else shared = sharedPrefix(term, termLength, this.prev, this.prevLength);
    b.varint(shared);
    b.varint(termLength - shared);
    b.bytes(term, shared, termLength);
    b.varint(docFreq);
    b.varint(totalTermFreq - docFreq);
    if (inline) {
      b.varint(postings.length - 4);
      b.bytes(postings, 4, postings.length);
      if (this.hasPositions) {
        if (positions === null) throw new Error('inline term of a field with positions needs positions');
        b.varint(positions.length - 4);
        b.bytes(positions, 4, positions.length);
      }
    } else {
      b.varint(0);
      this.nextExternalOrd++;
    }
    if (this.prev.length < termLength) this.prev = new Uint8Array(termLength * 2);
    const prev = this.prev;
    for (let i = shared; i < termLength; i++) prev[i] = term[i];
    this.prevLength = termLength;
    this.count++;
    return closed;
  }

  /** Closes the open block (null when it is empty); call once after the last term. */
  finish(): Buffer | null {
    return this.count > 0 ? this.closeBlock() : null;
  }

  /** The terms index value (after `finish`). */
  encodeIndex(): Buffer {
    const out = Buffer.allocUnsafe(4 + varintSize(this.blockCount) + this.index.pos);
    const p = putVarint(out, 4, this.blockCount);
    out.set(this.index.buf.subarray(0, this.index.pos), p);
    writeU32(out, 0, crc32c(out, 4, out.length));
    return out;
  }

  private closeBlock(): Buffer {
    const out = Buffer.allocUnsafe(4 + varintSize(this.count) + varintSize(this.firstExternalOrd) + this.block.pos);
    let p = putVarint(out, 4, this.count);
    p = putVarint(out, p, this.firstExternalOrd);
    out.set(this.block.buf.subarray(0, this.block.pos), p);
    writeU32(out, 0, crc32c(out, 4, out.length));
    this.block.pos = 0;
    this.count = 0;
    this.blockCount++;
    return out;
  }
}


/** Bytewise comparison of a[0, aLength) and b[0, bLength). */
export function compareRange(a: Uint8Array, aLength: number, b: Uint8Array, bLength: number): number {
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

/** Where a block came from, for error messages. */
export interface BlockOrigin {
  segmentId: number;
  field: string;
  block: number;
}

/**
 * Decodes the entries of one term block in order. `reset` verifies the block's CRC; after each
 * `next()` returning true the fields describe the current term. Views returned by `postingsView` and
 * `positionsView` share the block's memory (keep the block unchanged while they are used).
 */
export class TermBlockReader {
  block: Uint8Array = new Uint8Array(0);
  /** Current term bytes: term[0, termLength). */
  term = new Uint8Array(256);
  termLength = 0;
  docFreq = 0;
  totalTermFreq = 0;
  /** Ordinal of the current term's 'F'/'P' values, or −1 when its postings are inline. */
  externalOrd = -1;
  /** Offsets of the inline postings / positions in the block (end = start when absent). */
  postingsStart = 0;
  postingsEnd = 0;
  positionsStart = 0;
  positionsEnd = 0;
  private remaining = 0;
  private pos = 0;
  private nextExternal = 0;
  private hasPositions = false;
  private origin: BlockOrigin = { segmentId: 0, field: '', block: 0 };

  /** Starts decoding `block`; verifies its CRC unless `verified` (a block this process already checked). */
  reset(block: Uint8Array, hasPositions: boolean, origin: BlockOrigin, verified = false): void {
    this.origin = origin;
    if (block.length < 6) throw this.corrupt('term block truncated');
    if (!verified && crc32c(block, 4, block.length) !== readU32(block, 0)) throw this.corrupt('term block checksum mismatch');
    this.block = block;
    this.hasPositions = hasPositions;
    this.pos = 4;
    this.remaining = this.varint();
    this.nextExternal = this.varint();
    if (this.remaining === 0) throw this.corrupt('term block is empty');
    this.termLength = 0;
  }

  /** Decodes the next entry; false after the last. */
  next(): boolean {
    if (this.remaining === 0) return false;
    this.remaining--;
    const b = this.block;
    const shared = this.varint();
    const suffix = this.varint();
    if (shared > this.termLength || this.pos + suffix > b.length) throw this.corrupt('term entry malformed');
    const length = shared + suffix;
    if (this.term.length < length) {
      const grown = new Uint8Array(length * 2);
      grown.set(this.term.subarray(0, shared));
      this.term = grown;
    }
    const term = this.term;
    for (let i = 0, p = this.pos; i < suffix; i++) term[shared + i] = b[p + i];
    this.pos += suffix;
    this.termLength = length;
    this.docFreq = this.varint();
    this.totalTermFreq = this.docFreq + this.varint();
    const inlineBytes = this.varint();
    if (inlineBytes === 0) {
      this.externalOrd = this.nextExternal++;
      this.postingsStart = this.postingsEnd = this.positionsStart = this.positionsEnd = this.pos;
    } else {
      this.externalOrd = -1;
      this.postingsStart = this.pos;
      this.postingsEnd = this.pos += inlineBytes;
      if (this.hasPositions) {
        const positionsBytes = this.varint();
        this.positionsStart = this.pos;
        this.positionsEnd = this.pos += positionsBytes;
      } else this.positionsStart = this.positionsEnd = this.pos;
      if (this.pos > b.length) throw this.corrupt('inline postings run past the block');
    }
    if (this.remaining === 0 && this.pos !== b.length) throw this.corrupt('term block has trailing bytes');
    if (this.docFreq === 0 || this.pos > b.length) throw this.corrupt('term entry malformed');
    return true;
  }

  /** Moves to the first term ≥ target[0, targetLength); false when every term of the block is smaller. */
  seek(target: Uint8Array, targetLength: number): boolean {
    while (this.next()) if (compareRange(this.term, this.termLength, target, targetLength) >= 0) return true;
    return false;
  }

  /**
   * The inline postings as a postings.ts value (its 4 head bytes are the preceding block bytes:
   * read it with the head CRC check off). Only for inline terms.
   */
  postingsView(): Uint8Array {
    return this.block.subarray(this.postingsStart - 4, this.postingsEnd);
  }

  /** The inline positions, like `postingsView`. Only for inline terms of fields with positions. */
  positionsView(): Uint8Array {
    return this.block.subarray(this.positionsStart - 4, this.positionsEnd);
  }

  private varint(): number {
    const v = this.block;
    let b = v[this.pos++];
    let x = b & 0x7f;
    let shift = 7;
    while (b >= 0x80) {
      if (shift > 28) throw this.corrupt('varint too long');
      b = v[this.pos++];
      x += (b & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (this.pos > v.length) throw this.corrupt('term block truncated');
    return x;
  }

  private corrupt(detail: string): Error {
    const { segmentId, field, block } = this.origin;
    return corruptIndex(segmentId, `T:${field}:#${block}`, field, detail);
  }
}

/** The decoded terms index of one field: the first term of every block, for an in-memory binary search. */
export class TermsIndex {
  private constructor(
    /** First term of block i, as a view into one decoded buffer. */
    private readonly firsts: Uint8Array[],
  ) {}

  /** Number of blocks. */
  get blockCount(): number {
    return this.firsts.length;
  }

  /** Verifies and decodes an 'I' value. */
  static decode(value: Uint8Array, segmentId: number, field: string): TermsIndex {
    const bad = (detail: string) => corruptIndex(segmentId, `I:${field}`, field, detail);
    if (value.length < 5 || crc32c(value, 4, value.length) !== readU32(value, 0)) throw bad('terms index checksum mismatch');
    let pos = 4;
    const varint = (): number => {
      let b = value[pos++];
      let x = b & 0x7f;
      let shift = 7;
      while (b >= 0x80) {
        if (shift > 28) throw bad('varint too long');
        b = value[pos++];
        x += (b & 0x7f) * 2 ** shift;
        shift += 7;
      }
      return x;
    };
    const count = varint();
    // Every first term is rebuilt into one buffer (prefix + suffix), then viewed.
    const out = new ByteScratch(8192);
    const ends = new Uint32Array(count + 1);
    let prevStart = 0;
    let prevLength = 0;
    for (let i = 0; i < count; i++) {
      const shared = varint();
      const suffix = varint();
      if (shared > prevLength || pos + suffix > value.length) throw bad('terms index entry malformed');
      const start = out.pos;
      out.ensure(shared + suffix);
      out.buf.copyWithin(start, prevStart, prevStart + shared);
      out.pos += shared;
      out.bytes(value, pos, pos + suffix);
      pos += suffix;
      prevStart = start;
      prevLength = shared + suffix;
      ends[i + 1] = out.pos;
    }
    if (pos !== value.length) throw bad('terms index has trailing bytes');
    const buf = out.buf;
    const firsts: Uint8Array[] = [];
    for (let i = 0; i < count; i++) firsts.push(buf.subarray(ends[i], ends[i + 1]));
    for (let i = 1; i < count; i++) if (compareRange(firsts[i - 1], firsts[i - 1].length, firsts[i], firsts[i].length) >= 0) throw bad('terms index out of order');
    return new TermsIndex(firsts);
  }

  /** The last block whose first term is ≤ target[0, targetLength), or −1 when target sorts before every term. */
  findBlock(target: Uint8Array, targetLength: number): number {
    const firsts = this.firsts;
    let lo = 0;
    let hi = firsts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRange(firsts[mid], firsts[mid].length, target, targetLength) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
