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
  fieldOrdinalKey,
  fieldOrdinalRange,
  fromUtf8,
  ID_FIELD,
  segmentPrefix,
  SEGMENT_TERM_MAX_BYTES,
  storedBlockKey,
  TAG,
  tagKey,
  utf8,
} from './format/keys.js';
import { BloomFilter } from './format/bloom.js';
import { TermBlockReader, TermsIndex } from './format/terms.js';
import { decodeKeywordColumn, decodeNumericColumn } from './format/docvalues.js';
import { decodeMeta, metaToInfo, type FieldMeta, type SegmentMeta } from './format/meta.js';
import { decodeNorms } from './format/norms.js';
import { BlockPostingsCursor, encodeTermPositions, encodeTermPostings, readLastDoc } from './format/postings.js';
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
  /** The terms index, loaded on the field's first term lookup. */
  termsIndex: TermsIndex | null;
  /**
   * 1 for each term block whose CRC this reader has verified: a block is checksummed the first time
   * it is read (like norms and doc-values columns, which are verified once and cached), so repeated
   * lookups in it (version lookups of updates) do not re-hash ~4 KB each time.
   */
  verifiedBlocks: Uint8Array | null;
}

/** Scratch for a looked-up term's UTF-8 bytes (a UTF-16 code unit is at most 3 UTF-8 bytes). */
const lookupScratch = Buffer.allocUnsafe(SEGMENT_TERM_MAX_BYTES * 3 + 16);
/** Shared decoder for lookups (single-threaded; every lookup finishes before the next starts). */
const lookupBlock = new TermBlockReader();

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
  // The `_id` bloom filter: undefined until first needed, null when the segment has no `_id` terms.
  private idFilter: BloomFilter | null | undefined = undefined;
  // One verified term block (a copy): termInfo followed by postings of the same term reads it once.
  private cachedField: OpenField | null = null;
  private cachedBlockNo = -1;
  private cachedBlock: Uint8Array | null = null;

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
        termsIndex: null,
        verifiedBlocks: null,
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
    if (!this.seekExact(f, term, true)) return null;
    return { docFreq: lookupBlock.docFreq, totalTermFreq: lookupBlock.totalTermFreq };
  }

  postings(field: string, term: string): PostingsCursor | null {
    const f = this.fieldsByName.get(field);
    if (f === undefined) return null;
    if (!this.seekExact(f, term, true)) return null;
    return this.cursorAt(f, lookupBlock, term);
  }

  /** A cursor over the postings of the term `block` is on (inline views share the cached block copy). */
  private cursorAt(f: OpenField, block: TermBlockReader, term: string): PostingsCursor {
    const id = this.info.id;
    const origin = { segmentId: id, field: f.name, term };
    if (block.externalOrd < 0) {
      const positions = f.hasPositions ? block.positionsView() : null;
      return new BlockPostingsCursor(block.postingsView(), f.hasFreqs, positions === null ? null : () => positions, origin, false);
    }
    const ord = block.externalOrd;
    const data = this.storage.data;
    // getBinary copies: the cursor keeps the value while other gets reuse lmdb's shared buffer.
    const value = data.getBinary(fieldOrdinalKey(id, TAG.postings, f.nameUtf8, ord));
    if (value === undefined) throw corruptIndex(id, `F:${f.name}:#${ord}`, f.name, 'postings value missing');
    const loadPositions = f.hasPositions ? () => data.getBinary(fieldOrdinalKey(id, TAG.positions, f.nameUtf8, ord)) ?? null : null;
    return new BlockPostingsCursor(value, f.hasFreqs, loadPositions, origin, true);
  }

  private termsIndexOf(f: OpenField): TermsIndex {
    if (f.termsIndex === null) {
      const key = fieldKey(this.info.id, TAG.termsIndex, f.nameUtf8);
      const value = this.storage.data.getBinaryFast(key);
      if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), f.name, 'terms index missing');
      f.termsIndex = TermsIndex.decode(value, this.info.id, f.name);
      f.verifiedBlocks = new Uint8Array(f.termsIndex.blockCount);
    }
    return f.termsIndex;
  }

  /** Loads term block `blockNo` of a field into `reader` (verified). `cache`: keep a copy as the reader's one cached block. */
  private loadBlock(f: OpenField, blockNo: number, reader: TermBlockReader, cache: boolean): void {
    const origin = { segmentId: this.info.id, field: f.name, block: blockNo };
    if (this.cachedField === f && this.cachedBlockNo === blockNo) {
      reader.reset(this.cachedBlock!, f.hasPositions, origin, true);
      return;
    }
    const key = fieldOrdinalKey(this.info.id, TAG.terms, f.nameUtf8, blockNo);
    const block = cache ? this.storage.data.getBinary(key) : this.storage.data.getBinaryFast(key);
    if (block === undefined) throw corruptIndex(this.info.id, describeKey(key), f.name, 'term block missing');
    const verified = f.verifiedBlocks!;
    reader.reset(block, f.hasPositions, origin, verified[blockNo] === 1);
    verified[blockNo] = 1;
    if (cache) {
      // Cached only once verified (reset threw otherwise).
      this.cachedField = f;
      this.cachedBlockNo = blockNo;
      this.cachedBlock = block;
    }
  }

  /** Positions `lookupBlock` on `term`; false when the field does not have it. */
  private seekExact(f: OpenField, term: string, cache: boolean): boolean {
    const length = lookupScratch.write(term, 0, 'utf8');
    if (length > SEGMENT_TERM_MAX_BYTES) return false;
    return this.seekExactUtf8(f, lookupScratch, length, cache);
  }

  private seekExactUtf8(f: OpenField, target: Uint8Array, length: number, cache: boolean): boolean {
    const blockNo = this.termsIndexOf(f).findBlock(target, length);
    if (blockNo < 0) return false;
    this.loadBlock(f, blockNo, lookupBlock, cache);
    if (!lookupBlock.seek(target, length)) return false;
    const t = lookupBlock.term;
    if (lookupBlock.termLength !== length) return false;
    for (let i = 0; i < length; i++) if (t[i] !== target[i]) return false;
    return true;
  }

  *terms(field: string, fromTerm = ''): Iterable<[term: string, info: TermInfo]> {
    const f = this.fieldsByName.get(field);
    if (f === undefined) return;
    const from = utf8(fromTerm);
    const first = Math.max(0, this.termsIndexOf(f).findBlock(from, from.length));
    // An own decoder: the caller may look terms up between two steps of this iteration.
    const reader = new TermBlockReader();
    let blockNo = first;
    for (const { key, value } of this.storage.data.getRange(fieldOrdinalRange(this.info.id, TAG.terms, f.nameUtf8, first))) {
      const expected = blockNo++;
      if ((key as Buffer).readUInt32BE((key as Buffer).length - 4) !== expected) throw corruptIndex(this.info.id, describeKey(key as Buffer), field, `term block ${expected} missing`);
      reader.reset(value as Uint8Array, f.hasPositions, { segmentId: this.info.id, field, block: expected });
      for (let on = expected === first ? reader.seek(from, from.length) : reader.next(); on; on = reader.next()) {
        yield [fromUtf8(reader.term, 0, reader.termLength), { docFreq: reader.docFreq, totalTermFreq: reader.totalTermFreq }];
      }
    }
    if (blockNo !== this.termsIndexOf(f).blockCount) throw corruptIndex(this.info.id, `T:${field}`, field, `${blockNo} term blocks, the terms index lists ${this.termsIndexOf(f).blockCount}`);
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
    const length = lookupScratch.write(id, 0, 'utf8');
    if (length > SEGMENT_TERM_MAX_BYTES) return -1;
    if (this.idFilter === undefined) {
      const key = tagKey(this.info.id, TAG.idFilter);
      const value = this.storage.data.getBinaryFast(key);
      if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), ID_FIELD, 'id filter missing');
      this.idFilter = BloomFilter.decode(value, this.info.id);
    }
    if (this.idFilter !== null && !this.idFilter.mightContain(lookupScratch, length)) return -1;
    // Random ids rarely share a block: do not replace the cached block (and skip its copy).
    if (!this.seekExactUtf8(f, lookupScratch, length, false)) return -1;
    const origin = { segmentId: this.info.id, field: ID_FIELD, term: id };
    if (lookupBlock.externalOrd < 0) return readLastDoc(lookupBlock.postingsView(), origin, false);
    const key = fieldOrdinalKey(this.info.id, TAG.postings, f.nameUtf8, lookupBlock.externalOrd);
    const value = this.storage.data.getBinaryFast(key);
    if (value === undefined) throw corruptIndex(this.info.id, describeKey(key), ID_FIELD, 'postings value missing');
    return readLastDoc(value, origin);
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
