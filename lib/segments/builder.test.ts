// Goal: the builder's term table (open addressing over a char pool, keyed by UTF-16 units and the
// token-run hash) indexes exactly what the string path and the naive model say, whether terms come as
// strings or as token-run slices, through collisions, growth from a tiny table, long terms,
// surrogates, and the same term in several fields; and it validates token slices like strings.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { termHashOfString, TokenRun } from '../common/token-run.js';
import { SegmentBuilder, thawBuffer } from './builder.js';
import type { ShardStorage } from './env.js';
import { SEGMENT_TERM_MAX_BYTES } from './format/keys.js';
import { docsArb, expectReaderMatches, tempStorage } from './format/model.test-helper.js';
import { openSegmentReader } from './reader.js';
import type { DocumentInput, InvertedFieldInput } from './types.js';
import { writeSegment, writeSegmentFrom } from './writer.js';

/** The same document with the chosen fields handed over as slices of one token run (as parseDocument does). */
function asTokenSlices(doc: DocumentInput, pick: (field: number) => boolean, run = new TokenRun(8, 4)): DocumentInput {
  run.reset();
  // Interleave: every picked field's tokens go in, then the slices are taken (one run per doc).
  const ranges: Array<[number, number] | null> = doc.inverted.map((input, f) => {
    if (!pick(f)) return null;
    const from = run.count;
    input.terms!.forEach((term, k) => run.pushString(term, input.positions === undefined ? k : Number(input.positions[k])));
    return [from, run.count];
  });
  const inverted = doc.inverted.map((input, f): InvertedFieldInput => {
    const range = ranges[f];
    if (range === null) return input;
    return { field: input.field, indexOptions: input.indexOptions, norms: input.norms, length: input.length, tokens: run.slice(range[0], range[1]) };
  });
  return { ...doc, inverted };
}

const base = { seqNo: 0, version: 1, primaryTerm: 1, source: new Uint8Array(), docValues: [] };

/** Two different strings with the same term hash (a birthday search; the hash is 32 bits). */
function collidingPair(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const term = `t${i.toString(36)}`;
    const hash = termHashOfString(term);
    const other = seen.get(hash);
    if (other !== undefined) return [other, term];
    seen.set(hash, term);
  }
}

describe('SegmentBuilder term table', () => {
  let storage: ShardStorage;
  let cleanup: () => Promise<void>;
  let nextSegmentId = 1;
  beforeAll(() => ({ storage, cleanup } = tempStorage()));
  afterAll(async () => cleanup());

  it('indexes token slices exactly like string terms, from a 2-slot table that must grow', async () => {
    await fc.assert(
      fc.asyncProperty(docsArb(30), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), async (docs, picks) => {
        const builder = new SegmentBuilder({ termSlotsInitial: 2 });
        const run = new TokenRun(8, 4); // reused per doc, as the shard reuses its arena
        for (const doc of docs) builder.addDocument(asTokenSlices(doc, (f) => picks[f % picks.length], run));
        expectReaderMatches(builder.asReader(), docs);
        const { info } = await writeSegment(storage, nextSegmentId++, builder);
        expectReaderMatches(openSegmentReader(storage, info), docs);
      }),
      { numRuns: 40, seed: 20261125 },
    );
  });

  it('chains postings slices through multi-byte varints (doc gaps, position gaps and freqs ≥ 128), also from a frozen copy', async () => {
    // Docs: a common term repeated up to 300 times at gaps up to 2^21, a rare term 200+ docs apart.
    const docArb = fc.record({
      reps: fc.integer({ min: 0, max: 300 }),
      gap: fc.integer({ min: 0, max: 1 << 21 }),
      rare: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(docArb, { minLength: 250, maxLength: 600 }), async (specs) => {
        const docs: DocumentInput[] = specs.map((spec, d) => {
          const terms: string[] = [];
          const positions: number[] = [];
          let position = 0;
          for (let k = 0; k < spec.reps; k++) {
            terms.push(k % 3 === 0 ? 'b' : 'a');
            positions.push((position += k % 7 === 0 ? spec.gap : 1));
          }
          if (spec.rare && d % 211 === 0) {
            terms.push('z');
            positions.push(position);
          }
          const length = terms.length;
          return {
            ...base,
            id: `d${d}`,
            inverted: [
              { field: 'body', indexOptions: 'positions', norms: true, length, terms, positions },
              { field: 'tags', indexOptions: 'freqs', norms: false, length, terms: [...terms] },
            ],
          };
        });
        const builder = new SegmentBuilder({ termSlotsInitial: 2 });
        for (const doc of docs) builder.addDocument(doc);
        expectReaderMatches(builder.asReader(), docs);
        const thawed = thawBuffer(builder.freeze());
        const info = await writeSegmentFrom(storage, nextSegmentId++, thawed);
        expectReaderMatches(openSegmentReader(storage, info), docs);
      }),
      { numRuns: 6, seed: 20261125 },
    );
  });

  it('keeps terms with equal hashes apart, and the same term in two fields apart', () => {
    const [x, y] = collidingPair();
    expect(x).not.toBe(y);
    expect(termHashOfString(x)).toBe(termHashOfString(y));
    const builder = new SegmentBuilder({ termSlotsInitial: 2 });
    const docs: DocumentInput[] = [
      { ...base, id: 'd0', inverted: [{ field: 'f', indexOptions: 'freqs', norms: false, terms: [x, y, x], length: 3 }, { field: 'g', indexOptions: 'docs', norms: false, terms: [y], length: 1 }] },
      { ...base, id: 'd1', inverted: [{ field: 'f', indexOptions: 'freqs', norms: false, terms: [y], length: 1 }, { field: 'g', indexOptions: 'docs', norms: false, terms: [x, y], length: 2 }] },
    ];
    for (const doc of docs) builder.addDocument(asTokenSlices(doc, (f) => f === 0));
    const reader = builder.asReader();
    expect(reader.termInfo('f', x)).toEqual({ docFreq: 1, totalTermFreq: 2 });
    expect(reader.termInfo('f', y)).toEqual({ docFreq: 2, totalTermFreq: 2 });
    expect(reader.termInfo('g', x)).toEqual({ docFreq: 1, totalTermFreq: 1 });
    expect(reader.termInfo('g', y)).toEqual({ docFreq: 2, totalTermFreq: 2 });
    expectReaderMatches(reader, docs);
  });

  it('grows through many distinct terms and finds every one by string', () => {
    const builder = new SegmentBuilder({ termSlotsInitial: 2 });
    const terms = Array.from({ length: 5000 }, (_, i) => `w${i}`);
    const run = new TokenRun(8, 4);
    for (let d = 0; d < 10; d++) {
      run.reset();
      const mine = terms.filter((_, i) => i % 10 === d || i < 3);
      mine.forEach((t, k) => run.pushString(t, k));
      builder.addDocument({ ...base, id: `d${d}`, inverted: [{ field: 'f', indexOptions: 'positions', norms: true, tokens: run.slice(0, run.count), length: mine.length }] });
    }
    const reader = builder.asReader();
    for (let i = 0; i < terms.length; i++) expect(reader.termInfo('f', terms[i])).toEqual({ docFreq: i < 3 ? 10 : 1, totalTermFreq: i < 3 ? 10 : 1 });
    expect(reader.termInfo('f', 'w5000')).toBeNull();
    expect([...reader.terms('f')].length).toBe(terms.length);
  });

  it('handles long terms and surrogate pairs, and interns lone surrogates as U+FFFD (as UTF-8 writes them)', async () => {
    const longest = 'L'.repeat(SEGMENT_TERM_MAX_BYTES); // exactly the limit in UTF-8
    const terms = [longest, 'é'.repeat(SEGMENT_TERM_MAX_BYTES / 2), '\u{1F600}', '\uD83D', '\uDE00', '\uD83D\uDE00x', '𝐀𝐁'];
    const docs: DocumentInput[] = [{ ...base, id: 'long', inverted: [{ field: 'f', indexOptions: 'positions', norms: true, terms, length: terms.length }] }];
    const builder = new SegmentBuilder({ termSlotsInitial: 2 });
    builder.addDocument(asTokenSlices(docs[0], () => true));
    const reader = builder.asReader();
    const whole = [longest, 'é'.repeat(SEGMENT_TERM_MAX_BYTES / 2), '\u{1F600}', '\uD83D\uDE00x', '𝐀𝐁'];
    for (const term of whole) expect(reader.termInfo('f', term)).toEqual({ docFreq: 1, totalTermFreq: 1 });
    // Both lone surrogates are one term, found by either spelling and by U+FFFD.
    for (const term of ['\uD83D', '\uDE00', '\uFFFD']) expect(reader.termInfo('f', term)).toEqual({ docFreq: 1, totalTermFreq: 2 });
    expect(reader.termInfo('f', '\uD83Dx')).toBeNull();
    expect(reader.termInfo('f', '\uD83D\uDE00')).toEqual({ docFreq: 1, totalTermFreq: 1 }); // the same units as '\u{1F600}'
    const { info } = await writeSegment(storage, nextSegmentId++, builder);
    const segment = openSegmentReader(storage, info);
    for (const term of whole) expect(segment.termInfo('f', term)).toEqual({ docFreq: 1, totalTermFreq: 1 });
    expect(segment.termInfo('f', '\uFFFD')).toEqual({ docFreq: 1, totalTermFreq: 2 });
  });

  it('validates token slices before changing anything: immense terms, decreasing positions, a reused run', () => {
    const builder = new SegmentBuilder();
    const run = new TokenRun();
    const slice = (terms: string[], positions: number[]) => {
      run.reset();
      terms.forEach((t, k) => run.pushString(t, positions[k]));
      return run.slice(0, run.count);
    };
    const field = (tokens: ReturnType<typeof slice>): InvertedFieldInput => ({ field: 'f', indexOptions: 'positions', norms: true, tokens, length: tokens.to - tokens.from });
    builder.addDocument({ ...base, id: 'ok', inverted: [field(slice(['a'], [0]))] });
    expect(() => builder.addDocument({ ...base, id: 'y', inverted: [field(slice(['a', 'é'.repeat(SEGMENT_TERM_MAX_BYTES / 2 + 1)], [0, 1]))] })).toThrow(
      expect.objectContaining({ type: 'illegal_argument_exception', message: expect.stringContaining('immense term in field="f"') }),
    );
    expect(() => builder.addDocument({ ...base, id: 'y', inverted: [field(slice(['a', 'b'], [3, 1]))] })).toThrow(
      expect.objectContaining({ type: 'illegal_argument_exception', message: expect.stringContaining('non-decreasing') }),
    );
    const stale = slice(['a'], [0]);
    run.reset();
    run.pushString('zzz', 0);
    expect(() => builder.addDocument({ ...base, id: 'y', inverted: [field(stale)] })).toThrow(/reused/);
    expect(builder.maxDoc).toBe(1);
    expect(builder.lookupId('y')).toBe(-1);
    expect(builder.asReader().termInfo('f', 'a')).toEqual({ docFreq: 1, totalTermFreq: 1 });
    expect(builder.asReader().termInfo('f', 'b')).toBeNull();
  });
});
