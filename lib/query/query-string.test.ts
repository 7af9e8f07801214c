/**
 * query_string and simple_query_string syntax: tables of inputs and the tree they parse to, printed
 * the way Lucene prints queries (`+must -mustNot should`, `f:"phrase"~2`, `f:[a TO b}`, `^boost`), so a
 * row reads like Elasticsearch's `_validate/query?explain` output. Then syntax errors, and fast-check
 * properties: arbitrary text never hangs either parser or makes it throw anything but a QuarryError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import type { QueryNode } from './ast.js';
import { MAX_DETERMINIZED_STATES_DEFAULT } from './limits.js';
import { parseQueryString, parseSimpleQueryString, parseSimpleQueryStringFlags, type QueryStringOptions } from './query-string.js';

const QS_DEFAULTS: QueryStringOptions = {
  fields: [{ field: 'f', boost: 1 }],
  defaultOperator: 'or',
  tieBreaker: 0,
  phraseSlop: 0,
  fuzziness: 'AUTO',
  fuzzyPrefixLength: 0,
  fuzzyMaxExpansions: 50,
  fuzzyTranspositions: true,
  allowLeadingWildcard: true,
  maxDeterminizedStates: MAX_DETERMINIZED_STATES_DEFAULT,
};

/** Lucene-style rendering of a parsed tree (test-only). */
function show(node: QueryNode): string {
  const boost = node.boost !== 1 ? `^${node.boost}` : '';
  switch (node.kind) {
    case 'match':
      return `${node.field}:${node.query}${boost}`;
    case 'match_phrase':
      return `${node.field}:"${node.query}"${node.slop !== 0 ? `~${node.slop}` : ''}${boost}`;
    case 'fuzzy':
      return `${node.field}:${node.value}~${node.fuzziness}${boost}`;
    case 'prefix':
      return `${node.field}:${node.value}*${boost}`;
    case 'wildcard':
      return `${node.field}:${node.value}${boost}`;
    case 'regexp':
      return `${node.field}:/${node.value}/${boost}`;
    case 'range': {
      const lower = node.gte !== undefined ? `[${node.gte}` : node.gt !== undefined ? `{${node.gt}` : '[*';
      const upper = node.lte !== undefined ? `${node.lte}]` : node.lt !== undefined ? `${node.lt}}` : '*]';
      return `${node.field}:${lower} TO ${upper}${boost}`;
    }
    case 'exists':
      return `_exists_:${node.field}${boost}`;
    case 'match_all':
      return `*:*${boost}`;
    case 'match_none':
      return 'MatchNoDocs';
    case 'dis_max':
      return `(${node.queries.map(show).join(' | ')})~${node.tieBreaker}${boost}`;
    case 'bool': {
      const parts = [...node.must.map((q) => `+${inner(q)}`), ...node.should.map(inner), ...node.mustNot.map((q) => `-${inner(q)}`)];
      return parts.join(' ') + (boost ? ` ${boost}` : '');
    }
    default:
      return `<${node.kind}>`;
  }
}

function inner(node: QueryNode): string {
  return node.kind === 'bool' ? `(${show(node)})` : show(node);
}

function qs(text: string, options: Partial<QueryStringOptions> = {}): string {
  return show(parseQueryString(text, { ...QS_DEFAULTS, ...options }));
}

function sqs(text: string, flags = -1, defaultOperator: 'or' | 'and' = 'or'): string {
  return show(
    parseSimpleQueryString(text, {
      fields: [{ field: 'f', boost: 1 }],
      defaultOperator,
      flagsMask: flags,
      fuzzyPrefixLength: 0,
      fuzzyMaxExpansions: 50,
      fuzzyTranspositions: true,
    }),
  );
}

describe('query_string (Lucene classic syntax)', () => {
  it('parses the syntax table', () => {
    // Goal: each row is [query, tree]; default field f, default operator OR unless the row says.
    const table: Array<[string, string]> = [
      ['foo', 'f:foo'],
      ['foo bar', 'f:foo f:bar'],
      ['title:foo', 'title:foo'],
      ['title:foo bar', 'title:foo f:bar'],
      ['title:(foo bar)', 'title:foo title:bar'],
      ['title:(+foo -bar)', '+title:foo -title:bar'],
      ['foo AND bar', '+f:foo +f:bar'],
      ['foo && bar', '+f:foo +f:bar'],
      ['foo OR bar', 'f:foo f:bar'],
      ['foo || bar', 'f:foo f:bar'],
      ['foo NOT bar', 'f:foo -f:bar'],
      ['foo AND NOT bar', '+f:foo -f:bar'],
      ['foo !bar', 'f:foo -f:bar'],
      ['NOT foo', '-f:foo'],
      ['+foo -bar baz', '+f:foo f:baz -f:bar'], // printed must, should, must_not
      ['+foo', '+f:foo'],
      // No precedence in the classic parser: AND requires both its neighbours, left to right.
      ['a OR b AND c', '+f:b +f:c f:a'], // i.e. a optional, b and c required
      ['a AND b OR c', '+f:a +f:b f:c'],
      ['a AND b OR c AND d', '+f:a +f:b +f:c +f:d'],
      ['(a OR b) AND c', '+(f:a f:b) +f:c'],
      ['a OR (b AND c)', 'f:a (+f:b +f:c)'],
      ['((a))', 'f:a'],
      ['"quick fox"', 'f:"quick fox"'],
      ['"quick fox"~3', 'f:"quick fox"~3'],
      ['"quick fox"~3^2', 'f:"quick fox"~3^2'],
      ['title:"a b"^2~1', 'title:"a b"~1^2'],
      ['foo~', 'f:foo~AUTO'],
      ['foo~1', 'f:foo~1'],
      ['foo~5', 'f:foo~2'],
      ['foo~1^3', 'f:foo~1^3'],
      ['foo^2', 'f:foo^2'],
      ['foo^2.5 bar', 'f:foo^2.5 f:bar'],
      ['(foo bar)^4', 'f:foo f:bar ^4'],
      ['fo*', 'f:fo*'],
      ['fo*o?', 'f:fo*o?'],
      ['?oo', 'f:?oo'],
      ['*', '_exists_:f'],
      ['*:*', '*:*'],
      ['title:*', '_exists_:title'],
      ['/ab+c/', 'f:/ab+c/'],
      ['title:/jo.*n/', 'title:/jo.*n/'],
      ['age:[1 TO 5]', 'age:[1 TO 5]'],
      ['age:{1 TO 5}', 'age:{1 TO 5}'],
      ['age:[1 TO 5}', 'age:[1 TO 5}'],
      ['age:[* TO 5]', 'age:[* TO 5]'],
      ['age:[10 TO *]', 'age:[10 TO *]'],
      ['date:["2020-01-01" TO "2020-12-31"]', 'date:[2020-01-01 TO 2020-12-31]'],
      ['age:>=10', 'age:[10 TO *]'],
      ['age:>10', 'age:{10 TO *]'],
      ['age:<=10', 'age:[* TO 10]'],
      ['age:<10', 'age:[* TO 10}'],
      ['_exists_:title', '_exists_:title'],
      ['foo\\:bar', 'f:foo:bar'],
      ['a\\-b \\(c\\)', 'f:a-b f:(c)'],
      ['book.\\*:(quick)', 'book.*:quick'],
      ['a-b', 'f:a-b'],
      ['caf\\u00e9', 'f:café'],
      ['ANDROID', 'f:ANDROID'],
      ['and or', 'f:and f:or'],
      ['   ', 'MatchNoDocs'],
    ];
    for (const [query, expected] of table) expect([query, qs(query)]).toEqual([query, expected]);
  });

  it('applies the AND default operator the classic way', () => {
    // Goal: with default AND bare clauses are required and OR makes both neighbours optional.
    const and = { defaultOperator: 'and' as const };
    expect(qs('foo bar', and)).toBe('+f:foo +f:bar');
    expect(qs('foo OR bar', and)).toBe('f:foo f:bar');
    expect(qs('a b OR c', and)).toBe('+f:a f:b f:c');
    expect(qs('foo -bar', and)).toBe('+f:foo -f:bar');
    expect(qs('-a OR b', and)).toBe('f:b -f:a');
  });

  it('sends unfielded clauses to every field, as dis_max with their boosts', () => {
    // Goal: fields/default_field as given (patterns included), boosts per field, phrase slop default.
    const fields = { fields: [{ field: 'title', boost: 2 }, { field: 'body*', boost: 1 }], tieBreaker: 0.3 };
    expect(qs('fox', fields)).toBe('(title:fox^2 | body*:fox)~0.3');
    expect(qs('x:fox', fields)).toBe('x:fox');
    expect(qs('"a b"', { phraseSlop: 2 })).toBe('f:"a b"~2');
    expect(qs('fox', { fields: [{ field: 'title', boost: 3 }] })).toBe('title:fox^3');
    const tz = parseQueryString('d:[now-1d TO now]', { ...QS_DEFAULTS, timeZone: '+01:00' });
    expect(tz).toMatchObject({ kind: 'range', timeZone: '+01:00', gte: 'now-1d', lte: 'now' });
  });

  it('answers syntax errors with query_shard_exception and Lucene’s parse_exception', () => {
    // Goal: type, reason and the caused_by reason of each malformed query.
    const table: Array<[string, string, Partial<QueryStringOptions>?]> = [
      ['a AND', 'Cannot parse \'a AND\': Encountered "<EOF>" at line 1, column 5.'],
      ['(a OR b', 'Cannot parse \'(a OR b\': Encountered "<EOF>" at line 1, column 7.'],
      ['a)', 'Cannot parse \'a)\': Encountered " ")" ") "" at line 1, column 2.'],
      ['title:', 'Cannot parse \'title:\': Encountered "<EOF>" at line 1, column 6.'],
      ['foo^', 'Cannot parse \'foo^\': Encountered "<EOF>" at line 1, column 4.'],
      ['[1 TO', 'Cannot parse \'[1 TO\': Encountered "<EOF>" at line 1, column 5.'],
      ['"unclosed', 'Cannot parse \'"unclosed\': Lexical error at line 1, column 1.  Encountered: """ (34) after : ""'],
      ['foo\\', 'Cannot parse \'foo\\\': Lexical error at line 1, column 4.  Encountered: "\\" (92) after : ""'],
      ['a:b:c', 'Cannot parse \'a:b:c\': Encountered " ":" ": "" at line 1, column 4.'],
      ['a AND OR b', 'Cannot parse \'a AND OR b\': Encountered " <OR> "OR "" at line 1, column 7.'],
      ['foo~1.5', "Cannot parse 'foo~1.5': Fractional edit distances are not allowed!"],
      ['\\u12', "Cannot parse '\\u12': Truncated unicode escape sequence."],
      ['*foo', "Cannot parse '*foo': '*' or '?' not allowed as first character in WildcardQuery", { allowLeadingWildcard: false }],
    ];
    for (const [query, cause, options] of table) {
      let error: unknown;
      try {
        parseQueryString(query, { ...QS_DEFAULTS, ...options });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QuarryError);
      const e = error as QuarryError;
      expect([query, e.type, e.message, e.extra]).toEqual([query, 'query_shard_exception', `Failed to parse query [${query}]`, { caused_by: { type: 'parse_exception', reason: cause } }]);
    }
  });

  it('never hangs or throws anything but QuarryErrors on arbitrary text', () => {
    // Goal: random strings over the syntax's alphabet parse or fail cleanly, each within a bounded time.
    const alphabet = fc.constantFrom(...'ab AND OR NOT TO && || ! + - ( ) [ ] { } " ~ ^ * ? : / \\ 1 2 . < > = _exists_ \u3000'.split(' ').concat([' ', 'a', '\\']));
    const text = fc.oneof(fc.string({ maxLength: 60 }), fc.array(alphabet, { maxLength: 40 }).map((parts) => parts.join('')));
    fc.assert(
      fc.property(text, (query) => {
        const started = performance.now();
        try {
          parseQueryString(query, QS_DEFAULTS);
        } catch (error) {
          if (!(error instanceof QuarryError)) throw error;
        }
        expect(performance.now() - started).toBeLessThan(1000);
      }),
      { numRuns: 5000 },
    );
    // Pathological shapes stay fast: deep parentheses, long runs of operators and escapes.
    for (const query of ['('.repeat(50_000), 'a '.repeat(20_000), '"'.repeat(50_001), '\\'.repeat(50_001), 'a AND '.repeat(10_000) + 'b']) {
      const started = performance.now();
      try {
        parseQueryString(query, QS_DEFAULTS);
      } catch (error) {
        if (!(error instanceof QuarryError)) throw error;
      }
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });
});

describe('simple_query_string (Lucene SimpleQueryParser syntax)', () => {
  it('parses the syntax table', () => {
    // Goal: each row is [query, tree]; operators apply left to right, `-x` is (+*:* -x) as Lucene builds it.
    const table: Array<[string, string]> = [
      ['foo', 'f:foo'],
      ['foo bar', 'f:foo f:bar'],
      ['foo + bar', '+f:foo +f:bar'],
      ['foo | bar', 'f:foo f:bar'],
      ['foo -bar', 'f:foo (*:* -f:bar)'],
      ['--foo', 'f:foo'],
      ['"fried eggs"', 'f:"fried eggs"'],
      ['"fried eggs"~2', 'f:"fried eggs"~2'],
      ['"fried eggs"~', 'f:"fried eggs"'],
      ['foo*', 'f:foo*'],
      ['foo~', 'f:foo~2'],
      ['foo~1', 'f:foo~1'],
      ['foo~9', 'f:foo~2'],
      ['foo~0', 'f:foo'],
      ['foo~x', 'f:foo'],
      ['(a | b) + c', '+(f:a f:b) +f:c'],
      ['a + b | c', '(+f:a +f:b) f:c'],
      ['a | b + c', '+(f:a f:b) +f:c'],
      ['"fried eggs" +(eggplant | potato) -frittata', '(+f:"fried eggs" +(f:eggplant f:potato)) (*:* -f:frittata)'],
      ['a\\+b', 'f:a+b'],
      ['a\\*', 'f:a*'],
      ['(a b', 'f:a f:b'],
      ['a) b', 'f:a f:b'],
      ['"a b', 'f:a f:b'],
      ['()', 'MatchNoDocs'],
      ['+ | -', 'MatchNoDocs'],
      ['', 'MatchNoDocs'],
    ];
    for (const [query, expected] of table) expect([query, sqs(query)]).toEqual([query, expected]);
  });

  it('honours flags and the default operator', () => {
    // Goal: a disabled operator is plain text; AND default joins bare terms with MUST.
    const flags = parseSimpleQueryStringFlags;
    expect(sqs('a b', -1, 'and')).toBe('+f:a +f:b');
    expect(sqs('a | b c', -1, 'and')).toBe('+(f:a f:b) +f:c');
    expect(sqs('foo*', flags('NONE'))).toBe('f:foo*');
    expect(sqs('a + b', flags('OR|WHITESPACE'))).toBe('f:a f:+ f:b');
    expect(sqs('"a b"', flags('WHITESPACE'))).toBe('f:"a f:b"');
    expect(sqs('-a', flags('WHITESPACE|AND'))).toBe('f:-a');
    expect(sqs('a~1', flags('WHITESPACE'))).toBe('f:a~1');
    expect(sqs('"a b"~1', flags('PHRASE|WHITESPACE'))).toBe('f:"a b" f:~1');
    expect(flags('OR|AND|PREFIX')).toBe(1 | 4 | 8);
    expect(flags('all')).toBe(-1);
    expect(flags('')).toBe(-1);
    expect(flags(5)).toBe(5);
    expect(flags('SLOP')).toBe(flags('NEAR'));
  });

  it('never hangs or throws on arbitrary text', () => {
    // Goal: simple_query_string never fails on syntax (Elasticsearch's promise) and stays fast.
    const alphabet = fc.constantFrom('a', 'b', ' ', '+', '|', '-', '"', '*', '(', ')', '~', '1', '\\');
    const text = fc.oneof(fc.string({ maxLength: 60 }), fc.array(alphabet, { maxLength: 60 }).map((parts) => parts.join('')));
    fc.assert(
      fc.property(text, fc.integer({ min: -1, max: 1023 }), (query, mask) => {
        expect(() => sqs(query, mask)).not.toThrow();
      }),
      { numRuns: 5000 },
    );
    for (const query of ['('.repeat(50_000), '('.repeat(5000) + ')'.repeat(5000), '"'.repeat(50_001), '"a'.repeat(25_000), '-'.repeat(50_000) + 'a']) {
      const started = performance.now();
      expect(() => sqs(query)).not.toThrow();
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });
});
