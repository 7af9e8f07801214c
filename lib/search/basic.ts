/**
 * Shard-level execution of the query subset this issue needs (match_all, match_none, ids, term,
 * terms, bool) over a segment snapshot: matching, Lucene BM25 scoring of term queries, a bounded top-k
 * heap and hit counting. The full query DSL, block-max WAND and aggregations replace the evaluator
 * with the search issue; the top-k and the hit layout stay.
 *
 * Evaluation is per segment over dense arrays (a score and a match flag per doc): simple and fast for
 * the filters here, O(maxDoc) per clause.
 */
import { QuarryError } from '../common/errors.js';
import type { QueryNode as ShardQuery } from '../query/ast.js';
import { childQueries } from '../query/dsl.js';
import { resolveMinimumShouldMatch } from '../query/minimum-should-match.js';
import type { ShardHit, ShardSearchResult } from '../query/results.js';
import { numericTerm, parseDate, resolveField, type Mappings } from '../mapping/index.js';
import { NO_MORE_DOCS, type SegmentSnapshot, type SnapshotSegment } from '../segments/types.js';
import { NORM_DECODE_TABLE } from '../segments/format/norms.js';

/** Lucene BM25 defaults (Elasticsearch's LegacyBM25Similarity keeps the (k1 + 1) factor). */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** Per-segment match state: which docs match and their scores. */
interface SegmentMatches {
  matched: Uint8Array;
  scores: Float64Array;
}

/** Collection-wide statistics of one field/term over the snapshot (Lucene's CollectionStatistics/TermStatistics). */
interface TermStats {
  docCount: number;
  sumTotalTermFreq: number;
  docFreq: number;
}

/** Options of one shard query. */
export interface ExecuteOptions {
  size: number;
  trackTotalHitsUpTo: number;
  fetchSource: boolean;
}

/** Runs `query` over `snapshot` and returns the top `size` hits with sources (query + fetch in one). */
export function executeQuery(snapshot: SegmentSnapshot, mappings: Mappings, query: ShardQuery, options: ExecuteOptions): ShardSearchResult {
  checkExecutable(query);
  const heap = new TopKHeap(options.size);
  let total = 0;
  let maxScore = -Infinity;
  let docBase = 0;
  const segs = snapshot.segments;
  for (let s = 0; s < segs.length; s++) {
    const seg = segs[s];
    const m = evaluate(snapshot, seg, mappings, query);
    const { matched, scores } = m;
    const live = seg.liveDocs;
    for (let doc = 0; doc < matched.length; doc++) {
      if (matched[doc] === 0) continue;
      if (live && (live[doc >>> 3] & (1 << (doc & 7))) === 0) continue;
      total++;
      const score = scores[doc];
      if (score > maxScore) maxScore = score;
      heap.offer(score, docBase + doc, s, doc);
    }
    docBase += seg.reader.maxDoc;
  }
  const hits: ShardHit[] = heap.sorted().map((h) => {
    const reader = segs[h.segment].reader;
    const meta = reader.meta(h.doc);
    return {
      id: meta.id,
      score: h.score,
      docKey: h.docKey,
      routing: meta.routing,
      source: options.fetchSource ? reader.source(h.doc) : undefined,
      version: meta.version,
      seqNo: meta.seqNo,
      primaryTerm: meta.primaryTerm,
    };
  });
  const relation = total > options.trackTotalHitsUpTo ? 'gte' : 'eq';
  return {
    hits,
    totalHits: relation === 'gte' ? options.trackTotalHitsUpTo : total,
    totalRelation: relation,
    maxScore: total > 0 ? maxScore : null,
  };
}

/** Counts matching live docs (for `_count`). */
export function countQuery(snapshot: SegmentSnapshot, mappings: Mappings, query: ShardQuery): number {
  checkExecutable(query);
  let total = 0;
  for (const seg of snapshot.segments) {
    const { matched } = evaluate(snapshot, seg, mappings, query);
    const live = seg.liveDocs;
    for (let doc = 0; doc < matched.length; doc++) {
      if (matched[doc] !== 0 && (!live || (live[doc >>> 3] & (1 << (doc & 7))) !== 0)) total++;
    }
  }
  return total;
}

/** The node kinds this evaluator runs; the parser knows the whole DSL, execution grows with the search issue. */
const EXECUTABLE_KINDS: ReadonlySet<string> = new Set(['match_all', 'match_none', 'ids', 'term', 'terms', 'bool']);

/**
 * Refuses, before touching any segment (so an empty shard answers the same), a query holding a node
 * this evaluator cannot run: 400 query_shard_exception naming the query type.
 */
export function checkExecutable(query: ShardQuery): void {
  const stack: ShardQuery[] = [query];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (!EXECUTABLE_KINDS.has(node.kind)) {
      throw new QuarryError('query_shard_exception', `query [${node.kind}] is not supported yet (supported: match_all, match_none, ids, term, terms, bool)`);
    }
    if (node.kind === 'term' && node.caseInsensitive === true) {
      throw new QuarryError('query_shard_exception', '[term] case_insensitive is not supported yet');
    }
    stack.push(...childQueries(node));
  }
}

function newMatches(maxDoc: number): SegmentMatches {
  return { matched: new Uint8Array(maxDoc), scores: new Float64Array(maxDoc) };
}

function evaluate(snapshot: SegmentSnapshot, seg: SnapshotSegment, mappings: Mappings, query: ShardQuery): SegmentMatches {
  const maxDoc = seg.reader.maxDoc;
  switch (query.kind) {
    case 'match_all': {
      const m = newMatches(maxDoc);
      m.matched.fill(1);
      m.scores.fill(query.boost);
      return m;
    }
    case 'match_none':
      return newMatches(maxDoc);
    case 'ids': {
      const m = newMatches(maxDoc);
      for (const id of query.values) {
        const doc = seg.reader.lookupId(id);
        if (doc >= 0) {
          m.matched[doc] = 1;
          m.scores[doc] = query.boost;
        }
      }
      return m;
    }
    case 'term':
      return termMatches(snapshot, seg, query.field, termText(mappings, query.field, query.value), query.boost, true);
    case 'terms': {
      const m = newMatches(maxDoc);
      for (const value of query.values) {
        const t = termMatches(snapshot, seg, query.field, termText(mappings, query.field, value), query.boost, false);
        for (let d = 0; d < maxDoc; d++) if (t.matched[d]) m.matched[d] = 1;
      }
      for (let d = 0; d < maxDoc; d++) if (m.matched[d]) m.scores[d] = query.boost;
      return m;
    }
    case 'bool':
      return boolMatches(snapshot, seg, mappings, query);
    default:
      // checkExecutable refused every other kind before evaluation started.
      throw new QuarryError('query_shard_exception', `query [${query.kind}] is not supported yet`);
  }
}

function boolMatches(snapshot: SegmentSnapshot, seg: SnapshotSegment, mappings: Mappings, query: Extract<ShardQuery, { kind: 'bool' }>): SegmentMatches {
  const maxDoc = seg.reader.maxDoc;
  const m = newMatches(maxDoc);
  const required = [...query.must, ...query.filter];
  m.matched.fill(1);
  for (const clause of query.must) {
    const c = evaluate(snapshot, seg, mappings, clause);
    for (let d = 0; d < maxDoc; d++) {
      if (c.matched[d] === 0) m.matched[d] = 0;
      else m.scores[d] += c.scores[d];
    }
  }
  for (const clause of query.filter) {
    const c = evaluate(snapshot, seg, mappings, clause);
    for (let d = 0; d < maxDoc; d++) if (c.matched[d] === 0) m.matched[d] = 0;
  }
  // Elasticsearch: with no must/filter clause at least one should clause must match.
  // The spec resolves against this bool's should count (Elasticsearch: Queries.calculateMinShouldMatch);
  // it is not capped, so asking for more should clauses than exist matches nothing, as in Lucene. A bool
  // without must/filter clauses needs one should clause whatever the spec says (Lucene's disjunction).
  let minShould = query.minimumShouldMatch !== undefined ? resolveMinimumShouldMatch(query.minimumShouldMatch, query.should.length) : 0;
  if (minShould === 0 && required.length === 0 && query.should.length > 0) minShould = 1;
  if (query.should.length > 0) {
    const counts = new Uint16Array(maxDoc);
    for (const clause of query.should) {
      const c = evaluate(snapshot, seg, mappings, clause);
      for (let d = 0; d < maxDoc; d++) {
        if (c.matched[d] !== 0) {
          counts[d]++;
          m.scores[d] += c.scores[d];
        }
      }
    }
    if (minShould > 0) for (let d = 0; d < maxDoc; d++) if (counts[d] < minShould) m.matched[d] = 0;
  }
  for (const clause of query.mustNot) {
    const c = evaluate(snapshot, seg, mappings, clause);
    for (let d = 0; d < maxDoc; d++) if (c.matched[d] !== 0) m.matched[d] = 0;
  }
  if (query.boost !== 1) for (let d = 0; d < maxDoc; d++) m.scores[d] *= query.boost;
  // A bool of only filter/must_not clauses scores 0, as in Elasticsearch.
  return m;
}

/** The indexed term for a query value: numbers and dates in their canonical form, booleans as text. */
function termText(mappings: Mappings, field: string, value: string | number | boolean): string {
  const type = resolveField(mappings, field)?.type;
  if (type === 'date') {
    const ms = parseDate(value);
    return Number.isNaN(ms) ? String(value) : String(ms);
  }
  if (type === 'boolean') return String(value === true || value === 'true');
  if (typeof value === 'number') return numericTerm(value);
  if (type && ['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float'].includes(type)) {
    const n = Number(value);
    return Number.isNaN(n) ? String(value) : numericTerm(n);
  }
  return String(value);
}

/** Term statistics summed over every segment of the snapshot (deleted docs included, as Lucene counts). */
function collectTermStats(snapshot: SegmentSnapshot, field: string, term: string): TermStats {
  const stats: TermStats = { docCount: 0, sumTotalTermFreq: 0, docFreq: 0 };
  for (const seg of snapshot.segments) {
    const fs = seg.reader.fieldStats(field);
    if (fs) {
      stats.docCount += fs.docCount;
      stats.sumTotalTermFreq += fs.sumTotalTermFreq;
    }
    const ti = seg.reader.termInfo(field, term);
    if (ti) stats.docFreq += ti.docFreq;
  }
  return stats;
}

/** BM25 idf as Lucene computes it. */
export function bm25Idf(docFreq: number, docCount: number): number {
  return Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5));
}

function termMatches(snapshot: SegmentSnapshot, seg: SnapshotSegment, field: string, term: string, boost: number, scored: boolean): SegmentMatches {
  const maxDoc = seg.reader.maxDoc;
  const m = newMatches(maxDoc);
  const cursor = seg.reader.postings(field, term);
  if (!cursor) return m;
  if (!scored) {
    for (let doc = cursor.next(); doc !== NO_MORE_DOCS; doc = cursor.next()) m.matched[doc] = 1;
    return m;
  }
  const stats = collectTermStats(snapshot, field, term);
  const idf = bm25Idf(stats.docFreq, stats.docCount);
  const avgdl = stats.docCount > 0 ? stats.sumTotalTermFreq / stats.docCount : 1;
  const norms = seg.reader.norms(field);
  const weight = boost * idf * (BM25_K1 + 1);
  for (let doc = cursor.next(); doc !== NO_MORE_DOCS; doc = cursor.next()) {
    const freq = cursor.freq();
    const dl = norms ? NORM_DECODE_TABLE[norms[doc]] : 1;
    m.matched[doc] = 1;
    m.scores[doc] = (weight * freq) / (freq + BM25_K1 * (1 - BM25_B + (BM25_B * dl) / avgdl));
  }
  return m;
}

/** One candidate hit in the top-k heap. */
interface HeapEntry {
  score: number;
  docKey: number;
  segment: number;
  doc: number;
}

/**
 * A bounded min-heap keeping the best `k` hits by (score desc, docKey asc): the order Lucene's
 * TopScoreDocCollector yields, so ties break by index order deterministically.
 */
export class TopKHeap {
  private readonly entries: HeapEntry[] = [];
  constructor(private readonly k: number) {}

  /** Whether `a` ranks below `b` (worse score, or equal score and later doc). */
  private static worse(a: HeapEntry, b: HeapEntry): boolean {
    return a.score < b.score || (a.score === b.score && a.docKey > b.docKey);
  }

  offer(score: number, docKey: number, segment: number, doc: number): void {
    if (this.k <= 0) return;
    const e = this.entries;
    if (e.length < this.k) {
      e.push({ score, docKey, segment, doc });
      this.siftUp(e.length - 1);
      return;
    }
    const top = e[0];
    if (score < top.score || (score === top.score && docKey > top.docKey)) return;
    e[0] = { score, docKey, segment, doc };
    this.siftDown(0);
  }

  /** The kept hits, best first. */
  sorted(): HeapEntry[] {
    return [...this.entries].sort((a, b) => (b.score - a.score) || (a.docKey - b.docKey));
  }

  private siftUp(i: number): void {
    const e = this.entries;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!TopKHeap.worse(e[i], e[parent])) break;
      [e[i], e[parent]] = [e[parent], e[i]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const e = this.entries;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < e.length && TopKHeap.worse(e[l], e[w])) w = l;
      if (r < e.length && TopKHeap.worse(e[r], e[w])) w = r;
      if (w === i) return;
      [e[i], e[w]] = [e[w], e[i]];
      i = w;
    }
  }
}
