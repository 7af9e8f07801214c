/**
 * Test support for lib/segments: random analysed documents (fast-check) and a naive in-memory model
 * of what any SegmentReader over those documents must return, compared field by field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { closeShardStorage, openShardStorage, type ShardStorage } from '../env.js';
import { NO_MORE_DOCS, type DocumentInput, type IndexOptions, type SegmentReader } from '../types.js';
import { intToByte4 } from './norms.js';

/** Field layout of the random documents: one per index option, with and without norms. */
export const TEST_FIELDS: Array<{ field: string; indexOptions: IndexOptions; norms: boolean }> = [
  { field: 'title', indexOptions: 'positions', norms: true },
  { field: 'body', indexOptions: 'freqs', norms: true },
  { field: 'tags', indexOptions: 'docs', norms: false },
  { field: 'näme.ü', indexOptions: 'positions', norms: false },
];

/** A small vocabulary so terms repeat; includes multi-byte, supplementary and private-use characters (UTF-8 order). */
const VOCABULARY = ['a', 'b', 'apple', 'app', 'zeta', 'é', '日本', '\u{1d4b3}', '\ue000', 'x y', 'Z', '0'];

const termArb = fc.constantFrom(...VOCABULARY);

/** A random analysed document (seqNo and ids filled in by `docsArb`). */
const docBodyArb = fc.record({
  fields: fc.tuple(
    ...TEST_FIELDS.map(() =>
      fc.option(
        fc.record({
          terms: fc.array(termArb, { maxLength: 12 }),
          gaps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 12, maxLength: 12 }),
          extraLength: fc.integer({ min: 0, max: 40 }),
        }),
        { freq: 4 },
      ),
    ),
  ),
  numbers: fc.option(fc.array(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxLength: 3 })),
  keywords: fc.option(fc.array(fc.constantFrom(...VOCABULARY, 'k1', 'k2'), { maxLength: 3 })),
  routing: fc.option(fc.string({ maxLength: 4 })),
  source: fc.uint8Array({ maxLength: 64 }),
  version: fc.integer({ min: 1, max: 1_000_000 }),
  primaryTerm: fc.integer({ min: 1, max: 5 }),
});

/** Random documents; ids repeat sometimes (unicode included) so `lookupId` must find the latest. */
export function docsArb(maxDocs: number): fc.Arbitrary<DocumentInput[]> {
  return fc
    .array(fc.tuple(docBodyArb, fc.oneof(fc.constantFrom('id-1', 'id-2', 'ü\u{1f600}'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }))), {
      maxLength: maxDocs,
    })
    .map((items) =>
      items.map(([body, id], i): DocumentInput => {
        const inverted = [];
        for (let f = 0; f < TEST_FIELDS.length; f++) {
          const spec = body.fields[f];
          if (spec === null) continue;
          let position = 0;
          const positions = spec.terms.map((_, k) => (position += k === 0 ? spec.gaps[0] : spec.gaps[k]));
          inverted.push({
            field: TEST_FIELDS[f].field,
            indexOptions: TEST_FIELDS[f].indexOptions,
            norms: TEST_FIELDS[f].norms,
            terms: spec.terms,
            positions,
            length: spec.terms.length + (spec.terms.length > 0 ? spec.extraLength : 0),
          });
        }
        const docValues: DocumentInput['docValues'] = [];
        if (body.numbers !== null && body.numbers.length > 0) docValues.push({ field: 'n', type: 'numeric', values: body.numbers });
        if (body.keywords !== null && body.keywords.length > 0) docValues.push({ field: 'k', type: 'keyword', values: body.keywords });
        return {
          id,
          seqNo: i * 3 + (i % 2),
          version: body.version,
          primaryTerm: body.primaryTerm,
          ...(body.routing === null ? {} : { routing: body.routing }),
          source: body.source,
          inverted,
          docValues,
        };
      }),
    );
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The naive model: postings as (doc, freq, positions) lists per field and term. */
export function buildModel(docs: DocumentInput[]) {
  const postings = new Map<string, Map<string, Array<{ doc: number; freq: number; positions: number[] }>>>();
  docs.forEach((doc, d) => {
    const fields = [...doc.inverted, { field: '_id', indexOptions: 'docs' as IndexOptions, norms: false, terms: [doc.id], length: 1, positions: [0] }];
    for (const input of fields) {
      if (input.terms!.length === 0) continue;
      let byTerm = postings.get(input.field);
      if (byTerm === undefined) postings.set(input.field, (byTerm = new Map()));
      input.terms!.forEach((term, k) => {
        let list = byTerm!.get(term);
        if (list === undefined) byTerm!.set(term, (list = []));
        let last = list[list.length - 1];
        if (last === undefined || last.doc !== d) list.push((last = { doc: d, freq: 0, positions: [] }));
        last.freq++;
        last.positions.push(Number(input.positions ? input.positions[k] : k));
      });
    }
  });
  return postings;
}

/** Asserts that `reader` returns exactly what the model of `docs` says, for every API of SegmentReader. */
export function expectReaderMatches(reader: SegmentReader, docs: DocumentInput[]): void {
  expect(reader.maxDoc).toBe(docs.length);
  const model = buildModel(docs);
  const fieldOptions = new Map<string, { indexOptions: IndexOptions; norms: boolean }>();
  for (const doc of docs) for (const f of doc.inverted) fieldOptions.set(f.field, f);
  fieldOptions.set('_id', { indexOptions: 'docs', norms: false });
  if (docs.length > 0) expect(new Set(reader.fields())).toEqual(new Set([...new Set(docs.flatMap((d) => d.inverted.filter((f) => f.terms!.length > 0).map((f) => f.field))), '_id']));
  for (const [field, byTerm] of model) {
    const options = fieldOptions.get(field)!;
    const hasFreqs = options.indexOptions !== 'docs';
    const hasPositions = options.indexOptions === 'positions';
    // Terms in UTF-8 byte order, with their stats.
    const expectedTerms = [...byTerm.keys()].sort(utf8Order);
    expect([...reader.terms(field)].map(([t]) => t)).toEqual(expectedTerms);
    const from = expectedTerms[Math.floor(expectedTerms.length / 2)];
    if (from !== undefined) expect([...reader.terms(field, from)].map(([t]) => t)).toEqual(expectedTerms.filter((t) => utf8Order(t, from) >= 0));
    let sumTotalTermFreq = 0;
    let sumDocFreq = 0;
    const docsWithField = new Set<number>();
    for (const [term, list] of byTerm) {
      const totalTermFreq = hasFreqs ? list.reduce((a, p) => a + p.freq, 0) : list.length;
      sumTotalTermFreq += totalTermFreq;
      sumDocFreq += list.length;
      for (const p of list) docsWithField.add(p.doc);
      expect(reader.termInfo(field, term)).toEqual({ docFreq: list.length, totalTermFreq });
      const cursor = reader.postings(field, term)!;
      expect(cursor.cost).toBe(list.length);
      for (const p of list) {
        expect(cursor.next()).toBe(p.doc);
        expect(cursor.freq()).toBe(hasFreqs ? p.freq : 1);
        expect([...cursor.positions()]).toEqual(hasPositions ? p.positions : []);
      }
      expect(cursor.next()).toBe(NO_MORE_DOCS);
      // advance() to each listed doc from a fresh cursor.
      const skipper = reader.postings(field, term)!;
      for (const p of list.filter((_, i) => i % 2 === 1)) expect(skipper.advance(p.doc)).toBe(p.doc);
    }
    expect(reader.termInfo(field, 'not-a-term')).toBeNull();
    expect(reader.postings(field, 'not-a-term')).toBeNull();
    expect(reader.fieldStats(field)).toEqual({ docCount: docsWithField.size, sumTotalTermFreq, sumDocFreq });
    if (options.norms) {
      const expectedNorms = docs.map((doc) => {
        const input = doc.inverted.find((f) => f.field === field);
        return input && input.terms!.length > 0 ? intToByte4(input.length) : 0;
      });
      expect([...reader.norms(field)!]).toEqual(expectedNorms);
    } else expect(reader.norms(field)).toBeNull();
  }
  expect(reader.fieldStats('missing')).toBeNull();
  expect(reader.termInfo('missing', 'a')).toBeNull();

  const latest = new Map<string, number>();
  docs.forEach((doc, d) => {
    latest.set(doc.id, d);
    expect(Buffer.from(reader.source(d))).toEqual(Buffer.from(doc.source));
    const meta = { id: doc.id, seqNo: doc.seqNo, version: doc.version, primaryTerm: doc.primaryTerm, ...(doc.routing === undefined ? {} : { routing: doc.routing }) };
    expect(reader.meta(d)).toEqual(meta);
    expect(reader.seqNo(d)).toBe(doc.seqNo);
    expect(reader.version(d)).toBe(doc.version);
    expect(reader.primaryTerm(d)).toBe(doc.primaryTerm);
    const numbers = doc.docValues.find((v) => v.field === 'n');
    // Float64Array order: -0 before 0 is not guaranteed either way, so compare as a sorted multiset.
    expect(reader.numericValues('n', d)).toEqual(numbers ? [...Float64Array.from(numbers.values as number[]).sort()] : []);
    const keywords = doc.docValues.find((v) => v.field === 'k');
    expect(reader.keywordValues('k', d)).toEqual(keywords ? [...new Set(keywords.values as string[])].sort(utf8Order) : []);
  });
  for (const [id, d] of latest) expect(reader.lookupId(id)).toBe(d);
  expect(reader.lookupId('no-such-id')).toBe(-1);
  const keywordColumn = reader.keywordColumn('k');
  if (keywordColumn !== null) expect(keywordColumn.terms).toEqual([...keywordColumn.terms].sort(utf8Order));
  if (!docs.some((d) => d.docValues.some((v) => v.field === 'n'))) expect(reader.numericColumn('n')).toBeNull();
}

/** A fresh shard storage in a temp dir, and its cleanup. */
export function tempStorage(): { storage: ShardStorage; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'quarry-segments-'));
  const storage = openShardStorage(dir);
  return {
    storage,
    cleanup: async () => {
      await closeShardStorage(storage);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
