/**
 * The translog's on-disk format, version 1: generation file header, record framing, op bodies and the
 * two-slot checkpoint. Layouts are documented field by field here and in docs/translog.md; every
 * integer is little-endian.
 *
 * Generation file `translog-<gen>.tlog` = header, then records.
 *   header (GENERATION_HEADER_BYTES = 85):
 *     0  u32  magic 'QTLG'
 *     4  u32  format version (1)
 *     8  i64  generation
 *     16 u8   uuid length (<= TRANSLOG_UUID_MAX_BYTES)
 *     17 64B  uuid (UTF-8, zero padded)
 *     81 u32  CRC32C of bytes [0, 81)
 *   record:
 *     u32  body length L (1 <= L <= RECORD_BODY_MAX_BYTES)
 *     L B  body: a msgpack array (self-describing, see `encodeOpBody`)
 *     u32  CRC32C of the length and the body
 *
 * Checkpoint file `translog.ckp` = two slots at offsets 0 and CHECKPOINT_SLOT_STRIDE_BYTES, each:
 *     0   u32 magic 'QCKP'          4   u32 format version (1)
 *     8   i64 slot sequence         16  i64 generation
 *     24  i64 offset (bytes of the current generation covered, header included)
 *     32  i64 numOps (ops of the current generation covered)
 *     40  i64 minSeqNo              48  i64 maxSeqNo   (of the current generation; -1 if none)
 *     56  i64 globalCheckpoint      64  i64 minTranslogGeneration
 *     72  u8  uuid length           73  64B uuid
 *     137 u32 CRC32C of bytes [0, 137)
 */
import { Packr, Unpackr } from 'msgpackr';
import { assert } from '../common/assert.js';
import { crc32c } from '../common/crc32c.js';
import { HTTP_MAX_CONTENT_LENGTH_BYTES } from '../common/limits.js';
import type { TranslogOp } from './types.js';

/** The format version written into every header and checkpoint slot; readers reject other versions. */
export const TRANSLOG_FORMAT_VERSION = 1;
/** 'QTLG' read as a little-endian u32. */
export const GENERATION_MAGIC = 0x474c5451;
/** 'QCKP' read as a little-endian u32. */
export const CHECKPOINT_MAGIC = 0x504b4351;
/** A translog uuid is stored in a fixed field; 64 bytes fit a UUID string and Elasticsearch's base64 ids. */
export const TRANSLOG_UUID_MAX_BYTES = 64;
/** Size of a generation file's header. */
export const GENERATION_HEADER_BYTES = 85;
/** Length prefix plus trailing CRC of every record. */
export const RECORD_OVERHEAD_BYTES = 8;
/**
 * Largest record body: a whole request body (one document can be that big) plus room for the id,
 * routing and numbers. A length field above it is corruption, not a reason to allocate 4 GB.
 */
export const RECORD_BODY_MAX_BYTES = HTTP_MAX_CONTENT_LENGTH_BYTES + 64 * 1024;
/** Bytes of one checkpoint slot's record. */
export const CHECKPOINT_SLOT_BYTES = 141;
/**
 * Distance between the two slots. Each slot sits in its own 4 KB page, so a torn page write (the unit
 * most storage tears at) can damage only the slot being written.
 */
export const CHECKPOINT_SLOT_STRIDE_BYTES = 4096;
/** Size of the checkpoint file. */
export const CHECKPOINT_FILE_BYTES = 2 * CHECKPOINT_SLOT_STRIDE_BYTES;

assert(CHECKPOINT_SLOT_BYTES <= CHECKPOINT_SLOT_STRIDE_BYTES, 'a checkpoint slot fits its page');
assert(RECORD_BODY_MAX_BYTES < 2 ** 32, 'record length fits a u32');

/** Body type codes (element 0 of the body array). Never reuse a code: old files must stay readable. */
export const BODY_TYPE = { index: 0, delete: 1, noop: 2, seal: 100 } as const;
const OP_TYPES: readonly TranslogOp['type'][] = ['index', 'delete', 'noop'];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function writeInt64(view: DataView, pos: number, value: number): void {
  assert(Number.isSafeInteger(value), `int64 field is not a safe integer: ${value}`);
  view.setBigInt64(pos, BigInt(value), true);
}

function readInt64(view: DataView, pos: number): number {
  const value = view.getBigInt64(pos, true);
  // A value outside the safe range cannot have been written by us; the CRC matched, so it is a bug.
  return Number(value);
}

function writeUuid(bytes: Uint8Array, pos: number, uuid: string): void {
  const encoded = encoder.encode(uuid);
  assert(encoded.length <= TRANSLOG_UUID_MAX_BYTES, 'translog uuid too long');
  bytes[pos] = encoded.length;
  bytes.fill(0, pos + 1, pos + 1 + TRANSLOG_UUID_MAX_BYTES);
  bytes.set(encoded, pos + 1);
}

function readUuid(bytes: Uint8Array, pos: number): string | null {
  const length = bytes[pos];
  if (length > TRANSLOG_UUID_MAX_BYTES) return null;
  try {
    return decoder.decode(bytes.subarray(pos + 1, pos + 1 + length));
  } catch {
    return null;
  }
}

/** True when `uuid` fits the fixed uuid field. */
export function isValidTranslogUuid(uuid: string): boolean {
  return uuid.length > 0 && encoder.encode(uuid).length <= TRANSLOG_UUID_MAX_BYTES;
}

/** The identity written at the start of each generation file. */
export interface GenerationHeader {
  generation: number;
  uuid: string;
}

/** Encodes a generation file header. */
export function encodeGenerationHeader(header: GenerationHeader): Uint8Array {
  const bytes = new Uint8Array(GENERATION_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, GENERATION_MAGIC, true);
  view.setUint32(4, TRANSLOG_FORMAT_VERSION, true);
  writeInt64(view, 8, header.generation);
  writeUuid(bytes, 16, header.uuid);
  view.setUint32(81, crc32c(bytes, 0, 81), true);
  return bytes;
}

/** Decodes a header; returns a reason string when it is not a valid version-1 header. */
export function decodeGenerationHeader(bytes: Uint8Array): GenerationHeader | string {
  if (bytes.length < GENERATION_HEADER_BYTES) return 'file shorter than its header';
  const view = new DataView(bytes.buffer, bytes.byteOffset, GENERATION_HEADER_BYTES);
  if (view.getUint32(0, true) !== GENERATION_MAGIC) return 'bad magic (not a translog generation file)';
  if (view.getUint32(81, true) !== crc32c(bytes, 0, 81)) return 'header checksum mismatch';
  const version = view.getUint32(4, true);
  if (version !== TRANSLOG_FORMAT_VERSION) return `unsupported format version ${version}`;
  const uuid = readUuid(bytes, 16);
  if (uuid === null) return 'bad uuid field';
  return { generation: readInt64(view, 8), uuid };
}

/** The durable state of the translog, as recorded in one checkpoint slot. */
export interface CheckpointState {
  /** Slot write counter: the valid slot with the highest sequence is the current checkpoint. */
  sequence: number;
  generation: number;
  offset: number;
  numOps: number;
  minSeqNo: number;
  maxSeqNo: number;
  globalCheckpoint: number;
  minTranslogGeneration: number;
  uuid: string;
}

/** Encodes a checkpoint slot into `target` (at least CHECKPOINT_SLOT_BYTES long). */
export function encodeCheckpoint(state: CheckpointState, target: Uint8Array): void {
  assert(target.length >= CHECKPOINT_SLOT_BYTES, 'checkpoint target too small');
  const view = new DataView(target.buffer, target.byteOffset, CHECKPOINT_SLOT_BYTES);
  view.setUint32(0, CHECKPOINT_MAGIC, true);
  view.setUint32(4, TRANSLOG_FORMAT_VERSION, true);
  writeInt64(view, 8, state.sequence);
  writeInt64(view, 16, state.generation);
  writeInt64(view, 24, state.offset);
  writeInt64(view, 32, state.numOps);
  writeInt64(view, 40, state.minSeqNo);
  writeInt64(view, 48, state.maxSeqNo);
  writeInt64(view, 56, state.globalCheckpoint);
  writeInt64(view, 64, state.minTranslogGeneration);
  writeUuid(target, 72, state.uuid);
  view.setUint32(137, crc32c(target, 0, 137), true);
}

/** Decodes one checkpoint slot; null when the slot is torn, blank or of another version. */
export function decodeCheckpoint(bytes: Uint8Array): CheckpointState | null {
  if (bytes.length < CHECKPOINT_SLOT_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, CHECKPOINT_SLOT_BYTES);
  if (view.getUint32(0, true) !== CHECKPOINT_MAGIC) return null;
  if (view.getUint32(137, true) !== crc32c(bytes, 0, 137)) return null;
  if (view.getUint32(4, true) !== TRANSLOG_FORMAT_VERSION) return null;
  const uuid = readUuid(bytes, 72);
  if (uuid === null) return null;
  return {
    sequence: readInt64(view, 8),
    generation: readInt64(view, 16),
    offset: readInt64(view, 24),
    numOps: readInt64(view, 32),
    minSeqNo: readInt64(view, 40),
    maxSeqNo: readInt64(view, 48),
    globalCheckpoint: readInt64(view, 56),
    minTranslogGeneration: readInt64(view, 64),
    uuid,
  };
}

// Records are plain msgpack arrays (no msgpackr records/structures): any msgpack reader can decode an
// old file without state from the writer. `source` is a Uint8Array, which msgpack stores as `bin`.
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

// Reused to avoid an array allocation per add (packing is synchronous).
const opScratch: unknown[] = [0, '', 0, 0, 0, null, null, null];

/**
 * Encodes an op body: `[typeCode, id, seqNo, primaryTerm, version, source|null, routing|null, reason|null]`.
 * The returned bytes are only valid until the next call (they live in the packer's buffer).
 */
export function encodeOpBody(op: TranslogOp): Uint8Array {
  opScratch[0] = BODY_TYPE[op.type];
  opScratch[1] = op.id;
  opScratch[2] = op.seqNo;
  opScratch[3] = op.primaryTerm;
  opScratch[4] = op.version;
  opScratch[5] = op.source ?? null;
  opScratch[6] = op.routing ?? null;
  opScratch[7] = op.reason ?? null;
  return packr.pack(opScratch);
}

/** Encodes the seal record that closes a generation at a roll: `[seal, generation, numOps]`. */
export function encodeSealBody(generation: number, numOps: number): Uint8Array {
  return packr.pack([BODY_TYPE.seal, generation, numOps]);
}

/** A decoded record body: an op, or the seal that ends a rolled generation. */
export type DecodedBody = { kind: 'op'; op: TranslogOp } | { kind: 'seal'; generation: number; numOps: number };

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/**
 * Decodes a record body whose CRC matched. Returns a reason string when it is not a well-formed body
 * (a CRC-valid but malformed body is corruption or a bug, never something to skip). Binary values are
 * views into `body`'s memory, not copies.
 */
export function decodeBody(body: Uint8Array): DecodedBody | string {
  let value: unknown;
  try {
    value = unpackr.unpack(body);
  } catch (err) {
    return `undecodable body (${(err as Error).message})`;
  }
  if (!Array.isArray(value) || value.length < 1) return 'body is not an array';
  const code = value[0];
  if (code === BODY_TYPE.seal) {
    if (value.length < 3 || !isInt(value[1]) || !isInt(value[2])) return 'malformed seal record';
    return { kind: 'seal', generation: value[1], numOps: value[2] };
  }
  if (!isInt(code) || code < 0 || code >= OP_TYPES.length) return `unknown record type ${String(code)}`;
  if (value.length < 5) return 'op record too short';
  const [, id, seqNo, primaryTerm, version, source, routing, reason] = value;
  if (typeof id !== 'string' || !isInt(seqNo) || !isInt(primaryTerm) || !isInt(version)) return 'malformed op record';
  const op: TranslogOp = { type: OP_TYPES[code], id, seqNo, primaryTerm, version };
  if (source instanceof Uint8Array) op.source = source;
  else if (source != null) return 'malformed op source';
  if (typeof routing === 'string') op.routing = routing;
  else if (routing != null) return 'malformed op routing';
  if (typeof reason === 'string') op.reason = reason;
  else if (reason != null) return 'malformed op reason';
  return { kind: 'op', op };
}

/**
 * Frames `body` as a record into `target` at `pos` (length, body, CRC); returns the record size.
 * `target` must have RECORD_OVERHEAD_BYTES + body.length bytes free at `pos`.
 */
export function writeRecord(target: Uint8Array, pos: number, body: Uint8Array): number {
  const length = body.length;
  target[pos] = length & 0xff;
  target[pos + 1] = (length >>> 8) & 0xff;
  target[pos + 2] = (length >>> 16) & 0xff;
  target[pos + 3] = (length >>> 24) & 0xff;
  target.set(body, pos + 4);
  const end = pos + 4 + length;
  const crc = crc32c(target, pos, end);
  target[end] = crc & 0xff;
  target[end + 1] = (crc >>> 8) & 0xff;
  target[end + 2] = (crc >>> 16) & 0xff;
  target[end + 3] = (crc >>> 24) & 0xff;
  return length + RECORD_OVERHEAD_BYTES;
}

function readU32(bytes: Uint8Array, pos: number): number {
  return (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24)) >>> 0;
}

/** Result of `checkRecordAt`: a complete valid record, or why there is none. */
export const FRAME = { ok: 0, needMore: 1, badLength: 2, checksum: 3 } as const;

/**
 * Checks the record starting at `bytes[pos]` with `available` bytes buffered from there. Returns
 * FRAME.ok (the record's body length is then in `frameBodyLength.value`), FRAME.needMore when the record
 * is not wholly buffered, or a FRAME code for a bad length or a checksum mismatch.
 */
export function checkRecordAt(bytes: Uint8Array, pos: number, available: number, frameBodyLength: { value: number }): number {
  if (available < 4) return FRAME.needMore;
  const length = readU32(bytes, pos);
  if (length < 1 || length > RECORD_BODY_MAX_BYTES) return FRAME.badLength;
  frameBodyLength.value = length;
  if (available < length + RECORD_OVERHEAD_BYTES) return FRAME.needMore;
  const end = pos + 4 + length;
  if (readU32(bytes, end) !== crc32c(bytes, pos, end)) return FRAME.checksum;
  return FRAME.ok;
}
