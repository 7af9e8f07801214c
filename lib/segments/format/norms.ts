/**
 * Segment format v1: norms, one byte per doc per field with norms.
 *
 * Key `0x01 <segId> 'N' <field>` → value:
 *   maxDoc bytes   norm of doc d at offset d: SmallFloat.intToByte4(field length), 0 = field absent/empty
 *   u32 LE         CRC32C of the maxDoc bytes before it
 *
 * The byte is Lucene's `SmallFloat.intToByte4`: lengths below 24 are exact, larger ones keep 4
 * significant bits. BM25 must decode with exactly Lucene's table (`byte4ToInt`) to score like
 * Elasticsearch. The encoding is monotonic, so the smallest byte is the shortest field.
 */
import { crc32c } from '../../common/crc32c.js';
import { corruptIndex, readU32, writeU32 } from './keys.js';

/** Lucene's SmallFloat.longToInt4: 4 significant bits (3 stored, one implicit) and a 4-bit shift. */
function longToInt4(value: number): number {
  const numBits = 32 - Math.clz32(value);
  if (numBits < 4) return value; // subnormal: exact
  const shift = numBits - 4;
  let encoded = (value >>> shift) & 0x07; // the most significant bit is implicit
  encoded |= (shift + 1) << 3; // 0 is reserved for subnormal values
  return encoded;
}

/** Lucene's SmallFloat.int4ToLong. */
function int4ToLong(value: number): number {
  const bits = value & 0x07;
  const shift = (value >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

const MAX_INT4 = longToInt4(0x7fffffff);
/** Byte values below this encode the length exactly (24 in Lucene). */
export const NORM_EXACT_VALUES = 255 - MAX_INT4;

/** Lucene's `SmallFloat.intToByte4`: the norm byte (0..255) of a field length ≥ 0. */
export function intToByte4(length: number): number {
  if (length < 0 || !Number.isInteger(length)) throw new RangeError(`field length must be a non-negative integer, got ${length}`);
  const clamped = Math.min(length, 0x7fffffff);
  if (clamped < NORM_EXACT_VALUES) return clamped;
  return NORM_EXACT_VALUES + longToInt4(clamped - NORM_EXACT_VALUES);
}

/** Lucene's `SmallFloat.byte4ToInt`: the (lower bound of the) field length a norm byte stands for. */
export function byte4ToInt(normByte: number): number {
  const b = normByte & 0xff;
  if (b < NORM_EXACT_VALUES) return b;
  return NORM_EXACT_VALUES + int4ToLong(b - NORM_EXACT_VALUES);
}

/** byte4ToInt for every byte value: BM25 precomputes its length factors from this. */
export const NORM_DECODE_TABLE: Float64Array = (() => {
  const table = new Float64Array(256);
  for (let b = 0; b < 256; b++) table[b] = byte4ToInt(b);
  return table;
})();

/** The 'N' value of a norms array. */
export function encodeNorms(norms: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(norms.length + 4);
  out.set(norms, 0);
  writeU32(out, norms.length, crc32c(norms));
  return out;
}

/** Verifies and copies an 'N' value (the copy is safe to cache; the input may be a reused buffer). */
export function decodeNorms(value: Uint8Array, maxDoc: number, segmentId: number, key: string, field: string): Uint8Array {
  if (value.length !== maxDoc + 4) throw corruptIndex(segmentId, key, field, `norms have ${value.length - 4} bytes, expected ${maxDoc}`);
  if (crc32c(value, 0, maxDoc) !== readU32(value, maxDoc)) throw corruptIndex(segmentId, key, field, 'norms checksum mismatch');
  // A real copy: Buffer#slice would be a view of lmdb's reused buffer.
  return new Uint8Array(value.subarray(0, maxDoc));
}
