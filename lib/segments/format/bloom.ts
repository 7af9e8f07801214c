/**
 * Segment format v2: the `_id` filter, a bloom filter over the UTF-8 bytes of every `_id` term of a
 * segment. `lookupId` asks it first, so an id that is not in the segment (every segment but one, for
 * an update; every segment, for a new doc) usually costs no LMDB read at all. Loaded once per reader.
 *
 * Key `0x01 <segId> 'U'` → filter value:
 *   u32 LE   CRC32C of bytes [4, end)
 *   u8       hashCount (k)
 *   varint   bitCount (m, a multiple of 8)
 *   m / 8    bytes of bits; bit i is byte i >>> 3, mask 1 << (i & 7)
 *
 * Hashing (fixed by the format): h = FNV-1a 32 over the id's UTF-8 bytes; h1 = fmix32(h),
 * h2 = fmix32(h ^ 0x9e3779b9) | 1 (murmur3's finalizer); probe j (0 ≤ j < k) sets bit (h1 + j·h2) mod m
 * computed in u32 arithmetic. With BLOOM_BITS_PER_ID = 10 and k = 7 the false-positive rate is ~0.8 %.
 */
import { crc32c } from '../../common/crc32c.js';
import { corruptIndex, readU32, writeU32 } from './keys.js';

/** Bits per id: ~0.8 % false positives with BLOOM_HASH_COUNT probes (Lucene's bloom postings use similar). */
export const BLOOM_BITS_PER_ID = 10;
/** Probes per id (optimal k = bits per id · ln 2 ≈ 7). */
export const BLOOM_HASH_COUNT = 7;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function fnv1a(bytes: Uint8Array, length: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A bloom filter being built for a segment's ids. */
export class BloomFilterBuilder {
  private readonly bits: Uint8Array;
  private readonly bitCount: number;

  /** Sized for `expectedIds` ids (at least 64 bits). */
  constructor(expectedIds: number) {
    this.bitCount = Math.max(64, Math.ceil((expectedIds * BLOOM_BITS_PER_ID) / 8) * 8);
    this.bits = new Uint8Array(this.bitCount >>> 3);
  }

  /** Adds the id whose UTF-8 bytes are bytes[0, length). */
  add(bytes: Uint8Array, length: number): void {
    const h = fnv1a(bytes, length);
    const h1 = fmix32(h);
    const h2 = (fmix32((h ^ 0x9e3779b9) >>> 0) | 1) >>> 0;
    const m = this.bitCount;
    for (let j = 0; j < BLOOM_HASH_COUNT; j++) {
      const bit = ((h1 + Math.imul(j, h2)) >>> 0) % m;
      this.bits[bit >>> 3] |= 1 << (bit & 7);
    }
  }

  /** The filter's value. */
  encode(): Buffer {
    const out = Buffer.allocUnsafe(4 + 1 + 5 + this.bits.length);
    out[4] = BLOOM_HASH_COUNT;
    let p = 5;
    let v = this.bitCount;
    while (v >= 0x80) {
      out[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[p++] = v;
    out.set(this.bits, p);
    const value = out.subarray(0, p + this.bits.length);
    writeU32(value, 0, crc32c(value, 4, value.length));
    return value;
  }
}

/** A decoded, verified bloom filter. */
export class BloomFilter {
  private constructor(
    private readonly bits: Uint8Array,
    private readonly bitCount: number,
    private readonly hashCount: number,
  ) {}

  /** Verifies and decodes a 'U' value (copies the bits: the value may be lmdb's shared buffer). */
  static decode(value: Uint8Array, segmentId: number): BloomFilter {
    const bad = (detail: string) => corruptIndex(segmentId, 'U', '_id', detail);
    if (value.length < 7 || crc32c(value, 4, value.length) !== readU32(value, 0)) throw bad('id filter checksum mismatch');
    const hashCount = value[4];
    let p = 5;
    let bitCount = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28 || p >= value.length) throw bad('id filter header malformed');
      const b = value[p++];
      bitCount += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (hashCount === 0 || bitCount === 0 || bitCount % 8 !== 0 || p + bitCount / 8 !== value.length) throw bad('id filter header malformed');
    // Copy (a Buffer's slice is a view, and getBinaryFast's buffer is reused by the next get).
    return new BloomFilter(Uint8Array.prototype.slice.call(value, p), bitCount, hashCount);
  }

  /** False when the id whose UTF-8 bytes are bytes[0, length) is certainly not in the segment. */
  mightContain(bytes: Uint8Array, length: number): boolean {
    const h = fnv1a(bytes, length);
    const h1 = fmix32(h);
    const h2 = (fmix32((h ^ 0x9e3779b9) >>> 0) | 1) >>> 0;
    const m = this.bitCount;
    for (let j = 0; j < this.hashCount; j++) {
      const bit = ((h1 + Math.imul(j, h2)) >>> 0) % m;
      if ((this.bits[bit >>> 3] & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }
}
