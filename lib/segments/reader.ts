/**
 * Read access to segments: written ones in LMDB (`openSegmentReader`) and the live buffer
 * (`BufferSegmentReader`, made by `SegmentBuilder.asReader()`), plus the storage-level helpers the
 * manager needs (reading a segment's info back, listing and deleting stored segments).
 *
 * Readers are immutable and shared by every snapshot that lists the segment. They cache small
 * decoded things lazily (norms, doc-values columns, version columns, the stored-block index);
 * postings are decoded on demand from a private copy of one LMDB value per cursor.
 */
import { QuarryError } from '../common/errors.js';
import type { SegmentBuilder } from './builder.js';
import type { ShardStorage } from './env.js';
import { KEY_SPACE } from './env.js';
import {
  compareUtf8,
  corruptIndex,
  describeKey,
  FORMAT_VERSION,
  fieldKey,
  fromUtf8,
  ID_FIELD,
  segmentPrefix,
  storedBlockKey,
  TAG,
  tagKey,
  termKey,
  termKeyOf,
  termOffsetInKey,
  utf8,
} from './format/keys.js';
import { decodeKeywordColumn, decodeNumericColumn } from './format/docvalues.js';
import { decodeMeta, metaToInfo, type FieldMeta, type SegmentMeta } from './format/meta.js';
import { decodeNorms } from './format/norms.js';
import {
  BlockPostingsCursor,
  encodeTermPositions,
  encodeTermPostings,
  readLastDoc,
  readTermInfo,
} from './format/postings.js';
import { decodeBlockIndex, decodeStoredBlock, decodeVersionColumns, type StoredDoc, type VersionColumns } from './format/stored.js';
import type {
  FieldStats,
  KeywordColumn,
  NumericColumn,
  PostingsCursor,
  SegmentInfo,
  SegmentReader,
  StoredDocMeta,
  TermInfo,
} from './types.js';

interface OpenField extends FieldMeta {
  nameUtf8: Uint8Array;
  hasFreqs: boolean;
  hasPositions: boolean;
}

/** Reads a written segment from LMDB (see format/*.ts for the bytes). */
class StoredSegmentReader implements SegmentReader {
  readonly maxDoc: number;
  private readonly fieldsByName = new Map<string, OpenField>();
  private readonly docValuesTypes = new Map<string, 'numeric' | 'keyword'>();
  private readonly normsCache = new Map<string, Uint8Array>();
  private readonly numericCache = new Map<string, NumericColumn>();
  private readonly keywordCache = new Map<string, KeywordColumn>();
  private versions: VersionColumns | null = null;
  private blockStarts: Uint32Array | null = null;
  // One decoded stored block (fetching a page of hits often hits neighbours in one block).
  private lastBlock = -1;
  private lastBlockDocs: StoredDoc[] = [];

  constructor(
    private readonly storage: ShardStorage,
    readonly info: SegmentInfo,
    readonly segmentMeta: SegmentMeta,
  ) {
    this.maxDoc = segmentMeta.maxDoc;
    for (const f of segmentMeta.fields) {
      this.fieldsByName.set(f.name, {
        ...f,
        nameUtf8: utf8(f.name),
        hasFreqs: f.indexOptions !== 'docs',
        hasPositions: f.indexOptions === 'positions',
      });
    }
    for (const dv of segmentMeta.docValues) this.docValuesTypes.set(dv.name, dv.type);
  }

  /** @internal Options and stats of an inverted field. */
  fieldMeta(field: string): FieldMeta | undefined {
    return this.fieldsByName.get(field);
  }

  termInfo(field: string, term: string): TermInfo | null {
    const f = this.fieldsByName.get(field);
    if (f === undefined) return null;
    const value = this.storage.data.getBinaryFast(termKeyOf(this.info.id, TAG.terms, f.nameUtf8, term));
    if (value === undefined) return null;
    return readTermInfo(value, { segmentId: this.info.id, field, term });
  }

  postings(field: string, term: string): PostingsCursor | null {
    const f = this.fieldsByName.get(field);
    if (f === undefined) return null;
    const termUtf8 = utf8(term);
    // getBinary copies: the cursor keeps the value while other gets reuse lmdb's shared buffer.
    const value = this.storage.data.getBinary(termKey(this.info.id, TAG.terms, f.nameUtf8, termUtf8));
    if (value === undefined) return null;
    const data = this.storage.data;
    const id = this.info.id;
    const loadPositions = f.hasPositions ? () => data.getBinary(termKey(id, TAG.positions, f.nameUtf8, termUtf8)) ?? null : null;
    return new BlockPostingsCursor(value, f.hasFreqs, loadPositions, { segmentId: id, field, term });
  }

  *terms(field: string, fromTerm = ''): Iterable<[term: string, info: TermInfo]> {
    const f = this.fieldsByName.get(field);
    if (f === undefined) return;
    const start = termKey(this.info.id, TAG.terms, f.nameUtf8, utf8(fromTerm));
    const end = Buffer.from(start.subarray(0, termOffsetInKey(f.nameUtf8)));
    end[end.length - 1] = 1; // 'T' field 0x01: just past the field's last term
    const offset = termOffsetInKey(f.nameUtf8);
    for (const { key, value } of this.storage.data.getRange({ start, end })) {
      const term = fromUtf8(key, offset);
      yield [term, readTermInfo(value, { segmentId: this.info.id, field, term })];
    }
  }

  fieldStats(field: string): FieldStats | null {
    const f = this.fieldsByName.get(field);
    if (f === undefined || f.docCount === 0) return null;
    return { docCount: f.docCount, sumTotalTermFreq: f.sumTotalTermFreq, sumDocFreq: f.sumDocFreq };
  }

  fields(): string[] {
    return [...this.fieldsByName.keys()];
  }

  norms(field: string): Uint8Array | null {
    const cached = this.normsCache.get(field);
    if (cached !== undefined) return cached;
    const f = this.fieldsByName.get(field);
    if (f === undefined || !f.norms) return null;
    const key = fieldKey(this.info.id, TAG.norms, f.nameUtf8);
    const value = this.storage.data.getBinaryFast(key);
    if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), field, 'norms missing');
    const norms = decodeNorms(value, this.maxDoc, this.info.id, describeKey(key), field);
    this.normsCache.set(field, norms);
    return norms;
  }

  numericColumn(field: string): NumericColumn | null {
    const cached = this.numericCache.get(field);
    if (cached !== undefined) return cached;
    if (this.docValuesTypes.get(field) !== 'numeric') return null;
    const key = fieldKey(this.info.id, TAG.numeric, utf8(field));
    const value = this.storage.data.getBinaryFast(key);
    if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), field, 'doc values missing');
    const column = decodeNumericColumn(value, this.maxDoc, this.info.id, describeKey(key), field);
    this.numericCache.set(field, column);
    return column;
  }

  keywordColumn(field: string): KeywordColumn | null {
    const cached = this.keywordCache.get(field);
    if (cached !== undefined) return cached;
    if (this.docValuesTypes.get(field) !== 'keyword') return null;
    const key = fieldKey(this.info.id, TAG.keyword, utf8(field));
    const value = this.storage.data.getBinaryFast(key);
    if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), field, 'doc values missing');
    const column = decodeKeywordColumn(value, this.maxDoc, this.info.id, describeKey(key), field);
    this.keywordCache.set(field, column);
    return column;
  }

  numericValues(field: string, doc: number): number[] {
    return numericValuesOf(this.numericColumn(field), doc);
  }

  keywordValues(field: string, doc: number): string[] {
    return keywordValuesOf(this.keywordColumn(field), doc);
  }

  source(doc: number): Uint8Array {
    return this.storedDoc(doc).source;
  }

  meta(doc: number): StoredDocMeta {
    const stored = this.storedDoc(doc);
    const meta: StoredDocMeta = { id: stored.id, seqNo: this.seqNo(doc), version: this.version(doc), primaryTerm: this.primaryTerm(doc) };
    if (stored.routing !== undefined) meta.routing = stored.routing;
    return meta;
  }

  seqNo(doc: number): number {
    return this.versionColumns().seqNo[this.checkDoc(doc)];
  }

  version(doc: number): number {
    return this.versionColumns().version[this.checkDoc(doc)];
  }

  primaryTerm(doc: number): number {
    return this.versionColumns().primaryTerm[this.checkDoc(doc)];
  }

  lookupId(id: string): number {
    const f = this.fieldsByName.get(ID_FIELD);
    if (f === undefined) return -1;
    const value = this.storage.data.getBinaryFast(termKeyOf(this.info.id, TAG.terms, f.nameUtf8, id));
    if (value === undefined) return -1;
    return readLastDoc(value, { segmentId: this.info.id, field: ID_FIELD, term: id });
  }

  private checkDoc(doc: number): number {
    if (!(doc >= 0 && doc < this.maxDoc)) {
      throw new QuarryError('illegal_argument_exception', `doc ${doc} out of range [0, ${this.maxDoc}) of segment [${this.info.id}]`);
    }
    return doc;
  }

  private versionColumns(): VersionColumns {
    if (this.versions === null) {
      const key = tagKey(this.info.id, TAG.seqNos);
      const value = this.storage.data.getBinaryFast(key);
      if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), '_seq_no', 'version columns missing');
      this.versions = decodeVersionColumns(value, this.maxDoc, this.info.id, describeKey(key));
    }
    return this.versions;
  }

  private storedDoc(doc: number): StoredDoc {
    this.checkDoc(doc);
    if (this.blockStarts === null) {
      const key = tagKey(this.info.id, TAG.storedIndex);
      const value = this.storage.data.getBinaryFast(key);
      if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), null, 'stored block index missing');
      this.blockStarts = decodeBlockIndex(value, this.maxDoc, this.info.id, describeKey(key));
    }
    const starts = this.blockStarts;
    // Binary search for the last block starting at or before doc.
    let lo = 0;
    let hi = starts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= doc) lo = mid;
      else hi = mid - 1;
    }
    if (lo !== this.lastBlock) {
      const key = storedBlockKey(this.info.id, lo);
      const keyName = `sources:${lo}`;
      const block = this.storage.sources.getBinary(key);
      if (block === undefined) throw corruptIndex(this.info.id, keyName, '_source', 'stored block missing');
      const docs = decodeStoredBlock(block, this.info.id, keyName);
      if (docs.length !== starts[lo + 1] - starts[lo]) throw corruptIndex(this.info.id, keyName, '_source', 'stored block has the wrong doc count');
      this.lastBlockDocs = docs;
      this.lastBlock = lo;
    }
    return this.lastBlockDocs[doc - starts[lo]];
  }
}

function numericValuesOf(column: NumericColumn | null, doc: number): number[] {
  if (column === null) return [];
  if (column.offsets === null) return doc < column.values.length ? [column.values[doc]] : [];
  const out: number[] = [];
  for (let k = column.offsets[doc]; k < column.offsets[doc + 1]; k++) out.push(column.values[k]);
  return out;
}

function keywordValuesOf(column: KeywordColumn | null, doc: number): string[] {
  if (column === null) return [];
  const out: string[] = [];
  for (let k = column.offsets[doc]; k < column.offsets[doc + 1]; k++) out.push(column.terms[column.ords[k]]);
  return out;
}

/** Opens read access to a written segment (verifies its metadata checksum). */
export function openSegmentReader(storage: ShardStorage, info: SegmentInfo): SegmentReader {
  const value = storage.data.getBinary(tagKey(info.id, TAG.meta));
  if (value === undefined) throw corruptIndex(info.id, 'Z', null, 'segment meta missing (the segment was never completely written, or was deleted)');
  const meta = decodeMeta(value, info.id);
  if (meta.maxDoc !== info.maxDoc) throw corruptIndex(info.id, 'Z', null, `meta says maxDoc ${meta.maxDoc}, commit point ${info.maxDoc}`);
  return new StoredSegmentReader(storage, info, meta);
}

/** Reads a segment's SegmentInfo back from storage (null if absent/incomplete — e.g. a crash mid-write). */
export function readSegmentInfo(storage: ShardStorage, segmentId: number): SegmentInfo | null {
  const value = storage.data.getBinary(tagKey(segmentId, TAG.meta));
  if (value === undefined) return null;
  return metaToInfo(decodeMeta(value, segmentId));
}

/** @internal The full meta record of a written segment (the merger needs field options). */
export function readSegmentMeta(storage: ShardStorage, segmentId: number): SegmentMeta {
  const value = storage.data.getBinary(tagKey(segmentId, TAG.meta));
  if (value === undefined) throw corruptIndex(segmentId, 'Z', null, 'segment meta missing');
  return decodeMeta(value, segmentId);
}

function segmentRange(segmentId: number): { start: Buffer; end: Buffer } {
  const start = segmentPrefix(segmentId);
  const end = segmentId >= 0xffffffff ? Buffer.from([KEY_SPACE.segment + 1]) : segmentPrefix(segmentId + 1);
  return { start, end };
}

/** Ids of every segment with any key in storage (for garbage collection of unreferenced ones). */
export function listStoredSegmentIds(storage: ShardStorage): number[] {
  const ids = new Set<number>();
  for (const db of [storage.data, storage.sources]) {
    let next = 0;
    // Skip-scan: one seek per segment rather than a walk over every key.
    while (next <= 0xffffffff) {
      const { start } = segmentRange(next);
      let found = -1;
      for (const key of db.getKeys({ start, end: Buffer.from([KEY_SPACE.segment + 1]), limit: 1 })) {
        found = (key as Buffer).readUInt32BE(1);
      }
      if (found < 0) break;
      ids.add(found);
      next = found + 1;
    }
  }
  return [...ids].sort((a, b) => a - b);
}

/** Keys removed per round by deleteSegmentData (bounds memory and the time of one step). */
const DELETE_BATCH_KEYS = 4096;

/** Removes every key of a segment (data and sources); the meta key first, so a half-deleted segment reads as incomplete. */
export async function deleteSegmentData(storage: ShardStorage, segmentId: number): Promise<void> {
  await storage.data.remove(tagKey(segmentId, TAG.meta));
  const range = segmentRange(segmentId);
  for (const db of [storage.data, storage.sources]) {
    for (;;) {
      let last: Promise<boolean> | null = null;
      let count = 0;
      for (const key of db.getKeys({ ...range, limit: DELETE_BATCH_KEYS })) {
        last = db.remove(key as Buffer);
        count++;
      }
      if (last === null) break;
      await last;
      if (count < DELETE_BATCH_KEYS) break;
    }
  }
}

/**
 * A SegmentReader over the live buffer, for real-time search. Postings are encoded on demand into
 * the same bytes a written segment holds and read by the same cursor, so buffer and segment search
 * behave identically. Valid until the builder changes (`generation`).
 */
export class BufferSegmentReader implements SegmentReader {
  readonly info: SegmentInfo;
  readonly maxDoc: number;
  /** Per field: its terms sorted by UTF-8 bytes, with their term ids. */
  private sortedTerms = new Map<string, Array<[term: string, termId: number]>>();
  private normsCache = new Map<string, Uint8Array | null>();
  private numericCache = new Map<string, NumericColumn | null>();
  private keywordCache = new Map<string, KeywordColumn | null>();

  constructor(
    private readonly builder: SegmentBuilder,
    readonly generation: number,
  ) {
    this.maxDoc = builder.maxDoc;
    const { seqNo } = builder.versionColumns();
    let minSeqNo = -1;
    let maxSeqNo = -1;
    for (let d = 0; d < this.maxDoc; d++) {
      if (minSeqNo < 0 || seqNo[d] < minSeqNo) minSeqNo = seqNo[d];
      if (seqNo[d] > maxSeqNo) maxSeqNo = seqNo[d];
    }
    this.info = {
      id: -1,
      maxDoc: this.maxDoc,
      sizeBytes: builder.ramBytesUsed,
      formatVersion: FORMAT_VERSION,
      minSeqNo,
      maxSeqNo,
      createdAtMs: Date.now(),
      source: 'refresh',
    };
  }

  private check(): void {
    // Deletes do not change what this view returns (live docs are separate); added docs do.
    if (this.builder.maxDoc !== this.maxDoc) {
      throw new QuarryError('illegal_state_exception', 'buffer reader used after the buffer changed; take a new one with asReader()');
    }
  }

  termInfo(field: string, term: string): TermInfo | null {
    this.check();
    const f = this.builder.invertedField(field);
    const id = f === undefined ? -1 : f.termId(term);
    if (f === undefined || id < 0) return null;
    return this.builder.termInfoOf(f, id);
  }

  postings(field: string, term: string): PostingsCursor | null {
    this.check();
    const f = this.builder.invertedField(field);
    const id = f === undefined ? -1 : f.termId(term);
    if (f === undefined || id < 0) return null;
    const input = this.builder.readPostings(f, id);
    const norms = this.builder.fieldNorms(f);
    const termValue = encodeTermPostings({ ...input, norms });
    const positionsValue = f.hasPositions ? encodeTermPositions({ ...input, norms }) : null;
    return new BlockPostingsCursor(termValue, f.hasFreqs, positionsValue === null ? null : () => positionsValue, {
      segmentId: -1,
      field,
      term,
    });
  }

  *terms(field: string, fromTerm = ''): Iterable<[term: string, info: TermInfo]> {
    this.check();
    const f = this.builder.invertedField(field);
    if (f === undefined) return;
    let sorted = this.sortedTerms.get(field);
    if (sorted === undefined) {
      sorted = [...f.terms()].sort((a, b) => compareUtf8(a[0], b[0]));
      this.sortedTerms.set(field, sorted);
    }
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUtf8(sorted[mid][0], fromTerm) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length; i++) yield [sorted[i][0], this.builder.termInfoOf(f, sorted[i][1])];
  }

  fieldStats(field: string): FieldStats | null {
    const f = this.builder.invertedField(field);
    if (f === undefined || f.docCount === 0) return null;
    return { docCount: f.docCount, sumTotalTermFreq: f.sumTotalTermFreq, sumDocFreq: f.sumDocFreq };
  }

  fields(): string[] {
    return this.builder
      .invertedFields()
      .filter((f) => f.termCount > 0)
      .map((f) => f.name);
  }

  norms(field: string): Uint8Array | null {
    if (!this.normsCache.has(field)) {
      const f = this.builder.invertedField(field);
      const norms = f === undefined || f.termCount === 0 ? null : this.builder.fieldNorms(f);
      this.normsCache.set(field, norms === null ? null : norms.slice());
    }
    return this.normsCache.get(field)!;
  }

  numericColumn(field: string): NumericColumn | null {
    if (!this.numericCache.has(field)) this.numericCache.set(field, this.builder.numericColumn(field));
    return this.numericCache.get(field)!;
  }

  keywordColumn(field: string): KeywordColumn | null {
    if (!this.keywordCache.has(field)) this.keywordCache.set(field, this.builder.keywordColumn(field));
    return this.keywordCache.get(field)!;
  }

  numericValues(field: string, doc: number): number[] {
    return numericValuesOf(this.numericColumn(field), doc);
  }

  keywordValues(field: string, doc: number): string[] {
    return keywordValuesOf(this.keywordColumn(field), doc);
  }

  source(doc: number): Uint8Array {
    return this.builder.source(doc);
  }

  meta(doc: number): StoredDocMeta {
    return this.builder.meta(doc);
  }

  seqNo(doc: number): number {
    return this.builder.versionColumns().seqNo[doc];
  }

  version(doc: number): number {
    return this.builder.versionColumns().version[doc];
  }

  primaryTerm(doc: number): number {
    return this.builder.versionColumns().primaryTerm[doc];
  }

  lookupId(id: string): number {
    this.check();
    return this.builder.lookupId(id);
  }
}
