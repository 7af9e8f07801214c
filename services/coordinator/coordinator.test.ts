/**
 * Unit tests of the coordinator's pure parts: routing rules, JSON error positions, names,
 * parsing, `_source` filtering, parameters and generated ids. The HTTP behaviour on a real node is
 * tested in test/http.
 */
import { describe, expect, it } from 'vitest';
import { QuarryError } from '../../lib/common/errors.js';
import { findSyntaxError, lineColumn, parseDocument, parseJson } from './body.js';
import { generateId } from './ids.js';
import { globMatches, idProblem, validateIndexName } from './names.js';
import { refreshParam, writeConditions } from './params.js';
import { RestRouter, UnroutableRequest, checkParams } from './router.js';
import { filterSource } from './source-filter.js';

function thrown(fn: () => unknown): QuarryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof QuarryError) return error;
    throw error;
  }
  throw new Error('expected a QuarryError, nothing was thrown');
}

describe('RestRouter', () => {
  const noop = () => undefined;
  const router = new RestRouter();
  router.add(['GET', 'HEAD', 'PUT'], '/{index}', noop);
  router.add(['POST', 'PUT'], '/_bulk', noop);
  router.add(['GET'], '/{index}/_doc/{id}', noop);
  router.add(['POST'], '/{index}/_refresh', noop);

  it('prefers literal segments over parameters, like Elasticsearch path tries', () => {
    // Goal: /_bulk is served by the bulk route, not by /{index}, for a method both accept.
    const resolved = router.resolve('PUT', '/_bulk', '/_bulk');
    expect('handler' in resolved && resolved.params).toEqual({});
  });

  it('falls through to a parameter route when the literal route lacks the method', () => {
    // Goal: GET /_bulk is valid for /{index} (Elasticsearch tries every matching path before 405).
    const resolved = router.resolve('GET', '/_bulk', '/_bulk');
    expect('handler' in resolved && resolved.params).toEqual({ index: '_bulk' });
  });

  it('answers 405 with the allowed methods, and 400 for unknown paths', () => {
    // Goal: wrong method on a known path → 405 listing the methods; unknown path → 400 no handler.
    const wrong = thrown(() => router.resolve('PUT', '/i/_refresh', '/i/_refresh?x=1'));
    expect(wrong).toBeInstanceOf(UnroutableRequest);
    expect(wrong.status).toBe(405);
    expect(wrong.message).toBe('Incorrect HTTP method for uri [/i/_refresh?x=1] and method [PUT], allowed: [POST]');
    const unknown = thrown(() => router.resolve('GET', '/x/y/z/w', '/x/y/z/w'));
    expect(unknown.status).toBe(400);
    expect(unknown.message).toBe('no handler found for uri [/x/y/z/w] and method [GET]');
  });

  it('decodes path parameters and rejects unknown query parameters with a suggestion', () => {
    // Goal: %2F inside an id stays inside the id; a typo'd parameter is named with "did you mean".
    const resolved = router.resolve('GET', '/i/_doc/a%2Fb', '/i/_doc/a%2Fb');
    expect('handler' in resolved && resolved.params).toEqual({ index: 'i', id: 'a/b' });
    const error = thrown(() => checkParams({ refersh: 'true' }, new Set(['refresh']), '/i/_doc/1'));
    expect(error.message).toBe('request [/i/_doc/1] contains unrecognized parameter: [refersh] -> did you mean [refresh]?');
  });
});

describe('JSON bodies', () => {
  it('locates syntax errors with Jackson-like messages', () => {
    // Goal: the error position points at the offending character, 1-based line and column.
    const text = '{\n  "a": }';
    const found = findSyntaxError(text);
    expect(lineColumn(text, found.offset)).toEqual({ line: 2, column: 8 });
    expect(found.message).toBe("Unexpected character ('}' (code 125)): expected a value");
    expect(findSyntaxError('{"a":1').message).toBe('Unexpected end-of-input: expected close marker for Object');
    expect(findSyntaxError('{"a" 1}').message).toContain('was expecting a colon');
    expect(findSyntaxError('{a:1}').message).toContain('was expecting double-quote to start field name');
    expect(findSyntaxError('{"a":tru}').message).toContain("Unrecognized token 'tru'");
  });

  it('refuses prototype-poisoning keys but accepts a plain "constructor" field', () => {
    // Goal: __proto__ anywhere → 400; "constructor" as an ordinary field name is fine.
    const error = thrown(() => parseDocument(Buffer.from('{"a":{"__proto__":{"polluted":true}}}')));
    expect(error.type).toBe('document_parsing_exception');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parseDocument(Buffer.from('{"constructor":"x"}'))).toEqual({ constructor: 'x' });
    expect(thrown(() => parseJson(Buffer.from('{"__proto__":1}'), 'request')).type).toBe('x_content_parse_exception');
  });

  it('wants documents to be JSON objects', () => {
    // Goal: arrays and scalars are document_parsing_exception; malformed JSON carries a position.
    expect(thrown(() => parseDocument(Buffer.from('[1,2]'))).message).toContain('found [START_ARRAY]');
    expect(thrown(() => parseDocument(Buffer.from('"x"'))).message).toContain('found [VALUE_STRING]');
    expect(thrown(() => parseDocument(Buffer.from('{"a":}'))).message).toMatch(/^\[1:6\] failed to parse/);
  });
});

describe('names', () => {
  it('gives Elasticsearch reasons for bad index names', () => {
    // Goal: each rule produces Elasticsearch's exact reason text.
    const reason = (name: string) => thrown(() => validateIndexName(name)).message;
    expect(reason('Abc')).toBe('Invalid index name [Abc], must be lowercase');
    expect(reason('_a')).toBe("Invalid index name [_a], must not start with '_', '-', or '+'");
    expect(reason('a*b')).toBe('Invalid index name [a*b], must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]');
    expect(reason('a#b')).toBe("Invalid index name [a#b], must not contain '#'");
    expect(reason('a:b')).toBe("Invalid index name [a:b], must not contain ':'");
    expect(reason('..')).toBe("Invalid index name [..], must not be '.' or '..'");
    expect(reason('x'.repeat(256))).toContain('index name is too long, (256 > 255)');
    expect(() => validateIndexName('logs-2024.01')).not.toThrow();
  });

  it('limits ids to 512 UTF-8 bytes', () => {
    // Goal: the byte length (not characters) counts, with Elasticsearch's message.
    expect(idProblem('é'.repeat(256))).toBeUndefined();
    expect(idProblem('é'.repeat(257))).toBe(`id [${'é'.repeat(257)}] is too long, must be no longer than 512 bytes but was: 514`);
  });

  it('refuses ids with unpaired surrogates (they would collide as U+FFFD on disk); pairs are fine', () => {
    expect(idProblem('a\uD800')).toBe('id [a\uFFFD] contains an unpaired UTF-16 surrogate');
    expect(idProblem('\uDC00b')).toBe('id [\uFFFDb] contains an unpaired UTF-16 surrogate');
    expect(idProblem('smile-\u{1F600}')).toBeUndefined();
  });

  it('matches * patterns without backtracking blowups', () => {
    // Goal: glob semantics, and a pathological pattern finishes quickly.
    expect(globMatches('logs-*', 'logs-2024')).toBe(true);
    expect(globMatches('*-2024', 'logs-2023')).toBe(false);
    expect(globMatches('a*b*c', 'aXbYc')).toBe(true);
    const started = performance.now();
    expect(globMatches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('_source filtering', () => {
  it('applies includes, excludes and wildcards on dotted paths', () => {
    // Goal: an included object brings its subtree; excludes win; emptied objects vanish.
    const source = { a: { b: 1, c: 2 }, d: 3, e: [{ f: 1, g: 2 }], h: { i: 1 } };
    expect(filterSource(source, { includes: ['a'], excludes: ['a.c'] })).toEqual({ a: { b: 1 } });
    expect(filterSource(source, { includes: ['e.f', 'd'], excludes: [] })).toEqual({ d: 3, e: [{ f: 1 }] });
    expect(filterSource(source, { includes: [], excludes: ['a.*', 'e'] })).toEqual({ a: {}, d: 3, h: { i: 1 } });
    expect(filterSource(source, { includes: ['h.x'], excludes: [] })).toEqual({});
  });
});

describe('parameters', () => {
  it('reads refresh and refuses internal versioning like Elasticsearch 8', () => {
    // Goal: '' means true; version without a version_type is a validation error with ES's words.
    expect(refreshParam({ refresh: '' })).toBe('true');
    expect(refreshParam({ refresh: 'wait_for' })).toBe('wait_for');
    expect(thrown(() => refreshParam({ refresh: 'yes' })).message).toBe('Unknown value for refresh: [yes].');
    expect(thrown(() => writeConditions({ version: '2' }, 'index')).message).toContain('internal versioning can not be used for optimistic concurrency control');
    expect(writeConditions({ version: '2', versionType: 'external' }, 'index')).toEqual({ version: 2, versionType: 'external' });
    expect(thrown(() => writeConditions({ ifSeqNo: '1' }, 'index')).message).toContain('ifSeqNo is set, but primary term is [0]');
  });
});

describe('generated ids', () => {
  it('are 20 base64url characters and unique', () => {
    // Goal: the Elasticsearch shape, and no duplicates over many ids made in the same milliseconds.
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) ids.add(generateId());
    expect(ids.size).toBe(100_000);
    for (const id of [...ids].slice(0, 100)) expect(id).toMatch(/^[A-Za-z0-9_-]{20}$/);
  });
});
