// Goal: the shard query subset matches the right docs and scores term queries exactly as Lucene's
// BM25 (with Elasticsearch's (k1 + 1) factor) computed by hand; the top-k heap equals a full sort.
// Method: real documents parsed by lib/mapping, written to a real LMDB segment, read back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeMappings, parseDocument, type Mappings } from '../mapping/index.js';
import { SegmentBuilder } from '../segments/builder.js';
import { closeShardStorage, openShardStorage, type ShardStorage } from '../segments/env.js';
import { intToByte4, byte4ToInt } from '../segments/format/norms.js';
import { openSegmentReader } from '../segments/reader.js';
import type { SegmentSnapshot } from '../segments/types.js';
import { writeSegment } from '../segments/writer.js';
import { countQuery, executeQuery, TopKHeap } from './basic.js';

const DOCS: Record<string, Record<string, unknown>> = {
  a: { title: 'the quick brown fox', tag: 'animal', n: 1 },
  b: { title: 'the lazy dog sleeps all day long in the sun', tag: 'animal', n: 2 },
  c: { title: 'fox fox fox', tag: 'other', n: 3 },
  d: { title: 'a quick note', tag: 'other', n: 4 },
};

let dir: string;
let storage: ShardStorage;
let snapshot: SegmentSnapshot;
let mappings: Mappings = { properties: {} };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quarry-search-'));
  storage = openShardStorage(dir);
  const builder = new SegmentBuilder();
  let seqNo = 0;
  for (const [id, doc] of Object.entries(DOCS)) {
    const bytes = new TextEncoder().encode(JSON.stringify(doc));
    let parsed = parseDocument(mappings, { id, seqNo, version: 1, primaryTerm: 1 }, doc, bytes);
    if (parsed.mappingUpdate) {
      mappings = mergeMappings(mappings, parsed.mappingUpdate);
      parsed = parseDocument(mappings, { id, seqNo, version: 1, primaryTerm: 1 }, doc, bytes);
    }
    builder.addDocument(parsed.doc);
    seqNo++;
  }
  const { info } = await writeSegment(storage, 1, builder);
  const reader = openSegmentReader(storage, info);
  snapshot = { segments: [{ reader, liveDocs: null, numDocs: reader.maxDoc, liveDocsGeneration: 0 }], version: 1, release() {} };
});

afterAll(async () => {
  await closeShardStorage(storage);
  await rm(dir, { recursive: true, force: true });
});

const run = (query: Parameters<typeof executeQuery>[2], size = 10) =>
  executeQuery(snapshot, mappings, query, { size, trackTotalHitsUpTo: 10_000, fetchSource: true });

/** BM25 by hand, Lucene's formula with lengths rounded through the 1-byte norm. */
function bm25(freq: number, dl: number, avgdl: number, docFreq: number, docCount: number): number {
  const idf = Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5));
  const quantisedDl = byte4ToInt(intToByte4(dl));
  return (idf * 2.2 * freq) / (freq + 1.2 * (1 - 0.75 + (0.75 * quantisedDl) / avgdl));
}

describe('term query scoring', () => {
  it('scores a text term with BM25 to 4 significant digits', () => {
    const result = run({ kind: 'term', field: 'title', value: 'fox', boost: 1 });
    const lengths = Object.values(DOCS).map((d) => String(d.title).split(' ').length);
    const avgdl = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    expect(result.hits.map((h) => h.id)).toEqual(['c', 'a']);
    expect(result.hits[0].score).toBeCloseTo(bm25(3, 3, avgdl, 2, 4), 4);
    expect(result.hits[1].score).toBeCloseTo(bm25(1, 4, avgdl, 2, 4), 4);
    expect(result.totalHits).toBe(2);
    expect(new TextDecoder().decode(result.hits[0].source)).toBe(JSON.stringify(DOCS.c));
  });

  it('scores a keyword term as idf × boost (no norms, tf of 1)', () => {
    const result = run({ kind: 'term', field: 'tag.keyword', value: 'animal', boost: 2 });
    expect(result.hits.map((h) => h.id).sort()).toEqual(['a', 'b']);
    const idf = Math.log(1 + (4 - 2 + 0.5) / (2 + 0.5));
    for (const h of result.hits) expect(h.score).toBeCloseTo(2 * idf, 5);
  });

  it('matches numbers by value and ids, terms, bool and match_all', () => {
    expect(run({ kind: 'term', field: 'n', value: 3, boost: 1 }).hits.map((h) => h.id)).toEqual(['c']);
    expect(run({ kind: 'ids', values: ['d', 'zz', 'a'], boost: 1 }).hits.map((h) => h.id)).toEqual(['a', 'd']);
    expect(run({ kind: 'terms', field: 'n', values: [1, 4], boost: 1 }).totalHits).toBe(2);
    const bool = run({
      kind: 'bool',
      must: [{ kind: 'term', field: 'tag.keyword', value: 'other', boost: 1 }],
      filter: [],
      should: [],
      mustNot: [{ kind: 'term', field: 'title', value: 'note', boost: 1 }],
      boost: 1,
    });
    expect(bool.hits.map((h) => h.id)).toEqual(['c']);
    expect(run({ kind: 'match_all', boost: 1 }, 2).hits.map((h) => h.id)).toEqual(['a', 'b']);
    expect(countQuery(snapshot, mappings, { kind: 'match_all', boost: 1 })).toBe(4);
    const capped = executeQuery(snapshot, mappings, { kind: 'match_all', boost: 1 }, { size: 0, trackTotalHitsUpTo: 3, fetchSource: false });
    expect(capped).toMatchObject({ totalHits: 3, totalRelation: 'gte', hits: [] });
  });
});

describe('TopKHeap', () => {
  it('keeps exactly the k best of any stream, ties broken by doc order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 })), fc.integer({ min: 0, max: 8 }), (scores, k) => {
        const heap = new TopKHeap(k);
        scores.forEach((s, i) => heap.offer(s, i, 0, i));
        const expected = scores
          .map((s, i) => ({ s, i }))
          .sort((x, y) => y.s - x.s || x.i - y.i)
          .slice(0, k)
          .map((x) => x.i);
        expect(heap.sorted().map((e) => e.docKey)).toEqual(expected);
      }),
    );
  });
});
