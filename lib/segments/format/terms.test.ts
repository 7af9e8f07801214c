import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardStorage } from '../env.js';
import { SegmentBuilder } from '../builder.js';
import { writeSegment } from '../writer.js';
import { mergeSegments } from '../merger.js';
import { openSegmentReader, readSegmentInfo } from '../reader.js';
import type { DocumentInput, SegmentReader } from '../types.js';
import { BloomFilter, BloomFilterBuilder } from './bloom.js';
import { fieldKey, fieldOrdinalKey, encodeUnitsUtf8, SEGMENT_TERM_MAX_BYTES, TAG, tagKey, unitsUtf8SortOrder, utf8 } from './keys.js';
import { encodeMeta, decodeMeta } from './meta.js';
import { expectReaderMatches, tempStorage } from './model.test-helper.js';
import { ID_BLOCK_TERMS_MAX, TERM_BLOCK_TERMS_MAX, TermBlockReader, TermBlockWriter, TermsIndex } from './terms.js';

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** One doc per term list: field 'body' (positions), 'tag' (docs only), ids `d<i>`. */
function docsWith(bodyTerms: string[][], tagTerms: string[][] = []): DocumentInput[] {
  return bodyTerms.map((terms, i): DocumentInput => ({
    id: `d${i}`,
    seqNo: i,
    version: 1,
    primaryTerm: 1,
    source: utf8(`{"i":${i}}`),
    inverted: [
      { field: 'body', indexOptions: 'positions', norms: true, terms, positions: terms.map((_, k) => k), length: terms.length },
      ...(tagTerms[i] === undefined ? [] : [{ field: 'tag', indexOptions: 'docs' as const, norms: false, terms: tagTerms[i], length: tagTerms[i].length }]),
    ],
    docValues: [],
  }));
}

/** Every term of a field in order, and the terms from `from`, against the sorted vocabulary. */
function expectTermsFrom(reader: SegmentReader, field: string, vocabulary: string[], from: string): void {
  const expected = vocabulary.filter((t) => utf8Order(t, from) >= 0);
  expect([...reader.terms(field, from)].map(([t]) => t)).toEqual(expected);
}

describe('format v2 term dictionary', () => {
  let storage: ShardStorage;
  let cleanup: () => Promise<void>;
  let nextId = 1;
  beforeAll(() => ({ storage, cleanup } = tempStorage()));
  afterAll(async () => cleanup());

  async function write(docs: DocumentInput[]): Promise<SegmentReader> {
    const builder = new SegmentBuilder();
    for (const doc of docs) builder.addDocument(doc);
    const { info } = await writeSegment(storage, nextId++, builder);
    return openSegmentReader(storage, info);
  }

  it('reads thousands of terms across block boundaries, long shared prefixes and a 1,700-byte term', async () => {
    // Goal: block boundaries are invisible: every term (sharing 300-byte prefixes, or 1,700 bytes long,
    // rare and inline or frequent and external) reads back like the model, and absent terms before the
    // first, after the last and between blocks are absent, also for terms(field, from).
    const longPrefix = 'p'.repeat(300);
    const vocabulary = [
      ...Array.from({ length: 3000 }, (_, i) => `t${String(i).padStart(5, '0')}`),
      ...Array.from({ length: 200 }, (_, i) => `${longPrefix}${i}`),
      'x'.repeat(SEGMENT_TERM_MAX_BYTES),
      'é'.repeat(SEGMENT_TERM_MAX_BYTES / 2),
      'zz',
    ];
    // 400 docs; each takes a slice of the vocabulary plus a frequent term (external postings).
    const bodies = Array.from({ length: 400 }, (_, d) => ['common', ...vocabulary.filter((_, i) => i % 400 === d), ...(d % 3 === 0 ? ['t00007'] : [])]);
    const tags = Array.from({ length: 400 }, () => ['only']);
    const docs = docsWith(bodies, tags);
    const reader = await write(docs);
    expectReaderMatches(reader, docs);
    const sorted = [...new Set(bodies.flat())].sort(utf8Order);
    expect(sorted.length).toBeGreaterThan(TERM_BLOCK_TERMS_MAX * 50);
    expect([...reader.terms('tag')]).toEqual([['only', { docFreq: 400, totalTermFreq: 400 }]]);
    for (const absent of ['', '0', 'a', 'common0', 't00031a', 't00032 ', 't02999z', `${longPrefix}`, `${longPrefix}0a`, 'x', 'x'.repeat(SEGMENT_TERM_MAX_BYTES - 1), 'zz0', '\u{10ffff}']) {
      expect(reader.termInfo('body', absent), absent).toBeNull();
      expect(reader.postings('body', absent), absent).toBeNull();
      expectTermsFrom(reader, 'body', sorted, absent);
    }
    expect(reader.termInfo('body', 'x'.repeat(SEGMENT_TERM_MAX_BYTES + 1))).toBeNull();
    for (let i = 0; i < sorted.length; i += 97) expectTermsFrom(reader, 'body', sorted, sorted[i]);
  });

  it('a merge of block dictionaries equals the model (many terms, deletes)', async () => {
    // Goal: the k-way merge over sorted term streams handles terms present in one, some or all
    // sources, inline and external postings, and block boundaries on both sides.
    const a = docsWith(Array.from({ length: 300 }, (_, d) => ['common', `a${d}`, `s${d % 50}`, `${'q'.repeat(200)}${d}`]));
    const b = docsWith(Array.from({ length: 300 }, (_, d) => ['common', `b${d}`, `s${d % 70}`, `${'q'.repeat(200)}${d + 150}`]));
    const ra = await write(a);
    const rb = await write(b);
    const live = new Uint8Array(Math.ceil(300 / 8)).fill(0xff);
    for (let d = 0; d < 300; d += 3) live[d >>> 3] &= ~(1 << (d & 7));
    const mergedId = nextId++;
    const { info } = await mergeSegments(storage, mergedId, [
      { info: ra.info, liveDocs: live },
      { info: rb.info, liveDocs: null },
    ]);
    // Ids repeat across a and b (d0..d299 in both): the model keeps the later doc for lookupId.
    const expected = [...a.filter((_, d) => d % 3 !== 0), ...b];
    expectReaderMatches(openSegmentReader(storage, info), expected);
  });

  it('a merge copying raw position bytes still detects a corrupt positions value', async () => {
    // Goal: the merger copies position bytes without decoding them, but only after their checksum passed.
    const reader = await write(docsWith(Array.from({ length: 300 }, (_, d) => ['common', `u${d}`, 'common'])));
    const key = fieldOrdinalKey(reader.info.id, TAG.positions, utf8('body'), 0);
    const value = Buffer.from(storage.data.getBinary(key)!);
    value[value.length - 2] ^= 0x01;
    await storage.data.put(key, value);
    const mergedId = nextId++;
    await expect(mergeSegments(storage, mergedId, [{ info: reader.info, liveDocs: null }])).rejects.toMatchObject({ type: 'corrupt_index_exception' });
    expect(readSegmentInfo(storage, mergedId)).toBeNull();
  });

  it('a field with one term, and an empty buffer field, read back', async () => {
    // Goal: the smallest dictionary (one block, one term) works, for positions and docs-only fields.
    const docs = docsWith([['solo']], [['one']]);
    const reader = await write(docs);
    expectReaderMatches(reader, docs);
    expect(reader.termInfo('body', 'solo')).toEqual({ docFreq: 1, totalTermFreq: 1 });
    expect(reader.termInfo('body', 'sol')).toBeNull();
    expect(reader.termInfo('body', 'soloo')).toBeNull();
    expect([...reader.terms('body', 'solp')]).toEqual([]);
  });

  it('refuses terms out of order', () => {
    // Goal: the writer's contract (ascending UTF-8 byte order) is enforced, not silently broken.
    const writer = new TermBlockWriter(false);
    const postings = new Uint8Array(12);
    writer.add(utf8('b'), 1, 1, 1, true, postings, null);
    expect(() => writer.add(utf8('a'), 1, 1, 1, true, postings, null)).toThrow(/ascending/);
    expect(() => writer.add(utf8('b'), 1, 1, 1, true, postings, null)).toThrow(/ascending/);
  });

  it('every flipped byte of a term block or terms index is detected', () => {
    // Goal: a term block's CRC covers the inline postings and positions (which have no CRC of their own).
    const writer = new TermBlockWriter(true);
    const value = new Uint8Array(20).fill(1);
    const blocks: Buffer[] = [];
    for (let i = 0; i < 70; i++) {
      const closed = writer.add(utf8(`term${String(i).padStart(3, '0')}`), 7, 1, 1, true, value, value);
      if (closed !== null) blocks.push(closed);
    }
    blocks.push(writer.finish()!);
    const index = writer.encodeIndex();
    expect(blocks.length).toBe(3);
    const origin = { segmentId: 3, field: 'body', block: 0 };
    const reader = new TermBlockReader();
    for (let at = 0; at < blocks[0].length; at++) {
      const bad = Buffer.from(blocks[0]);
      bad[at] ^= 1 << (at % 8);
      expect(() => {
        reader.reset(bad, true, origin);
        while (reader.next());
      }).toThrow(expect.objectContaining({ type: 'corrupt_index_exception' }));
    }
    expect(TermsIndex.decode(index, 3, 'body').blockCount).toBe(3);
    for (let at = 0; at < index.length; at++) {
      const bad = Buffer.from(index);
      bad[at] ^= 1 << (at % 8);
      expect(() => TermsIndex.decode(bad, 3, 'body')).toThrow(expect.objectContaining({ type: 'corrupt_index_exception' }));
    }
  });

  it('refuses a segment of format v1 with a clear error', async () => {
    // Goal: v1 segments (no users) are not misread as v2: opening one names the version.
    const reader = await write(docsWith([['a']]));
    const key = tagKey(reader.info.id, TAG.meta);
    const meta = { ...decodeMeta(storage.data.getBinary(key)!, reader.info.id), formatVersion: 1 };
    await storage.data.put(key, encodeMeta(meta));
    expect(() => readSegmentInfo(storage, reader.info.id)).toThrow(/format version 1/);
  });

  it('writes blocks, postings and positions under ascending keys of their own', async () => {
    // Goal: the v2 key layout: 'I' per field, 'T' blocks numbered from 0, 'F'/'P' only for non-inline terms.
    const reader = await write(docsWith(Array.from({ length: 200 }, (_, d) => ['common', `w${d}`])));
    const id = reader.info.id;
    const body = utf8('body');
    expect(storage.data.getBinary(fieldKey(id, TAG.termsIndex, body))).toBeDefined();
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.terms, body, 0))).toBeDefined();
    // 201 terms / 32 per block = 7 blocks.
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.terms, body, 6))).toBeDefined();
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.terms, body, 7))).toBeUndefined();
    // Only 'common' (200 docs) is not inline.
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.postings, body, 0))).toBeDefined();
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.positions, body, 0))).toBeDefined();
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.postings, body, 1))).toBeUndefined();
    expect(storage.data.getBinary(tagKey(id, TAG.idFilter))).toBeDefined();
    // `_id` blocks hold ID_BLOCK_TERMS_MAX ids: 200 / 8 = 25 blocks.
    const idField = utf8('_id');
    expect(200 / ID_BLOCK_TERMS_MAX).toBe(25);
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.terms, idField, 24))).toBeDefined();
    expect(storage.data.getBinary(fieldOrdinalKey(id, TAG.terms, idField, 25))).toBeUndefined();
  });
});

/** Terms packed as the writer gets them from a SegmentSource (fieldTermUnits). */
function packUnits(terms: readonly string[]): { chars: Uint16Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(terms.length + 1);
  terms.forEach((t, i) => (offsets[i + 1] = offsets[i] + t.length));
  const chars = new Uint16Array(offsets[terms.length]);
  terms.forEach((t, i) => {
    for (let k = 0; k < t.length; k++) chars[offsets[i] + k] = t.charCodeAt(k);
  });
  return { chars, offsets };
}

function sortedByUnits(terms: readonly string[]): string[] {
  const { chars, offsets } = packUnits(terms);
  return Array.from(unitsUtf8SortOrder(chars, offsets, terms.length), (i) => terms[i]);
}

describe('sorting terms by UTF-8 bytes', () => {
  it('unitsUtf8SortOrder gives UTF-8 byte order, with and without chars ≥ U+D800; encodeUnitsUtf8 matches Buffer', async () => {
    // Goal: the writer's term order is LMDB's/Lucene's byte order, also where UTF-16 order differs.
    const ascii = Array.from({ length: 40000 }, (_, i) => `w${(i * 7919) % 40000}`);
    const mixed = [...ascii.slice(0, 20000), '\u{1F600}', '\uE000', '\uFFFD', 'é', 'z\u{10000}', 'z\uFFFF', 'ｆｕｌｌ'];
    const prefixes = ['abc', 'ab', 'abd', 'a', 'b', `${'x'.repeat(300)}a`, 'x'.repeat(300), `${'x'.repeat(300)}\u{1F600}`, `${'x'.repeat(300)}\uFFFF`];
    for (const terms of [ascii, mixed, prefixes]) expect(sortedByUnits(terms)).toEqual([...terms].sort(utf8Order));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: fc.constantFrom('a', 'z', 'é', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}'), maxLength: 6 }), { maxLength: 200 }), async (terms) => {
        const unique = [...new Set(terms)];
        expect(sortedByUnits(unique)).toEqual([...unique].sort(utf8Order));
        for (const term of unique) {
          const { chars } = packUnits([term]);
          const out = new Uint8Array(term.length * 3 + 4);
          expect(Buffer.from(out.subarray(0, encodeUnitsUtf8(chars, 0, chars.length, out)))).toEqual(Buffer.from(term, 'utf8'));
        }
      }),
      { numRuns: 100, seed: 5 },
    );
  });
});

describe('format v2 id filter', () => {
  it('has no false negatives', () => {
    // Goal: every added id (any unicode) answers "might contain"; the filter survives encode/decode.
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 300 }), fc.nat(1000), (ids, extra) => {
        const builder = new BloomFilterBuilder(ids.length + extra);
        const bytes = ids.map((id) => utf8(id));
        for (const b of bytes) builder.add(b, b.length);
        const filter = BloomFilter.decode(builder.encode(), 1);
        for (const b of bytes) expect(filter.mightContain(b, b.length)).toBe(true);
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('rejects ~99 % of absent ids at 10 bits per id', () => {
    // Goal: the filter earns its keep: the false-positive rate is near the ~0.8 % design point.
    const count = 20000;
    const builder = new BloomFilterBuilder(count);
    for (let i = 0; i < count; i++) {
      const b = utf8(`id-${i}`);
      builder.add(b, b.length);
    }
    const filter = BloomFilter.decode(builder.encode(), 1);
    let positives = 0;
    for (let i = count; i < 3 * count; i++) {
      const b = utf8(`id-${i}`);
      if (filter.mightContain(b, b.length)) positives++;
    }
    expect(positives / (2 * count)).toBeLessThan(0.015);
  });

  it('detects a flipped byte', () => {
    // Goal: the filter value carries a CRC like every other value.
    const builder = new BloomFilterBuilder(10);
    const value = builder.encode();
    for (let at = 0; at < value.length; at++) {
      const bad = Buffer.from(value);
      bad[at] ^= 0x10;
      expect(() => BloomFilter.decode(bad, 1)).toThrow(expect.objectContaining({ type: 'corrupt_index_exception' }));
    }
  });
});
