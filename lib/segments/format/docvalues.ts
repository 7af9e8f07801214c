/**
 * Segment format v1: doc-values columns (for sort and aggregations).
 *
 * Key `0x01 <segId> 'D' <field>` → numeric column:
 *   u8       flags: 1 = every doc has exactly one value (no counts follow)
 *   varint   maxDoc
 *   varint   valueCount
 *   varint × maxDoc   number of values of each doc (absent when flags & 1)
 *   f64 LE × valueCount   the values, each doc's ascending
 *   u32 LE   CRC32C of everything before it
 *
 * Key `0x01 <segId> 'K' <field>` → keyword column:
 *   varint   maxDoc
 *   varint   termCount
 *   termCount × (varint byteLength, utf8 bytes)   unique values sorted by UTF-8 bytes
 *   varint × maxDoc   number of ordinals of each doc
 *   varint × Σcounts  each doc's ordinals ascending: first absolute, then deltas
 *   u32 LE   CRC32C of everything before it
 *
 * Readers decode a whole column once and cache it: columns are read by sort and aggregations, which
 * touch many docs, so a dense typed-array column beats per-doc lookups.
 */
import { crc32c } from '../../common/crc32c.js';
import { ByteReader, ByteWriter } from '../../common/varint.js';
import type { KeywordColumn, NumericColumn } from '../types.js';
import { corruptIndex, fromUtf8, readU32, utf8 } from './keys.js';

// Values are copied as raw float64 bytes; that relies on the platform's byte order.
if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) throw new Error('segments format needs a little-endian platform');

/** Encodes a numeric column. */
export function encodeNumericColumn(column: NumericColumn, maxDoc: number): Buffer {
  const { offsets, values } = column;
  const w = new ByteWriter(16 + maxDoc + values.length * 8);
  w.byte(offsets === null ? 1 : 0);
  w.varint(maxDoc);
  w.varint(values.length);
  if (offsets !== null) for (let d = 0; d < maxDoc; d++) w.varint(offsets[d + 1] - offsets[d]);
  w.bytes(new Uint8Array(values.buffer, values.byteOffset, values.length * 8));
  w.uint32(crc32c(w.buf, 0, w.pos));
  return Buffer.from(w.buf.buffer, w.buf.byteOffset, w.pos);
}

/** Verifies and decodes a numeric column (copies; the input may be a reused buffer). */
export function decodeNumericColumn(value: Uint8Array, maxDoc: number, segmentId: number, key: string, field: string): NumericColumn {
  checkCrc(value, segmentId, key, field);
  const r = new ByteReader(value);
  const flags = r.byte();
  const storedMaxDoc = r.varint();
  const count = r.varint();
  if (storedMaxDoc !== maxDoc) throw corruptIndex(segmentId, key, field, `column has ${storedMaxDoc} docs, segment ${maxDoc}`);
  let offsets: Uint32Array | null = null;
  if ((flags & 1) === 0) {
    offsets = new Uint32Array(maxDoc + 1);
    for (let d = 0; d < maxDoc; d++) offsets[d + 1] = offsets[d] + r.varint();
    if (offsets[maxDoc] !== count) throw corruptIndex(segmentId, key, field, 'column counts do not add up');
  } else if (count !== maxDoc) throw corruptIndex(segmentId, key, field, 'dense column has the wrong value count');
  if (r.pos + count * 8 + 4 !== value.length) throw corruptIndex(segmentId, key, field, 'column length mismatch');
  // Copy into a fresh, 8-byte aligned buffer (Buffer#slice would be a view of lmdb's reused buffer).
  const values = new Float64Array(count);
  new Uint8Array(values.buffer).set(value.subarray(r.pos, r.pos + count * 8));
  return { offsets, values };
}

/** Encodes a keyword column (terms must be unique and sorted by UTF-8 bytes). */
export function encodeKeywordColumn(column: KeywordColumn, maxDoc: number): Buffer {
  const { terms, offsets, ords } = column;
  const w = new ByteWriter(64 + maxDoc * 2 + ords.length * 2);
  w.varint(maxDoc);
  w.varint(terms.length);
  for (const term of terms) {
    const bytes = utf8(term);
    w.varint(bytes.length);
    w.bytes(bytes);
  }
  for (let d = 0; d < maxDoc; d++) w.varint(offsets[d + 1] - offsets[d]);
  for (let d = 0; d < maxDoc; d++) {
    let prev = 0;
    for (let k = offsets[d]; k < offsets[d + 1]; k++) {
      w.varint(ords[k] - prev);
      prev = ords[k];
    }
  }
  w.uint32(crc32c(w.buf, 0, w.pos));
  return Buffer.from(w.buf.buffer, w.buf.byteOffset, w.pos);
}

/** Verifies and decodes a keyword column. */
export function decodeKeywordColumn(value: Uint8Array, maxDoc: number, segmentId: number, key: string, field: string): KeywordColumn {
  checkCrc(value, segmentId, key, field);
  const r = new ByteReader(value);
  const storedMaxDoc = r.varint();
  if (storedMaxDoc !== maxDoc) throw corruptIndex(segmentId, key, field, `column has ${storedMaxDoc} docs, segment ${maxDoc}`);
  const termCount = r.varint();
  const terms = new Array<string>(termCount);
  for (let t = 0; t < termCount; t++) {
    const length = r.varint();
    terms[t] = fromUtf8(value, r.pos, r.pos + length);
    r.pos += length;
  }
  const offsets = new Uint32Array(maxDoc + 1);
  for (let d = 0; d < maxDoc; d++) offsets[d + 1] = offsets[d] + r.varint();
  const ords = new Int32Array(offsets[maxDoc]);
  for (let d = 0; d < maxDoc; d++) {
    let ord = 0;
    for (let k = offsets[d]; k < offsets[d + 1]; k++) {
      ord += r.varint();
      if (ord >= termCount) throw corruptIndex(segmentId, key, field, 'ordinal out of range');
      ords[k] = ord;
    }
  }
  if (r.pos + 4 !== value.length) throw corruptIndex(segmentId, key, field, 'column length mismatch');
  return { terms, offsets, ords };
}

function checkCrc(value: Uint8Array, segmentId: number, key: string, field: string): void {
  if (value.length < 5 || crc32c(value, 0, value.length - 4) !== readU32(value, value.length - 4)) {
    throw corruptIndex(segmentId, key, field, 'doc values checksum mismatch');
  }
}
