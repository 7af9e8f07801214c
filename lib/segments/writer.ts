/**
 * Writes segments into LMDB: `writeSegment` turns the buffer (a SegmentBuilder) into a segment at
 * refresh; `SegmentWriteSession` is the shared sink that both it and the merger feed, so there is one
 * encoder of every component and one place that orders the writes (meta key last).
 *
 * Writes go through lmdb-js's asynchronous `put`, which copies the key, keeps the value buffer and
 * applies the write on lmdb's own thread: the event loop only encodes. Work is cut into slices of
 * about WRITE_SLICE_MS, with a yield to the event loop between them, and the writer waits for
 * LMDB whenever WRITE_PENDING_BYTES_MAX bytes are queued, so a large refresh neither stalls searches
 * nor holds the whole segment twice in memory.
 */
import { performance } from 'node:perf_hooks';
import { assert } from '../common/assert.js';
import { QuarryError } from '../common/errors.js';
import type { SegmentBuilder, SegmentSource, SegmentSourceField } from './builder.js';
import { KEY_SPACE, type ShardStorage } from './env.js';
import { encodeKeywordColumn, encodeNumericColumn } from './format/docvalues.js';
import { BloomFilterBuilder } from './format/bloom.js';
import { fieldKey, fieldOrdinalKey, FORMAT_VERSION, ID_FIELD, SEGMENT_TERM_MAX_BYTES, encodeUnitsUtf8, segmentPrefix, storedBlockKey, unitsUtf8SortOrder, TAG, tagKey, utf8 } from './format/keys.js';
import { encodeMeta, metaToInfo, type DocValuesMeta, type FieldMeta, type SegmentMeta } from './format/meta.js';
import { encodeNorms } from './format/norms.js';
import { encodeTermPositions, encodeTermPostings, sealSharedValue, type PostingsInput } from './format/postings.js';
import { ID_BLOCK_TERMS_MAX, isInline, TERM_BLOCK_TERMS_MAX, TermBlockWriter } from './format/terms.js';
import { encodeBlockIndex, encodeVersionColumns, StoredBlockEncoder, type VersionColumns } from './format/stored.js';
import type { IndexOptions, KeywordColumn, NumericColumn, SegmentInfo } from './types.js';

/** Longest synchronous stretch of segment writing before yielding to the event loop. */
export const WRITE_SLICE_MS = 10;
/** Bytes queued in lmdb-js before the writer waits for them to be applied (bounds the extra memory of a write). */
export const WRITE_PENDING_BYTES_MAX = 32 * 1024 * 1024;

/** An inverted field being written: options plus statistics accumulated from its terms. */
export interface FieldWriter {
  name: string;
  nameUtf8: Uint8Array;
  indexOptions: IndexOptions;
  norms: Uint8Array | null;
  /** Bit per doc: the doc has at least one term in the field (for docCount). */
  seen: Uint8Array;
  docCount: number;
  sumTotalTermFreq: number;
  sumDocFreq: number;
  termCount: number;
  /** The field's term blocks and terms index (terms arrive in UTF-8 byte order). */
  terms: TermBlockWriter;
  /** Bloom filter of the ids (the `_id` field only). */
  idFilter: BloomFilterBuilder | null;
}

/** Scratch for a term's UTF-8 bytes (a UTF-16 code unit is at most 3 UTF-8 bytes). */
const termScratch = Buffer.allocUnsafe(SEGMENT_TERM_MAX_BYTES * 3 + 16);

/** Sink for one segment's components; `finish` writes the meta key last and returns the SegmentInfo. */
export class SegmentWriteSession {
  private sizeBytes = 0;
  private pendingBytes = 0;
  private lastData: Promise<boolean> | null = null;
  private lastSources: Promise<boolean> | null = null;
  private failure: unknown = null;
  private sliceStartMs = performance.now();
  private readonly stored = new StoredBlockEncoder();
  private storedDocs = 0;
  private readonly fieldMetas: FieldMeta[] = [];
  private readonly docValues: DocValuesMeta[] = [];
  private finished = false;

  constructor(
    private readonly storage: ShardStorage,
    readonly segmentId: number,
    private readonly maxDoc: number,
    private readonly origin: 'refresh' | 'merge',
  ) {
    assert(Number.isInteger(segmentId) && segmentId >= 0 && segmentId <= 0xffffffff, `segment id ${segmentId} out of range`);
    const end = segmentId === 0xffffffff ? Buffer.from([KEY_SPACE.segment + 1]) : segmentPrefix(segmentId + 1);
    for (const _ of storage.data.getKeys({ start: segmentPrefix(segmentId), end, limit: 1 })) {
      // Leftovers of an earlier write would mix into this segment; the manager must delete them first.
      throw new QuarryError('illegal_state_exception', `segment [${segmentId}] already has data in [${storage.path}]; delete it before writing`);
    }
  }

  /** Whether this slice of work has used its time budget (check every few dozen items). */
  shouldYield(): boolean {
    return performance.now() - this.sliceStartMs >= WRITE_SLICE_MS || this.pendingBytes >= WRITE_PENDING_BYTES_MAX;
  }

  /** Yields to the event loop, first waiting for LMDB when too many bytes are queued. */
  async pause(): Promise<void> {
    if (this.pendingBytes >= WRITE_PENDING_BYTES_MAX) await this.drain();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.throwIfFailed();
    this.sliceStartMs = performance.now();
  }

  private async drain(): Promise<void> {
    await Promise.all([this.lastData, this.lastSources]);
    this.pendingBytes = 0;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  private track(promise: Promise<boolean>, previous: Promise<boolean> | null): void {
    // lmdb-js shares one promise per batch; watch each distinct one so no failure goes unnoticed.
    if (promise !== previous) {
      promise.then(undefined, (err: unknown) => {
        this.failure ??= err;
      });
    }
  }

  /** Puts one key of the `data` database. */
  putData(key: Buffer, value: Buffer): void {
    const promise = this.storage.data.put(key, value);
    this.track(promise, this.lastData);
    this.lastData = promise;
    this.pendingBytes += key.length + value.length;
    this.sizeBytes += key.length + value.length;
  }

  private putSource(key: Buffer, value: Buffer): void {
    const promise = this.storage.sources.put(key, value);
    this.track(promise, this.lastSources);
    this.lastSources = promise;
    this.pendingBytes += key.length + value.length;
    this.sizeBytes += key.length + value.length;
  }

  /** Stores the next doc's stored fields (docs must be added in ordinal order, all of them). */
  addStoredDoc(id: string, routing: string | undefined, source: Uint8Array): void {
    const block = this.stored.add(id, routing, source);
    if (block !== null) this.putSource(storedBlockKey(this.segmentId, this.stored.blockDocCounts.length - 1), block);
    this.storedDocs++;
  }

  /** Closes the stored fields and writes the version columns. */
  finishStored(columns: VersionColumns): void {
    assert(this.storedDocs === this.maxDoc, `stored ${this.storedDocs} docs, segment has ${this.maxDoc}`);
    const block = this.stored.flush();
    if (block !== null) this.putSource(storedBlockKey(this.segmentId, this.stored.blockDocCounts.length - 1), block);
    this.putData(tagKey(this.segmentId, TAG.storedIndex), encodeBlockIndex(this.stored.blockDocCounts));
    this.putData(tagKey(this.segmentId, TAG.seqNos), encodeVersionColumns(columns, this.maxDoc));
  }

  /** Starts an inverted field; terms follow with putTerm (in ascending UTF-8 byte order), then endField. */
  beginField(name: string, indexOptions: IndexOptions, norms: Uint8Array | null): FieldWriter {
    assert(norms === null || norms.length === this.maxDoc, 'norms cover maxDoc');
    return {
      name,
      nameUtf8: utf8(name),
      indexOptions,
      norms,
      seen: new Uint8Array(this.maxDoc),
      docCount: 0,
      sumTotalTermFreq: 0,
      sumDocFreq: 0,
      termCount: 0,
      terms: new TermBlockWriter(indexOptions === 'positions', name === ID_FIELD ? ID_BLOCK_TERMS_MAX : TERM_BLOCK_TERMS_MAX),
      idFilter: name === ID_FIELD ? new BloomFilterBuilder(this.maxDoc) : null,
    };
  }

  /**
   * Writes one term's postings (and positions when the field indexes them). Terms of a field must
   * come in strictly ascending UTF-8 byte order (`unitsUtf8SortOrder`); an out-of-order term throws.
   */
  putTerm(field: FieldWriter, term: string, postings: Omit<PostingsInput, 'norms'>): void {
    const length = termScratch.write(term, 0, 'utf8');
    assert(length <= SEGMENT_TERM_MAX_BYTES, `term of ${length} bytes exceeds SEGMENT_TERM_MAX_BYTES`);
    this.putTermUtf8(field, termScratch, length, postings);
  }

  /** `putTerm` for a term given as UTF-8 bytes term[0, termLength) (the merger's path: no decoding). */
  putTermUtf8(field: FieldWriter, term: Uint8Array, termLength: number, postings: Omit<PostingsInput, 'norms'>): void {
    const input: PostingsInput = {
      docs: postings.docs,
      freqs: field.indexOptions === 'docs' ? null : postings.freqs,
      positions: field.indexOptions === 'positions' ? postings.positions : null,
      positionBytes: field.indexOptions === 'positions' ? postings.positionBytes : null,
      positionByteOffsets: field.indexOptions === 'positions' ? postings.positionByteOffsets : null,
      count: postings.count,
      norms: field.norms,
    };
    // Encoded into reused buffers: most terms go inline (copied into the block), the rest are copied out.
    const postingsValue = encodeTermPostings(input, true);
    const positionsValue = field.indexOptions === 'positions' ? encodeTermPositions(input, true) : null;
    const inline = isInline(postingsValue, positionsValue);
    const terms = field.terms;
    if (!inline) {
      const ord = terms.nextExternalOrd;
      this.putData(fieldOrdinalKey(this.segmentId, TAG.postings, field.nameUtf8, ord), sealSharedValue(postingsValue, 'postings'));
      if (positionsValue !== null) this.putData(fieldOrdinalKey(this.segmentId, TAG.positions, field.nameUtf8, ord), sealSharedValue(positionsValue, 'positions'));
    }
    const seen = field.seen;
    const docs = input.docs;
    let docCount = field.docCount;
    for (let i = 0; i < input.count; i++) {
      const doc = docs[i];
      if (seen[doc] === 0) {
        seen[doc] = 1;
        docCount++;
      }
    }
    field.docCount = docCount;
    let ttf = input.count;
    if (input.freqs !== null) {
      ttf = 0;
      for (let i = 0; i < input.count; i++) ttf += input.freqs[i];
    }
    const closed = terms.add(term, termLength, input.count, ttf, inline, postingsValue, positionsValue);
    if (closed !== null) this.putData(fieldOrdinalKey(this.segmentId, TAG.terms, field.nameUtf8, terms.blockCount - 1), closed);
    if (field.idFilter !== null) field.idFilter.add(term, termLength);
    field.sumTotalTermFreq += ttf;
    field.sumDocFreq += input.count;
    field.termCount++;
  }

  /** Closes an inverted field: writes its last term block, terms index, id filter and norms, and records its statistics for the meta. */
  endField(field: FieldWriter): FieldMeta {
    // A field without terms (only empty values, or only in dropped docs) is left out entirely.
    const empty = field.termCount === 0;
    if (!empty) {
      const terms = field.terms;
      const closed = terms.finish();
      if (closed !== null) this.putData(fieldOrdinalKey(this.segmentId, TAG.terms, field.nameUtf8, terms.blockCount - 1), closed);
      this.putData(fieldKey(this.segmentId, TAG.termsIndex, field.nameUtf8), terms.encodeIndex());
      if (field.idFilter !== null) this.putData(tagKey(this.segmentId, TAG.idFilter), field.idFilter.encode());
    }
    if (field.norms !== null && !empty) this.putData(fieldKey(this.segmentId, TAG.norms, field.nameUtf8), encodeNorms(field.norms));
    const meta: FieldMeta = {
      name: field.name,
      indexOptions: field.indexOptions,
      norms: field.norms !== null,
      docCount: field.docCount,
      sumTotalTermFreq: field.sumTotalTermFreq,
      sumDocFreq: field.sumDocFreq,
      termCount: field.termCount,
    };
    if (!empty) this.fieldMetas.push(meta);
    return meta;
  }

  /** Writes a numeric doc-values column. */
  putNumericColumn(name: string, column: NumericColumn): void {
    if (column.values.length === 0) return; // no doc has a value: no column, as if the field never occurred
    this.putData(fieldKey(this.segmentId, TAG.numeric, utf8(name)), encodeNumericColumn(column, this.maxDoc));
    this.docValues.push({ name, type: 'numeric' });
  }

  /** Writes a keyword doc-values column. */
  putKeywordColumn(name: string, column: KeywordColumn): void {
    if (column.ords.length === 0) return;
    this.putData(fieldKey(this.segmentId, TAG.keyword, utf8(name)), encodeKeywordColumn(column, this.maxDoc));
    this.docValues.push({ name, type: 'keyword' });
  }

  /** Waits for every queued key, then writes the meta key (last) and waits for it. */
  async finish(seqNoRange: { minSeqNo: number; maxSeqNo: number }): Promise<{ info: SegmentInfo; meta: SegmentMeta }> {
    assert(!this.finished, 'finish called twice');
    this.finished = true;
    await this.drain();
    const meta: SegmentMeta = {
      formatVersion: FORMAT_VERSION,
      segmentId: this.segmentId,
      maxDoc: this.maxDoc,
      minSeqNo: seqNoRange.minSeqNo,
      maxSeqNo: seqNoRange.maxSeqNo,
      sizeBytes: 0,
      createdAtMs: Date.now(),
      source: this.origin,
      fields: this.fieldMetas,
      docValues: this.docValues,
      storedBlocks: this.stored.blockDocCounts.length,
    };
    const metaKey = tagKey(this.segmentId, TAG.meta);
    meta.sizeBytes = this.sizeBytes + metaKey.length + encodeMeta(meta).length;
    this.putData(metaKey, encodeMeta(meta));
    await this.drain();
    return { info: metaToInfo(meta), meta };
  }
}

/** Min and max of the first `count` seqNos (-1, -1 when empty). */
export function seqNoRange(seqNos: Float64Array, count: number): { minSeqNo: number; maxSeqNo: number } {
  if (count === 0) return { minSeqNo: -1, maxSeqNo: -1 };
  let min = seqNos[0];
  let max = seqNos[0];
  for (let i = 1; i < count; i++) {
    if (seqNos[i] < min) min = seqNos[i];
    if (seqNos[i] > max) max = seqNos[i];
  }
  return { minSeqNo: min, maxSeqNo: max };
}

/** Writes a complete segment from a builder into storage under `segmentId`; never blocks the event
 *  loop for more than ~20 ms at a time (yield between chunks). Resolves once every key is written
 *  (visible to new read transactions). Deleted ordinals in the builder are written as docs and
 *  returned so the caller marks them deleted in live docs (so ordinals == builder ordinals).
 *  No doc may be added to the builder until the promise settles; deletes may happen meanwhile
 *  (deletedOrdinals reflects the builder when the write completes). */
export async function writeSegment(
  storage: ShardStorage,
  segmentId: number,
  builder: SegmentBuilder,
): Promise<{ info: SegmentInfo; deletedOrdinals: number[] }> {
  const info = await writeSegmentFrom(storage, segmentId, builder);
  return { info, deletedOrdinals: deletedOrdinalsOf(builder) };
}

/** The ordinals a builder has marked deleted, ascending (live docs of the segment written from it). */
export function deletedOrdinalsOf(builder: SegmentBuilder): number[] {
  const deletedOrdinals: number[] = [];
  for (let doc = 0; doc < builder.maxDoc; doc++) if (builder.isDeleted(doc)) deletedOrdinals.push(doc);
  return deletedOrdinals;
}

/** Writes a segment from any SegmentSource (a builder on this thread, or a thawed FrozenBuffer in
 *  the segment-writer thread): stored fields, inverted fields, doc values, then the meta key. Every
 *  doc of the source is written, deleted or not. Same slicing as writeSegment. */
export async function writeSegmentFrom<F extends SegmentSourceField>(storage: ShardStorage, segmentId: number, source: SegmentSource<F>): Promise<SegmentInfo> {
  const maxDoc = source.maxDoc;
  const session = new SegmentWriteSession(storage, segmentId, maxDoc, 'refresh');
  const pause = async () => {
    await session.pause();
    assert(source.maxDoc === maxDoc, 'a doc was added to the builder while its segment was being written');
  };

  for (let doc = 0; doc < maxDoc; doc++) {
    session.addStoredDoc(source.storedId(doc), source.storedRouting(doc), source.source(doc));
    if ((doc & 31) === 31 && session.shouldYield()) await pause();
  }
  const versions = source.versionColumns();
  session.finishStored(versions);

  for (const field of source.invertedFields()) {
    const norms = source.fieldNorms(field);
    const writer = session.beginField(field.name, field.indexOptions, norms === null ? null : norms.slice());
    // Check the clock every 64 terms or every ~4k postings, whichever comes first: 64 frequent terms
    // can take tens of ms. Format v2 needs the terms in UTF-8 byte order.
    let work = 0;
    // Terms in UTF-8 byte order, sorted and encoded from their UTF-16 units (no string per term).
    const units = source.fieldTermUnits(field);
    const count = units.ids.length;
    const order = unitsUtf8SortOrder(units.chars, units.offsets, count);
    for (let k = 0; k < count; k++) {
      const i = order[k];
      const termLength = encodeUnitsUtf8(units.chars, units.offsets[i], units.offsets[i + 1], termScratch);
      assert(termLength <= SEGMENT_TERM_MAX_BYTES, `term of ${termLength} bytes exceeds SEGMENT_TERM_MAX_BYTES`);
      const postings = source.readPostings(field, units.ids[i]);
      session.putTermUtf8(writer, termScratch, termLength, postings);
      work += 64 + postings.count;
      if (work >= 4096) {
        work = 0;
        if (session.shouldYield()) await pause();
      }
    }
    const meta = session.endField(writer);
    assert(
      meta.docCount === field.docCount && meta.sumDocFreq === field.sumDocFreq && meta.sumTotalTermFreq === field.sumTotalTermFreq,
      `field [${field.name}] statistics disagree between buffer and segment`,
    );
    if (session.shouldYield()) await pause();
  }

  for (const { name, type } of source.docValuesFields()) {
    if (type === 'numeric') session.putNumericColumn(name, source.numericColumn(name)!);
    else session.putKeywordColumn(name, source.keywordColumn(name)!);
    if (session.shouldYield()) await pause();
  }

  const { info } = await session.finish(seqNoRange(versions.seqNo, maxDoc));
  return info;
}
