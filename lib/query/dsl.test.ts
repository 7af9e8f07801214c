/**
 * The query DSL parser: every query type parses to the expected AST (short and long forms, defaults
 * written out), every error path gives Elasticsearch's type and reason (and position when the body
 * text is given), limits hold, and on arbitrary JSON the parser throws nothing but QuarryErrors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import type { QueryNode } from './ast.js';
import { didYouMean, fieldWeight, parseQuery, parseUriQuery } from './dsl.js';
import { MAX_CLAUSE_COUNT, MAX_NESTED_DEPTH, MAX_TERMS_COUNT } from './limits.js';

function thrown(fn: () => unknown): QuarryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof QuarryError) return error;
    throw error;
  }
  throw new Error('expected a QuarryError, nothing was thrown');
}

/** Parses the `query` of a body given as text, so errors carry positions. */
function fromText(text: string): QueryNode {
  return parseQuery((JSON.parse(text) as { query: unknown }).query, text);
}

const MATCH_DEFAULTS = {
  operator: 'or',
  prefixLength: 0,
  maxExpansions: 50,
  fuzzyTranspositions: true,
  zeroTermsQuery: 'none',
  lenient: false,
  autoGenerateSynonymsPhraseQuery: true,
  boost: 1,
};

describe('term-level queries', () => {
  it('parses term, terms, ids, exists, prefix, wildcard, regexp and fuzzy', () => {
    // Goal: short and long forms with every option, and the defaults Elasticsearch applies.
    expect(parseQuery({ term: { a: 'x' } })).toEqual({ kind: 'term', field: 'a', value: 'x', boost: 1 });
    expect(parseQuery({ term: { a: { value: 3, boost: 2, _name: 'n', case_insensitive: true } } })).toEqual({
      kind: 'term', field: 'a', value: 3, boost: 2, name: 'n', caseInsensitive: true,
    });
    expect(parseQuery({ terms: { a: ['x', 1, true], boost: '1.5' } })).toEqual({ kind: 'terms', field: 'a', values: ['x', 1, true], boost: 1.5 });
    expect(parseQuery({ ids: { values: ['1', 2] } })).toEqual({ kind: 'ids', values: ['1', '2'], boost: 1 });
    expect(parseQuery({ exists: { field: 'f', _name: 'has' } })).toEqual({ kind: 'exists', field: 'f', boost: 1, name: 'has' });
    expect(parseQuery({ prefix: { f: 'ab' } })).toEqual({ kind: 'prefix', field: 'f', value: 'ab', caseInsensitive: false, boost: 1 });
    expect(parseQuery({ prefix: { f: { value: 'ab', rewrite: 'constant_score', case_insensitive: true } } })).toEqual({
      kind: 'prefix', field: 'f', value: 'ab', caseInsensitive: true, rewrite: 'constant_score', boost: 1,
    });
    expect(parseQuery({ wildcard: { f: { wildcard: 'a*b?' } } })).toEqual({ kind: 'wildcard', field: 'f', value: 'a*b?', caseInsensitive: false, boost: 1 });
    expect(parseQuery({ regexp: { f: 'ab+c' } })).toEqual({ kind: 'regexp', field: 'f', value: 'ab+c', flags: 'ALL', maxDeterminizedStates: 10_000, caseInsensitive: false, boost: 1 });
    expect(parseQuery({ regexp: { f: { value: 'a.*', flags: 'INTERSECTION|COMPLEMENT', max_determinized_states: 500 } } })).toMatchObject({ flags: 'INTERSECTION|COMPLEMENT', maxDeterminizedStates: 500 });
    expect(parseQuery({ fuzzy: { f: 'quikc' } })).toEqual({ kind: 'fuzzy', field: 'f', value: 'quikc', fuzziness: 'AUTO', prefixLength: 0, maxExpansions: 50, transpositions: true, boost: 1 });
    expect(parseQuery({ fuzzy: { f: { value: 'x', fuzziness: 2, prefix_length: 1, max_expansions: 10, transpositions: false } } })).toMatchObject({
      fuzziness: '2', prefixLength: 1, maxExpansions: 10, transpositions: false,
    });
  });

  it('parses range bounds as raw values, and the legacy from/to form', () => {
    // Goal: numbers and date-math strings stay raw; format/time_zone/relation kept; last bound wins.
    expect(parseQuery({ range: { n: { gte: 1 } } })).toEqual({ kind: 'range', field: 'n', gte: 1, relation: 'intersects', boost: 1 });
    expect(parseQuery({ range: { d: { gt: 'now-1d/d', lte: 'now', format: 'strict_date_optional_time', time_zone: '+01:00', relation: 'WITHIN', boost: 2 } } })).toEqual({
      kind: 'range', field: 'd', gt: 'now-1d/d', lte: 'now', format: 'strict_date_optional_time', timeZone: '+01:00', relation: 'within', boost: 2,
    });
    expect(parseQuery({ range: { n: { from: 1, to: 5, include_lower: false } } })).toEqual({ kind: 'range', field: 'n', gt: 1, lte: 5, relation: 'intersects', boost: 1 });
    expect(parseQuery({ range: { n: { gt: 1, gte: 2 } } })).toMatchObject({ gte: 2 });
    expect(parseQuery({ range: { n: { gte: null, lt: 3 } } })).toEqual({ kind: 'range', field: 'n', lt: 3, relation: 'intersects', boost: 1 });
  });
});

describe('full-text queries', () => {
  it('parses match in both forms with all options', () => {
    // Goal: `{"match":{"f":"text"}}` and the long form; msm raw, fuzziness normalised.
    expect(parseQuery({ match: { title: 'quick fox' } })).toEqual({ kind: 'match', field: 'title', query: 'quick fox', ...MATCH_DEFAULTS });
    expect(
      parseQuery({
        match: {
          title: {
            query: 'quick fox', operator: 'AND', minimum_should_match: '75%', fuzziness: 'auto', prefix_length: 2, max_expansions: 10,
            fuzzy_transpositions: false, analyzer: 'english', zero_terms_query: 'ALL', lenient: 'true', boost: 3, _name: 'm',
            auto_generate_synonyms_phrase_query: false, fuzzy_rewrite: 'top_terms_10',
          },
        },
      }),
    ).toEqual({
      kind: 'match', field: 'title', query: 'quick fox', operator: 'and', minimumShouldMatch: '75%', fuzziness: 'AUTO', prefixLength: 2,
      maxExpansions: 10, fuzzyTranspositions: false, fuzzyRewrite: 'top_terms_10', analyzer: 'english', zeroTermsQuery: 'all', lenient: true,
      autoGenerateSynonymsPhraseQuery: false, boost: 3, name: 'm',
    });
    expect(parseQuery({ match: { n: 5 } })).toMatchObject({ query: 5 });
    expect(parseQuery({ match: { t: { query: 'x', fuzziness: 'AUTO:3,6', minimum_should_match: 2 } } })).toMatchObject({ fuzziness: 'AUTO:3,6', minimumShouldMatch: 2 });
  });

  it('parses match_phrase, match_phrase_prefix and match_bool_prefix', () => {
    // Goal: each keeps its own options and defaults.
    expect(parseQuery({ match_phrase: { t: 'a b' } })).toEqual({ kind: 'match_phrase', field: 't', query: 'a b', slop: 0, zeroTermsQuery: 'none', boost: 1 });
    expect(parseQuery({ match_phrase: { t: { query: 'a b', slop: 2, analyzer: 'std' } } })).toMatchObject({ slop: 2, analyzer: 'std' });
    expect(parseQuery({ match_phrase_prefix: { t: { query: 'quick br', max_expansions: 10 } } })).toEqual({
      kind: 'match_phrase_prefix', field: 't', query: 'quick br', slop: 0, maxExpansions: 10, zeroTermsQuery: 'none', boost: 1,
    });
    expect(parseQuery({ match_bool_prefix: { t: { query: 'quick br', operator: 'and', minimum_should_match: '-1', fuzziness: 1 } } })).toEqual({
      kind: 'match_bool_prefix', field: 't', query: 'quick br', operator: 'and', minimumShouldMatch: '-1', fuzziness: '1',
      prefixLength: 0, maxExpansions: 50, fuzzyTranspositions: true, boost: 1,
    });
  });

  it('parses multi_match with field boosts and every type', () => {
    // Goal: `field^boost` split, type/tie_breaker kept, fields as given (patterns stay for the shard).
    expect(parseQuery({ multi_match: { query: 'fox', fields: ['title^2', 'body', 'tags.*'], type: 'most_fields', tie_breaker: 0.3 } })).toEqual({
      kind: 'multi_match', query: 'fox', fields: [{ field: 'title', boost: 2 }, { field: 'body', boost: 1 }, { field: 'tags.*', boost: 1 }],
      type: 'most_fields', tieBreaker: 0.3, slop: 0, ...MATCH_DEFAULTS,
    });
    expect(parseQuery({ multi_match: { query: 'fox', fields: 'title' } })).toMatchObject({ fields: [{ field: 'title', boost: 1 }], type: 'best_fields' });
    expect(parseQuery({ multi_match: { query: 'fox' } })).toMatchObject({ fields: [] });
    for (const type of ['best_fields', 'most_fields', 'cross_fields', 'phrase', 'phrase_prefix', 'bool_prefix']) {
      expect(parseQuery({ multi_match: { query: 'x', type } })).toMatchObject({ type });
    }
    expect(parseQuery({ multi_match: { query: 'x', type: 'phrase', slop: 3 } })).toMatchObject({ slop: 3 });
    expect(fieldWeight('a^0.5')).toEqual({ field: 'a', boost: 0.5 });
  });

  it('parses query_string and simple_query_string, keeping options and the parsed tree', () => {
    // Goal: options survive, unfielded terms go to default_field / fields, default_operator applies.
    const qs = parseQuery({ query_string: { query: 'a AND b', default_field: 'title', default_operator: 'and', phrase_slop: 1, boost: 2 } });
    expect(qs).toMatchObject({ kind: 'query_string', query: 'a AND b', defaultField: 'title', defaultOperator: 'and', phraseSlop: 1, boost: 2, fuzziness: 'AUTO', allowLeadingWildcard: true });
    expect(qs.kind === 'query_string' && qs.parsed).toMatchObject({ kind: 'bool', must: [{ kind: 'match', field: 'title', query: 'a' }, { kind: 'match', field: 'title', query: 'b' }] });
    const sqs = parseQuery({ simple_query_string: { query: 'a | b*', fields: ['t'], flags: 'OR|PREFIX|WHITESPACE' } });
    expect(sqs).toMatchObject({ kind: 'simple_query_string', flags: 'OR|PREFIX|WHITESPACE', flagsMask: 4 | 8 | 128, fields: [{ field: 't', boost: 1 }] });
    expect(sqs.kind === 'simple_query_string' && sqs.parsed).toMatchObject({ kind: 'bool', should: [{ kind: 'match', query: 'a' }, { kind: 'prefix', value: 'b' }] });
    const escaped = parseQuery({ query_string: { query: 'a:(b) OR c*', escape: true, default_field: 'f' } });
    expect(escaped.kind === 'query_string' && escaped.parsed).toMatchObject({ kind: 'bool', should: [{ kind: 'match', query: 'a:(b)' }, { kind: 'match', query: 'c*' }] }); // words like OR stay operators, as Lucene's escape leaves them
    expect(parseUriQuery('title:fox', { df: 'body', defaultOperator: 'AND' })).toMatchObject({ kind: 'query_string', defaultField: 'body', defaultOperator: 'and', parsed: { kind: 'match', field: 'title' } });
  });
});

describe('compound queries', () => {
  it('parses bool with single clauses, arrays, null and a raw minimum_should_match', () => {
    // Goal: clause lists, raw msm (resolved on the shard), _name and boost.
    expect(parseQuery({ bool: { must: { match_all: {} }, should: [{ term: { a: 1 } }, { term: { a: 2 } }], filter: null, must_not: [], minimum_should_match: '-1', boost: 2, _name: 'b', adjust_pure_negative: false } })).toEqual({
      kind: 'bool',
      must: [{ kind: 'match_all', boost: 1 }],
      filter: [],
      should: [{ kind: 'term', field: 'a', value: 1, boost: 1 }, { kind: 'term', field: 'a', value: 2, boost: 1 }],
      mustNot: [],
      minimumShouldMatch: '-1',
      boost: 2,
      name: 'b',
    });
    expect(parseQuery({ bool: { minimum_should_match: 2 } })).toMatchObject({ minimumShouldMatch: 2 });
  });

  it('parses constant_score, dis_max and boosting', () => {
    // Goal: inner queries parsed recursively; defaults (tie_breaker 0) written out.
    expect(parseQuery({ constant_score: { filter: { term: { a: 'x' } }, boost: 1.2 } })).toEqual({ kind: 'constant_score', filter: { kind: 'term', field: 'a', value: 'x', boost: 1 }, boost: 1.2 });
    expect(parseQuery({ dis_max: { queries: [{ match: { t: 'x' } }, { match: { b: 'x' } }], tie_breaker: 0.7 } })).toMatchObject({
      kind: 'dis_max', tieBreaker: 0.7, queries: [{ kind: 'match', field: 't' }, { kind: 'match', field: 'b' }], boost: 1,
    });
    expect(parseQuery({ dis_max: { queries: { match_all: {} } } })).toMatchObject({ tieBreaker: 0, queries: [{ kind: 'match_all' }] });
    expect(parseQuery({ boosting: { positive: { match: { t: 'apple' } }, negative: { term: { t: 'pie' } }, negative_boost: 0.5 } })).toMatchObject({
      kind: 'boosting', positive: { kind: 'match' }, negative: { kind: 'term' }, negativeBoost: 0.5,
    });
  });

  it('parses function_score with functions, single functions and top-level weight', () => {
    // Goal: filter/weight per function, decay and field_value_factor options, modes and limits.
    expect(
      parseQuery({
        function_score: {
          query: { match: { t: 'x' } },
          functions: [
            { filter: { term: { tag: 'a' } }, weight: 2 },
            { field_value_factor: { field: 'likes', factor: 1.2, modifier: 'sqrt', missing: 1 } },
            { gauss: { date: { origin: 'now', scale: '10d', offset: '1d', decay: 0.3 }, multi_value_mode: 'avg' }, weight: 3 },
            { linear: { price: { origin: 10, scale: 5 } } },
            { random_score: { seed: 10, field: '_seq_no' } },
          ],
          score_mode: 'sum',
          boost_mode: 'replace',
          max_boost: 10,
          min_score: 0.5,
          boost: 2,
        },
      }),
    ).toEqual({
      kind: 'function_score',
      query: { kind: 'match', field: 't', query: 'x', ...MATCH_DEFAULTS },
      functions: [
        { kind: 'weight', weight: 2, filter: { kind: 'term', field: 'tag', value: 'a', boost: 1 } },
        { kind: 'field_value_factor', field: 'likes', factor: 1.2, modifier: 'sqrt', missing: 1 },
        { kind: 'decay', shape: 'gauss', field: 'date', origin: 'now', scale: '10d', offset: '1d', decay: 0.3, multiValueMode: 'avg', weight: 3 },
        { kind: 'decay', shape: 'linear', field: 'price', origin: 10, scale: 5, decay: 0.5, multiValueMode: 'min' },
        { kind: 'random_score', seed: 10, field: '_seq_no' },
      ],
      scoreMode: 'sum',
      boostMode: 'replace',
      maxBoost: 10,
      minScore: 0.5,
      boost: 2,
    });
    expect(parseQuery({ function_score: { exp: { d: { scale: 1 } } } })).toMatchObject({
      query: { kind: 'match_all' }, functions: [{ kind: 'decay', shape: 'exp' }], scoreMode: 'multiply', boostMode: 'multiply',
    });
    expect(parseQuery({ function_score: { weight: 4 } })).toMatchObject({ functions: [{ kind: 'weight', weight: 4 }] });
  });

  it('parses match_all and match_none with boost and _name', () => {
    // Goal: both accept boost and _name; match_none keeps them too.
    expect(parseQuery({ match_all: { boost: 1.5, _name: 'all' } })).toEqual({ kind: 'match_all', boost: 1.5, name: 'all' });
    expect(parseQuery({ match_none: {} })).toEqual({ kind: 'match_none', boost: 1 });
  });
});

describe('errors', () => {
  /** [query, type, reason] rows; reasons are Elasticsearch's words. */
  const table: Array<[unknown, string, string]> = [
    [{ nope: {} }, 'parsing_exception', 'unknown query [nope]'],
    [{ boool: {} }, 'parsing_exception', 'unknown query [boool] did you mean [bool]?'],
    [{ match_: {} }, 'parsing_exception', 'unknown query [match_] did you mean any of [match, match_all, match_none]?'],
    [{ nested: {} }, 'parsing_exception', 'query [nested] is not supported yet'],
    ['x', 'parsing_exception', '[_na] query malformed, must start with start_object'],
    [{}, 'illegal_argument_exception', 'query malformed, empty clause found'],
    [{ match_all: {}, term: { a: 1 } }, 'parsing_exception', '[match_all] malformed query, expected [END_OBJECT] but found [FIELD_NAME]'],
    [{ match: 'x' }, 'parsing_exception', '[match] query malformed, no start_object after query name'],
    [{ match: { a: { query: 'x', foo: 1 } } }, 'parsing_exception', '[match] query does not support [foo]'],
    [{ match: { a: { query: 'x', operator: {} } } }, 'parsing_exception', '[match] unknown token [START_OBJECT] after [operator]'],
    [{ match: { a: 'x', b: 'y' } }, 'parsing_exception', "[match] query doesn't support multiple fields, found [a] and [b]"],
    [{ match: { a: { analyzer: 'x' } } }, 'parsing_exception', 'No text specified for text query'],
    [{ match: { a: { query: 'x', operator: 'xor' } } }, 'illegal_argument_exception', 'operator needs to be either [OR, AND], but not [xor]'],
    [{ match: { a: { query: 'x', zero_terms_query: 'some' } } }, 'parsing_exception', 'Unsupported zero_terms_query value [some]'],
    [{ match: { a: { query: 'x', fuzziness: 3 } } }, 'illegal_argument_exception', 'Valid edit distances are [0, 1, 2] but was [3]'],
    [{ match: { a: { query: 'x', fuzziness: '1.5' } } }, 'illegal_argument_exception', 'fuzziness needs to be one of 0.0, 1.0 or 2.0 but was 1.5'],
    [{ match: { a: { query: 'x', fuzziness: 'lots' } } }, 'illegal_argument_exception', 'fuzziness cannot be [lots].'],
    [{ match: { a: { query: 'x', fuzziness: 'AUTO:6,3' } } }, 'parse_exception', 'fuzziness wrongly configured [AUTO:6,3]. Must be 0 < lower value <= higher value.'],
    [{ match: { a: { query: 'x', fuzziness: 'auto:1' } } }, 'parse_exception', 'failed to find low and high distance values'],
    [{ match: { a: { query: 'x', fuzziness: true } } }, 'illegal_argument_exception', "Can't parse fuzziness on token: [VALUE_BOOLEAN]"],
    [{ match: { a: { query: 'x', boost: 'big' } } }, 'number_format_exception', 'For input string: "big"'],
    [{ match: { a: { query: 'x', lenient: 'yes' } } }, 'illegal_argument_exception', 'Failed to parse value [yes] as only [true] or [false] are allowed.'],
    [{ match: { a: { query: 'x', minimum_should_match: '50.5%' } } }, 'number_format_exception', 'For input string: "50.5"'],
    [{ match: { a: { query: 'x', boost: true } } }, 'x_content_parse_exception', 'Current token (VALUE_TRUE) not numeric, can not use numeric value accessors'],
    [{ match: { a: ['x'] } }, 'parsing_exception', '[match] unknown token [START_ARRAY] after [a]'],
    [{ match_phrase: { a: { query: 'x', operator: 'and' } } }, 'parsing_exception', '[match_phrase] query does not support [operator]'],
    [{ match_phrase: { a: 'x', b: 'y' } }, 'parsing_exception', "[match_phrase] query doesn't support multiple fields, found [a] and [b]"],
    [{ multi_match: { fields: ['a'] } }, 'parsing_exception', 'No text specified for multi_match query'],
    [{ multi_match: { query: 'x', type: 'best' } }, 'parse_exception', 'failed to parse [multi_match] query type [best]. unknown type.'],
    [{ query_string: { query: 'x', type: 'BEST_FIELDS' } }, 'parse_exception', 'failed to parse [multi_match] query type [BEST_FIELDS]. unknown type.'],
    [{ query_string: { query: 'x', fields: ['a'], default_field: 'b' } }, 'query_validation_exception', 'Validation Failed: 1: cannot use [fields] parameter in conjunction with [default_field];'],
    [{ multi_match: { query: 'x', type: 'phrase', fuzziness: 1 } }, 'parsing_exception', 'Fuzziness not allowed for type [phrase]'],
    [{ multi_match: { query: 'x', type: 'bool_prefix', slop: 1 } }, 'parsing_exception', 'slop not allowed for type [bool_prefix]'],
    [{ multi_match: { query: 'x', fields: ['a^x'] } }, 'number_format_exception', 'For input string: "x"'],
    [{ term: { a: 'x', b: 'y' } }, 'parsing_exception', "[term] query doesn't support multiple fields, found [a] and [b]"],
    [{ term: { a: 'x', boost: 2 } }, 'parsing_exception', "[term] query doesn't support multiple fields, found [a] and [boost]"],
    [{ term: { a: { value: 'x', foo: 1 } } }, 'parsing_exception', '[term] query does not support [foo]'],
    [{ term: { a: ['x'] } }, 'parsing_exception', '[term] query does not support array of values'],
    [{ term: { a: { boost: 2 } } }, 'illegal_argument_exception', 'value cannot be null'],
    [{ term: {} }, 'illegal_argument_exception', 'field name is null or empty'],
    [{ terms: { a: ['x'], b: ['y'] } }, 'parsing_exception', '[terms] query does not support multiple fields'],
    [{ terms: { a: 'x' } }, 'parsing_exception', '[terms] query does not support [a]'],
    [{ terms: { boost: 2 } }, 'parsing_exception', '[terms] query requires a field name, followed by array of terms or a document lookup specification'],
    [{ terms: { a: { index: 'i', id: '1', path: 'p' } } }, 'parsing_exception', '[terms] terms lookup is not supported yet'],
    [{ ids: { values: 'x' } }, 'x_content_parse_exception', "[ids] values doesn't support values of type: VALUE_STRING"],
    [{ ids: { value: ['x'] } }, 'x_content_parse_exception', '[ids] unknown field [value] did you mean [values]?'],
    [{ match_all: { foo: 1 } }, 'x_content_parse_exception', '[match_all] unknown field [foo]'],
    [{ match_none: { foo: 1 } }, 'parsing_exception', '[match_none] query does not support [foo]'],
    [{ bool: { mustt: [] } }, 'x_content_parse_exception', '[bool] unknown field [mustt] did you mean any of [must, must_not]?'],
    [{ bool: { must: 'x' } }, 'x_content_parse_exception', "[bool] must doesn't support values of type: VALUE_STRING"],
    [{ bool: { minimum_should_match: {} } }, 'x_content_parse_exception', "[bool] minimum_should_match doesn't support values of type: START_OBJECT"],
    [{ bool: { boost: true } }, 'x_content_parse_exception', "[bool] boost doesn't support values of type: VALUE_BOOLEAN"],
    [{ bool: { _name: 1 } }, 'x_content_parse_exception', "[bool] _name doesn't support values of type: VALUE_NUMBER"],
    [{ bool: { must: [{ nope: {} }] } }, 'x_content_parse_exception', '[bool] failed to parse field [must]'],
    [{ bool: { boost: 'x' } }, 'x_content_parse_exception', '[bool] failed to parse field [boost]'],
    [{ bool: { minimum_should_match: 'lots' } }, 'x_content_parse_exception', '[bool] failed to parse field [minimum_should_match]'],
    [{ range: { a: { gte: 1 }, b: { lte: 2 } } }, 'parsing_exception', "[range] query doesn't support multiple fields, found [a] and [b]"],
    [{ range: { a: { gte: 1, foo: 2 } } }, 'parsing_exception', '[range] query does not support [foo]'],
    [{ range: { a: 5 } }, 'parsing_exception', '[range] query does not support [a]'],
    [{ range: { a: { gte: 1, relation: 'disjoint' } } }, 'illegal_argument_exception', '[range] query does not support relation [disjoint]'],
    [{ range: { a: { gte: 1, relation: 'near' } } }, 'illegal_argument_exception', 'near is not a valid relation'],
    [{ range: {} }, 'illegal_argument_exception', 'field name is null or empty'],
    [{ term: { a: { value: 1, boost: -1 } } }, 'illegal_argument_exception', 'negative [boost] are not allowed.'],
    [{ bool: { boost: -2 } }, 'x_content_parse_exception', '[bool] failed to parse field [boost]'],
    [{ exists: {} }, 'parsing_exception', '[exists] must be provided with a [field]'],
    [{ exists: { field: 'a', foo: 1 } }, 'parsing_exception', '[exists] query does not support [foo]'],
    [{ prefix: { a: { boost: 1 } } }, 'illegal_argument_exception', 'value cannot be null'],
    [{ wildcard: { a: 'x', b: 'y' } }, 'parsing_exception', "[wildcard] query doesn't support multiple fields, found [a] and [b]"],
    [{ regexp: { a: 'x'.repeat(1001) } }, 'illegal_argument_exception', 'The length of regex [1001] used in the Regexp Query request has exceeded the allowed maximum of [1000]. This maximum can be set by changing the [index.max_regex_length] index level setting.'],
    [{ regexp: { a: { value: 'x', flags: 'BOGUS' } } }, 'illegal_argument_exception', 'Unknown regexp flag [BOGUS]'],
    [{ fuzzy: { a: { value: 'x', foo: 1 } } }, 'parsing_exception', '[fuzzy] query does not support [foo]'],
    [{ constant_score: { boost: 2 } }, 'parsing_exception', "[constant_score] requires a 'filter' element"],
    [{ constant_score: { query: { match_all: {} } } }, 'parsing_exception', '[constant_score] query does not support [query]'],
    [{ dis_max: { tie_breaker: 0.5 } }, 'parsing_exception', "[dis_max] requires 'queries' field with at least one clause"],
    [{ dis_max: { queries: [], foo: 1 } }, 'parsing_exception', '[dis_max] query does not support [foo]'],
    [{ boosting: { negative: { match_all: {} }, negative_boost: 0.5 } }, 'parsing_exception', "[boosting] query requires 'positive' query to be set'"],
    [{ boosting: { positive: { match_all: {} }, negative_boost: 0.5 } }, 'parsing_exception', "[boosting] query requires 'negative' query to be set'"],
    [{ boosting: { positive: { match_all: {} }, negative: { match_all: {} } } }, 'parsing_exception', "[boosting] query requires 'negative_boost' to be set to be a positive value'"],
    [{ function_score: { score_mode: 'most' } }, 'illegal_argument_exception', 'illegal score_mode [most]'],
    [{ function_score: { boost_mode: 'least' } }, 'illegal_argument_exception', 'illegal boost_mode [least]'],
    [{ function_score: { foo: 1 } }, 'parsing_exception', 'failed to parse [function_score] query. field [foo] is not supported'],
    [{ function_score: { functions: [{ weight: 1 }], gauss: { d: { scale: 1 } } } }, 'parsing_exception', 'failed to parse [function_score] query. [you can either define [functions] array or a single function, not both. already found [functions] array, now encountering [gauss].]'],
    [{ function_score: { gauss: { d: { scale: 1 } }, functions: [] } }, 'parsing_exception', 'failed to parse [function_score] query. [you can either define [functions] array or a single function, not both. already found [gauss], now encountering [functions].]'],
    [{ function_score: { gauss: { d: { scale: 1 } }, weight: 2 } }, 'parsing_exception', 'failed to parse [function_score] query. already found function [gauss], now encountering [weight]. use [functions] array if you want to define several functions.'],
    [{ function_score: { functions: [1] } }, 'parsing_exception', 'failed to parse [START_OBJECT]. malformed query, expected a [VALUE_NUMBER] while parsing functions but got a [function_score] instead'],
    [{ function_score: { functions: [{ filter: { match_all: {} } }] } }, 'parsing_exception', 'failed to parse [function_score] query. an entry in functions list is missing a function.'],
    [{ function_score: { tags: [] } }, 'parsing_exception', 'failed to parse [function_score] query. array [tags] is not supported'],
    [{ function_score: { functions: [{ gauss: { d: { scale: 1 } }, exp: { d: { scale: 1 } } }] } }, 'parsing_exception', 'failed to parse function_score functions. already found [gauss], now encountering [exp].'],
    [{ function_score: { field_value_factor: { factor: 2 } } }, 'parsing_exception', "[field_value_factor] required field 'field' missing"],
    [{ function_score: { script_score: { script: 'x' } } }, 'parsing_exception', 'function [script_score] is not supported yet'],
    [{ query_string: { default_field: 'a' } }, 'parsing_exception', '[query_string] must be provided with a [query]'],
    [{ query_string: { query: 'x', foo: 1 } }, 'parsing_exception', '[query_string] query does not support [foo]'],
    [{ query_string: { query: 'a AND' } }, 'query_shard_exception', 'Failed to parse query [a AND]'],
    [{ simple_query_string: { fields: ['a'] } }, 'parsing_exception', '[simple_query_string] query text missing'],
    [{ simple_query_string: { query: 'x', foo: 1 } }, 'parsing_exception', '[simple_query_string] unsupported field [foo]'],
    [{ simple_query_string: { query: 'x', flags: 'AND|MAYBE' } }, 'illegal_argument_exception', 'Unknown simple_query_string flag [MAYBE]'],
    [{ simple_query_string: { query: 'x', analyzer: {} } }, 'parsing_exception', '[simple_query_string] unknown token [START_OBJECT] after [analyzer]'],
    [{ simple_query_string: { query: 'x', tags: [] } }, 'parsing_exception', '[simple_query_string] query does not support [tags]'],
  ];

  it('answers every malformed query with Elasticsearch’s type and reason', () => {
    // Goal: one row per error path; no text, so no positions in the reasons.
    for (const [query, type, reason] of table) {
      const error = thrown(() => parseQuery(query));
      expect([JSON.stringify(query).slice(0, 120), error.type, error.message]).toEqual([JSON.stringify(query).slice(0, 120), type, reason]);
    }
  });

  it('carries positions from the body text', () => {
    // Goal: parsing_exception has line/col of the offending key; x_content_parse_exception prefixes [line:col].
    const unknown = thrown(() => fromText('{\n  "query": {\n    "frobnicate": {}\n  }\n}'));
    expect(unknown.extra).toEqual({ line: 3, col: 5 });
    const option = thrown(() => fromText('{"query":{"match":{"title":{"query":"x",\n"foo":1}}}}'));
    expect([option.type, option.message, option.extra]).toEqual(['parsing_exception', '[match] query does not support [foo]', { line: 2, col: 1 }]);
    const nested = thrown(() => fromText('{"query":{"bool":{"filter":[{"term":{"a":1}},{"nope":{}}]}}}'));
    expect([nested.type, nested.message]).toEqual(['x_content_parse_exception', '[1:19] [bool] failed to parse field [filter]']);
    expect(nested.causedBy).toMatchObject({ type: 'parsing_exception', message: 'unknown query [nope]', extra: { line: 1, col: 47 } });
    expect(nested.toResponse().error.root_cause).toEqual([{ type: 'parsing_exception', reason: 'unknown query [nope]', line: 1, col: 47 }]);
    const empty = thrown(() => fromText('{"query":{}}'));
    expect([empty.type, empty.message]).toEqual(['illegal_argument_exception', 'query malformed, empty clause found at [1:11]']);
    const unknownField = thrown(() => fromText('{"query":{"bool":{"shuold":[]}}}'));
    expect(unknownField.message).toBe('[1:19] [bool] unknown field [shuold] did you mean [should]?');
  });

  it('gives query_string syntax errors Elasticsearch’s shape', () => {
    // Goal: query_shard_exception is the root cause; Lucene's parse_exception rides along as caused_by.
    const error = thrown(() => parseQuery({ query_string: { query: 'title:(a OR' } }));
    expect(error.toResponse()).toEqual({
      error: {
        root_cause: [{ type: 'query_shard_exception', reason: 'Failed to parse query [title:(a OR]' }],
        type: 'query_shard_exception',
        reason: 'Failed to parse query [title:(a OR]',
        caused_by: { type: 'parse_exception', reason: "Cannot parse 'title:(a OR': Encountered \"<EOF>\" at line 1, column 11." },
      },
      status: 400,
    });
  });
});

describe('limits', () => {
  it('refuses nesting deeper than indices.query.bool.max_nested_depth', () => {
    // Goal: MAX_NESTED_DEPTH levels parse; one more is the illegal_argument_exception Elasticsearch gives.
    const nest = (levels: number): unknown => {
      let q: unknown = { match_all: {} };
      for (let i = 1; i < levels; i++) q = { constant_score: { filter: q } };
      return q;
    };
    expect(() => parseQuery(nest(MAX_NESTED_DEPTH))).not.toThrow();
    const error = thrown(() => parseQuery(nest(MAX_NESTED_DEPTH + 1)));
    expect([error.type, error.message]).toEqual([
      'illegal_argument_exception',
      'The nested depth of the query exceeds the maximum nested depth for queries set in [indices.query.bool.max_nested_depth]',
    ]);
    let bools: unknown = { match_all: {} };
    for (let i = 0; i < MAX_NESTED_DEPTH; i++) bools = { bool: { must: bools } };
    const wrapped = thrown(() => parseQuery(bools));
    expect(wrapped.type).toBe('x_content_parse_exception');
    expect(wrapped.toResponse().error.root_cause).toEqual([
      { type: 'illegal_argument_exception', reason: 'The nested depth of the query exceeds the maximum nested depth for queries set in [indices.query.bool.max_nested_depth]' },
    ]);
  });

  it('refuses terms queries over index.max_terms_count', () => {
    // Goal: MAX_TERMS_COUNT values parse (one clause), one more is Elasticsearch's illegal_argument_exception.
    const values = (n: number): unknown => ({ terms: { a: Array.from({ length: n }, (_, i) => i) } });
    expect(() => parseQuery(values(MAX_TERMS_COUNT))).not.toThrow();
    const error = thrown(() => parseQuery(values(MAX_TERMS_COUNT + 1)));
    expect([error.type, error.message]).toEqual([
      'illegal_argument_exception',
      `The number of terms [${MAX_TERMS_COUNT + 1}] used in the Terms Query request has exceeded the allowed maximum of [${MAX_TERMS_COUNT}]. This maximum can be set by changing the [index.max_terms_count] index level setting.`,
    ]);
  });

  it('refuses more leaf clauses than indices.query.bool.max_clause_count', () => {
    // Goal: MAX_CLAUSE_COUNT leaves parse, one more fails, query_string terms count too.
    const should = (n: number): unknown => ({ bool: { should: Array.from({ length: n }, (_, i) => ({ term: { a: i } })) } });
    expect(() => parseQuery(should(MAX_CLAUSE_COUNT))).not.toThrow();
    const error = thrown(() => parseQuery(should(MAX_CLAUSE_COUNT + 1)));
    expect([error.type, error.message]).toEqual(['query_shard_exception', `failed to create query: Query contains too many nested clauses; maxClauseCount is set to ${MAX_CLAUSE_COUNT}`]);
    const text = Array.from({ length: MAX_CLAUSE_COUNT + 1 }, (_, i) => `t${i}`).join(' ');
    expect(thrown(() => parseQuery({ query_string: { query: text } })).type).toBe('query_shard_exception');
  });
});

describe('did you mean', () => {
  it('suggests like Elasticsearch’s SuggestingErrorOnUnknown', () => {
    // Goal: similarity above 0.5, best first, ties by name.
    expect(didYouMean('querry', ['query', 'queries'])).toBe(' did you mean any of [query, queries]?');
    expect(didYouMean('zzz', ['query'])).toBe('');
  });
});

describe('robustness', () => {
  it('throws nothing but QuarryErrors on arbitrary JSON', () => {
    // Goal: fast-check feeds random JSON (and random query-shaped JSON); any failure must be a QuarryError.
    const names = fc.constantFrom('match', 'term', 'terms', 'bool', 'range', 'ids', 'multi_match', 'function_score', 'query_string', 'simple_query_string', 'dis_max', 'boosting', 'constant_score', 'regexp', 'fuzzy', 'prefix', 'exists', 'match_all', 'must', 'should', 'filter', 'query', 'value', 'gte', 'functions', 'queries', 'positive', 'negative', 'fields', 'boost', 'minimum_should_match', 'fuzziness', 'operator', 'flags');
    const shaped = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 2 }),
        fc.dictionary(names, tie('node'), { maxKeys: 3 }),
        fc.array(tie('node'), { maxLength: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), shaped), (json) => {
        try {
          parseQuery(json, JSON.stringify(json));
        } catch (error) {
          if (!(error instanceof QuarryError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
