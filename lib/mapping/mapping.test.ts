// Goal: documents parse into the terms and doc values Elasticsearch's mappers would index, dynamic
// mapping adds the fields Elasticsearch adds, and values that do not fit fail with the field named.
import { describe, expect, it } from 'vitest';
import { mergeMappings, parseDate, parseDocument, validateMappings, type Mappings } from './index.js';
import { QuarryError } from '../common/errors.js';
import { slicePositions, sliceTerms } from '../common/token-run.js';
import type { InvertedFieldInput } from '../segments/types.js';

const META = { id: '1', seqNo: 0, version: 1, primaryTerm: 1 };
const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const termsOf = (f: InvertedFieldInput) => sliceTerms(f.tokens!);
const parse = (m: Mappings, doc: Record<string, unknown>) => parseDocument(m, META, doc, bytes(doc));

describe('dynamic mapping', () => {
  it('maps strings to text + keyword, integers to long, fractions to float, booleans, dates and objects', () => {
    const doc = { title: 'Hello World', n: 3, f: 1.5, ok: true, when: '2024-01-02T03:04:05Z', obj: { inner: 'x' } };
    const { mappingUpdate } = parse({ properties: {} }, doc);
    expect(mappingUpdate).toEqual({
      properties: {
        title: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
        n: { type: 'long' },
        f: { type: 'float' },
        ok: { type: 'boolean' },
        when: { type: 'date' },
        obj: { properties: { inner: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } } } },
      },
    });
  });

  it('indexes text with positions and norms, keywords and numbers as exact terms with doc values', () => {
    const m = mergeMappings({ properties: {} }, parse({ properties: {} }, { title: 'The quick fox', n: 7 }).mappingUpdate!);
    const { doc, mappingUpdate } = parse(m, { title: ['The quick fox', 'jumps'], n: 7 });
    expect(mappingUpdate).toBeNull();
    const title = doc.inverted.find((f) => f.field === 'title')!;
    expect(termsOf(title)).toEqual(['the', 'quick', 'fox', 'jumps']);
    // Elasticsearch leaves a position gap of 100 between the values of a multi-valued text field.
    expect(slicePositions(title.tokens!)).toEqual([0, 1, 2, 103]);
    expect(title.norms).toBe(true);
    expect(termsOf(doc.inverted.find((f) => f.field === 'title.keyword')!)).toEqual(['The quick fox', 'jumps']);
    expect(termsOf(doc.inverted.find((f) => f.field === 'n')!)).toEqual(['7']);
    expect(doc.docValues.find((d) => d.field === 'n')).toEqual({ field: 'n', type: 'numeric', values: [7] });
  });

  it('gathers a field whose values are interleaved with other fields (arrays of objects) into one slice', () => {
    const m = validateMappings({ properties: { o: { properties: { a: { type: 'text' }, b: { type: 'keyword' } } }, t: { type: 'text' } } });
    const { doc } = parse(m, { o: [{ a: 'X y', b: 'K1' }, { b: 'K2' }, { a: 'w' }], t: 'last one' });
    const field = (name: string) => doc.inverted.find((f) => f.field === name)!;
    expect(termsOf(field('o.a'))).toEqual(['x', 'y', 'w']);
    expect(slicePositions(field('o.a').tokens!)).toEqual([0, 1, 102]);
    expect(field('o.a').length).toBe(3);
    expect(termsOf(field('o.b'))).toEqual(['K1', 'K2']);
    expect(termsOf(field('t'))).toEqual(['last', 'one']);
    // All slices are of the same run (one per document).
    expect(new Set(doc.inverted.map((f) => f.tokens!.run)).size).toBe(1);
  });

  it('skips keywords over ignore_above and honours dynamic false and strict', () => {
    const m = validateMappings({ properties: { k: { type: 'keyword', ignore_above: 3 } } });
    expect(parse(m, { k: 'toolong' }).doc.inverted).toEqual([]);
    expect(parse({ dynamic: false, properties: {} }, { x: 1 }).mappingUpdate).toBeNull();
    expect(() => parse({ dynamic: 'strict', properties: {} }, { x: 1 })).toThrow(/mapping set to strict/);
  });
});

describe('bad values', () => {
  it('rejects a value that does not fit its field with document_parsing_exception naming the field', () => {
    const m = validateMappings({ properties: { n: { type: 'integer' }, d: { type: 'date' }, b: { type: 'boolean' } } });
    for (const doc of [{ n: 'abc' }, { n: 2 ** 40 }, { d: 'yesterday' }, { b: 'maybe' }, { n: { a: 1 } }]) {
      try {
        parse(m, doc);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(QuarryError);
        expect((err as QuarryError).type).toBe('document_parsing_exception');
        expect((err as QuarryError).status).toBe(400);
        expect((err as QuarryError).message).toContain(`[${Object.keys(doc)[0]}]`);
      }
    }
  });

  it('rejects a type change on merge and unknown field types', () => {
    const base = validateMappings({ properties: { a: { type: 'long' } } });
    expect(() => mergeMappings(base, validateMappings({ properties: { a: { type: 'keyword' } } }))).toThrow(/cannot be changed from type \[long\] to \[keyword\]/);
    expect(() => validateMappings({ properties: { a: { type: 'nonsense' } } })).toThrow(/No handler for type \[nonsense\]/);
  });
});

describe('dates', () => {
  it('parses strict_date_optional_time as UTC and epoch_millis', () => {
    expect(parseDate('2024-01-02')).toBe(Date.UTC(2024, 0, 2));
    expect(parseDate('2024-01-02T03:04:05')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(parseDate('2024-01-02T03:04:05.123+01:00')).toBe(Date.UTC(2024, 0, 2, 2, 4, 5, 123));
    expect(parseDate(1700000000000)).toBe(1700000000000);
    expect(parseDate('1700000000000')).toBe(1700000000000);
    expect(parseDate('not a date')).toBeNaN();
  });
});

describe('field names that shadow Object.prototype', () => {
  it('indexes fields named constructor or toString as ordinary fields', () => {
    const doc = { constructor: 'c', toString: { inner: 1 } };
    const { mappingUpdate } = parse({ properties: {} }, doc);
    expect(Object.keys(mappingUpdate!.properties).sort()).toEqual(['constructor', 'toString']);
    const m = mergeMappings({ properties: {} }, mappingUpdate!);
    expect(parse(m, doc).mappingUpdate).toBeNull();
    expect(({} as Record<string, unknown>).properties).toBeUndefined();
  });
});
