/**
 * Segment format v1: stored fields (`_id`, routing, `_source`) and the per-doc version columns.
 *
 * `sources` database, key `0x01 <segId u32 BE> <block u32 BE>` → stored block (lmdb LZ4-compresses it):
 *   varint   docCount                  1..STORED_BLOCK_DOCS_MAX; a block closes at 16 docs or 16 KB
 *   per doc: varint idBytes, id utf8
 *            varint routingBytes + 1, routing utf8   (0 = no routing)
 *            varint sourceBytes, source bytes        (`_source` verbatim)
 *   u32 LE   CRC32C of everything before it
 *
 * `data` key `0x01 <segId> 'B'` → block index:
 *   varint   blockCount
 *   varint × blockCount   docs in each block (doc ordinals are assigned block after block)
 *   u32 LE   CRC32C of everything before it
 *
 * `data` key `0x01 <segId> 'S'` → version columns:
 *   varint   maxDoc
 *   per doc: zigzag varint (seqNo − previous doc's seqNo; the first from 0)
 *            varint version, varint primaryTerm
 *   u32 LE   CRC32C of everything before it
 *
 * `_seq_no`, `_version` and `_primary_term` are columns rather than part of the stored block so
 * that version lookups (every update) and `_seq_no` in hits never decompress a source block.
 */
import { crc32c } from '../../common/crc32c.js';
import { ByteReader, ByteWriter } from '../../common/varint.js';
import { corruptIndex, fromUtf8, readU32, STORED_BLOCK_BYTES_MAX, STORED_BLOCK_DOCS_MAX, utf8 } from './keys.js';

/** Collects docs into stored blocks; `add` returns a finished block value when one closes. */
export class StoredBlockEncoder {
  private writer = new ByteWriter(STORED_BLOCK_BYTES_MAX * 2);
  private docsInBlock = 0;
  private body = new ByteWriter(STORED_BLOCK_BYTES_MAX * 2);
  /** Docs per finished block, in order (the block index). */
  readonly blockDocCounts: number[] = [];

  /** Adds the next doc; returns a finished block when this doc closed one. */
  add(id: string, routing: string | undefined, source: Uint8Array): Buffer | null {
    const b = this.body;
    const idBytes = utf8(id);
    b.varint(idBytes.length);
    b.bytes(idBytes);
    if (routing === undefined) b.varint(0);
    else {
      const routingBytes = utf8(routing);
      b.varint(routingBytes.length + 1);
      b.bytes(routingBytes);
    }
    b.varint(source.length);
    b.bytes(source);
    this.docsInBlock++;
    if (this.docsInBlock >= STORED_BLOCK_DOCS_MAX || b.pos >= STORED_BLOCK_BYTES_MAX) return this.finishBlock();
    return null;
  }

  /** Closes the last, partly filled block (null when empty). */
  flush(): Buffer | null {
    return this.docsInBlock > 0 ? this.finishBlock() : null;
  }

  private finishBlock(): Buffer {
    const w = this.writer;
    w.pos = 0;
    w.varint(this.docsInBlock);
    w.bytes(this.body.buf.subarray(0, this.body.pos));
    const out = Buffer.allocUnsafe(w.pos + 4);
    out.set(w.buf.subarray(0, w.pos));
    out.writeUInt32LE(crc32c(out, 0, w.pos), w.pos);
    this.blockDocCounts.push(this.docsInBlock);
    this.docsInBlock = 0;
    this.body.pos = 0;
    if (this.body.buf.length > STORED_BLOCK_BYTES_MAX * 8) this.body = new ByteWriter(STORED_BLOCK_BYTES_MAX * 2);
    if (this.writer.buf.length > STORED_BLOCK_BYTES_MAX * 8) this.writer = new ByteWriter(STORED_BLOCK_BYTES_MAX * 2);
    return out;
  }
}

/** One decoded stored doc; `source` is a view into the block. */
export interface StoredDoc {
  id: string;
  routing: string | undefined;
  source: Uint8Array;
}

/** Verifies a stored block and decodes its docs. `block` must be a stable copy (sources are views into it). */
export function decodeStoredBlock(block: Uint8Array, segmentId: number, key: string): StoredDoc[] {
  if (block.length < 5 || crc32c(block, 0, block.length - 4) !== readU32(block, block.length - 4)) {
    throw corruptIndex(segmentId, key, '_source', 'stored block checksum mismatch');
  }
  const r = new ByteReader(block);
  const count = r.varint();
  const docs: StoredDoc[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const idLength = r.varint();
    const id = fromUtf8(block, r.pos, r.pos + idLength);
    r.pos += idLength;
    const routingLength = r.varint();
    let routing: string | undefined;
    if (routingLength > 0) {
      routing = fromUtf8(block, r.pos, r.pos + routingLength - 1);
      r.pos += routingLength - 1;
    }
    const sourceLength = r.varint();
    const source = block.subarray(r.pos, r.pos + sourceLength);
    r.pos += sourceLength;
    docs[i] = { id, routing, source };
  }
  if (r.pos + 4 !== block.length) throw corruptIndex(segmentId, key, '_source', 'stored block length mismatch');
  return docs;
}

/** Encodes the block index ('B'). */
export function encodeBlockIndex(blockDocCounts: readonly number[]): Buffer {
  const w = new ByteWriter(8 + blockDocCounts.length);
  w.varint(blockDocCounts.length);
  for (const count of blockDocCounts) w.varint(count);
  w.uint32(crc32c(w.buf, 0, w.pos));
  return Buffer.from(w.buf.buffer, w.buf.byteOffset, w.pos);
}

/** Verifies the block index and returns the first doc of every block plus a final maxDoc entry. */
export function decodeBlockIndex(value: Uint8Array, maxDoc: number, segmentId: number, key: string): Uint32Array {
  if (value.length < 5 || crc32c(value, 0, value.length - 4) !== readU32(value, value.length - 4)) {
    throw corruptIndex(segmentId, key, null, 'stored block index checksum mismatch');
  }
  const r = new ByteReader(value);
  const count = r.varint();
  const starts = new Uint32Array(count + 1);
  for (let b = 0; b < count; b++) starts[b + 1] = starts[b] + r.varint();
  if (starts[count] !== maxDoc || r.pos + 4 !== value.length) throw corruptIndex(segmentId, key, null, 'stored block index does not cover maxDoc');
  return starts;
}

/** The per-doc version columns. */
export interface VersionColumns {
  seqNo: Float64Array;
  version: Float64Array;
  primaryTerm: Float64Array;
}

/** Encodes the version columns ('S') of the first `maxDoc` docs. */
export function encodeVersionColumns(columns: VersionColumns, maxDoc: number): Buffer {
  const w = new ByteWriter(16 + maxDoc * 4);
  w.varint(maxDoc);
  let prev = 0;
  for (let d = 0; d < maxDoc; d++) {
    const delta = columns.seqNo[d] - prev;
    w.varint(delta >= 0 ? delta * 2 : -delta * 2 - 1);
    prev = columns.seqNo[d];
    w.varint(columns.version[d]);
    w.varint(columns.primaryTerm[d]);
  }
  w.uint32(crc32c(w.buf, 0, w.pos));
  return Buffer.from(w.buf.buffer, w.buf.byteOffset, w.pos);
}

/** Verifies and decodes the version columns. */
export function decodeVersionColumns(value: Uint8Array, maxDoc: number, segmentId: number, key: string): VersionColumns {
  if (value.length < 5 || crc32c(value, 0, value.length - 4) !== readU32(value, value.length - 4)) {
    throw corruptIndex(segmentId, key, '_seq_no', 'version columns checksum mismatch');
  }
  const r = new ByteReader(value);
  if (r.varint() !== maxDoc) throw corruptIndex(segmentId, key, '_seq_no', 'version columns do not cover maxDoc');
  const seqNo = new Float64Array(maxDoc);
  const version = new Float64Array(maxDoc);
  const primaryTerm = new Float64Array(maxDoc);
  let prev = 0;
  for (let d = 0; d < maxDoc; d++) {
    const z = r.varint();
    prev += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    seqNo[d] = prev;
    version[d] = r.varint();
    primaryTerm[d] = r.varint();
  }
  if (r.pos + 4 !== value.length) throw corruptIndex(segmentId, key, '_seq_no', 'version columns length mismatch');
  return { seqNo, version, primaryTerm };
}
