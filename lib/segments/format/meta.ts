/**
 * Segment format v1: the segment meta record, written LAST.
 *
 * Key `0x01 <segId> 'Z'` → value:
 *   msgpack map (SegmentMeta below, plain maps, no shared structures)
 *   u32 LE   CRC32C of the msgpack bytes
 *
 * Because it is the last key a writer puts, and LMDB applies writes in order, a segment without a
 * readable meta is one whose write never finished (a crash mid-refresh or mid-merge): readers treat it
 * as absent and garbage collection removes its keys.
 */
import { Packr } from 'msgpackr';
import { crc32c } from '../../common/crc32c.js';
import type { DocValuesType, IndexOptions, SegmentInfo } from '../types.js';
import { corruptIndex, FORMAT_VERSION, readU32 } from './keys.js';

/** Per inverted field: options and statistics. */
export interface FieldMeta {
  name: string;
  indexOptions: IndexOptions;
  norms: boolean;
  /** Docs with at least one term in the field (deleted included). */
  docCount: number;
  sumTotalTermFreq: number;
  sumDocFreq: number;
  /** Unique terms of the field. */
  termCount: number;
}

/** Per doc-values field. */
export interface DocValuesMeta {
  name: string;
  type: DocValuesType;
}

/** Everything the meta key records about a segment. */
export interface SegmentMeta {
  formatVersion: number;
  segmentId: number;
  maxDoc: number;
  minSeqNo: number;
  maxSeqNo: number;
  sizeBytes: number;
  createdAtMs: number;
  source: 'refresh' | 'merge';
  fields: FieldMeta[];
  docValues: DocValuesMeta[];
  storedBlocks: number;
}

const packr = new Packr({ useRecords: false, moreTypes: false });

/** Encodes the meta value. */
export function encodeMeta(meta: SegmentMeta): Buffer {
  const body = packr.pack(meta);
  const out = Buffer.allocUnsafe(body.length + 4);
  out.set(body, 0);
  out.writeUInt32LE(crc32c(body), body.length);
  return out;
}

/** Verifies and decodes the meta value. */
export function decodeMeta(value: Uint8Array, segmentId: number): SegmentMeta {
  const key = 'Z';
  if (value.length < 5 || crc32c(value, 0, value.length - 4) !== readU32(value, value.length - 4)) {
    throw corruptIndex(segmentId, key, null, 'segment meta checksum mismatch');
  }
  let meta: SegmentMeta;
  try {
    meta = packr.unpack(value.subarray(0, value.length - 4)) as SegmentMeta;
  } catch (err) {
    throw corruptIndex(segmentId, key, null, `segment meta does not parse: ${(err as Error).message}`);
  }
  if (meta === null || typeof meta !== 'object' || meta.segmentId !== segmentId || !Array.isArray(meta.fields)) {
    throw corruptIndex(segmentId, key, null, 'segment meta does not describe this segment');
  }
  if (meta.formatVersion !== FORMAT_VERSION) {
    throw corruptIndex(segmentId, key, null, `unsupported segment format version ${meta.formatVersion} (this build reads ${FORMAT_VERSION})`);
  }
  return meta;
}

/** The SegmentInfo (commit-point view) of a meta record. */
export function metaToInfo(meta: SegmentMeta): SegmentInfo {
  return {
    id: meta.segmentId,
    maxDoc: meta.maxDoc,
    sizeBytes: meta.sizeBytes,
    formatVersion: meta.formatVersion,
    minSeqNo: meta.minSeqNo,
    maxSeqNo: meta.maxSeqNo,
    createdAtMs: meta.createdAtMs,
    source: meta.source,
  };
}
