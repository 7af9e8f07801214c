/**
 * The segments package's public contract. `lib/segments` stores analysed documents in immutable
 * segments inside one LMDB environment per shard copy. It never analyses text: callers hand it terms.
 *
 * Vocabulary (Lucene's): a *segment* is immutable once written; a *doc* is a segment-local ordinal
 * in [0, maxDoc); `numDocs` counts the live ones; *live docs* is a per-segment bitmap with its own
 * generation; a *snapshot* is a refcounted view of the segment list a searcher uses; a *commit point*
 * is the durable record of which segments (and live-docs generations) make up the shard.
 */
import type { TokenSlice } from '../common/token-run.js';

/** How much of a field's inverted data is indexed. */
export type IndexOptions = 'docs' | 'freqs' | 'positions';

/** Doc-values column types. keyword: sorted set of strings; numeric: sorted numbers (long, double, date as epoch ms, boolean as 0/1). */
export type DocValuesType = 'keyword' | 'numeric';

/** One inverted field of one document, already analysed. */
export interface InvertedFieldInput {
  field: string;
  indexOptions: IndexOptions;
  /** Whether a 1-byte norm (Lucene's encoding of the field length) is stored for BM25. */
  norms: boolean;
  /**
   * The field's tokens: either `terms` as strings in token order (`positions[i]` is the position of
   * `terms[i]`; omit positions for docs/freqs: 0..n-1 assumed), or `tokens`, a slice of a token run
   * (the analysis chain's output: code units, positions and hashes, no string per token). Exactly one
   * of the two. A run slice must still be current (its run not reset) when the builder consumes it.
   */
  terms?: readonly string[];
  positions?: Uint32Array | number[];
  tokens?: TokenSlice;
  /** Field length for norms: number of tokens (Lucene counts positions, not unique terms). */
  length: number;
}

/** One doc-values entry of one document. */
export interface DocValuesInput {
  field: string;
  type: DocValuesType;
  /** keyword: strings; numeric: numbers. Several values per doc are allowed (arrays). */
  values: Array<string | number>;
}

/** A document as the buffer receives it: metadata, stored source, and analysed fields. */
export interface DocumentInput {
  id: string;
  seqNo: number;
  version: number;
  primaryTerm: number;
  routing?: string;
  /** `_source` as UTF-8 JSON bytes, stored verbatim (compressed in blocks). */
  source: Uint8Array;
  inverted: InvertedFieldInput[];
  docValues: DocValuesInput[];
}

/** Per-field statistics of a segment (for BM25: docCount and sumTotalTermFreq give avgdl). */
export interface FieldStats {
  /** Docs in the segment that have this field (deleted included, as in Lucene). */
  docCount: number;
  sumTotalTermFreq: number;
  sumDocFreq: number;
}

/** Metadata describing one written segment (kept in commit points and in memory). */
export interface SegmentInfo {
  id: number;
  /** Docs ever written to the segment (deleted included). */
  maxDoc: number;
  /** Approximate bytes the segment occupies in LMDB (for the merge policy and `_segments`). */
  sizeBytes: number;
  /** Format version recorded with the segment. */
  formatVersion: number;
  /** Min and max `_seq_no` of docs in the segment. */
  minSeqNo: number;
  maxSeqNo: number;
  createdAtMs: number;
  /** 'refresh' | 'merge'. */
  source: 'refresh' | 'merge';
}

/** Metadata stored with the postings of one term. */
export interface TermInfo {
  docFreq: number;
  totalTermFreq: number;
}

/** A cursor over one term's postings in one segment, in increasing doc order (deleted docs included). */
export interface PostingsCursor {
  /** The current doc, or NO_MORE_DOCS. Starts before the first doc (-1). */
  doc: number;
  /** Advances to the next doc; returns it (or NO_MORE_DOCS). */
  next(): number;
  /** Advances to the first doc ≥ target; returns it (or NO_MORE_DOCS). */
  advance(target: number): number;
  /** Term frequency in the current doc (1 when the field indexes docs only). */
  freq(): number;
  /** Positions of the term in the current doc (empty when positions are not indexed). */
  positions(): Uint32Array;
  /** The term's docFreq: how many docs this cursor visits at most (a cost estimate for query planning). */
  readonly cost: number;
  /**
   * Block-max support (block-max WAND / MaxScore). Postings are stored in blocks of 128 docs; the
   * *current block* is the block holding the current doc, or a later one chosen by `advanceShallow`.
   * Moves the current block to the first block whose last doc is ≥ target, without decoding it or
   * moving `doc`; returns that block's last doc, or NO_MORE_DOCS when no block reaches target.
   * Never moves backwards (a target below the current block's first doc leaves it in place).
   */
  advanceShallow(target: number): number;
  /** Last doc of the current block (NO_MORE_DOCS once past the last block). */
  blockLastDoc(): number;
  /** Highest freq of any doc in the current block (1 for docs-only fields). */
  blockMaxFreq(): number;
  /**
   * Smallest norm byte of any doc in the current block (the shortest field, since the encoding is
   * monotonic); 0 when the field has no norms. With blockMaxFreq it bounds the BM25 score of the block.
   */
  blockMinNorm(): number;
}

/** A numeric doc-values column: doc d's values are values[offsets[d] .. offsets[d+1]) (sorted ascending). */
export interface NumericColumn {
  /** maxDoc + 1 entries; null when every doc has exactly one value (doc d's value is values[d]). */
  offsets: Uint32Array | null;
  values: Float64Array;
}

/** A keyword doc-values column: sorted unique terms (UTF-8 byte order) and per-doc ordinals into them. */
export interface KeywordColumn {
  /** The segment's unique values, sorted by UTF-8 bytes; an ordinal is an index into it. */
  terms: string[];
  /** maxDoc + 1 entries: doc d's ordinals are ords[offsets[d] .. offsets[d+1]) (ascending, unique). */
  offsets: Uint32Array;
  ords: Int32Array;
}

/** Sentinel past the last doc. */
export const NO_MORE_DOCS = 0x7fffffff;

/** The metadata fields stored per doc. */
export interface StoredDocMeta {
  id: string;
  seqNo: number;
  version: number;
  primaryTerm: number;
  routing?: string;
}

/** Read access to one segment. Instances are shared by snapshots; never mutated once opened. */
export interface SegmentReader {
  readonly info: SegmentInfo;
  readonly maxDoc: number;
  /** Term metadata, or null when the term does not occur. */
  termInfo(field: string, term: string): TermInfo | null;
  /** A cursor over the term's postings, or null when the term does not occur. */
  postings(field: string, term: string): PostingsCursor | null;
  /** Terms of a field in byte order, from `fromTerm` (inclusive) while `filter` accepts; for prefix/range/wildcard later. */
  terms(field: string, fromTerm?: string): Iterable<[term: string, info: TermInfo]>;
  /** Field statistics, or null when no doc has the field. */
  fieldStats(field: string): FieldStats | null;
  /** Fields that have inverted data in this segment. */
  fields(): string[];
  /** One byte per doc (Lucene's SmallFloat encoding of the field length), or null without norms. */
  norms(field: string): Uint8Array | null;
  /** Numeric doc values of a doc (empty when none). */
  numericValues(field: string, doc: number): number[];
  /** Keyword doc values of a doc (empty when none), sorted, deduplicated. */
  keywordValues(field: string, doc: number): string[];
  /** The stored `_source` bytes of a doc. */
  source(doc: number): Uint8Array;
  /** The stored metadata of a doc. */
  meta(doc: number): StoredDocMeta;
  /** The doc holding this `_id` (the last one written, deleted or not), or -1. */
  lookupId(id: string): number;
  /** Whole numeric doc-values column (for sort and aggregations), or null when no doc has the field. */
  numericColumn(field: string): NumericColumn | null;
  /** Whole keyword doc-values column (for sort and aggregations), or null when no doc has the field. */
  keywordColumn(field: string): KeywordColumn | null;
  /** `_seq_no`, `_version` and `_primary_term` of a doc without reading its stored block (version lookups, hits). */
  seqNo(doc: number): number;
  version(doc: number): number;
  primaryTerm(doc: number): number;
}

/** A segment in a snapshot: the reader plus the live docs that snapshot sees. */
export interface SnapshotSegment {
  reader: SegmentReader;
  /** Bit i set ⇔ doc i is live. null ⇔ every doc is live. */
  liveDocs: Uint8Array | null;
  /** Live doc count. */
  numDocs: number;
  liveDocsGeneration: number;
}

/** A refcounted, immutable view of the shard's segments. Release it when done. */
export interface SegmentSnapshot {
  readonly segments: readonly SnapshotSegment[];
  /** Increments when refresh or merge publishes a new view. */
  readonly version: number;
  release(): void;
}

/** The durable record of a shard: which segments (and live-docs generations) it consists of. */
export interface CommitPoint {
  /** Increments with each commit. */
  generation: number;
  segments: Array<{ info: SegmentInfo; liveDocsGeneration: number; delCount: number }>;
  /** Opaque to lib/segments: the engine stores max seq_no, local checkpoint, translog uuid/generation here. */
  userData: Record<string, string | number>;
}

/** Tunables of the tiered merge policy (see merge-policy.ts for what each does). */
export interface MergePolicyOptions {
  segmentsPerTier: number;
  maxMergeAtOnce: number;
  floorSegmentBytes: number;
  maxMergedSegmentBytes: number;
  deletesPctAllowed: number;
}

/** Counters for `_stats` and `_segments`. */
export interface SegmentStats {
  count: number;
  docCount: number;
  deletedDocCount: number;
  sizeBytes: number;
  refreshTotal: number;
  refreshTimeMs: number;
  flushTotal: number;
  flushTimeMs: number;
  mergeTotal: number;
  mergeTimeMs: number;
  mergeDocs: number;
  mergeSizeBytes: number;
  currentMerges: number;
}
