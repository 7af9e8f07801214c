/**
 * Merges segments into one, dropping deleted docs. Runs inside the manager's worker thread, so it
 * only needs `storage` (its own handle on the shard's LMDB environment) and reads everything it
 * merges through the verifying decoders: a corrupt source fails the merge with
 * `corrupt_index_exception` instead of copying bad bytes into a new segment.
 *
 * New doc ordinals follow the order of `sources`, then the order within each source, so every
 * doc map is increasing and postings stay sorted without re-sorting. Terms are merged with a k-way
 * merge over the sources' sorted term blocks, one field at a time: each source is read with three
 * ordered range scans (term blocks, non-inline postings, their positions) and never looked up term by
 * term, and the new segment's blocks are written in order. Memory is bounded by the largest single
 * posting list plus per-doc columns, not by the vocabulary.
 */
import { QuarryError } from '../common/errors.js';
import { assert } from '../common/assert.js';
import type { ShardStorage } from './env.js';
import { compareUtf8, corruptIndex, fieldOrdinalRange, fromUtf8, ordinalOfKey, storedBlockKey, TAG, utf8 } from './format/keys.js';
import type { FieldMeta, SegmentMeta } from './format/meta.js';
import { BlockPostingsCursor } from './format/postings.js';
import { compareRange, TermBlockReader } from './format/terms.js';
import { decodeStoredBlock } from './format/stored.js';
import { openSegmentReader, readSegmentMeta } from './reader.js';
import { SegmentWriteSession, seqNoRange } from './writer.js';
import { NO_MORE_DOCS, type IndexOptions, type KeywordColumn, type NumericColumn, type SegmentInfo, type SegmentReader } from './types.js';

interface Source {
  info: SegmentInfo;
  meta: SegmentMeta;
  reader: SegmentReader;
  docMap: Int32Array;
}

type Entries = Iterator<{ key: Buffer; value: Buffer }>;

/**
 * One source's terms of one field in UTF-8 byte order, read by ordered range scans: the term blocks,
 * and in step with them the non-inline postings ('F') and positions ('P') values.
 */
class TermStream {
  readonly block = new TermBlockReader();
  /** False once past the last term. */
  live = true;
  /** The current term's postings value (a verified-on-read 'F' value or an inline view). */
  postings: Uint8Array = new Uint8Array(0);
  positions: Uint8Array | null = null;
  /** Where the current term comes from (for error messages; the term is decoded only when read). */
  readonly origin: { segmentId: number; field: string; readonly term: string };
  private cursor: BlockPostingsCursor | null = null;
  private blockNo = 0;
  private readonly blocks: Entries;
  private readonly postingsValues: Entries;
  private readonly positionsValues: Entries | null;

  constructor(
    storage: ShardStorage,
    private readonly segmentId: number,
    private readonly field: string,
    fieldUtf8: Uint8Array,
    private readonly hasPositions: boolean,
  ) {
    const scan = (tag: number): Entries =>
      (storage.data.getRange({ ...fieldOrdinalRange(segmentId, tag, fieldUtf8), snapshot: false }) as unknown as Iterable<{ key: Buffer; value: Buffer }>)[Symbol.iterator]();
    const block = this.block;
    this.origin = {
      segmentId,
      field,
      get term(): string {
        return fromUtf8(block.term, 0, block.termLength);
      },
    };
    this.blocks = scan(TAG.terms);
    this.postingsValues = scan(TAG.postings);
    this.positionsValues = hasPositions ? scan(TAG.positions) : null;
    this.live = this.nextBlock();
    if (this.live) this.advance();
  }

  /** Moves to the next term (sets `live` false past the last). */
  advance(): void {
    if (!this.live) return;
    while (!this.block.next()) {
      if (!this.nextBlock()) {
        this.live = false;
        this.finishExternals();
        return;
      }
    }
    const b = this.block;
    if (b.externalOrd < 0) {
      this.postings = b.postingsView();
      this.positions = this.hasPositions ? b.positionsView() : null;
      return;
    }
    this.postings = this.nextExternal(this.postingsValues, 'F', b.externalOrd);
    this.positions = this.positionsValues === null ? null : this.nextExternal(this.positionsValues, 'P', b.externalOrd);
  }

  /** A cursor over the current term's postings (one reused cursor per stream). */
  postingsCursor(hasFreqs: boolean): BlockPostingsCursor {
    const checkHeads = this.block.externalOrd >= 0; // inline values were covered by the block CRC
    const loadPositions = this.hasPositions ? this.loadPositions : null;
    if (this.cursor === null) return (this.cursor = new BlockPostingsCursor(this.postings, hasFreqs, loadPositions, this.origin, checkHeads));
    return this.cursor.reset(this.postings, loadPositions, this.origin, checkHeads);
  }

  private readonly loadPositions = (): Uint8Array | null => this.positions;

  private nextBlock(): boolean {
    const next = this.blocks.next();
    if (next.done) return false;
    const expected = this.blockNo++;
    if (ordinalOfKey(next.value.key) !== expected) throw corruptIndex(this.segmentId, `T:${this.field}:#${expected}`, this.field, 'term block missing');
    this.block.reset(next.value.value, this.hasPositions, { segmentId: this.segmentId, field: this.field, block: expected });
    return true;
  }

  private nextExternal(values: Entries, tag: string, ord: number): Buffer {
    const next = values.next();
    if (next.done || ordinalOfKey(next.value.key) !== ord) throw corruptIndex(this.segmentId, `${tag}:${this.field}:#${ord}`, this.field, 'postings value missing');
    return next.value.value;
  }

  private finishExternals(): void {
    // Every 'F'/'P' value belongs to a term: leftovers mean the blocks and the values disagree.
    for (const values of [this.postingsValues, this.positionsValues]) {
      if (values !== null && !values.next().done) throw corruptIndex(this.segmentId, `F:${this.field}`, this.field, 'postings values without a term');
    }
  }
}

function isLive(liveDocs: Uint8Array | null, doc: number): boolean {
  return liveDocs === null || (liveDocs[doc >>> 3] & (1 << (doc & 7))) !== 0;
}

/** Growable scratch for one merged term. */
class TermScratch {
  docs = new Int32Array(1024);
  freqs = new Int32Array(1024);
  /** Position bytes of the docs, as stored; doc i's are [positionByteOffsets[i], positionByteOffsets[i + 1]). */
  positionBytes = new Uint8Array(16384);
  positionByteOffsets = new Int32Array(1025);
  count = 0;
  positionByteCount = 0;

  pushDoc(doc: number, freq: number): void {
    if (this.count === this.docs.length) {
      const docs = new Int32Array(this.docs.length * 2);
      docs.set(this.docs);
      this.docs = docs;
      const freqs = new Int32Array(this.freqs.length * 2);
      freqs.set(this.freqs);
      this.freqs = freqs;
    }
    this.docs[this.count] = doc;
    this.freqs[this.count] = freq;
    this.count++;
  }

  /** Appends the position bytes of the doc just pushed (value[start, end), as stored: no decoding). */
  pushPositionBytes(value: Uint8Array, start: number, end: number): void {
    const need = this.positionByteCount + (end - start);
    if (need > this.positionBytes.length) {
      const grown = new Uint8Array(Math.max(need, this.positionBytes.length * 2));
      grown.set(this.positionBytes.subarray(0, this.positionByteCount));
      this.positionBytes = grown;
    }
    const out = this.positionBytes;
    let p = this.positionByteCount;
    for (let i = start; i < end; i++) out[p++] = value[i];
    this.positionByteCount = need;
    if (this.positionByteOffsets.length < this.count + 1) {
      const grown = new Int32Array(this.docs.length + 1);
      grown.set(this.positionByteOffsets.subarray(0, this.count));
      this.positionByteOffsets = grown;
    }
    this.positionByteOffsets[this.count] = need; // end of doc count-1 = start of the next
  }
}

/** Reason of the error a merge throws when its abort flag is raised (the shard is closing). */
export const MERGE_ABORTED_REASON = 'merge aborted: the shard is closing';

/** Whether an error (possibly rebuilt from another thread) is a merge abort rather than a failure. */
export function isMergeAborted(err: unknown): boolean {
  return err instanceof QuarryError && err.type === 'engine_closed_exception' && err.message === MERGE_ABORTED_REASON;
}

/** Merges live docs of `sources` (in the given order) into a new segment; deleted docs are dropped.
 *  docMaps[i][oldDoc] = new doc ordinal, or -1 for a dropped doc. Verifies checksums of everything it reads.
 *  `abortFlag` (shared with the thread that owns the shard): when its slot 0 becomes non-zero, the
 *  merge stops at its next yield point with an engine_closed_exception (isMergeAborted); the caller
 *  deletes what it wrote. */
export async function mergeSegments(
  storage: ShardStorage,
  newSegmentId: number,
  sources: Array<{ info: SegmentInfo; liveDocs: Uint8Array | null }>,
  abortFlag: Int32Array | null = null,
): Promise<{ info: SegmentInfo; docMaps: Int32Array[] }> {
  let newMaxDoc = 0;
  const opened: Source[] = sources.map(({ info, liveDocs }) => {
    const meta = readSegmentMeta(storage, info.id);
    const reader = openSegmentReader(storage, info);
    const docMap = new Int32Array(info.maxDoc);
    for (let doc = 0; doc < info.maxDoc; doc++) docMap[doc] = isLive(liveDocs, doc) ? newMaxDoc++ : -1;
    return { info, meta, reader, docMap };
  });
  const session = new SegmentWriteSession(storage, newSegmentId, newMaxDoc, 'merge');
  const pauseIfDue = async () => {
    if (abortFlag !== null && Atomics.load(abortFlag, 0) !== 0) throw new QuarryError('engine_closed_exception', MERGE_ABORTED_REASON);
    if (session.shouldYield()) await session.pause();
  };

  // Stored fields and version columns.
  const seqNo = new Float64Array(newMaxDoc);
  const version = new Float64Array(newMaxDoc);
  const primaryTerm = new Float64Array(newMaxDoc);
  for (const source of opened) {
    const { info, meta, reader, docMap } = source;
    let doc = 0;
    for (let block = 0; block < meta.storedBlocks; block++) {
      const keyName = `sources:${block}`;
      const value = storage.sources.getBinary(storedBlockKey(info.id, block));
      if (value === undefined) throw corruptIndex(info.id, keyName, '_source', 'stored block missing');
      for (const stored of decodeStoredBlock(value, info.id, keyName)) {
        if (doc >= info.maxDoc) throw corruptIndex(info.id, keyName, '_source', 'more stored docs than maxDoc');
        const target = docMap[doc];
        if (target >= 0) {
          session.addStoredDoc(stored.id, stored.routing, stored.source);
          seqNo[target] = reader.seqNo(doc);
          version[target] = reader.version(doc);
          primaryTerm[target] = reader.primaryTerm(doc);
        }
        doc++;
      }
      await pauseIfDue();
    }
    if (doc !== info.maxDoc) throw corruptIndex(info.id, 'sources', '_source', `stored blocks hold ${doc} docs, maxDoc is ${info.maxDoc}`);
  }
  session.finishStored({ seqNo, version, primaryTerm });

  // Inverted fields.
  const fieldOptions = new Map<string, { indexOptions: IndexOptions; norms: boolean }>();
  for (const source of opened) {
    for (const f of source.meta.fields) {
      const seen = fieldOptions.get(f.name);
      if (seen === undefined) fieldOptions.set(f.name, { indexOptions: f.indexOptions, norms: f.norms });
      else if (seen.indexOptions !== f.indexOptions || seen.norms !== f.norms) {
        throw corruptIndex(source.info.id, 'Z', f.name, `field options ${f.indexOptions}/norms=${f.norms} differ from other segments' ${seen.indexOptions}/norms=${seen.norms}`);
      }
    }
  }
  const scratch = new TermScratch();
  let termBytes: Uint8Array = new Uint8Array(256);
  for (const [name, options] of fieldOptions) {
    const fieldUtf8 = utf8(name);
    let norms: Uint8Array | null = null;
    if (options.norms) {
      norms = new Uint8Array(newMaxDoc);
      for (const source of opened) {
        const sourceNorms = source.meta.fields.some((f: FieldMeta) => f.name === name) ? source.reader.norms(name) : null;
        if (sourceNorms === null) continue;
        const docMap = source.docMap;
        for (let doc = 0; doc < docMap.length; doc++) if (docMap[doc] >= 0) norms[docMap[doc]] = sourceNorms[doc];
      }
    }
    const writer = session.beginField(name, options.indexOptions, norms);
    const hasFreqs = options.indexOptions !== 'docs';
    const hasPositions = options.indexOptions === 'positions';

    // One ordered term stream per source that has the field.
    const streams: Array<TermStream | null> = opened.map((source) =>
      source.meta.fields.some((f) => f.name === name) ? new TermStream(storage, source.info.id, name, fieldUtf8, hasPositions) : null,
    );
    let work = 0;
    for (;;) {
      // Smallest current term among the streams (k is small: a linear scan beats a heap).
      let min: TermStream | null = null;
      for (const stream of streams) {
        if (stream !== null && stream.live && (min === null || compareRange(stream.block.term, stream.block.termLength, min.block.term, min.block.termLength) < 0)) min = stream;
      }
      if (min === null) break;
      // Copy the term: the streams' buffers change as they advance.
      const termLength = min.block.termLength;
      termBytes = growBytes(termBytes, termLength);
      const minTerm = min.block.term;
      for (let k = 0; k < termLength; k++) termBytes[k] = minTerm[k];
      scratch.count = 0;
      scratch.positionByteCount = 0;
      scratch.positionByteOffsets[0] = 0;
      for (let i = 0; i < streams.length; i++) {
        const stream = streams[i];
        if (stream === null || !stream.live || compareRange(stream.block.term, stream.block.termLength, termBytes, termLength) !== 0) continue;
        const source = opened[i];
        const cursor = stream.postingsCursor(hasFreqs);
        const docMap = source.docMap;
        for (let doc = cursor.next(); doc !== NO_MORE_DOCS; doc = cursor.next()) {
          if (doc >= docMap.length) throw corruptIndex(source.info.id, `T:${name}:${stream.origin.term}`, name, `doc ${doc} beyond maxDoc`);
          const target = docMap[doc];
          if (target < 0) continue;
          scratch.pushDoc(target, cursor.freq());
          if (hasPositions) {
            const value = cursor.positionBytes();
            scratch.pushPositionBytes(value, cursor.positionBytesStart, cursor.positionBytesEnd);
          }
        }
        stream.advance();
      }
      if (scratch.count > 0) {
        session.putTermUtf8(writer, termBytes, termLength, {
          docs: scratch.docs,
          freqs: hasFreqs ? scratch.freqs : null,
          positions: null,
          positionBytes: hasPositions ? scratch.positionBytes : null,
          positionByteOffsets: hasPositions ? scratch.positionByteOffsets : null,
          count: scratch.count,
        });
      }
      work += 64 + scratch.count;
      if (work >= 4096) {
        work = 0;
        await pauseIfDue();
      }
    }
    session.endField(writer);
  }

  // Doc values.
  const docValuesTypes = new Map<string, 'numeric' | 'keyword'>();
  for (const source of opened) {
    for (const dv of source.meta.docValues) {
      const seen = docValuesTypes.get(dv.name);
      if (seen !== undefined && seen !== dv.type) throw corruptIndex(source.info.id, 'Z', dv.name, `doc values type ${dv.type} differs from other segments' ${seen}`);
      docValuesTypes.set(dv.name, dv.type);
    }
  }
  for (const [name, type] of docValuesTypes) {
    if (type === 'numeric') session.putNumericColumn(name, mergeNumeric(opened, name, newMaxDoc));
    else session.putKeywordColumn(name, mergeKeyword(opened, name, newMaxDoc));
    await pauseIfDue();
  }

  const { info } = await session.finish(seqNoRange(seqNo, newMaxDoc));
  return { info, docMaps: opened.map((s) => s.docMap) };
}

function growBytes(bytes: Uint8Array, length: number): Uint8Array {
  return bytes.length >= length ? bytes : new Uint8Array(length * 2);
}

function mergeNumeric(sources: Source[], name: string, newMaxDoc: number): NumericColumn {
  const counts = new Uint32Array(newMaxDoc + 1);
  const columns = sources.map((s) => s.reader.numericColumn(name));
  for (let i = 0; i < sources.length; i++) {
    const column = columns[i];
    if (column === null) continue;
    const docMap = sources[i].docMap;
    for (let doc = 0; doc < docMap.length; doc++) {
      if (docMap[doc] < 0) continue;
      counts[docMap[doc] + 1] = column.offsets === null ? 1 : column.offsets[doc + 1] - column.offsets[doc];
    }
  }
  let dense = true;
  for (let d = 0; d < newMaxDoc; d++) {
    if (counts[d + 1] !== 1) dense = false;
    counts[d + 1] += counts[d];
  }
  const offsets = counts;
  const values = new Float64Array(offsets[newMaxDoc]);
  for (let i = 0; i < sources.length; i++) {
    const column = columns[i];
    if (column === null) continue;
    const docMap = sources[i].docMap;
    for (let doc = 0; doc < docMap.length; doc++) {
      const target = docMap[doc];
      if (target < 0) continue;
      if (column.offsets === null) values[offsets[target]] = column.values[doc];
      else values.set(column.values.subarray(column.offsets[doc], column.offsets[doc + 1]), offsets[target]);
    }
  }
  return { offsets: dense ? null : offsets, values };
}

function mergeKeyword(sources: Source[], name: string, newMaxDoc: number): KeywordColumn {
  const columns = sources.map((s) => s.reader.keywordColumn(name));
  // Union of the dictionaries, then each source's ordinal → merged ordinal.
  const union = new Set<string>();
  for (const column of columns) if (column !== null) for (const term of column.terms) union.add(term);
  const terms = [...union].sort(compareUtf8);
  const ordOf = new Map<string, number>();
  terms.forEach((term, ord) => ordOf.set(term, ord));
  const remaps = columns.map((column) => (column === null ? null : Int32Array.from(column.terms, (term) => ordOf.get(term)!)));
  const offsets = new Uint32Array(newMaxDoc + 1);
  for (let i = 0; i < sources.length; i++) {
    const column = columns[i];
    if (column === null) continue;
    const docMap = sources[i].docMap;
    for (let doc = 0; doc < docMap.length; doc++) if (docMap[doc] >= 0) offsets[docMap[doc] + 1] = column.offsets[doc + 1] - column.offsets[doc];
  }
  for (let d = 0; d < newMaxDoc; d++) offsets[d + 1] += offsets[d];
  const ords = new Int32Array(offsets[newMaxDoc]);
  for (let i = 0; i < sources.length; i++) {
    const column = columns[i];
    const remap = remaps[i];
    if (column === null || remap === null) continue;
    const docMap = sources[i].docMap;
    for (let doc = 0; doc < docMap.length; doc++) {
      const target = docMap[doc];
      if (target < 0) continue;
      let k = offsets[target];
      // Sorted source ordinals map to sorted merged ordinals (both dictionaries are in the same order).
      for (let j = column.offsets[doc]; j < column.offsets[doc + 1]; j++) ords[k++] = remap[column.ords[j]];
    }
  }
  assert(terms.length === ordOf.size, 'merged dictionary is unique');
  return { terms, offsets, ords };
}
