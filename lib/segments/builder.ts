/**
 * The in-memory buffer of a shard: an inverted index of the docs added since the last refresh,
 * turned into a segment by `writeSegment` (writer.ts) and searchable in real time via `asReader()`.
 *
 * Memory layout (why it looks like Lucene's indexing chain rather than a Map of arrays): per-term
 * postings are varint byte streams in a shared pool of 64 KB blocks, growing in chained slices of
 * 8, 16, ... 2048 bytes (a slice's end is marked by a level byte in the pool, as in Lucene), with
 * the per-term state in one 32-byte record per term id (`termState`, see TERM_STATE_INTS). A token
 * costs one probe of an open-addressing hash table, one state record and a byte write; there is no
 * per-token or per-posting object (not even a string: tokens arrive as code units in a TokenRun), and
 * `ramBytesUsed` is an honest count of the pool and arrays rather than a guess about JS objects.
 *
 * Term table (Lucene's BytesRefHash, over UTF-16 units): every distinct (field, term) has a global
 * term id; `TermPool` keeps its units in one Uint16Array char pool with start/length per id, and
 * each `BuilderField` keeps an Int32Array of slots (power-of-two count, linear probing, load ≤ 1/2)
 * of (term id or -1 = empty, term hash, pool start, length), plus its term ids in first-seen order. All of it is typed arrays: no
 * JS string exists for a term until the writer or the buffer reader asks for one.
 *
 * Streams per term: docs stream = (doc delta varint[, freq varint]) per doc; positions stream =
 * position delta varints (first from 0) per occurrence, for fields that index positions.
 */
import { performance } from 'node:perf_hooks';
import { assert } from '../common/assert.js';
import { QuarryError } from '../common/errors.js';
import { termHashOfString, TokenRun, wellFormed, unitsToString, utf8LengthOfUnits } from '../common/token-run.js';
import type {
  DocumentInput,
  IndexOptions,
  KeywordColumn,
  NumericColumn,
  SegmentReader,
  StoredDocMeta,
  TermInfo,
} from './types.js';
import { compareUtf8, FIELD_NAME_MAX_BYTES, ID_FIELD, SEGMENT_TERM_MAX_BYTES, utf8, utf8Length } from './format/keys.js';
import { intToByte4 } from './format/norms.js';
import { BufferSegmentReader } from './reader.js';

export { ID_FIELD };

const POOL_BLOCK_BITS = 16;
const POOL_BLOCK_BYTES = 1 << POOL_BLOCK_BITS;
const POOL_BLOCK_MASK = POOL_BLOCK_BYTES - 1;
/** Slice sizes by level: a term's stream starts small (most terms occur once) and doubles. */
const SLICE_SIZES = new Uint16Array([8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
const SLICE_LEVEL_MAX = SLICE_SIZES.length - 1;
/**
 * `_source` bytes are copied into shared chunks of this size (a source above SOURCE_OWN_CHUNK_BYTES
 * gets a chunk of its own): freezing the buffer then shares them with the writer thread instead of
 * copying tens of MB on the event loop (see "Freeze / thaw" below).
 */
const SOURCE_CHUNK_BYTES = 1 << 20;
const SOURCE_OWN_CHUNK_BYTES = SOURCE_CHUNK_BYTES >>> 2;
/** Work items (terms, docs) between the yields of a freeze driven in slices. */
const FREEZE_STEP_ITEMS = 8192;
const EMPTY_BYTES = new Uint8Array(0);
/**
 * Ints per term of the builder's term state (`termState`): everything a token reads and writes, in one
 * record of 32 bytes (half a cache line) instead of one typed array per variable (a cache line each).
 * Pool addresses are stored as int32 bit patterns (the pool stays under 4 GB; `>>> 0` reads them back).
 */
const TERM_STATE_INTS = 8;
/** Offsets in a term's state record: the last doc the term was seen in (-1: none yet), ... */
const TS_LAST_DOC = 0;
/** ... its occurrences in that doc, ... */
const TS_CUR_FREQ = 1;
/** ... its last position in that doc, ... */
const TS_LAST_POS = 2;
/** ... the write address of its positions stream and of its docs stream, ... */
const TS_POS_WRITE = 3;
const TS_DOC_WRITE = 4;
/** ... the docs it occurs in (postings written to its docs stream), ... */
const TS_DOC_FREQ = 5;
/** ... and its totalTermFreq, a float64 over ints 6 and 7 (index in the record's Float64Array view: 4 id + 3). */
const TS_TTF_F64 = 3;
/**
 * A slice's first reserved byte (its end: where the forwarding address will go) holds this marker
 * ORed with the slice's level until the slice is chained; data bytes are written over zeroed pool
 * memory, so a non-zero byte at the write address means "slice full" (Lucene's trick: no slice end
 * in the term state).
 */
const SLICE_END_MARKER = 0x10;
/** Bytes per term of the term state arrays (for ramBytesUsed; the term tables are counted by capacity). */
const TERM_ARRAY_BYTES = 4 * TERM_STATE_INTS + 4 * 2;
/** Ints per term-table slot: term id, hash, pool start, length. */
const SLOT_INTS = 4;
/** Initial slots of a field's term table (a power of two; tests pass a tiny one to force collisions). */
const TERM_SLOTS_INITIAL = 64;
/** Initial UTF-16 units of the term char pool. */
const TERM_POOL_CHARS_INITIAL = 16 * 1024;
/** Rough heap cost of one Map entry plus the string header (V8, 64-bit). */
const MAP_ENTRY_OVERHEAD_BYTES = 64;

/**
 * Code units of every distinct (field, term) of a builder, by global term id: one char pool, and the
 * start and length of each term in it (interleaved: `spans[2 id]` = start, `spans[2 id + 1]` = length).
 */
export class TermPool {
  chars: Uint16Array = new Uint16Array(TERM_POOL_CHARS_INITIAL);
  /** Units of `chars` in use. */
  charsUsed = 0;
  spans: Int32Array = new Int32Array(2 * 1024);
  /** Terms in the pool (the next term id). */
  count = 0;

  /** Copies `length` units of `src` from `start` into the pool as term `count`; returns its id. */
  add(src: Uint16Array, start: number, length: number): number {
    const id = this.count++;
    if (2 * id + 2 > this.spans.length) this.spans = growInt32(this.spans, 2 * id + 2);
    const at = this.charsUsed;
    if (at + length > this.chars.length) {
      const grown = new Uint16Array(Math.max(at + length, this.chars.length * 2));
      grown.set(this.chars.subarray(0, at));
      this.chars = grown;
    }
    this.chars.set(src.subarray(start, start + length), at);
    this.charsUsed = at + length;
    this.spans[2 * id] = at;
    this.spans[2 * id + 1] = length;
    return id;
  }

  /** Term `id` as a string (made on demand; not cached). */
  string(id: number): string {
    return unitsToString(this.chars, this.spans[2 * id], this.spans[2 * id + 1]);
  }
}

/** A field's terms as packed UTF-16 units: term i is chars[offsets[i], offsets[i + 1]), id ids[i]. */
export interface TermUnits {
  chars: Uint16Array;
  offsets: Uint32Array;
  ids: Int32Array;
}

/** Per inverted field state, including the field's term table (see the module comment). */
export class BuilderField {
  readonly nameUtf8: Uint8Array;
  readonly hasFreqs: boolean;
  readonly hasPositions: boolean;
  /**
   * Open-addressing table, `slotCount` slots of SLOT_INTS ints: term id (-1 = empty), the term's hash
   * (token-run.ts `termHash`), its start and length in the pool — a probe touches one slot and the
   * pool's units, nothing else.
   */
  slots: Int32Array;
  /** Slots in the table (a power of two). */
  slotCount: number;
  /** Term ids in first-seen order ([0, termCount)). */
  ids: Int32Array = new Int32Array(64);
  /** Distinct terms of the field. */
  termCount = 0;
  /** Norm byte per doc (grown on demand; docs without the field read 0). */
  normsBuf: Uint8Array | null;
  docCount = 0;
  sumTotalTermFreq = 0;
  sumDocFreq = 0;

  constructor(
    readonly name: string,
    readonly indexOptions: IndexOptions,
    readonly norms: boolean,
    readonly pool: TermPool,
    slotsInitial = TERM_SLOTS_INITIAL,
  ) {
    assert(slotsInitial >= 2 && (slotsInitial & (slotsInitial - 1)) === 0, 'term table size must be a power of two ≥ 2');
    this.nameUtf8 = utf8(name);
    this.hasFreqs = indexOptions !== 'docs';
    this.hasPositions = indexOptions === 'positions';
    this.normsBuf = norms ? new Uint8Array(64) : null;
    this.slotCount = slotsInitial;
    this.slots = new Int32Array(SLOT_INTS * slotsInitial).fill(-1);
  }

  /** The id of the term with these units and hash, or `~slot` (negative) of the empty slot where it would go. */
  find(chars: Uint16Array, start: number, length: number, hash: number): number {
    const slots = this.slots;
    const mask = this.slotCount - 1;
    let slot = hash & mask;
    for (;;) {
      const j = slot * SLOT_INTS;
      const id = slots[j];
      if (id < 0) return ~slot;
      if (slots[j + 1] === hash && slots[j + 3] === length) {
        const poolChars = this.pool.chars;
        const at = slots[j + 2] - start;
        let k = start;
        const end = start + length;
        while (k < end && poolChars[at + k] === chars[k]) k++;
        if (k === end) return id;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Records term `id` (new to this field, with `hash`) in the empty `slot` that `find` returned; grows the table past load 1/2. */
  insert(slot: number, id: number, hash: number): void {
    const j = slot * SLOT_INTS;
    this.slots[j] = id;
    this.slots[j + 1] = hash;
    this.slots[j + 2] = this.pool.spans[2 * id];
    this.slots[j + 3] = this.pool.spans[2 * id + 1];
    if (this.termCount === this.ids.length) this.ids = growInt32(this.ids, this.termCount + 1);
    this.ids[this.termCount++] = id;
    if (this.termCount * 2 > this.slotCount) this.rehash(this.slotCount * 2);
  }

  private rehash(slotCount: number): void {
    const old = this.slots;
    const slots = new Int32Array(SLOT_INTS * slotCount).fill(-1);
    const mask = slotCount - 1;
    for (let j = 0; j < old.length; j += SLOT_INTS) {
      if (old[j] < 0) continue;
      let slot = old[j + 1] & mask;
      while (slots[slot * SLOT_INTS] >= 0) slot = (slot + 1) & mask;
      const k = slot * SLOT_INTS;
      slots[k] = old[j];
      slots[k + 1] = old[j + 1];
      slots[k + 2] = old[j + 2];
      slots[k + 3] = old[j + 3];
    }
    this.slots = slots;
    this.slotCount = slotCount;
  }

/** The term id of `term` in this field, or -1. */
  termId(term: string): number {
    term = wellFormed(term);
    const scratch = lookupScratch(term.length);
    for (let i = 0; i < term.length; i++) scratch[i] = term.charCodeAt(i);
    const id = this.find(scratch, 0, term.length, termHashOfString(term));
    return id < 0 ? -1 : id;
  }

  /** The id of the `i`-th distinct term (first-seen order), i in [0, termCount). */
  termIdAt(i: number): number {
    return this.ids[i];
  }

  /** A term id's text. */
  termString(id: number): string {
    return this.pool.string(id);
  }

  /** [term, term id] pairs in first-seen order (strings made on the fly). */
  *terms(): IterableIterator<[term: string, termId: number]> {
    for (let i = 0; i < this.termCount; i++) yield [this.pool.string(this.ids[i]), this.ids[i]];
  }
}

/** Why a document with a term over SEGMENT_TERM_MAX_BYTES is rejected (Lucene's message). */
function immenseTermReason(field: string): string {
  return `Document contains at least one immense term in field="${field}" (whose UTF8 encoding is longer than the max length ${SEGMENT_TERM_MAX_BYTES})`;
}

/** Why a document with decreasing or invalid positions is rejected. */
function badPositionsReason(field: string): string {
  return `field [${field}] positions must be non-decreasing integers ≥ 0`;
}

let lookupUnits = new Uint16Array(256);
/** Scratch units for string lookups (grown on demand; never escapes a call). */
function lookupScratch(length: number): Uint16Array {
  if (lookupUnits.length < length) lookupUnits = new Uint16Array(Math.max(length, lookupUnits.length * 2));
  return lookupUnits;
}

/** Per numeric doc-values field: values with the doc of each, in doc order. */
class NumericBuffer {
  values: Float64Array = new Float64Array(64);
  docs: Int32Array = new Int32Array(64);
  count = 0;
}

/** Per keyword doc-values field: values as insertion ordinals with the doc of each, in doc order. */
class KeywordBuffer {
  readonly ords = new Map<string, number>();
  readonly terms: string[] = [];
  valueOrds: Int32Array = new Int32Array(64);
  docs: Int32Array = new Int32Array(64);
  count = 0;
}

/** The numeric column over [0, maxDoc) of a buffered numeric field (values in doc order). */
function numericColumnOf(buf: { values: Float64Array; docs: Int32Array; count: number }, maxDoc: number): NumericColumn {
  const values = buf.values.slice(0, buf.count);
  let dense = buf.count === maxDoc;
  for (let i = 0; dense && i < buf.count; i++) if (buf.docs[i] !== i) dense = false;
  if (dense) return { offsets: null, values };
  const offsets = new Uint32Array(maxDoc + 1);
  for (let i = 0; i < buf.count; i++) offsets[buf.docs[i] + 1]++;
  for (let d = 0; d < maxDoc; d++) offsets[d + 1] += offsets[d];
  return { offsets, values };
}

/** The keyword column over [0, maxDoc) of a buffered keyword field, terms sorted by UTF-8 bytes. */
function keywordColumnOf(buf: { readonly terms: readonly string[]; valueOrds: Int32Array; docs: Int32Array; count: number }, maxDoc: number): KeywordColumn {
  const order = buf.terms.map((_, i) => i);
  order.sort((a, b) => compareUtf8(buf.terms[a], buf.terms[b]));
  const terms = order.map((i) => buf.terms[i]);
  const remap = new Int32Array(order.length);
  for (let sorted = 0; sorted < order.length; sorted++) remap[order[sorted]] = sorted;
  const offsets = new Uint32Array(maxDoc + 1);
  for (let i = 0; i < buf.count; i++) offsets[buf.docs[i] + 1]++;
  for (let d = 0; d < maxDoc; d++) offsets[d + 1] += offsets[d];
  const ords = new Int32Array(buf.count);
  for (let i = 0; i < buf.count; i++) ords[i] = remap[buf.valueOrds[i]];
  // Values of one doc are contiguous (docs arrive in order); sort each doc's ordinals.
  for (let d = 0; d < maxDoc; d++) {
    const from = offsets[d];
    const to = offsets[d + 1];
    if (to - from > 1) ords.subarray(from, to).sort();
  }
  return { terms, offsets, ords };
}

/** Growable-array helpers (doubling; copies are amortised over appends). */
function growInt32(a: Int32Array, min: number): Int32Array {
  if (a.length >= min) return a;
  const b = new Int32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}
function growUint32(a: Uint32Array, min: number): Uint32Array {
  if (a.length >= min) return a;
  const b = new Uint32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}
function growUint8(a: Uint8Array, min: number): Uint8Array {
  if (a.length >= min) return a;
  const b = new Uint8Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}
function growFloat64(a: Float64Array, min: number): Float64Array {
  if (a.length >= min) return a;
  const b = new Float64Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

/** Decoded postings of one buffered term (scratch arrays owned by the builder; valid until the next read). */
export interface BufferedPostings {
  docs: Int32Array;
  freqs: Int32Array | null;
  positions: Int32Array | null;
  count: number;
}

/** Scratch arrays that decoded postings are written into (reused from term to term). */
class PostingsScratch {
  docs: Int32Array = new Int32Array(256);
  freqs: Int32Array = new Int32Array(256);
  positions: Int32Array = new Int32Array(256);
}

/**
 * Decodes one term's docs (and positions) streams from a pool of POOL_BLOCK_BYTES blocks into
 * `scratch` (valid until its next use). Shared by the builder and the frozen view of a buffer.
 */
function decodePostings(
  blocks: readonly Uint8Array[],
  docHead: number,
  docStop: number,
  posHead: number,
  posStop: number,
  count: number,
  field: { readonly hasFreqs: boolean; readonly hasPositions: boolean },
  scratch: PostingsScratch,
): BufferedPostings {
  scratch.docs = growInt32(scratch.docs, count);
  const docs = scratch.docs;
  let freqs: Int32Array | null = null;
  if (field.hasFreqs) freqs = scratch.freqs = growInt32(scratch.freqs, count);
  // Docs stream.
  let addr = docHead;
  let level = 0;
  let end = addr + SLICE_SIZES[0] - 4;
  const stop = docStop;
  let doc = -1;
  let total = 0;
  for (let i = 0; i < count; i++) {
    // Inline varint reads that follow slice forwarding pointers.
    let x = 0;
    let shift = 0;
    for (;;) {
      if (addr === end) {
        const block = blocks[addr >>> POOL_BLOCK_BITS];
        const o = addr & POOL_BLOCK_MASK;
        addr = (block[o] | (block[o + 1] << 8) | (block[o + 2] << 16) | (block[o + 3] << 24)) >>> 0;
        if (level < SLICE_LEVEL_MAX) level++;
        end = addr + SLICE_SIZES[level] - 4;
      }
      const b = blocks[addr >>> POOL_BLOCK_BITS][addr & POOL_BLOCK_MASK];
      addr++;
      x |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    if (freqs === null) {
      doc += x;
      docs[i] = doc;
      continue;
    }
    doc += x;
    docs[i] = doc;
    x = 0;
    shift = 0;
    for (;;) {
      if (addr === end) {
        const block = blocks[addr >>> POOL_BLOCK_BITS];
        const o = addr & POOL_BLOCK_MASK;
        addr = (block[o] | (block[o + 1] << 8) | (block[o + 2] << 16) | (block[o + 3] << 24)) >>> 0;
        if (level < SLICE_LEVEL_MAX) level++;
        end = addr + SLICE_SIZES[level] - 4;
      }
      const b = blocks[addr >>> POOL_BLOCK_BITS][addr & POOL_BLOCK_MASK];
      addr++;
      x |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    freqs[i] = x;
    total += x;
  }
  assert(addr === stop, 'docs stream length mismatch');
  let positions: Int32Array | null = null;
  if (field.hasPositions) {
    positions = scratch.positions = growInt32(scratch.positions, total);
    addr = posHead;
    level = 0;
    end = addr + SLICE_SIZES[0] - 4;
    let k = 0;
    for (let i = 0; i < count; i++) {
      let position = 0;
      for (let f = freqs![i]; f > 0; f--) {
        let x = 0;
        let shift = 0;
        for (;;) {
          if (addr === end) {
            const block = blocks[addr >>> POOL_BLOCK_BITS];
            const o = addr & POOL_BLOCK_MASK;
            addr = (block[o] | (block[o + 1] << 8) | (block[o + 2] << 16) | (block[o + 3] << 24)) >>> 0;
            if (level < SLICE_LEVEL_MAX) level++;
            end = addr + SLICE_SIZES[level] - 4;
          }
          const b = blocks[addr >>> POOL_BLOCK_BITS][addr & POOL_BLOCK_MASK];
          addr++;
          x |= (b & 0x7f) << shift;
          if (b < 0x80) break;
          shift += 7;
        }
        position += x;
        positions[k++] = position;
      }
    }
    assert(addr === posStop, 'positions stream length mismatch');
  }
  return { docs, freqs, positions, count };
}

/** The in-memory buffer of a shard (see the module comment). */
export class SegmentBuilder implements SegmentSource<BuilderField> {
  private _maxDoc = 0;
  private deletedCount = 0;
  /** Bumped by every change; readers from asReader() check it. */
  private _generation = 0;

  // Stored fields and version columns.
  private readonly ids: string[] = [];
  private readonly routings: Array<string | undefined> = [];
  /** Views into sourceChunks (shared memory, never written again once filled). */
  private readonly sources: Uint8Array[] = [];
  private readonly sourceChunks: Uint8Array[] = [];
  private sourceChunk: Uint8Array = EMPTY_BYTES;
  private sourceChunkUsed = 0;
  /** Set by freeze: the pool and source chunks are shared with a writer thread from then on. */
  private frozen = false;
  private seqNos: Float64Array = new Float64Array(256);
  private versions: Float64Array = new Float64Array(256);
  private primaryTerms: Float64Array = new Float64Array(256);
  private deleted: Uint8Array = new Uint8Array(256);
  private readonly idToOrdinal = new Map<string, number>();

  // Inverted fields and the term pool.
  private readonly fields = new Map<string, BuilderField>();
  private readonly numeric = new Map<string, NumericBuffer>();
  private readonly keyword = new Map<string, KeywordBuffer>();
  private readonly blocks: Uint8Array[] = [];
  private blockUsed = POOL_BLOCK_BYTES;
  private termCount = 0;
  /** Units of all terms (the term tables' keys), by term id. */
  private readonly termPool = new TermPool();
  /** Where string terms (`InvertedFieldInput.terms`, `_id`) are copied to be indexed like analysed tokens. */
  private readonly stringRun = new TokenRun(256, 64);
  /** Initial slots of new fields' term tables. */
  private readonly termSlotsInitial: number;
  /** Per-term state, TERM_STATE_INTS ints per term id (see the TS_* offsets): one record per token. */
  private termState: Int32Array = new Int32Array(TERM_STATE_INTS * 1024);
  /** `termState`'s buffer as float64s (for TS_TTF_F64). */
  private termStateF64: Float64Array = new Float64Array(this.termState.buffer);
  // Where each term's streams start (read only to decode them).
  private docHead: Uint32Array = new Uint32Array(1024);
  private posHead: Uint32Array = new Uint32Array(1024);
  // Per-doc scratch: terms first seen in the current doc of the current field.
  private touched: Int32Array = new Int32Array(256);
  private touchedDelta: Int32Array = new Int32Array(256);

  private ramBytes = 0;
  private cachedReader: BufferSegmentReader | null = null;

  /** `termSlotsInitial`: initial size of each field's term table (a power of two; tests use a tiny one). */
  constructor(options: { termSlotsInitial?: number } = {}) {
    this.termSlotsInitial = options.termSlotsInitial ?? TERM_SLOTS_INITIAL;
  }

  /** Docs added (deleted included); the next ordinal. */
  get maxDoc(): number {
    return this._maxDoc;
  }
  /** Live docs. */
  get numDocs(): number {
    return this._maxDoc - this.deletedCount;
  }
  /** Approximate heap bytes held (for the indexing-buffer limit). */
  get ramBytesUsed(): number {
    let tables = this.termPool.chars.byteLength + this.termPool.spans.byteLength;
    for (const field of this.fields.values()) tables += field.slots.byteLength + field.ids.byteLength;
    return this.ramBytes + this.termCount * TERM_ARRAY_BYTES + tables + this._maxDoc * 32;
  }
  /** Changes with every addDocument/deleteDoc (lets views detect staleness). */
  get generation(): number {
    return this._generation;
  }

  /**
   * Adds an analysed document; returns its buffer-local doc ordinal (0, 1, 2, ...). Validates the
   * whole document before changing anything, so a rejected document leaves the buffer untouched.
   * `doc.source` is copied (into shared memory chunks, see SOURCE_CHUNK_BYTES).
   */
  addDocument(doc: DocumentInput): number {
    assert(!this.frozen, 'addDocument on a frozen buffer (its memory is shared with the segment writer)');
    this.validate(doc);
    const ordinal = this._maxDoc;
    this._maxDoc = ordinal + 1;
    this._generation++;
    this.cachedReader = null;

    this.ids.push(doc.id);
    this.routings.push(doc.routing);
    this.sources.push(this.copySource(doc.source));
    if (this.seqNos.length <= ordinal) {
      const size = ordinal + 1;
      this.seqNos = growFloat64(this.seqNos, size);
      this.versions = growFloat64(this.versions, size);
      this.primaryTerms = growFloat64(this.primaryTerms, size);
      this.deleted = growUint8(this.deleted, size);
    }
    this.seqNos[ordinal] = doc.seqNo;
    this.versions[ordinal] = doc.version;
    this.primaryTerms[ordinal] = doc.primaryTerm;
    this.ramBytes += doc.source.length + doc.id.length * 2 + MAP_ENTRY_OVERHEAD_BYTES * 2;

    const idRun = this.stringRun;
    idRun.reset();
    idRun.pushString(doc.id, 0);
    this.indexTerms(this.field(ID_FIELD, 'docs', false), ordinal, idRun, 0, 1, 1);
    for (const input of doc.inverted) {
      const field = this.field(input.field, input.indexOptions, input.norms);
      const tokens = input.tokens;
      if (tokens !== undefined) {
        this.indexTerms(field, ordinal, tokens.run, tokens.from, tokens.to, input.length);
        continue;
      }
      const terms = input.terms ?? [];
      const positions = input.positions;
      const run = this.stringRun;
      run.reset();
      for (let i = 0; i < terms.length; i++) run.pushString(terms[i], positions === undefined ? i : positions[i]);
      this.indexTerms(field, ordinal, run, 0, run.count, input.length);
    }
    for (const input of doc.docValues) {
      if (input.values.length === 0) continue;
      if (input.type === 'numeric') this.addNumeric(input.field, ordinal, input.values as number[]);
      else this.addKeyword(input.field, ordinal, input.values as string[]);
    }
    this.idToOrdinal.set(doc.id, ordinal);
    return ordinal;
  }

  /** Marks an ordinal deleted (its id was updated/deleted again before refresh). */
  deleteDoc(ordinal: number): void {
    assert(ordinal >= 0 && ordinal < this._maxDoc, `deleteDoc: ordinal ${ordinal} out of range`);
    if (this.deleted[ordinal] === 0) {
      this.deleted[ordinal] = 1;
      this.deletedCount++;
      this._generation++;
    }
  }

  /** Ordinal of the latest doc with this id (live or not), or -1. */
  lookupId(id: string): number {
    return this.idToOrdinal.get(id) ?? -1;
  }

  /** Whether an ordinal was deleted. */
  isDeleted(ordinal: number): boolean {
    return this.deleted[ordinal] === 1;
  }

  /** The `_source` bytes of an ordinal. */
  source(ordinal: number): Uint8Array {
    assert(ordinal >= 0 && ordinal < this._maxDoc, `source: ordinal ${ordinal} out of range`);
    return this.sources[ordinal];
  }

  /** The stored metadata of an ordinal. */
  meta(ordinal: number): StoredDocMeta {
    assert(ordinal >= 0 && ordinal < this._maxDoc, `meta: ordinal ${ordinal} out of range`);
    const meta: StoredDocMeta = {
      id: this.ids[ordinal],
      seqNo: this.seqNos[ordinal],
      version: this.versions[ordinal],
      primaryTerm: this.primaryTerms[ordinal],
    };
    const routing = this.routings[ordinal];
    if (routing !== undefined) meta.routing = routing;
    return meta;
  }

  /** A SegmentReader view over the buffer (for real-time search), valid until the next addDocument. */
  asReader(): SegmentReader {
    if (this.cachedReader === null || this.cachedReader.generation !== this._generation) {
      this.cachedReader = new BufferSegmentReader(this, this._generation);
    }
    return this.cachedReader;
  }

  // ---- Internal access for writer.ts and the buffer reader (not for other callers). ----

  /** @internal Per-doc stored fields. */
  storedId(ordinal: number): string {
    return this.ids[ordinal];
  }
  /** @internal */
  storedRouting(ordinal: number): string | undefined {
    return this.routings[ordinal];
  }
  /** @internal Version columns (length ≥ maxDoc). */
  versionColumns(): { seqNo: Float64Array; version: Float64Array; primaryTerm: Float64Array } {
    return { seqNo: this.seqNos, version: this.versions, primaryTerm: this.primaryTerms };
  }
  /** @internal Inverted fields in first-seen order. */
  invertedFields(): BuilderField[] {
    return [...this.fields.values()];
  }
  /** @internal */
  invertedField(name: string): BuilderField | undefined {
    return this.fields.get(name);
  }
  /**
   * @internal A field's terms as packed UTF-16 units (term i = chars[offsets[i], offsets[i + 1]))
   * with their term ids, in first-seen order: copied straight from the term pool, no string per term.
   */
  fieldTermUnits(field: BuilderField): TermUnits {
    const n = field.termCount;
    const ids = new Int32Array(n);
    const offsets = new Uint32Array(n + 1);
    const pool = this.termPool;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const id = field.termIdAt(i);
      ids[i] = id;
      total += pool.spans[2 * id + 1];
      offsets[i + 1] = total;
    }
    const chars = new Uint16Array(total);
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const start = pool.spans[2 * id];
      const length = pool.spans[2 * id + 1];
      const at = offsets[i];
      if (length > 16) chars.set(pool.chars.subarray(start, start + length), at);
      else for (let k = 0; k < length; k++) chars[at + k] = pool.chars[start + k];
    }
    return { chars, offsets, ids };
  }

  /** @internal Norms of a field padded to maxDoc (a view when possible). */
  fieldNorms(field: BuilderField): Uint8Array | null {
    if (field.normsBuf === null) return null;
    field.normsBuf = growUint8(field.normsBuf, this._maxDoc);
    return field.normsBuf.subarray(0, this._maxDoc);
  }
  /** @internal TermInfo of a term id. */
  termInfoOf(field: BuilderField, termId: number): TermInfo {
    const df = this.termState[termId * TERM_STATE_INTS + TS_DOC_FREQ];
    return { docFreq: df, totalTermFreq: field.hasFreqs ? this.termStateF64[termId * (TERM_STATE_INTS >> 1) + TS_TTF_F64] : df };
  }
  /** @internal Doc-values field names and types. */
  docValuesFields(): Array<{ name: string; type: 'numeric' | 'keyword' }> {
    const out: Array<{ name: string; type: 'numeric' | 'keyword' }> = [];
    for (const name of this.numeric.keys()) out.push({ name, type: 'numeric' });
    for (const name of this.keyword.keys()) out.push({ name, type: 'keyword' });
    return out;
  }

  private readonly scratch = new PostingsScratch();

  /** @internal Decodes a term's streams into scratch arrays (valid until the next call). */
  readPostings(field: BuilderField, termId: number): BufferedPostings {
    const st = this.termState;
    const b = termId * TERM_STATE_INTS;
    return decodePostings(this.blocks, this.docHead[termId], st[b + TS_DOC_WRITE] >>> 0, this.posHead[termId], st[b + TS_POS_WRITE] >>> 0, st[b + TS_DOC_FREQ], field, this.scratch);
  }

  /** @internal The numeric column of a field over [0, maxDoc), or null. */
  numericColumn(name: string): NumericColumn | null {
    const buf = this.numeric.get(name);
    return buf === undefined ? null : numericColumnOf(buf, this._maxDoc);
  }

  /** @internal The keyword column of a field over [0, maxDoc), terms sorted by UTF-8 bytes, or null. */
  keywordColumn(name: string): KeywordColumn | null {
    const buf = this.keyword.get(name);
    return buf === undefined ? null : keywordColumnOf(buf, this._maxDoc);
  }

  /**
   * The buffer as plain data for the segment-writer thread (see FrozenBuffer and `thawBuffer`): the
   * postings pool and the sources are shared (no copy), the rest is copied. The builder stays
   * readable and deletes may still mark its ordinals (they are not part of the copy); it refuses
   * new docs from now on.
   */
  freeze(): FrozenBuffer {
    const steps = this.freezeSteps();
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
    }
  }

  /** freeze() in slices: yields to the event loop whenever a slice has run `sliceMs`. */
  async freezeInSlices(sliceMs: number): Promise<FrozenBuffer> {
    const steps = this.freezeSteps();
    let sliceStartMs = performance.now();
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
      if (performance.now() - sliceStartMs >= sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStartMs = performance.now();
      }
    }
  }

  /** The work of freeze, yielding after every FREEZE_STEP_ITEMS items (the buffer must not change meanwhile). */
  private *freezeSteps(): Generator<void, FrozenBuffer> {
    this.frozen = true;
    const maxDoc = this._maxDoc;
    const termCount = this.termCount;
    const ids = packStrings(this.ids, maxDoc);
    const hasRouting = new Uint8Array(maxDoc);
    const routingTexts: string[] = new Array<string>(maxDoc);
    for (let doc = 0; doc < maxDoc; doc++) {
      const routing = this.routings[doc];
      hasRouting[doc] = routing === undefined ? 0 : 1;
      routingTexts[doc] = routing ?? '';
    }
    const routings = packStrings(routingTexts, maxDoc);
    yield;
    // Sources: which shared chunk, where, how long (a chunk is found by its buffer).
    const chunkIndex = new Map<ArrayBufferLike, number>();
    this.sourceChunks.forEach((chunk, i) => chunkIndex.set(chunk.buffer, i));
    const sourceChunk = new Int32Array(maxDoc);
    const sourceOffset = new Uint32Array(maxDoc);
    const sourceLength = new Uint32Array(maxDoc);
    for (let doc = 0; doc < maxDoc; doc++) {
      const view = this.sources[doc];
      sourceChunk[doc] = view.length === 0 ? -1 : chunkIndex.get(view.buffer)!;
      sourceOffset[doc] = view.byteOffset;
      sourceLength[doc] = view.length;
      if ((doc & (FREEZE_STEP_ITEMS - 1)) === FREEZE_STEP_ITEMS - 1) yield;
    }

    const fields: FrozenField[] = [];
    for (const field of this.fields.values()) {
      const { chars: termChars, offsets: termOffsets, ids: termIds } = this.fieldTermUnits(field);
      yield;
      const norms = this.fieldNorms(field);
      fields.push({
        name: field.name,
        indexOptions: field.indexOptions,
        norms: norms === null ? null : norms.slice(),
        docCount: field.docCount,
        sumTotalTermFreq: field.sumTotalTermFreq,
        sumDocFreq: field.sumDocFreq,
        termChars,
        termOffsets,
        termIds,
      });
      yield;
    }
    // The stream ends and docFreq out of the interleaved term state (the writer needs nothing else of it).
    const docWrite = new Uint32Array(termCount);
    const posWrite = new Uint32Array(termCount);
    const docFreq = new Int32Array(termCount);
    const st = this.termState;
    for (let id = 0; id < termCount; id++) {
      const b = id * TERM_STATE_INTS;
      docWrite[id] = st[b + TS_DOC_WRITE];
      posWrite[id] = st[b + TS_POS_WRITE];
      docFreq[id] = st[b + TS_DOC_FREQ];
      if ((id & (FREEZE_STEP_ITEMS - 1)) === FREEZE_STEP_ITEMS - 1) yield;
    }
    const numeric: FrozenBuffer['numeric'] = [];
    for (const [name, buf] of this.numeric) numeric.push({ name, values: buf.values.slice(0, buf.count), docs: buf.docs.slice(0, buf.count) });
    const keyword: FrozenBuffer['keyword'] = [];
    for (const [name, buf] of this.keyword) {
      const terms = packStrings(buf.terms, buf.terms.length);
      keyword.push({ name, termChars: terms.chars, termOffsets: terms.offsets, valueOrds: buf.valueOrds.slice(0, buf.count), docs: buf.docs.slice(0, buf.count) });
    }
    return {
      maxDoc,
      idChars: ids.chars,
      idOffsets: ids.offsets,
      routingChars: routings.chars,
      routingOffsets: routings.offsets,
      hasRouting,
      sourceChunks: this.sourceChunks.slice(),
      sourceChunk,
      sourceOffset,
      sourceLength,
      seqNos: this.seqNos.slice(0, maxDoc),
      versions: this.versions.slice(0, maxDoc),
      primaryTerms: this.primaryTerms.slice(0, maxDoc),
      poolBlocks: this.blocks.slice(),
      docHead: this.docHead.slice(0, termCount),
      docWrite,
      posHead: this.posHead.slice(0, termCount),
      posWrite,
      docFreq,
      fields,
      numeric,
      keyword,
    };
  }

  // ---- Indexing internals ----

  private validate(doc: DocumentInput): void {
    const bad = (why: string) => new QuarryError('illegal_argument_exception', `document [${doc.id}]: ${why}`);
    if (typeof doc.id !== 'string' || doc.id.length === 0) throw bad('_id must be a non-empty string');
    if (utf8Length(doc.id) > SEGMENT_TERM_MAX_BYTES) throw bad(`_id is longer than ${SEGMENT_TERM_MAX_BYTES} bytes`);
    if (!(doc.source instanceof Uint8Array)) throw bad('_source must be bytes');
    const seen = new Set<string>();
    for (const input of doc.inverted) {
      this.checkFieldName(input.field, bad);
      if (input.field === ID_FIELD) throw bad(`field [${ID_FIELD}] is indexed by the segment itself`);
      if (seen.has(input.field)) throw bad(`field [${input.field}] appears twice; concatenate its values into one entry`);
      seen.add(input.field);
      const existing = this.fields.get(input.field);
      if (existing !== undefined && (existing.indexOptions !== input.indexOptions || existing.norms !== input.norms)) {
        throw bad(
          `field [${input.field}] indexed with options ${input.indexOptions}/norms=${input.norms}, but earlier docs used ${existing.indexOptions}/norms=${existing.norms}`,
        );
      }
      if (!(input.length >= 0) || !Number.isInteger(input.length)) throw bad(`field [${input.field}] has an invalid length ${input.length}`);
      const tokens = input.tokens;
      if (tokens !== undefined) {
        if (input.terms !== undefined) throw bad(`field [${input.field}] has both terms and tokens`);
        const run = tokens.run;
        assert(tokens.generation === run.generation, `field [${input.field}]: its token run was reset (reused) before the document was added`);
        if (!(tokens.from >= 0 && tokens.from <= tokens.to && tokens.to <= run.count)) throw bad(`field [${input.field}] has an invalid token slice`);
        const checkPositions = input.indexOptions === 'positions';
        const { lengths, starts, positions } = run;
        let prev = 0;
        for (let i = tokens.from; i < tokens.to; i++) {
          const length = lengths[i];
          if (length * 3 > SEGMENT_TERM_MAX_BYTES && utf8LengthOfUnits(run.chars, starts[i], length) > SEGMENT_TERM_MAX_BYTES) throw bad(immenseTermReason(input.field));
          if (checkPositions) {
            const p = positions[i];
            if (p < prev) throw bad(badPositionsReason(input.field));
            prev = p;
          }
        }
        continue;
      }
      const terms = input.terms ?? [];
      for (let i = 0; i < terms.length; i++) {
        const term = terms[i];
        if (term.length * 3 > SEGMENT_TERM_MAX_BYTES && utf8Length(term) > SEGMENT_TERM_MAX_BYTES) throw bad(immenseTermReason(input.field));
      }
      const positions = input.positions;
      if (positions !== undefined && input.indexOptions === 'positions') {
        if (positions.length !== terms.length) throw bad(`field [${input.field}] has ${terms.length} terms but ${positions.length} positions`);
        let prev = 0;
        for (let i = 0; i < positions.length; i++) {
          const p = positions[i];
          if (!(p >= prev) || !Number.isInteger(p) || p > 0x7fffffff) throw bad(badPositionsReason(input.field));
          prev = p;
        }
      }
    }
    const seenValues = new Set<string>();
    for (const input of doc.docValues) {
      this.checkFieldName(input.field, bad);
      if (seenValues.has(input.field)) throw bad(`doc values field [${input.field}] appears twice`);
      seenValues.add(input.field);
      const other = input.type === 'numeric' ? this.keyword : this.numeric;
      if (other.has(input.field)) throw bad(`doc values field [${input.field}] changes type to ${input.type}`);
      for (const value of input.values) {
        if (input.type === 'numeric' ? typeof value !== 'number' || Number.isNaN(value) : typeof value !== 'string') {
          throw bad(`doc values field [${input.field}] has a value of the wrong type`);
        }
      }
    }
  }

  private checkFieldName(name: string, bad: (why: string) => QuarryError): void {
    if (typeof name !== 'string' || name.length === 0 || name.includes('\0')) throw bad(`invalid field name [${name}]`);
    if (utf8Length(name) > FIELD_NAME_MAX_BYTES) throw bad(`field name [${name}] is longer than ${FIELD_NAME_MAX_BYTES} bytes`);
  }

  private field(name: string, indexOptions: IndexOptions, norms: boolean): BuilderField {
    let field = this.fields.get(name);
    if (field === undefined) {
      field = new BuilderField(name, indexOptions, norms, this.termPool, this.termSlotsInitial);
      this.fields.set(name, field);
    }
    return field;
  }

  /** Copies a `_source` into the shared source chunks and returns the view of the copy. */
  private copySource(source: Uint8Array): Uint8Array {
    const n = source.length;
    if (n === 0) return EMPTY_BYTES;
    if (n > SOURCE_OWN_CHUNK_BYTES) {
      const own = new Uint8Array(new SharedArrayBuffer(n));
      own.set(source);
      this.sourceChunks.push(own);
      return own;
    }
    if (this.sourceChunkUsed + n > this.sourceChunk.length) {
      this.sourceChunk = new Uint8Array(new SharedArrayBuffer(SOURCE_CHUNK_BYTES));
      this.sourceChunks.push(this.sourceChunk);
      this.sourceChunkUsed = 0;
    }
    const view = this.sourceChunk.subarray(this.sourceChunkUsed, this.sourceChunkUsed + n);
    view.set(source);
    this.sourceChunkUsed += n;
    return view;
  }

  /** A new slice of `SLICE_SIZES[level]` bytes (end marker set); returns its address. */
  private allocSlice(level: number): number {
    const size = SLICE_SIZES[level];
    if (this.blockUsed + size > POOL_BLOCK_BYTES) {
      // Shared memory: a frozen buffer hands its pool to the writer thread without a copy. Zeroed,
      // which the slice end markers rely on.
      this.blocks.push(new Uint8Array(new SharedArrayBuffer(POOL_BLOCK_BYTES)));
      this.blockUsed = 0;
      this.ramBytes += POOL_BLOCK_BYTES;
    }
    const addr = (this.blocks.length - 1) * POOL_BLOCK_BYTES + this.blockUsed;
    this.blockUsed += size;
    this.blocks[this.blocks.length - 1][(addr & POOL_BLOCK_MASK) + size - 4] = SLICE_END_MARKER | level;
    return addr;
  }

  /** Adds a term new to `field` (units `chars[start, start + length)`) at the empty table slot `slot`. */
  private newTerm(field: BuilderField, chars: Uint16Array, start: number, length: number, hash: number, slot: number): number {
    const id = this.termCount++;
    assert(this.termPool.add(chars, start, length) === id, 'term pool and term arrays out of step');
    if (id >= this.docHead.length) {
      const size = id + 1;
      this.termState = growInt32(this.termState, size * TERM_STATE_INTS);
      this.termStateF64 = new Float64Array(this.termState.buffer);
      this.docHead = growUint32(this.docHead, size);
      this.posHead = growUint32(this.posHead, size);
    }
    const st = this.termState;
    const b = id * TERM_STATE_INTS;
    const docAddr = this.allocSlice(0);
    this.docHead[id] = docAddr;
    st[b + TS_DOC_WRITE] = docAddr;
    if (field.hasPositions) {
      const posAddr = this.allocSlice(0);
      this.posHead[id] = posAddr;
      st[b + TS_POS_WRITE] = posAddr;
    }
    st[b + TS_LAST_DOC] = -1;
    st[b + TS_CUR_FREQ] = 0;
    st[b + TS_LAST_POS] = 0;
    st[b + TS_DOC_FREQ] = 0;
    this.termStateF64[(b >> 1) + TS_TTF_F64] = 0;
    field.insert(slot, id, hash);
    return id;
  }

  /**
   * Writes `value` as a varint at pool address `addr` (a stream's write address), chaining a bigger
   * slice wherever the current one is full; returns the new write address. The slow path of
   * indexTerms, which writes one-byte varints in place.
   */
  private appendVarint(addr: number, value: number): number {
    const blocks = this.blocks;
    let v = value >>> 0;
    for (;;) {
      let block = blocks[addr >>> POOL_BLOCK_BITS];
      let o = addr & POOL_BLOCK_MASK;
      const marker = block[o];
      if (marker !== 0) {
        // Slice full: chain a bigger one; its address goes in the 4 bytes reserved at the end.
        const next = this.allocSlice(Math.min((marker & ~SLICE_END_MARKER) + 1, SLICE_LEVEL_MAX));
        block[o] = next & 0xff;
        block[o + 1] = (next >>> 8) & 0xff;
        block[o + 2] = (next >>> 16) & 0xff;
        block[o + 3] = (next >>> 24) & 0xff;
        addr = next;
        block = blocks[addr >>> POOL_BLOCK_BITS];
        o = addr & POOL_BLOCK_MASK;
      }
      if (v < 0x80) {
        block[o] = v;
        return addr + 1;
      }
      block[o] = (v & 0x7f) | 0x80;
      addr++;
      v >>>= 7;
    }
  }

  /** Indexes tokens [from, to) of `run` as the values of `field` in `doc` (`length`: the norm's field length). */
  private indexTerms(field: BuilderField, doc: number, run: TokenRun, from: number, to: number, length: number): void {
    if (field.normsBuf !== null) {
      field.normsBuf = growUint8(field.normsBuf, doc + 1);
      field.normsBuf[doc] = length > 0 ? intToByte4(length) : 0;
    }
    const n = to - from;
    if (n === 0) return;
    if (this.touched.length < n) {
      this.touched = new Int32Array(Math.max(n, this.touched.length * 2));
      this.touchedDelta = new Int32Array(this.touched.length);
    }
    const touched = this.touched;
    const touchedDelta = this.touchedDelta;
    const hasPositions = field.hasPositions;
    const chars = run.chars;
    const starts = run.starts;
    const lengths = run.lengths;
    const hashes = run.hashes;
    const positions = run.positions;
    const blocks = this.blocks;
    let st = this.termState;
    let touchedCount = 0;
    for (let i = from; i < to; i++) {
      const start = starts[i];
      const termLength = lengths[i];
      const hash = hashes[i];
      let id = field.find(chars, start, termLength, hash);
      if (id < 0) {
        id = this.newTerm(field, chars, start, termLength, hash, ~id);
        st = this.termState; // may have grown
      }
      const b = id * TERM_STATE_INTS;
      const lastDoc = st[b + TS_LAST_DOC];
      let lastPos = 0;
      if (lastDoc !== doc) {
        touched[touchedCount] = id;
        touchedDelta[touchedCount] = doc - lastDoc;
        touchedCount++;
        st[b + TS_LAST_DOC] = doc;
        st[b + TS_CUR_FREQ] = 1;
      } else {
        st[b + TS_CUR_FREQ]++;
        lastPos = st[b + TS_LAST_POS];
      }
      if (hasPositions) {
        const position = positions[i];
        const delta = position - lastPos;
        st[b + TS_LAST_POS] = position;
        // Fast path: a one-byte delta where the slice is not full.
        const addr = st[b + TS_POS_WRITE];
        const block = blocks[addr >>> POOL_BLOCK_BITS];
        const o = addr & POOL_BLOCK_MASK;
        if (delta >>> 0 < 0x80 && block[o] === 0) {
          block[o] = delta;
          st[b + TS_POS_WRITE] = addr + 1;
        } else st[b + TS_POS_WRITE] = this.appendVarint(addr, delta);
      }
    }
    const hasFreqs = field.hasFreqs;
    const f64 = this.termStateF64;
    let tokens = 0;
    for (let k = 0; k < touchedCount; k++) {
      const id = touched[k];
      const b = id * TERM_STATE_INTS;
      const freq = st[b + TS_CUR_FREQ];
      const delta = touchedDelta[k];
      // Fast path: one-byte doc delta (and freq) where the slice has room (a zero byte is data room:
      // the marker byte ends it, and a slice never spans blocks).
      const addr = st[b + TS_DOC_WRITE];
      const block = blocks[addr >>> POOL_BLOCK_BITS];
      const o = addr & POOL_BLOCK_MASK;
      if (!hasFreqs) {
        if (delta < 0x80 && block[o] === 0) {
          block[o] = delta;
          st[b + TS_DOC_WRITE] = addr + 1;
        } else st[b + TS_DOC_WRITE] = this.appendVarint(addr, delta);
      } else if (delta < 0x80 && freq < 0x80 && block[o] === 0 && block[o + 1] === 0) {
        block[o] = delta;
        block[o + 1] = freq;
        st[b + TS_DOC_WRITE] = addr + 2;
      } else st[b + TS_DOC_WRITE] = this.appendVarint(this.appendVarint(addr, delta), freq);
      st[b + TS_DOC_FREQ]++;
      f64[(b >> 1) + TS_TTF_F64] += freq;
      tokens += freq;
    }
    field.docCount++;
    field.sumDocFreq += touchedCount;
    field.sumTotalTermFreq += hasFreqs ? tokens : touchedCount;
  }

  private addNumeric(name: string, doc: number, values: readonly number[]): void {
    let buf = this.numeric.get(name);
    if (buf === undefined) {
      buf = new NumericBuffer();
      this.numeric.set(name, buf);
    }
    const start = buf.count;
    const end = start + values.length;
    buf.values = growFloat64(buf.values, end);
    buf.docs = growInt32(buf.docs, end);
    for (let i = 0; i < values.length; i++) {
      buf.values[start + i] = values[i];
      buf.docs[start + i] = doc;
    }
    if (values.length > 1) buf.values.subarray(start, end).sort();
    buf.count = end;
    this.ramBytes += values.length * 12;
  }

  private addKeyword(name: string, doc: number, values: readonly string[]): void {
    let buf = this.keyword.get(name);
    if (buf === undefined) {
      buf = new KeywordBuffer();
      this.keyword.set(name, buf);
    }
    const start = buf.count;
    buf.valueOrds = growInt32(buf.valueOrds, start + values.length);
    buf.docs = growInt32(buf.docs, start + values.length);
    let count = start;
    for (const value of values) {
      let ord = buf.ords.get(value);
      if (ord === undefined) {
        ord = buf.terms.length;
        buf.terms.push(value);
        buf.ords.set(value, ord);
        this.ramBytes += value.length * 2 + MAP_ENTRY_OVERHEAD_BYTES;
      }
      // Deduplicate within the doc (values per doc are few: a linear scan is cheapest).
      let dup = false;
      for (let k = start; k < count; k++) if (buf.valueOrds[k] === ord) dup = true;
      if (dup) continue;
      buf.valueOrds[count] = ord;
      buf.docs[count] = doc;
      count++;
    }
    buf.count = count;
    this.ramBytes += (count - start) * 8;
  }
}

// ---- Freeze / thaw: shipping a retired buffer to the segment-writer thread ----
//
// `SegmentBuilder.freeze()` turns what `writeSegment` reads into plain typed arrays (no per-doc or
// per-term objects, so posting it to a worker is a handful of transfers, not a deep clone): the
// postings pool blocks and the `_source` chunks are SharedArrayBuffers from the start and are shared
// as they are (a frozen builder never writes them again: addDocument refuses), the rest is copied.
// `thawBuffer` wraps it in a read-only `SegmentSource` in the worker. Strings (ids, routings, terms) travel as UTF-16 code units joined
// into one array plus offsets: one native copy each way, and unlike UTF-8 it round-trips any JS
// string exactly (a lone surrogate would not survive UTF-8), so the worker writes byte-for-byte the
// segment the main thread would have written.

/** An inverted field as the writer sees it: options and the statistics it checks the segment against. */
export interface SegmentSourceField {
  readonly name: string;
  readonly indexOptions: IndexOptions;
  readonly hasFreqs: boolean;
  readonly hasPositions: boolean;
  readonly docCount: number;
  readonly sumTotalTermFreq: number;
  readonly sumDocFreq: number;
}

/** What `writeSegment` reads from a buffer: a SegmentBuilder, or its frozen copy in the writer thread. */
export interface SegmentSource<F extends SegmentSourceField = SegmentSourceField> {
  readonly maxDoc: number;
  storedId(doc: number): string;
  storedRouting(doc: number): string | undefined;
  source(doc: number): Uint8Array;
  /** Version columns (length ≥ maxDoc). */
  versionColumns(): { seqNo: Float64Array; version: Float64Array; primaryTerm: Float64Array };
  /** Inverted fields in first-seen order. */
  invertedFields(): F[];
  /** Norms padded to maxDoc, or null when the field has none. */
  fieldNorms(field: F): Uint8Array | null;
  /** The same terms as packed UTF-16 units with their ids (what the writer sorts and encodes). */
  fieldTermUnits(field: F): TermUnits;
  /** Decoded postings of a term (scratch arrays, valid until the next call). */
  readPostings(field: F, termId: number): BufferedPostings;
  /** Doc-values fields: numeric ones first, then keyword ones, each in first-seen order. */
  docValuesFields(): Array<{ name: string; type: 'numeric' | 'keyword' }>;
  numericColumn(name: string): NumericColumn | null;
  keywordColumn(name: string): KeywordColumn | null;
}

/** One inverted field of a FrozenBuffer: terms as UTF-16 code units + offsets, parallel term ids. */
export interface FrozenField {
  name: string;
  indexOptions: IndexOptions;
  /** Norm byte per doc (length maxDoc), or null without norms. */
  norms: Uint8Array | null;
  docCount: number;
  sumTotalTermFreq: number;
  sumDocFreq: number;
  termChars: Uint16Array;
  /** Term i is termChars[termOffsets[i], termOffsets[i + 1]) (length terms + 1). */
  termOffsets: Uint32Array;
  /** Term id of term i (an index into the per-term arrays of the FrozenBuffer). */
  termIds: Int32Array;
}

/**
 * A retired buffer as plain data for postMessage: the pool blocks and source chunks are
 * SharedArrayBuffer views (shared, never written again), every other typed array owns its
 * ArrayBuffer and is transferred (`frozenTransferList`). Per-doc arrays have length maxDoc,
 * per-term arrays length termCount.
 */
export interface FrozenBuffer {
  maxDoc: number;
  idChars: Uint16Array;
  /** Length maxDoc + 1, in UTF-16 code units. */
  idOffsets: Uint32Array;
  routingChars: Uint16Array;
  routingOffsets: Uint32Array;
  /** 1 when the doc has a routing (an empty string is a routing too). */
  hasRouting: Uint8Array;
  /** The builder's source chunks (shared memory); doc d's `_source` is chunk sourceChunk[d] (-1: empty) at sourceOffset[d], sourceLength[d] bytes. */
  sourceChunks: Uint8Array[];
  sourceChunk: Int32Array;
  sourceOffset: Uint32Array;
  sourceLength: Uint32Array;
  seqNos: Float64Array;
  versions: Float64Array;
  primaryTerms: Float64Array;
  /** The builder's postings pool blocks (POOL_BLOCK_BYTES each, shared memory). */
  poolBlocks: Uint8Array[];
  docHead: Uint32Array;
  docWrite: Uint32Array;
  posHead: Uint32Array;
  posWrite: Uint32Array;
  docFreq: Int32Array;
  fields: FrozenField[];
  /** Numeric doc values: value i belongs to doc docs[i] (docs ascending). */
  numeric: Array<{ name: string; values: Float64Array; docs: Int32Array }>;
  /** Keyword doc values: insertion-order terms, value i is term valueOrds[i] of doc docs[i]. */
  keyword: Array<{ name: string; termChars: Uint16Array; termOffsets: Uint32Array; valueOrds: Int32Array; docs: Int32Array }>;
}

/** Joins the first `count` strings into UTF-16 code units (an owned, transferable array) + offsets. */
function packStrings(strings: readonly string[], count: number): { chars: Uint16Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(count + 1);
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += strings[i].length;
    offsets[i + 1] = total;
  }
  const chars = new Uint16Array(total);
  const joined = count === strings.length ? strings.join('') : strings.slice(0, count).join('');
  // 'utf16le' copies code units as they are (lone surrogates included).
  Buffer.from(chars.buffer, chars.byteOffset, chars.byteLength).write(joined, 'utf16le');
  return { chars, offsets };
}

/** The string of all code units of a packed string array (see packStrings). */
function unpackText(chars: Uint16Array): string {
  return Buffer.from(chars.buffer, chars.byteOffset, chars.byteLength).toString('utf16le');
}

/** The ArrayBuffers of a FrozenBuffer, to pass as postMessage's transfer list. */
export function frozenTransferList(frozen: FrozenBuffer): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView | null) => {
    // Shared memory (pool, sources) is shared by postMessage, not transferred.
    if (a !== null && !(a.buffer instanceof SharedArrayBuffer)) out.add(a.buffer as ArrayBuffer);
  };
  for (const a of [frozen.idChars, frozen.idOffsets, frozen.routingChars, frozen.routingOffsets, frozen.hasRouting]) add(a);
  for (const a of [frozen.sourceChunk, frozen.sourceOffset, frozen.sourceLength, frozen.seqNos, frozen.versions, frozen.primaryTerms]) add(a);
  for (const a of [frozen.docHead, frozen.docWrite, frozen.posHead, frozen.posWrite, frozen.docFreq]) add(a);
  for (const f of frozen.fields) for (const a of [f.norms, f.termChars, f.termOffsets, f.termIds]) add(a);
  for (const n of frozen.numeric) for (const a of [n.values, n.docs]) add(a);
  for (const k of frozen.keyword) for (const a of [k.termChars, k.termOffsets, k.valueOrds, k.docs]) add(a);
  return [...out];
}

/** A field of a thawed buffer. */
interface ThawedField extends SegmentSourceField {
  readonly frozen: FrozenField;
}

/** Read-only view of a FrozenBuffer (in the writer thread) that `writeSegment` consumes. */
class ThawedBuffer implements SegmentSource<ThawedField> {
  readonly maxDoc: number;
  private readonly idText: string;
  private readonly routingText: string;
  private readonly blocks: Uint8Array[];
  private readonly fields: ThawedField[];
  private readonly scratch = new PostingsScratch();

  constructor(private readonly frozen: FrozenBuffer) {
    this.maxDoc = frozen.maxDoc;
    this.idText = unpackText(frozen.idChars);
    this.routingText = unpackText(frozen.routingChars);
    this.blocks = frozen.poolBlocks;
    this.fields = frozen.fields.map((f) => ({
      name: f.name,
      indexOptions: f.indexOptions,
      hasFreqs: f.indexOptions !== 'docs',
      hasPositions: f.indexOptions === 'positions',
      docCount: f.docCount,
      sumTotalTermFreq: f.sumTotalTermFreq,
      sumDocFreq: f.sumDocFreq,
      frozen: f,
    }));
  }

  storedId(doc: number): string {
    const o = this.frozen.idOffsets;
    return this.idText.slice(o[doc], o[doc + 1]);
  }
  storedRouting(doc: number): string | undefined {
    if (this.frozen.hasRouting[doc] === 0) return undefined;
    const o = this.frozen.routingOffsets;
    return this.routingText.slice(o[doc], o[doc + 1]);
  }
  source(doc: number): Uint8Array {
    const f = this.frozen;
    const chunk = f.sourceChunk[doc];
    if (chunk < 0) return EMPTY_BYTES;
    return f.sourceChunks[chunk].subarray(f.sourceOffset[doc], f.sourceOffset[doc] + f.sourceLength[doc]);
  }
  versionColumns(): { seqNo: Float64Array; version: Float64Array; primaryTerm: Float64Array } {
    return { seqNo: this.frozen.seqNos, version: this.frozen.versions, primaryTerm: this.frozen.primaryTerms };
  }
  invertedFields(): ThawedField[] {
    return this.fields;
  }
  fieldNorms(field: ThawedField): Uint8Array | null {
    return field.frozen.norms;
  }
  fieldTermUnits(field: ThawedField): TermUnits {
    return { chars: field.frozen.termChars, offsets: field.frozen.termOffsets, ids: field.frozen.termIds };
  }

  readPostings(field: ThawedField, termId: number): BufferedPostings {
    const f = this.frozen;
    return decodePostings(this.blocks, f.docHead[termId], f.docWrite[termId], f.posHead[termId], f.posWrite[termId], f.docFreq[termId], field, this.scratch);
  }
  docValuesFields(): Array<{ name: string; type: 'numeric' | 'keyword' }> {
    return [...this.frozen.numeric.map((n) => ({ name: n.name, type: 'numeric' as const })), ...this.frozen.keyword.map((k) => ({ name: k.name, type: 'keyword' as const }))];
  }
  numericColumn(name: string): NumericColumn | null {
    const n = this.frozen.numeric.find((x) => x.name === name);
    return n === undefined ? null : numericColumnOf({ values: n.values, docs: n.docs, count: n.values.length }, this.maxDoc);
  }
  keywordColumn(name: string): KeywordColumn | null {
    const k = this.frozen.keyword.find((x) => x.name === name);
    if (k === undefined) return null;
    const text = unpackText(k.termChars);
    const terms: string[] = [];
    for (let i = 0; i + 1 < k.termOffsets.length; i++) terms.push(text.slice(k.termOffsets[i], k.termOffsets[i + 1]));
    return keywordColumnOf({ terms, valueOrds: k.valueOrds, docs: k.docs, count: k.valueOrds.length }, this.maxDoc);
  }
}

/** The read-only SegmentSource over a FrozenBuffer (what the segment-writer thread writes from). */
export function thawBuffer(frozen: FrozenBuffer): SegmentSource {
  return new ThawedBuffer(frozen) as SegmentSource;
}
