/**
 * Segment format v2: postings (docs, freqs, positions) of one term (the same bytes as format v1).
 *
 * A term's postings are either inline in its term block (terms.ts; the values below without their
 * first 4 bytes, the block's CRC covering them) or under their own keys, numbered by the term's
 * ordinal among the field's non-inline terms.
 *
 * Key `0x01 <segId> 'F' <field> 0x00 <ord u32 BE>` → doc/freq value:
 *   u32 LE   headCrc: CRC32C of bytes [4, payloadsStart) — or of [4, end) when there is one block
 *   varint   docFreq
 *   varint   totalTermFreq            (= docFreq for docs-only fields, as in Lucene)
 *   varint   skipBytes                length of the skip table that follows
 *   skip table: one entry per block of 128 docs (the last block holds the rest, 1..128 docs)
 *     varint lastDocDelta            last doc of the block − last doc of the previous block (first: lastDoc + 1)
 *     varint payloadBytes
 *     varint maxFreq                 highest freq in the block (1 for docs-only fields)
 *     u8     minNorm                 smallest norm byte in the block (0 when the field has no norms)
 *     u32 LE payloadCrc              CRC32C of the block payload; absent when there is one block
 *   payloads, one per block, in order:
 *     varint × n   doc deltas (first relative to the previous block's last doc; −1 before the first block)
 *     varint × n   freqs (only when the field indexes freqs or positions)
 *
 * Key `0x01 <segId> 'P' <field> 0x00 <ord u32 BE>` → positions value (fields indexing positions only):
 *   u32 LE   headCrc: CRC32C of bytes [4, payloadsStart) — or of [4, end) when there is one block
 *   varint   numBlocks                (the same blocks as the doc/freq value)
 *   per block: varint payloadBytes, u32 LE payloadCrc (crc absent when there is one block)
 *   payloads: for each doc of the block, freq varints: position delta (first from 0)
 *
 * Why this shape: a term with fewer than 128 docs (most of the vocabulary) is one short value with
 * one checksum; a frequent term can be skipped block by block using the skip table alone (never
 * decoding or checksumming skipped payloads), and the block maxima bound BM25 scores for block-max
 * WAND. Positions live under their own key so that non-phrase queries never read them.
 * Varints were chosen over bit-packing for simplicity; see docs/segments-format.md for measurements.
 */
import { crc32c } from '../../common/crc32c.js';
import { ByteScratch, putVarint, varintSize } from './scratch.js';
import { assert } from '../../common/assert.js';
import { NO_MORE_DOCS, type PostingsCursor, type TermInfo } from '../types.js';
import { corruptIndex, POSTINGS_BLOCK_SIZE, readU32, writeU32 } from './keys.js';

const BLOCK = POSTINGS_BLOCK_SIZE;



const payloads = new ByteScratch(4096);
const skips = new ByteScratch(4096);

/** What to encode for one term: `count` docs ascending, their freqs and flat positions. */
export interface PostingsInput {
  docs: Int32Array;
  /** Freq per doc; null for docs-only fields. */
  freqs: Int32Array | null;
  /** Positions of all docs, concatenated (freqs[i] per doc), ascending within a doc; null without positions. */
  positions: Int32Array | null;
  /**
   * Alternative to `positions` (the merger's): the docs' positions already encoded as stored (varint
   * deltas restarting at 0 per doc), doc i's at positionBytes[positionByteOffsets[i], positionByteOffsets[i + 1]).
   */
  positionBytes?: Uint8Array | null;
  positionByteOffsets?: Int32Array | null;
  count: number;
  /** The field's norms by doc (for each block's minNorm); null when the field has no norms. */
  norms: Uint8Array | null;
}

/** Reusable output buffers of `encodeTermPostings` / `encodeTermPositions` with `shared` set. */
let sharedPostingsOut = Buffer.allocUnsafe(4096);
let sharedPositionsOut = Buffer.allocUnsafe(4096);

function outputBuffer(size: number, shared: 'postings' | 'positions' | null): Buffer {
  if (shared === null) return Buffer.allocUnsafe(size);
  if (shared === 'postings') {
    if (sharedPostingsOut.length < size) sharedPostingsOut = Buffer.allocUnsafe(Math.max(size, sharedPostingsOut.length * 2));
    return sharedPostingsOut.subarray(0, size);
  }
  if (sharedPositionsOut.length < size) sharedPositionsOut = Buffer.allocUnsafe(Math.max(size, sharedPositionsOut.length * 2));
  return sharedPositionsOut.subarray(0, size);
}

let sharedPostingsCrcEnd = 0;
let sharedPositionsCrcEnd = 0;

/**
 * Copies the last shared encoding of `kind` into a new buffer with its head CRC written (the values
 * a writer stores under their own keys).
 */
export function sealSharedValue(value: Uint8Array, kind: 'postings' | 'positions'): Buffer {
  const out = Buffer.allocUnsafe(value.length);
  out.set(value);
  writeU32(out, 0, crc32c(out, 4, kind === 'postings' ? sharedPostingsCrcEnd : sharedPositionsCrcEnd));
  return out;
}

/**
 * Encodes the doc/freq value of a term. `shared`: write into a reused buffer instead of a new one,
 * without the head CRC (valid until the next shared call; `sealSharedValue` makes a storable copy).
 */
export function encodeTermPostings(input: PostingsInput, shared = false): Buffer {
  const { docs, freqs, count, norms } = input;
  assert(count > 0, 'a term has at least one doc');
  const numBlocks = Math.ceil(count / BLOCK);
  payloads.pos = 0;
  skips.pos = 0;
  let prevLast = -1;
  let totalTermFreq = 0;
  for (let block = 0; block < numBlocks; block++) {
    const start = block * BLOCK;
    const end = Math.min(count, start + BLOCK);
    const payloadStart = payloads.pos;
    let base = prevLast;
    let minNorm = 255;
    for (let i = start; i < end; i++) {
      const doc = docs[i];
      assert(doc > base, 'postings docs must ascend');
      payloads.varint(doc - base);
      base = doc;
      if (norms !== null) {
        const norm = norms[doc];
        if (norm < minNorm) minNorm = norm;
      }
    }
    let maxFreq = 1;
    if (freqs !== null) {
      for (let i = start; i < end; i++) {
        const f = freqs[i];
        assert(f > 0, 'a freq is at least 1');
        payloads.varint(f);
        totalTermFreq += f;
        if (f > maxFreq) maxFreq = f;
      }
    } else totalTermFreq += end - start;
    const last = docs[end - 1];
    skips.varint(last - prevLast);
    skips.varint(payloads.pos - payloadStart);
    skips.varint(maxFreq);
    skips.byte(norms === null ? 0 : minNorm);
    if (numBlocks > 1) skips.u32(crc32c(payloads.buf, payloadStart, payloads.pos));
    prevLast = last;
  }
  const headerBytes = varintSize(count) + varintSize(totalTermFreq) + varintSize(skips.pos);
  const out = outputBuffer(4 + headerBytes + skips.pos + payloads.pos, shared ? 'postings' : null);
  let p = 4;
  p = putVarint(out, p, count);
  p = putVarint(out, p, totalTermFreq);
  p = putVarint(out, p, skips.pos);
  out.set(skips.buf.subarray(0, skips.pos), p);
  p += skips.pos;
  out.set(payloads.buf.subarray(0, payloads.pos), p);
  // A shared encoding is usually stored inline without its head: its CRC is written by sealHead if needed.
  if (shared) sharedPostingsCrcEnd = numBlocks > 1 ? p : out.length;
  else writeU32(out, 0, crc32c(out, 4, numBlocks > 1 ? p : out.length));
  return out;
}

/** Encodes the positions value of a term (input.freqs and input.positions are required); `shared` as for encodeTermPostings. */
export function encodeTermPositions(input: PostingsInput, shared = false): Buffer {
  const { freqs, positions, count } = input;
  const bytes = input.positionBytes ?? null;
  const byteOffsets = input.positionByteOffsets ?? null;
  assert(freqs !== null && (positions !== null || (bytes !== null && byteOffsets !== null)), 'positions need freqs');
  const numBlocks = Math.ceil(count / BLOCK);
  payloads.pos = 0;
  skips.pos = 0;
  let p = 0;
  for (let block = 0; block < numBlocks; block++) {
    const start = block * BLOCK;
    const end = Math.min(count, start + BLOCK);
    const payloadStart = payloads.pos;
    if (bytes !== null && byteOffsets !== null) {
      // Already encoded per doc: a block's payload is one contiguous byte range.
      const from = byteOffsets[start];
      const to = byteOffsets[end];
      payloads.ensure(to - from);
      payloads.buf.set(bytes.subarray(from, to), payloads.pos);
      payloads.pos += to - from;
      skips.varint(payloads.pos - payloadStart);
      if (numBlocks > 1) skips.u32(crc32c(payloads.buf, payloadStart, payloads.pos));
      continue;
    }
    for (let i = start; i < end; i++) {
      let prev = 0;
      for (let k = freqs[i]; k > 0; k--) {
        const position = positions![p++];
        assert(position >= prev, 'positions must not decrease within a doc');
        payloads.varint(position - prev);
        prev = position;
      }
    }
    skips.varint(payloads.pos - payloadStart);
    if (numBlocks > 1) skips.u32(crc32c(payloads.buf, payloadStart, payloads.pos));
  }
  const out = outputBuffer(4 + varintSize(numBlocks) + skips.pos + payloads.pos, shared ? 'positions' : null);
  let q = putVarint(out, 4, numBlocks);
  out.set(skips.buf.subarray(0, skips.pos), q);
  q += skips.pos;
  out.set(payloads.buf.subarray(0, payloads.pos), q);
  if (shared) sharedPositionsCrcEnd = numBlocks > 1 ? q : out.length;
  else writeU32(out, 0, crc32c(out, 4, numBlocks > 1 ? q : out.length));
  return out;
}


/** Where a value came from, for error messages. */
export interface ValueOrigin {
  segmentId: number;
  field: string;
  term: string;
}

// Decoder state shared by the header parsers (single-threaded; avoids allocating result objects).
let vpos = 0;

/** Reads a varint of at most 35 bits at `vpos` (bounded: a truncated value reads as garbage that later checks reject). */
function readVarint(v: Uint8Array): number {
  let b = v[vpos++];
  let x = b & 0x7f;
  if (b < 0x80) return x;
  b = v[vpos++];
  x |= (b & 0x7f) << 7;
  if (b < 0x80) return x;
  b = v[vpos++];
  x |= (b & 0x7f) << 14;
  if (b < 0x80) return x;
  b = v[vpos++];
  x |= (b & 0x7f) << 21;
  if (b < 0x80) return x >>> 0;
  b = v[vpos++];
  return (x >>> 0) + (b & 0x7f) * 2 ** 28;
}

function termKeyName(tag: string, origin: ValueOrigin): string {
  return `${tag}:${origin.field}:${origin.term}`;
}

/**
 * Parses and verifies the head of a 'T' value; returns the offset of the skip table and leaves
 * docFreq / totalTermFreq / skip table end in the module-level `head` record.
 */
const head = { docFreq: 0, totalTermFreq: 0, skipStart: 0, payloadsStart: 0, numBlocks: 0 };
function parseTermHead(value: Uint8Array, origin: ValueOrigin, checkHead: boolean): void {
  if (value.length < 8) throw corruptIndex(origin.segmentId, termKeyName('F', origin), origin.field, 'postings value truncated');
  vpos = 4;
  const docFreq = readVarint(value);
  const totalTermFreq = readVarint(value);
  const skipBytes = readVarint(value);
  const skipStart = vpos;
  const payloadsStart = skipStart + skipBytes;
  if (!(docFreq > 0) || payloadsStart > value.length) {
    throw corruptIndex(origin.segmentId, termKeyName('F', origin), origin.field, 'postings header malformed');
  }
  const numBlocks = Math.ceil(docFreq / BLOCK);
  const crcEnd = numBlocks > 1 ? payloadsStart : value.length;
  if (checkHead && crc32c(value, 4, crcEnd) !== readU32(value, 0)) {
    throw corruptIndex(origin.segmentId, termKeyName('F', origin), origin.field, 'postings checksum mismatch');
  }
  head.docFreq = docFreq;
  head.totalTermFreq = totalTermFreq;
  head.skipStart = skipStart;
  head.payloadsStart = payloadsStart;
  head.numBlocks = numBlocks;
}

/** Verifies a postings value's head and returns its TermInfo. */
export function readTermInfo(value: Uint8Array, origin: ValueOrigin): TermInfo {
  parseTermHead(value, origin, true);
  return { docFreq: head.docFreq, totalTermFreq: head.totalTermFreq };
}

/**
 * Returns the last doc of a term from its postings value's skip table alone. `checkHead`: verify the
 * head CRC (false for inline postings, whose bytes the term block's CRC already covered; bytes [0, 4)
 * are then ignored).
 */
export function readLastDoc(value: Uint8Array, origin: ValueOrigin, checkHead = true): number {
  parseTermHead(value, origin, checkHead);
  const hasCrc = head.numBlocks > 1;
  let last = -1;
  vpos = head.skipStart;
  for (let b = 0; b < head.numBlocks; b++) {
    last += readVarint(value);
    readVarint(value);
    readVarint(value);
    vpos += hasCrc ? 5 : 1;
  }
  if (vpos !== head.payloadsStart) throw corruptIndex(origin.segmentId, termKeyName('F', origin), origin.field, 'skip table malformed');
  return last;
}

/** Walks the skip table of a 'T' value block by block. */
class SkipReader {
  /** Block index; −1 before the first entry, numBlocks once past the last. */
  index = -1;
  /** Byte offset of the next entry to parse. */
  entryPos = 0;
  lastDoc = -1;
  prevLastDoc = -1;
  payloadStart = 0;
  payloadBytes = 0;
  maxFreq = 0;
  minNorm = 0;
  crc = 0;

  constructor(
    private value: Uint8Array,
    private numBlocks: number,
    skipStart: number,
    payloadsStart: number,
  ) {
    this.entryPos = skipStart;
    this.payloadStart = payloadsStart;
  }

  /** Starts over on another value (as if newly constructed). */
  reset(value: Uint8Array, numBlocks: number, skipStart: number, payloadsStart: number): void {
    this.value = value;
    this.numBlocks = numBlocks;
    this.index = -1;
    this.entryPos = skipStart;
    this.lastDoc = -1;
    this.prevLastDoc = -1;
    this.payloadStart = payloadsStart;
    this.payloadBytes = 0;
    this.maxFreq = 0;
    this.minNorm = 0;
    this.crc = 0;
  }

  /** Moves to the next block; false (and lastDoc = NO_MORE_DOCS) past the last. */
  next(): boolean {
    if (this.index >= this.numBlocks - 1) {
      this.index = this.numBlocks;
      this.prevLastDoc = this.lastDoc;
      this.lastDoc = NO_MORE_DOCS;
      this.maxFreq = 0;
      this.minNorm = 0;
      return false;
    }
    const v = this.value;
    vpos = this.entryPos;
    this.index++;
    this.prevLastDoc = this.lastDoc;
    this.lastDoc += readVarint(v);
    this.payloadStart += this.payloadBytes;
    this.payloadBytes = readVarint(v);
    this.maxFreq = readVarint(v);
    this.minNorm = v[vpos++];
    if (this.numBlocks > 1) {
      this.crc = readU32(v, vpos);
      vpos += 4;
    }
    this.entryPos = vpos;
    return true;
  }

  copyFrom(other: SkipReader): void {
    this.index = other.index;
    this.entryPos = other.entryPos;
    this.lastDoc = other.lastDoc;
    this.prevLastDoc = other.prevLastDoc;
    this.payloadStart = other.payloadStart;
    this.payloadBytes = other.payloadBytes;
    this.maxFreq = other.maxFreq;
    this.minNorm = other.minNorm;
    this.crc = other.crc;
  }
}

const EMPTY_POSITIONS = new Uint32Array(0);

/**
 * The cursor over one term's stored postings. It owns `value` (a private copy), decodes one block of
 * 128 docs at a time, verifies each block's checksum when it first decodes it, decodes freqs only
 * when asked, and reads the positions value only when `positions()` is first called.
 */
export class BlockPostingsCursor implements PostingsCursor {
  doc = -1;
  cost: number;
  /** The term's totalTermFreq. */
  totalTermFreq: number;
  private numBlocks: number;
  private readonly docBuf = new Int32Array(BLOCK);
  private readonly freqBuf: Int32Array;
  private n = 0;
  private i = -1;
  private decodedBlock = -1;
  private freqsDecoded = false;
  private freqStart = 0;
  private readonly dec: SkipReader;
  private readonly sh: SkipReader;
  // Positions state (lazy).
  private posValue: Uint8Array | null = null;
  private posEntryPos = 0;
  private posBlock = -1;
  private posPayloadStart = 0;
  private posPayloadBytes = 0;
  private posCrc = 0;
  private posDecodedBlock = -1;
  private posBuf: Uint32Array = EMPTY_POSITIONS;
  private posOffsets: Int32Array | null = null;
  private posByteOffsets: Int32Array | null = null;
  private posRawBlock = -1;
  /** Set by `positionBytes`: the current doc's position bytes are [positionBytesStart, positionBytesEnd). */
  positionBytesStart = 0;
  positionBytesEnd = 0;

  /**
   * @param value the 'T' value (must stay unchanged for the cursor's life: pass a copy, not getBinaryFast's buffer)
   * @param hasFreqs whether the field indexes freqs
   * @param loadPositions returns the 'P' value (a stable copy) or null when positions are not indexed
   * @param checkHeads verify the head CRCs of both values (false for inline postings and positions,
   *   which the term block's CRC covered: their bytes [0, 4) are then ignored)
   */
  constructor(
    private value: Uint8Array,
    private readonly hasFreqs: boolean,
    private loadPositions: (() => Uint8Array | null) | null,
    private origin: ValueOrigin,
    private checkHeads = true,
  ) {
    parseTermHead(value, origin, checkHeads);
    this.cost = head.docFreq;
    this.totalTermFreq = head.totalTermFreq;
    this.numBlocks = head.numBlocks;
    this.freqBuf = hasFreqs ? new Int32Array(BLOCK) : this.docBuf;
    this.dec = new SkipReader(value, head.numBlocks, head.skipStart, head.payloadsStart);
    this.dec.next();
    this.sh = new SkipReader(value, head.numBlocks, head.skipStart, head.payloadsStart);
    this.sh.copyFrom(this.dec);
  }

  /**
   * Reuses this cursor for another term of a field with the same options (the merger's loop: no
   * per-term allocation). Same parameters as the constructor.
   */
  reset(value: Uint8Array, loadPositions: (() => Uint8Array | null) | null, origin: ValueOrigin, checkHeads = true): this {
    parseTermHead(value, origin, checkHeads);
    this.value = value;
    this.loadPositions = loadPositions;
    this.origin = origin;
    this.checkHeads = checkHeads;
    this.cost = head.docFreq;
    this.totalTermFreq = head.totalTermFreq;
    this.numBlocks = head.numBlocks;
    this.doc = -1;
    this.n = 0;
    this.i = -1;
    this.decodedBlock = -1;
    this.freqsDecoded = false;
    this.freqStart = 0;
    this.dec.reset(value, head.numBlocks, head.skipStart, head.payloadsStart);
    this.dec.next();
    this.sh.reset(value, head.numBlocks, head.skipStart, head.payloadsStart);
    this.sh.copyFrom(this.dec);
    this.posValue = null;
    this.posEntryPos = 0;
    this.posBlock = -1;
    this.posPayloadStart = 0;
    this.posPayloadBytes = 0;
    this.posCrc = 0;
    this.posDecodedBlock = -1;
    this.posRawBlock = -1;
    return this;
  }

  next(): number {
    if (this.i + 1 < this.n) return (this.doc = this.docBuf[++this.i]);
    if (this.decodedBlock === this.dec.index && !this.dec.next()) return this.exhaust();
    this.decodeBlock();
    this.i = 0;
    return (this.doc = this.docBuf[0]);
  }

  advance(target: number): number {
    if (target <= this.doc) return this.doc;
    const dec = this.dec;
    if (this.decodedBlock !== dec.index || target > dec.lastDoc) {
      const sh = this.sh;
      // Reuse the skip walk advanceShallow already did when target lies at or after its block.
      if (sh.index > dec.index && sh.prevLastDoc < target) dec.copyFrom(sh);
      while (dec.lastDoc < target) if (!dec.next()) return this.exhaust();
      if (dec.index >= this.numBlocks) return this.exhaust();
      this.decodeBlock();
      this.i = -1;
      if (sh.index < dec.index) sh.copyFrom(dec);
    }
    const docs = this.docBuf;
    for (let i = this.i + 1; i < this.n; i++) {
      if (docs[i] >= target) {
        this.i = i;
        return (this.doc = docs[i]);
      }
    }
    // Unreachable for a consistent value: the block's last doc is ≥ target.
    throw corruptIndex(this.origin.segmentId, termKeyName('F', this.origin), this.origin.field, 'block does not reach its last doc');
  }

  advanceShallow(target: number): number {
    const sh = this.sh;
    if (sh.index < this.dec.index) sh.copyFrom(this.dec);
    while (sh.lastDoc < target && sh.next()) {
      // walk the skip table only
    }
    return sh.lastDoc;
  }

  blockLastDoc(): number {
    if (this.sh.index < this.dec.index) this.sh.copyFrom(this.dec);
    return this.sh.lastDoc;
  }

  blockMaxFreq(): number {
    if (this.sh.index < this.dec.index) this.sh.copyFrom(this.dec);
    return this.sh.maxFreq;
  }

  blockMinNorm(): number {
    if (this.sh.index < this.dec.index) this.sh.copyFrom(this.dec);
    return this.sh.minNorm;
  }

  freq(): number {
    if (!this.hasFreqs) return 1;
    if (!this.freqsDecoded) this.decodeFreqs();
    return this.freqBuf[this.i];
  }

  /**
   * The current doc's positions as stored (varint deltas restarting at 0, checksum verified), for
   * copying without decoding: returns the value holding them, at [positionBytesStart, positionBytesEnd).
   * Only for fields with positions, on a doc.
   */
  positionBytes(): Uint8Array {
    assert(this.loadPositions !== null && this.doc >= 0 && this.doc !== NO_MORE_DOCS, 'positionBytes needs positions and a current doc');
    if (this.posRawBlock !== this.decodedBlock) this.locatePositionBytes();
    this.positionBytesStart = this.posByteOffsets![this.i];
    this.positionBytesEnd = this.posByteOffsets![this.i + 1];
    return this.posValue!;
  }

  positions(): Uint32Array {
    if (this.loadPositions === null || this.doc < 0 || this.doc === NO_MORE_DOCS) return EMPTY_POSITIONS;
    if (this.posDecodedBlock !== this.decodedBlock) this.decodePositionsBlock();
    const offsets = this.posOffsets!;
    return this.posBuf.subarray(offsets[this.i], offsets[this.i + 1]);
  }

  private exhaust(): number {
    this.n = 0;
    this.i = 0;
    this.decodedBlock = this.dec.index;
    return (this.doc = NO_MORE_DOCS);
  }

  private corrupt(tag: string, detail: string): Error {
    return corruptIndex(this.origin.segmentId, termKeyName(tag, this.origin), this.origin.field, detail);
  }

  private decodeBlock(): void {
    const d = this.dec;
    const v = this.value;
    const start = d.payloadStart;
    const end = start + d.payloadBytes;
    if (end > v.length) throw this.corrupt('F', `block ${d.index} runs past the value`);
    if (this.numBlocks > 1 && crc32c(v, start, end) !== d.crc) throw this.corrupt('F', `block ${d.index} checksum mismatch`);
    const n = d.index < this.numBlocks - 1 ? BLOCK : this.cost - BLOCK * (this.numBlocks - 1);
    const docs = this.docBuf;
    let doc = d.prevLastDoc;
    let p = start;
    for (let i = 0; i < n; i++) {
      let b = v[p++];
      let x = b & 0x7f;
      if (b >= 0x80) {
        b = v[p++];
        x |= (b & 0x7f) << 7;
        if (b >= 0x80) {
          b = v[p++];
          x |= (b & 0x7f) << 14;
          if (b >= 0x80) {
            b = v[p++];
            x |= (b & 0x7f) << 21;
            if (b >= 0x80) {
              b = v[p++];
              x |= (b & 0x7f) << 28;
            }
          }
        }
      }
      doc += x;
      docs[i] = doc;
    }
    if (doc !== d.lastDoc || p > end) throw this.corrupt('F', `block ${d.index} does not end at its last doc`);
    this.freqStart = p;
    this.n = n;
    this.decodedBlock = d.index;
    this.freqsDecoded = false;
  }

  private decodeFreqs(): void {
    const v = this.value;
    const freqs = this.freqBuf;
    let p = this.freqStart;
    for (let i = 0; i < this.n; i++) {
      let b = v[p++];
      let x = b & 0x7f;
      if (b >= 0x80) {
        b = v[p++];
        x |= (b & 0x7f) << 7;
        if (b >= 0x80) {
          b = v[p++];
          x |= (b & 0x7f) << 14;
          if (b >= 0x80) {
            b = v[p++];
            x |= (b & 0x7f) << 21;
          }
        }
      }
      freqs[i] = x;
    }
    if (p !== this.dec.payloadStart + this.dec.payloadBytes) throw this.corrupt('F', `block ${this.dec.index} freqs do not fill the block`);
    this.freqsDecoded = true;
  }

  /** Moves the positions walk to the decoded doc block and verifies that block's checksum. */
  private seekPositionsBlock(): void {
    if (this.posValue === null) {
      const value = this.loadPositions!();
      if (value === null) throw this.corrupt('P', 'positions value missing');
      if (value.length < 5) throw this.corrupt('P', 'positions value truncated');
      vpos = 4;
      const numBlocks = readVarint(value);
      if (numBlocks !== this.numBlocks) throw this.corrupt('P', `positions have ${numBlocks} blocks, postings ${this.numBlocks}`);
      const entriesStart = vpos;
      // Walk the entries once to find where the payloads start (and check the head checksum).
      for (let b = 0; b < numBlocks; b++) {
        readVarint(value);
        if (numBlocks > 1) vpos += 4;
      }
      if (vpos > value.length) throw this.corrupt('P', 'positions header malformed');
      const crcEnd = numBlocks > 1 ? vpos : value.length;
      if (this.checkHeads && crc32c(value, 4, crcEnd) !== readU32(value, 0)) throw this.corrupt('P', 'positions checksum mismatch');
      this.posValue = value;
      this.posEntryPos = entriesStart;
      this.posPayloadStart = vpos;
      this.posPayloadBytes = 0;
      this.posBlock = -1;
      this.posOffsets = new Int32Array(BLOCK + 1);
    }
    const value = this.posValue;
    // Move the positions skip walk to the decoded doc block (blocks only move forward).
    while (this.posBlock < this.decodedBlock) {
      vpos = this.posEntryPos;
      this.posPayloadStart += this.posPayloadBytes;
      this.posPayloadBytes = readVarint(value);
      if (this.numBlocks > 1) {
        this.posCrc = readU32(value, vpos);
        vpos += 4;
      }
      this.posEntryPos = vpos;
      this.posBlock++;
    }
    const start = this.posPayloadStart;
    const end = start + this.posPayloadBytes;
    if (end > value.length) throw this.corrupt('P', `positions block ${this.posBlock} runs past the value`);
    if (this.numBlocks > 1 && crc32c(value, start, end) !== this.posCrc) {
      throw this.corrupt('P', `positions block ${this.posBlock} checksum mismatch`);
    }
  }

  private decodePositionsBlock(): void {
    this.seekPositionsBlock();
    const value = this.posValue!;
    const start = this.posPayloadStart;
    const end = start + this.posPayloadBytes;
    if (!this.freqsDecoded) this.decodeFreqs();
    let total = 0;
    const offsets = this.posOffsets!;
    for (let i = 0; i < this.n; i++) {
      offsets[i] = total;
      total += this.freqBuf[i];
    }
    offsets[this.n] = total;
    if (this.posBuf.length < total) this.posBuf = new Uint32Array(Math.max(total, this.posBuf.length * 2, 64));
    const out = this.posBuf;
    vpos = start;
    for (let i = 0; i < this.n; i++) {
      let position = 0;
      for (let k = offsets[i]; k < offsets[i + 1]; k++) {
        position += readVarint(value);
        out[k] = position;
      }
    }
    if (vpos !== end) throw this.corrupt('P', `positions block ${this.posBlock} does not match the freqs`);
    this.posDecodedBlock = this.decodedBlock;
  }

  /** Finds the byte range of every doc's positions in the decoded block (for positionBytes). */
  private locatePositionBytes(): void {
    this.seekPositionsBlock();
    const value = this.posValue!;
    const end = this.posPayloadStart + this.posPayloadBytes;
    if (!this.freqsDecoded) this.decodeFreqs();
    this.posByteOffsets ??= new Int32Array(BLOCK + 1);
    const offsets = this.posByteOffsets;
    let p = this.posPayloadStart;
    for (let i = 0; i < this.n; i++) {
      offsets[i] = p;
      // Skip freq varints: each ends at a byte below 0x80.
      for (let k = this.freqBuf[i]; k > 0; k--) while (value[p++] >= 0x80 && p < end);
    }
    offsets[this.n] = p;
    if (p !== end || (p > this.posPayloadStart && value[p - 1] >= 0x80)) throw this.corrupt('P', `positions block ${this.posBlock} does not match the freqs`);
    this.posRawBlock = this.decodedBlock;
  }
}
