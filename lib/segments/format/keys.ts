/**
 * Segment format v2: the keys of one segment, and the constants every component shares.
 *
 * All of a segment's keys in the `data` database start with `0x01 <segmentId u32 BE>`, so a segment
 * is one contiguous key range (dropping it is a range delete). After the 5-byte prefix comes a
 * one-byte tag naming the component:
 *
 *   'I' <field utf8>                        terms index: the first term of every term block (terms.ts)
 *   'T' <field utf8> 0x00 <block u32 BE>    term block: ~32 sorted, prefix-compressed terms with their
 *                                           stats and, for rare terms, their postings inline (terms.ts)
 *   'F' <field utf8> 0x00 <ord u32 BE>      postings of the field's ord-th non-inline term (postings.ts)
 *   'P' <field utf8> 0x00 <ord u32 BE>      positions of the same term, aligned with its 'F' blocks (postings.ts)
 *   'U'                                     bloom filter of the `_id` terms (bloom.ts)
 *   'N' <field utf8>                        norms: one byte per doc (norms.ts)
 *   'D' <field utf8>                        numeric doc-values column (docvalues.ts)
 *   'K' <field utf8>                        keyword doc-values column (docvalues.ts)
 *   'S'                                     seqNo / version / primaryTerm columns (stored.ts)
 *   'B'                                     stored-block index: first doc of every stored block (stored.ts)
 *   'Z'                                     segment meta, written LAST (meta.ts); no 'Z' ⇒ incomplete segment
 *
 * Terms of a field are written in UTF-8 byte order, so block numbers and postings ordinals ascend
 * with the terms and every key of a component is appended in ascending order. Field names must not
 * contain 0x00. Format v1 (one key per term) is not readable by this build: its segments are refused
 * at open with `corrupt_index_exception` naming the version (there were no users of v1).
 *
 * The `sources` database holds stored-field blocks under `0x01 <segmentId u32 BE> <block u32 BE>`.
 *
 * Every value ends or starts with a CRC32C of its bytes (see each component); a mismatch raises
 * `corrupt_index_exception` naming the segment, the key and the field.
 */
import { QuarryError } from '../../common/errors.js';
import { KEY_SPACE } from '../env.js';

/** Format version recorded in every segment's meta; bump it for any change to the bytes. */
export const FORMAT_VERSION = 2;

/** Name of the inverted field holding every doc's `_id` as a term (docs only, no norms); `lookupId` reads it. */
export const ID_FIELD = '_id';

/** Docs per postings block: the unit of skipping, block-max scores and per-block checksums (Lucene's 128). */
export const POSTINGS_BLOCK_SIZE = 128;

/** A stored-fields block closes after this many docs (small enough that a fetch decodes little). */
export const STORED_BLOCK_DOCS_MAX = 16;
/** ... or once its sources reach this many bytes (lmdb's LZ4 compresses per value, so blocks help it). */
export const STORED_BLOCK_BYTES_MAX = 16 * 1024;

/** Longest field name in UTF-8 bytes (field names are part of keys; LMDB keys are at most 1978 bytes). */
export const FIELD_NAME_MAX_BYTES = 255;
/**
 * Longest indexed term in UTF-8 bytes. Lucene allows 32766. Format v1 put terms into LMDB keys; v2
 * does not, but keeps the limit (a 1700-byte term keeps a term block near its ~4 KB target): a
 * document with a longer term is rejected by `SegmentBuilder.addDocument` (as Lucene rejects an
 * "immense term"), so callers should apply `ignore_above` or truncation before.
 */
export const SEGMENT_TERM_MAX_BYTES = 1700;
/** LMDB's default maximum key size (lmdb-js with 4 KB pages). */
export const LMDB_KEY_MAX_BYTES = 1978;

/** Component tags (the byte after the segment prefix). */
export const TAG = {
  termsIndex: 0x49, // 'I'
  terms: 0x54, // 'T'
  postings: 0x46, // 'F'
  positions: 0x50, // 'P'
  idFilter: 0x55, // 'U'
  norms: 0x4e, // 'N'
  numeric: 0x44, // 'D'
  keyword: 0x4b, // 'K'
  seqNos: 0x53, // 'S'
  storedIndex: 0x42, // 'B'
  meta: 0x5a, // 'Z'
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 encoding of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * A UTF-16 unit remapped so that comparing remapped units in sequence gives code point order (= UTF-8
 * byte order): U+E000..U+FFFF move below the surrogates, which stand for code points ≥ U+10000.
 */
function codePointOrderUnit(unit: number): number {
  return unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Partitions below this size are finished by insertion sort in unitsUtf8SortOrder. */
const MKQS_INSERTION_MAX = 12;

/**
 * The permutation that sorts packed UTF-16 terms (term i = chars[offsets[i], offsets[i + 1])) by
 * UTF-8 bytes: a multikey quicksort (Bentley & Sedgewick) over the units, so no string is made and
 * each unit is compared once per partition level rather than once per comparison.
 */
export function unitsUtf8SortOrder(chars: Uint16Array, offsets: Uint32Array, count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  // Unit `depth` of term `t` in code point order, or -1 past its end.
  const unitAt = (t: number, depth: number): number => {
    const at = offsets[t] + depth;
    return at < offsets[t + 1] ? codePointOrderUnit(chars[at]) : -1;
  };
  const compareFrom = (a: number, b: number, depth: number): number => {
    for (let d = depth; ; d++) {
      const x = unitAt(a, d);
      const y = unitAt(b, d);
      if (x !== y) return x - y;
      if (x < 0) return 0;
    }
  };
  // Explicit stack of [lo, hi) ranges with their common prefix depth (deep recursion on long shared prefixes is avoided).
  const stack: number[] = [0, count, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo <= MKQS_INSERTION_MAX) {
      for (let i = lo + 1; i < hi; i++) {
        const t = order[i];
        let j = i - 1;
        while (j >= lo && compareFrom(order[j], t, depth) > 0) {
          order[j + 1] = order[j];
          j--;
        }
        order[j + 1] = t;
      }
      continue;
    }
    // Median of three as the pivot unit.
    const a = unitAt(order[lo], depth);
    const b = unitAt(order[(lo + hi) >>> 1], depth);
    const c = unitAt(order[hi - 1], depth);
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    // Three-way partition: [lo, lt) < pivot, [lt, gt) = pivot, [gt, hi) > pivot.
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i < gt) {
      const u = unitAt(order[i], depth);
      if (u < pivot) {
        const t = order[lt];
        order[lt++] = order[i];
        order[i++] = t;
      } else if (u > pivot) {
        const t = order[--gt];
        order[gt] = order[i];
        order[i] = t;
      } else {
        i++;
      }
    }
    if (lo < lt) stack.push(lo, lt, depth);
    if (gt < hi) stack.push(gt, hi, depth);
    // Terms equal up to here and ended (pivot -1) need no more sorting.
    if (pivot >= 0 && gt - lt > 1) stack.push(lt, gt, depth + 1);
  }
  return order;
}

/**
 * Writes UTF-16 units chars[start, end) as UTF-8 into `out` from 0; returns the byte length. A lone
 * surrogate becomes U+FFFD, as TextEncoder writes it.
 */
export function encodeUnitsUtf8(chars: Uint16Array, start: number, end: number, out: Uint8Array): number {
  let p = 0;
  for (let i = start; i < end; i++) {
    let c = chars[i];
    if (c < 0x80) {
      out[p++] = c;
      continue;
    }
    if (c < 0x800) {
      out[p++] = 0xc0 | (c >>> 6);
      out[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < end ? chars[i + 1] : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        out[p++] = 0xf0 | (cp >>> 18);
        out[p++] = 0x80 | ((cp >>> 12) & 0x3f);
        out[p++] = 0x80 | ((cp >>> 6) & 0x3f);
        out[p++] = 0x80 | (cp & 0x3f);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    out[p++] = 0xe0 | (c >>> 12);
    out[p++] = 0x80 | ((c >>> 6) & 0x3f);
    out[p++] = 0x80 | (c & 0x3f);
  }
  return p;
}

/** UTF-8 decoding of bytes. */
export function fromUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return decoder.decode(bytes.subarray(start, end));
}

/** Byte length of a string in UTF-8 without encoding it. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

/**
 * Compares strings by their UTF-8 bytes (= code point order), the order of LMDB keys and of Lucene's
 * BytesRef. Plain `<` compares UTF-16 code units, which puts U+E000..U+FFFF after supplementary
 * characters; the mapping below fixes exactly that case.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Bytewise comparison of two byte strings (LMDB's key order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function writePrefix(key: Buffer, segmentId: number, tag: number): void {
  key[0] = KEY_SPACE.segment;
  key.writeUInt32BE(segmentId >>> 0, 1);
  key[5] = tag;
}

/** `0x01 <segmentId>`: the first 5 bytes of every key of a segment. */
export function segmentPrefix(segmentId: number): Buffer {
  const key = Buffer.allocUnsafe(5);
  key[0] = KEY_SPACE.segment;
  key.writeUInt32BE(segmentId >>> 0, 1);
  return key;
}

/** A key with no suffix after the tag ('S', 'B', 'Z'). */
export function tagKey(segmentId: number, tag: number): Buffer {
  const key = Buffer.allocUnsafe(6);
  writePrefix(key, segmentId, tag);
  return key;
}

/** A per-field key ('N', 'D', 'K'). */
export function fieldKey(segmentId: number, tag: number, fieldUtf8: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(6 + fieldUtf8.length);
  writePrefix(key, segmentId, tag);
  key.set(fieldUtf8, 6);
  return key;
}

/**
 * A key numbered within a field ('T' block number, 'F'/'P' postings ordinal):
 * `prefix tag field 0x00 <n u32 BE>`. Big-endian, so numeric order is key order.
 */
export function fieldOrdinalKey(segmentId: number, tag: number, fieldUtf8: Uint8Array, n: number): Buffer {
  const key = Buffer.allocUnsafe(11 + fieldUtf8.length);
  writePrefix(key, segmentId, tag);
  key.set(fieldUtf8, 6);
  key[6 + fieldUtf8.length] = 0;
  key.writeUInt32BE(n >>> 0, 7 + fieldUtf8.length);
  return key;
}

/** The key range `[start, end)` of every `fieldOrdinalKey` of one field and tag, from ordinal `from`. */
export function fieldOrdinalRange(segmentId: number, tag: number, fieldUtf8: Uint8Array, from = 0): { start: Buffer; end: Buffer } {
  const start = fieldOrdinalKey(segmentId, tag, fieldUtf8, from);
  const end = Buffer.from(start.subarray(0, 7 + fieldUtf8.length));
  end[end.length - 1] = 1; // tag field 0x01: just past the field's last ordinal
  return { start, end };
}

/** Reads the ordinal at the end of a `fieldOrdinalKey`. */
export function ordinalOfKey(key: Uint8Array): number {
  const n = key.length;
  return ((key[n - 4] << 24) | (key[n - 3] << 16) | (key[n - 2] << 8) | key[n - 1]) >>> 0;
}

/** Key of a stored-fields block in the `sources` database. */
export function storedBlockKey(segmentId: number, block: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = KEY_SPACE.segment;
  key.writeUInt32BE(segmentId >>> 0, 1);
  key.writeUInt32BE(block >>> 0, 5);
  return key;
}

/** A human-readable rendering of a segment key for error messages. */
export function describeKey(key: Uint8Array): string {
  if (key.length < 6 || key[0] !== KEY_SPACE.segment) return Buffer.from(key).toString('hex');
  const tag = String.fromCharCode(key[5]);
  const rest = key.subarray(6);
  const zero = rest.indexOf(0);
  if (zero >= 0 && rest.length === zero + 5) return `${tag}:${fromUtf8(rest, 0, zero)}:#${ordinalOfKey(rest)}`;
  return rest.length > 0 ? `${tag}:${fromUtf8(rest)}` : tag;
}

/** The error for a stored value that fails its checksum or does not parse. */
export function corruptIndex(segmentId: number, key: string, field: string | null, detail: string): QuarryError {
  const where = field === null ? '' : ` field [${field}]`;
  return new QuarryError(
    'corrupt_index_exception',
    `segment [${segmentId}] key [${key}]${where}: ${detail}; the shard copy must be restored from a replica or snapshot`,
    { segment: segmentId, key, ...(field === null ? {} : { field }) },
  );
}

/** Reads a little-endian u32 from a byte array. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/** Writes a little-endian u32 into a byte array. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

// Every key must fit LMDB's key limit with the longest field name (terms are no longer part of keys).
if (11 + FIELD_NAME_MAX_BYTES > LMDB_KEY_MAX_BYTES) throw new Error('segment key limits exceed LMDB_KEY_MAX_BYTES');
