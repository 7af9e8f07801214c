/**
 * Merges segments into one, dropping deleted docs. Runs inside the manager's worker thread, so it
 * only needs `storage` (its own handle on the shard's LMDB environment) and reads everything it
 * merges through the verifying decoders: a corrupt source fails the merge with
 * `corrupt_index_exception` instead of copying bad bytes into a new segment.
 *
 * New doc ordinals follow the order of `sources`, then the order within each source, so every
 * doc map is increasing and postings stay sorted without re-sorting. Terms are merged with a k-way
 * merge over the sources' ordered 'T' key ranges, one field at a time, so memory is bounded by the
 * largest single posting list plus per-doc columns, not by the vocabulary.
 */
import { assert } from '../common/assert.js';
import type { ShardStorage } from './env.js';
import { compareBytes, compareUtf8, fromUtf8, storedBlockKey, TAG, termKey, termOffsetInKey, utf8, corruptIndex } from './format/keys.js';
import type { FieldMeta, SegmentMeta } from './format/meta.js';
import { BlockPostingsCursor } from './format/postings.js';
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

interface TermHead {
  source: number;
  termBytes: Buffer;
  value: Buffer;
}

function isLive(liveDocs: Uint8Array | null, doc: number): boolean {
  return liveDocs === null || (liveDocs[doc >>> 3] & (1 << (doc & 7))) !== 0;
}

/** Growable scratch for one merged term. */
class TermScratch {
  docs = new Int32Array(1024);
  freqs = new Int32Array(1024);
  positions = new Int32Array(4096);
  count = 0;
  positionCount = 0;

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

  pushPositions(positions: Uint32Array): void {
    const need = this.positionCount + positions.length;
    if (need > this.positions.length) {
      const grown = new Int32Array(Math.max(need, this.positions.length * 2));
      grown.set(this.positions.subarray(0, this.positionCount));
      this.positions = grown;
    }
    this.positions.set(positions, this.positionCount);
    this.positionCount = need;
  }
}

/** Merges live docs of `sources` (in the given order) into a new segment; deleted docs are dropped.
 *  docMaps[i][oldDoc] = new doc ordinal, or -1 for a dropped doc. Verifies checksums of everything it reads. */
export async function mergeSegments(
  storage: ShardStorage,
  newSegmentId: number,
  sources: Array<{ info: SegmentInfo; liveDocs: Uint8Array | null }>,
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
    const offset = termOffsetInKey(fieldUtf8);

    // One ordered iterator per source over this field's term keys.
    const iterators: Array<Iterator<{ key: Buffer; value: Buffer }> | null> = opened.map((source) => {
      if (!source.meta.fields.some((f) => f.name === name)) return null;
      const start = termKey(source.info.id, TAG.terms, fieldUtf8, new Uint8Array(0));
      const end = Buffer.from(start);
      end[end.length - 1] = 1;
      const range = storage.data.getRange({ start, end, snapshot: false }) as unknown as Iterable<{ key: Buffer; value: Buffer }>;
      return range[Symbol.iterator]();
    });
    const heads: Array<TermHead | null> = iterators.map((it, i) => advanceHead(it, i, offset));
    let terms = 0;
    for (;;) {
      // Smallest term among the heads (k is small: a linear scan beats a heap).
      let min: Buffer | null = null;
      for (const head of heads) if (head !== null && (min === null || compareBytes(head.termBytes, min) < 0)) min = head.termBytes;
      if (min === null) break;
      const termBytes = min;
      const term = fromUtf8(termBytes);
      scratch.count = 0;
      scratch.positionCount = 0;
      for (let i = 0; i < heads.length; i++) {
        const head = heads[i];
        if (head === null || compareBytes(head.termBytes, termBytes) !== 0) continue;
        const source = opened[i];
        const sourceId = source.info.id;
        const loadPositions = hasPositions ? () => storage.data.getBinary(termKey(sourceId, TAG.positions, fieldUtf8, termBytes)) ?? null : null;
        const cursor = new BlockPostingsCursor(head.value, hasFreqs, loadPositions, { segmentId: sourceId, field: name, term });
        const docMap = source.docMap;
        for (let doc = cursor.next(); doc !== NO_MORE_DOCS; doc = cursor.next()) {
          if (doc >= docMap.length) throw corruptIndex(sourceId, `T:${name}:${term}`, name, `doc ${doc} beyond maxDoc`);
          const target = docMap[doc];
          if (target < 0) continue;
          scratch.pushDoc(target, cursor.freq());
          if (hasPositions) scratch.pushPositions(cursor.positions());
        }
        heads[i] = advanceHead(iterators[i], i, offset);
      }
      if (scratch.count > 0) {
        session.putTerm(writer, term, {
          docs: scratch.docs,
          freqs: hasFreqs ? scratch.freqs : null,
          positions: hasPositions ? scratch.positions : null,
          count: scratch.count,
        });
      }
      terms += 64 + scratch.count;
      if (terms >= 4096) {
        terms = 0;
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

function advanceHead(iterator: Iterator<{ key: Buffer; value: Buffer }> | null, source: number, offset: number): TermHead | null {
  if (iterator === null) return null;
  const next = iterator.next();
  if (next.done) return null;
  // Copy the term: range keys may live in a buffer lmdb reuses for the next entry.
  return { source, termBytes: Buffer.from(next.value.key.subarray(offset)), value: next.value.value };
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
