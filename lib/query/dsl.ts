/**
 * The query DSL parser: a search body's `query` JSON → one QueryNode (lib/query/ast.ts), as
 * Elasticsearch's coordinating node parses it into QueryBuilders. Pure: no mappings, no analysis.
 *
 * Errors are Elasticsearch's, type and reason:
 * - hand-written parsers (match, term, range, ...) throw `parsing_exception` ("[match] query does not
 *   support [foo]", "[term] query doesn't support multiple fields, found [a] and [b]") with `line`/`col`;
 * - ObjectParser-based queries (bool, match_all, ids) throw `x_content_parse_exception` with a
 *   `[line:col] ` prefix ("[bool] unknown field [mustt] did you mean [must]?"), and wrap a failing
 *   clause as "[bool] failed to parse field [must]" with the clause's own error as `caused_by`;
 * - bad numbers are `number_format_exception`, bad enum values `illegal_argument_exception`.
 * Positions come from the body text when the caller has it (`text`), pointing at the offending key.
 */
import { QuarryError } from '../common/errors.js';
import type {
  BoolNode,
  FieldWeight,
  FunctionBoostMode,
  FunctionScoreMode,
  MultiMatchType,
  MultiValueMode,
  Operator,
  QueryNode,
  QueryStringType,
  RangeRelation,
  RangeValue,
  Scalar,
  ScoreFunction,
  FieldValueFactorModifier,
  ZeroTermsQuery,
} from './ast.js';
import { locateJsonPath, type PathStep } from './json-position.js';
import { FUZZINESS_MAX_EDITS, MAX_CLAUSE_COUNT, MAX_DETERMINIZED_STATES_DEFAULT, MAX_EXPANSIONS_DEFAULT, MAX_NESTED_DEPTH, MAX_REGEX_LENGTH, MAX_TERMS_COUNT } from './limits.js';
import { checkMinimumShouldMatch } from './minimum-should-match.js';
import { escapeQueryString, parseQueryString, parseSimpleQueryString, parseSimpleQueryStringFlags } from './query-string.js';

/**
 * Parses a `query` object. `text` is the whole body as sent and `path` where the query sits in it
 * (default `["query"]`), so errors can carry positions.
 */
export function parseQuery(json: unknown, text?: string, path: readonly PathStep[] = ['query']): QueryNode {
  const parser = new DslParser(text);
  const node = parser.query(json, [...path], 0);
  checkClauseCount(node);
  return node;
}

/** Options of URI search (`?q=` with `df`, `default_operator`, `analyzer`, `analyze_wildcard`, `lenient`). */
export interface UriQueryOptions {
  df?: string;
  defaultOperator?: string;
  analyzer?: string;
  analyzeWildcard?: boolean;
  lenient?: boolean;
}

/** The `?q=` form: a query_string query over `df` (default `*`), as Elasticsearch's RestSearchAction builds it. */
export function parseUriQuery(q: string, options: UriQueryOptions = {}): QueryNode {
  const body: Record<string, unknown> = { query: q };
  if (options.df !== undefined) body.default_field = options.df;
  if (options.defaultOperator !== undefined) body.default_operator = options.defaultOperator;
  if (options.analyzer !== undefined) body.analyzer = options.analyzer;
  if (options.analyzeWildcard !== undefined) body.analyze_wildcard = options.analyzeWildcard;
  if (options.lenient !== undefined) body.lenient = options.lenient;
  return parseQuery({ query_string: body }, undefined, []);
}

/** Query types we parse. */
const PARSED_QUERIES = [
  'match_all', 'match_none', 'ids', 'term', 'terms', 'bool', 'match', 'match_phrase', 'match_phrase_prefix', 'match_bool_prefix',
  'multi_match', 'range', 'exists', 'prefix', 'wildcard', 'regexp', 'fuzzy', 'constant_score', 'dis_max', 'boosting',
  'function_score', 'query_string', 'simple_query_string',
];

/** Elasticsearch query types we do not parse yet: named so the error says "not supported yet" rather than "unknown". */
const LATER_QUERIES = [
  'nested', 'has_child', 'has_parent', 'parent_id', 'terms_set', 'combined_fields', 'geo_distance', 'geo_bounding_box',
  'geo_shape', 'shape', 'more_like_this', 'script', 'script_score', 'percolate', 'distance_feature', 'rank_feature', 'wrapper', 'pinned',
  'intervals', 'span_term', 'span_first', 'span_near', 'span_or', 'span_not', 'span_containing', 'span_within', 'span_multi',
  'field_masking_span', 'knn', 'sparse_vector', 'text_expansion', 'weighted_tokens', 'semantic', 'rule',
];

/** Every query name Elasticsearch registers that we know of: the candidates of "did you mean". */
const KNOWN_QUERIES = [...PARSED_QUERIES, ...LATER_QUERIES];

/** XContentParser.Token names, as Elasticsearch's messages print them. */
function esToken(value: unknown): string {
  if (value === null) return 'VALUE_NULL';
  if (Array.isArray(value)) return 'START_ARRAY';
  switch (typeof value) {
    case 'object':
      return 'START_OBJECT';
    case 'string':
      return 'VALUE_STRING';
    case 'number':
      return 'VALUE_NUMBER';
    case 'boolean':
      return 'VALUE_BOOLEAN';
    default:
      return 'VALUE_EMBEDDED_OBJECT';
  }
}

/** Jackson's token names (JsonToken), which its own messages use. */
function jacksonToken(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (typeof value === 'number') return Number.isInteger(value) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
  return esToken(value);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * Lucene's LevenshteinDistance similarity (1 − edits / longer length), which Elasticsearch's
 * SuggestingErrorOnUnknown keeps above 0.5, best first, ties by name.
 */
export function didYouMean(unknown: string, candidates: readonly string[]): string {
  const scored: Array<[number, string]> = [];
  for (const candidate of candidates) {
    const similarity = levenshteinSimilarity(unknown, candidate);
    if (similarity > 0.5) scored.push([similarity, candidate]);
  }
  if (scored.length === 0) return '';
  scored.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const keys = scored.map(([, name]) => name);
  return keys.length === 1 ? ` did you mean [${keys[0]}]?` : ` did you mean any of [${keys.join(', ')}]?`;
}

function levenshteinSimilarity(a: string, b: string): number {
  if (a.length === 0 || b.length === 0) return a === b ? 1 : 0;
  let previous = Array.from({ length: a.length + 1 }, (_, i) => i);
  for (let j = 1; j <= b.length; j++) {
    const current = [j];
    for (let i = 1; i <= a.length; i++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[i] = Math.min(current[i - 1] + 1, previous[i] + 1, previous[i - 1] + cost);
    }
    previous = current;
  }
  return Math.fround(1 - previous[a.length] / Math.max(a.length, b.length));
}

/** How an option's value is read (ES's parser accessors). */
type Reader = 'float' | 'int' | 'bool' | 'text' | 'scalar' | 'msm' | 'fuzziness' | 'operator' | 'zeroTerms';

/** An option table: ES option name → [our field name, reader]. */
type OptionSpec = Record<string, readonly [string, Reader]>;

const COMMON_OPTIONS: OptionSpec = { boost: ['boost', 'float'], _name: ['name', 'text'] };

const FUZZY_OPTIONS: OptionSpec = {
  fuzziness: ['fuzziness', 'fuzziness'],
  prefix_length: ['prefixLength', 'int'],
  max_expansions: ['maxExpansions', 'int'],
  fuzzy_transpositions: ['fuzzyTranspositions', 'bool'],
  fuzzy_rewrite: ['fuzzyRewrite', 'text'],
};

const MATCH_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  ...FUZZY_OPTIONS,
  query: ['query', 'scalar'],
  analyzer: ['analyzer', 'text'],
  operator: ['operator', 'operator'],
  minimum_should_match: ['minimumShouldMatch', 'msm'],
  lenient: ['lenient', 'bool'],
  zero_terms_query: ['zeroTermsQuery', 'zeroTerms'],
  auto_generate_synonyms_phrase_query: ['autoGenerateSynonymsPhraseQuery', 'bool'],
};

const MATCH_PHRASE_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  query: ['query', 'scalar'],
  analyzer: ['analyzer', 'text'],
  slop: ['slop', 'int'],
  zero_terms_query: ['zeroTermsQuery', 'zeroTerms'],
};

const MATCH_PHRASE_PREFIX_OPTIONS: OptionSpec = { ...MATCH_PHRASE_OPTIONS, max_expansions: ['maxExpansions', 'int'] };

const MATCH_BOOL_PREFIX_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  ...FUZZY_OPTIONS,
  query: ['query', 'scalar'],
  analyzer: ['analyzer', 'text'],
  operator: ['operator', 'operator'],
  minimum_should_match: ['minimumShouldMatch', 'msm'],
};

const MULTI_MATCH_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  ...FUZZY_OPTIONS,
  query: ['query', 'scalar'],
  type: ['type', 'text'],
  analyzer: ['analyzer', 'text'],
  slop: ['slop', 'int'],
  operator: ['operator', 'operator'],
  minimum_should_match: ['minimumShouldMatch', 'msm'],
  tie_breaker: ['tieBreaker', 'float'],
  lenient: ['lenient', 'bool'],
  zero_terms_query: ['zeroTermsQuery', 'zeroTerms'],
  auto_generate_synonyms_phrase_query: ['autoGenerateSynonymsPhraseQuery', 'bool'],
};

const TERM_OPTIONS: OptionSpec = { ...COMMON_OPTIONS, value: ['value', 'scalar'], case_insensitive: ['caseInsensitive', 'bool'] };
/** Options shared by the multi-term queries on one text value (prefix, wildcard, regexp). */
const PATTERN_OPTIONS: OptionSpec = { ...COMMON_OPTIONS, value: ['value', 'text'], rewrite: ['rewrite', 'text'], case_insensitive: ['caseInsensitive', 'bool'] };
const PREFIX_OPTIONS: OptionSpec = { ...PATTERN_OPTIONS, prefix: ['value', 'text'] };
const WILDCARD_OPTIONS: OptionSpec = { ...PATTERN_OPTIONS, wildcard: ['value', 'text'] };
const REGEXP_OPTIONS: OptionSpec = {
  ...PATTERN_OPTIONS,
  flags: ['flags', 'text'],
  flags_value: ['flagsValue', 'int'],
  max_determinized_states: ['maxDeterminizedStates', 'int'],
};
const FUZZY_QUERY_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  value: ['value', 'scalar'],
  fuzziness: ['fuzziness', 'fuzziness'],
  prefix_length: ['prefixLength', 'int'],
  max_expansions: ['maxExpansions', 'int'],
  transpositions: ['transpositions', 'bool'],
  rewrite: ['rewrite', 'text'],
};

const QUERY_STRING_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  query: ['query', 'text'],
  default_field: ['defaultField', 'text'],
  default_operator: ['defaultOperator', 'operator'],
  analyzer: ['analyzer', 'text'],
  quote_analyzer: ['quoteAnalyzer', 'text'],
  quote_field_suffix: ['quoteFieldSuffix', 'text'],
  allow_leading_wildcard: ['allowLeadingWildcard', 'bool'],
  analyze_wildcard: ['analyzeWildcard', 'bool'],
  enable_position_increments: ['enablePositionIncrements', 'bool'],
  fuzziness: ['fuzziness', 'fuzziness'],
  fuzzy_prefix_length: ['fuzzyPrefixLength', 'int'],
  fuzzy_max_expansions: ['fuzzyMaxExpansions', 'int'],
  fuzzy_transpositions: ['fuzzyTranspositions', 'bool'],
  fuzzy_rewrite: ['fuzzyRewrite', 'text'],
  phrase_slop: ['phraseSlop', 'int'],
  auto_generate_synonyms_phrase_query: ['autoGenerateSynonymsPhraseQuery', 'bool'],
  max_determinized_states: ['maxDeterminizedStates', 'int'],
  minimum_should_match: ['minimumShouldMatch', 'msm'],
  lenient: ['lenient', 'bool'],
  time_zone: ['timeZone', 'text'],
  type: ['type', 'text'],
  tie_breaker: ['tieBreaker', 'float'],
  rewrite: ['rewrite', 'text'],
  escape: ['escape', 'bool'],
};

const SIMPLE_QUERY_STRING_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  query: ['query', 'text'],
  default_operator: ['defaultOperator', 'operator'],
  analyzer: ['analyzer', 'text'],
  quote_field_suffix: ['quoteFieldSuffix', 'text'],
  analyze_wildcard: ['analyzeWildcard', 'bool'],
  fuzzy_prefix_length: ['fuzzyPrefixLength', 'int'],
  fuzzy_max_expansions: ['fuzzyMaxExpansions', 'int'],
  fuzzy_transpositions: ['fuzzyTranspositions', 'bool'],
  auto_generate_synonyms_phrase_query: ['autoGenerateSynonymsPhraseQuery', 'bool'],
  minimum_should_match: ['minimumShouldMatch', 'msm'],
  lenient: ['lenient', 'bool'],
};

const MULTI_MATCH_TYPES: readonly MultiMatchType[] = ['best_fields', 'most_fields', 'cross_fields', 'phrase', 'phrase_prefix', 'bool_prefix'];
const RANGE_RELATIONS: readonly RangeRelation[] = ['intersects', 'contains', 'within'];
const SCORE_MODES: readonly FunctionScoreMode[] = ['multiply', 'sum', 'avg', 'first', 'max', 'min'];
const BOOST_MODES: readonly FunctionBoostMode[] = ['multiply', 'replace', 'sum', 'avg', 'max', 'min'];
const MULTI_VALUE_MODES: readonly MultiValueMode[] = ['min', 'max', 'avg', 'sum'];
const FVF_MODIFIERS: readonly FieldValueFactorModifier[] = ['none', 'log', 'log1p', 'log2p', 'ln', 'ln1p', 'ln2p', 'square', 'sqrt', 'reciprocal'];
/** Lucene RegExp syntax flags (RegexpFlag). */
const REGEXP_FLAGS = ['INTERSECTION', 'COMPLEMENT', 'EMPTY', 'ANYSTRING', 'INTERVAL', 'NONE', 'ALL'];
/** Java's Float.MAX_VALUE: function_score's default max_boost. */
const FLOAT_MAX = 3.4028234663852886e38;

class DslParser {
  constructor(private readonly text: string | undefined) {}

  /** AbstractQueryBuilder.parseInnerQueryBuilder (+ parseTopLevelQuery's depth check). */
  query(json: unknown, path: PathStep[], depth: number): QueryNode {
    if (!isObject(json)) throw this.parsing('[_na] query malformed, must start with start_object', path, 'value');
    const keys = Object.keys(json);
    if (keys.length === 0) {
      const where = this.position(path, 'value');
      const at = where ? ` at [${where.line}:${where.column + 1}]` : '';
      throw new QuarryError('illegal_argument_exception', `query malformed, empty clause found${at}`);
    }
    if (keys.length > 1) throw this.parsing(`[${keys[0]}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]`, [...path, keys[1]]);
    const type = keys[0];
    const body = json[type];
    const at = [...path, type];
    if (!isObject(body)) throw this.parsing(`[${type}] query malformed, no start_object after query name`, at);
    if (depth + 1 > MAX_NESTED_DEPTH) {
      throw new QuarryError(
        'illegal_argument_exception',
        'The nested depth of the query exceeds the maximum nested depth for queries set in [indices.query.bool.max_nested_depth]',
      );
    }
    const d = depth + 1;
    switch (type) {
      case 'match_all':
        return { kind: 'match_all', ...this.objectParserCommon(type, body, at) };
      case 'match_none':
        return { kind: 'match_none', ...this.commonOf(this.options(type, body, at, COMMON_OPTIONS)) };
      case 'ids':
        return this.ids(body, at);
      case 'term':
        return this.term(body, at);
      case 'terms':
        return this.terms(body, at);
      case 'bool':
        return this.bool(body, at, d);
      case 'match':
        return this.match(body, at);
      case 'match_phrase': {
        const { field, o } = this.fieldQuery(type, body, at, MATCH_PHRASE_OPTIONS, 'query');
        return { kind: 'match_phrase', field, query: this.textQuery(o, at), slop: num(o.slop, 0), zeroTermsQuery: zero(o), ...opt('analyzer', str(o.analyzer)), ...this.commonOf(o) };
      }
      case 'match_phrase_prefix': {
        const { field, o } = this.fieldQuery(type, body, at, MATCH_PHRASE_PREFIX_OPTIONS, 'query');
        return {
          kind: 'match_phrase_prefix',
          field,
          query: this.textQuery(o, at),
          slop: num(o.slop, 0),
          maxExpansions: num(o.maxExpansions, MAX_EXPANSIONS_DEFAULT),
          zeroTermsQuery: zero(o),
          ...opt('analyzer', str(o.analyzer)),
          ...this.commonOf(o),
        };
      }
      case 'match_bool_prefix': {
        const { field, o } = this.fieldQuery(type, body, at, MATCH_BOOL_PREFIX_OPTIONS, 'query');
        return {
          kind: 'match_bool_prefix',
          field,
          query: this.textQuery(o, at),
          operator: (o.operator as Operator | undefined) ?? 'or',
          ...fuzzy(o),
          ...opt('minimumShouldMatch', msmOf(o.minimumShouldMatch)),
          ...opt('analyzer', str(o.analyzer)),
          ...this.commonOf(o),
        };
      }
      case 'multi_match':
        return this.multiMatch(body, at);
      case 'range':
        return this.range(body, at);
      case 'exists':
        return this.exists(body, at);
      case 'prefix': {
        const { field, o } = this.fieldQuery(type, body, at, PREFIX_OPTIONS, 'value');
        return { kind: 'prefix', field, value: requireValue(str(o.value)), caseInsensitive: bool(o.caseInsensitive, false), ...opt('rewrite', str(o.rewrite)), ...this.commonOf(o) };
      }
      case 'wildcard': {
        const { field, o } = this.fieldQuery(type, body, at, WILDCARD_OPTIONS, 'value');
        return { kind: 'wildcard', field, value: requireValue(str(o.value)), caseInsensitive: bool(o.caseInsensitive, false), ...opt('rewrite', str(o.rewrite)), ...this.commonOf(o) };
      }
      case 'regexp':
        return this.regexp(body, at);
      case 'fuzzy': {
        const { field, o } = this.fieldQuery(type, body, at, FUZZY_QUERY_OPTIONS, 'value');
        return {
          kind: 'fuzzy',
          field,
          value: requireValue(o.value as Scalar | undefined),
          fuzziness: (o.fuzziness as string | undefined) ?? 'AUTO',
          prefixLength: num(o.prefixLength, 0),
          maxExpansions: num(o.maxExpansions, MAX_EXPANSIONS_DEFAULT),
          transpositions: bool(o.transpositions, true),
          ...opt('rewrite', str(o.rewrite)),
          ...this.commonOf(o),
        };
      }
      case 'constant_score':
        return this.constantScore(body, at, d);
      case 'dis_max':
        return this.disMax(body, at, d);
      case 'boosting':
        return this.boosting(body, at, d);
      case 'function_score':
        return this.functionScore(body, at, d);
      case 'query_string':
        return this.queryString(body, at);
      case 'simple_query_string':
        return this.simpleQueryString(body, at);
      default:
        if (LATER_QUERIES.includes(type)) throw this.parsing(`query [${type}] is not supported yet`, at);
        throw this.parsing(`unknown query [${type}]${didYouMean(type, KNOWN_QUERIES)}`, at);
    }
  }

  // ---- errors and positions -------------------------------------------------------------------

  private position(path: PathStep[], at: 'key' | 'value' = 'key'): { line: number; column: number } | undefined {
    if (this.text === undefined) return undefined;
    try {
      return locateJsonPath(this.text, path, at);
    } catch {
      return undefined;
    }
  }

  /** ParsingException: `line`/`col` fields. */
  private parsing(reason: string, path: PathStep[], at: 'key' | 'value' = 'key'): QuarryError {
    const where = this.position(path, at);
    return new QuarryError('parsing_exception', reason, where ? { line: where.line, col: where.column } : {});
  }

  /** XContentParseException: the position prefixes the reason. */
  private xContent(reason: string, path: PathStep[], cause?: QuarryError): QuarryError {
    const where = this.position(path);
    return new QuarryError('x_content_parse_exception', where ? `[${where.line}:${where.column}] ${reason}` : reason, {}, cause);
  }

  // ---- value readers (XContentParser accessors, coercing like Elasticsearch) ---------------------

  private read(type: string, key: string, value: unknown, reader: Reader, path: PathStep[]): unknown {
    if (value === null) return undefined;
    switch (reader) {
      case 'float':
        return this.number(value, path, false);
      case 'int':
        return this.number(value, path, true);
      case 'bool':
        return booleanValue(value);
      case 'text':
        return String(value);
      case 'scalar':
        return value;
      case 'msm':
        checkMinimumShouldMatch(value as Scalar);
        return typeof value === 'boolean' ? String(value) : value;
      case 'fuzziness':
        return fuzzinessValue(value as Scalar);
      case 'operator':
        return operatorValue(String(value));
      case 'zeroTerms': {
        const v = String(value).toLowerCase();
        if (v !== 'none' && v !== 'all') throw this.parsing(`Unsupported zero_terms_query value [${String(value)}]`, path);
        return v;
      }
    }
    throw new Error(`unreachable reader ${reader} for [${type}] ${key}`);
  }

  private number(value: unknown, path: PathStep[], integer: boolean): number {
    let n: number;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'string') {
      const t = value.trim();
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw new QuarryError('number_format_exception', `For input string: "${value}"`);
      n = Number(t);
    } else {
      throw this.xContent(`Current token (${jacksonToken(value)}) not numeric, can not use numeric value accessors`, path);
    }
    if (!Number.isFinite(n)) throw new QuarryError('number_format_exception', `For input string: "${String(value)}"`);
    return integer ? Math.trunc(n) : n;
  }

  /**
   * A hand-written parser's option loop: objects/arrays are "unknown token", unknown scalars "does
   * not support". Returns our field names → values.
   */
  private options(type: string, body: Json, path: PathStep[], spec: OptionSpec): Json {
    const out: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (value !== null && typeof value === 'object') throw this.parsing(`[${type}] unknown token [${esToken(value)}] after [${key}]`, at);
      const entry = Object.prototype.hasOwnProperty.call(spec, key) ? spec[key] : undefined;
      if (!entry) throw this.parsing(`[${type}] query does not support [${key}]`, at);
      const read = this.read(type, key, value, entry[1], at);
      if (read !== undefined) out[entry[0]] = read;
    }
    return out;
  }

  private commonOf(o: Json): { boost: number; name?: string } {
    const out: { boost: number; name?: string } = { boost: checkBoost(num(o.boost, 1)) };
    if (o.name !== undefined) out.name = o.name as string;
    return out;
  }

  /** ObjectParser's boost/_name for match_all: x_content errors, "unknown field" with suggestions. */
  private objectParserCommon(type: string, body: Json, path: PathStep[]): { boost: number; name?: string } {
    const out: { boost: number; name?: string } = { boost: 1 };
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (key === 'boost') out.boost = this.objectParserBoost(type, value, at);
      else if (key === '_name') out.name = this.objectParserString(type, key, value, at);
      else throw this.xContent(`[${type}] unknown field [${key}]${didYouMean(key, ['boost', '_name'])}`, at);
    }
    return out;
  }

  private objectParserFloat(type: string, key: string, value: unknown, path: PathStep[]): number {
    if (typeof value !== 'number' && typeof value !== 'string') throw this.xContent(`[${type}] ${key} doesn't support values of type: ${esToken(value)}`, path);
    try {
      return this.number(value, path, false);
    } catch (error) {
      throw this.xContent(`[${type}] failed to parse field [${key}]`, path, error as QuarryError);
    }
  }

  /** ObjectParser's declared `boost`: a negative one fails inside the setter, so it is wrapped too. */
  private objectParserBoost(type: string, value: unknown, path: PathStep[]): number {
    const boost = this.objectParserFloat(type, 'boost', value, path);
    try {
      return checkBoost(boost);
    } catch (error) {
      throw this.xContent(`[${type}] failed to parse field [boost]`, path, error as QuarryError);
    }
  }

  private objectParserString(type: string, key: string, value: unknown, path: PathStep[]): string {
    if (typeof value !== 'string') throw this.xContent(`[${type}] ${key} doesn't support values of type: ${esToken(value)}`, path);
    return value;
  }

  /**
   * The one-field queries (match, term, prefix, ...): `{"f": value}` or `{"f": {options}}`; a second
   * key is "doesn't support multiple fields".
   */
  private fieldQuery(type: string, body: Json, path: PathStep[], spec: OptionSpec, shortKey: string): { field: string; o: Json; fieldPath: PathStep[] } {
    let field: string | undefined;
    let o: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (field !== undefined) throw this.parsing(`[${type}] query doesn't support multiple fields, found [${field}] and [${key}]`, at);
      if (Array.isArray(value)) {
        if (type === 'term') throw this.parsing('[term] query does not support array of values', at);
        throw this.parsing(`[${type}] unknown token [START_ARRAY] after [${key}]`, at);
      }
      field = key;
      if (isObject(value)) o = this.options(type, value, at, spec);
      else {
        const entry = spec[shortKey];
        const read = this.read(type, shortKey, value, entry[1], at);
        if (read !== undefined) o[entry[0]] = read;
      }
    }
    if (field === undefined || field === '') throw new QuarryError('illegal_argument_exception', 'field name is null or empty');
    return { field, o, fieldPath: [...path, field] };
  }

  /** The text of match-family queries: "No text specified for text query" when absent. */
  private textQuery(o: Json, path: PathStep[]): Scalar {
    if (o.query === undefined) throw this.parsing('No text specified for text query', path);
    return o.query as Scalar;
  }

  // ---- queries ----------------------------------------------------------------------------------

  private ids(body: Json, path: PathStep[]): QueryNode {
    let values: string[] = [];
    let boost = 1;
    let name: string | undefined;
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (key === 'values') {
        if (!Array.isArray(value)) throw this.xContent(`[ids] values doesn't support values of type: ${esToken(value)}`, at);
        values = value.map((v, i) => {
          if (typeof v !== 'string' && typeof v !== 'number') throw this.xContent(`[ids] failed to parse field [values]`, [...at, i], this.xContent(`values doesn't support values of type: ${esToken(v)}`, [...at, i]));
          return String(v);
        });
      } else if (key === 'boost') boost = this.objectParserBoost('ids', value, at);
      else if (key === '_name') name = this.objectParserString('ids', key, value, at);
      else throw this.xContent(`[ids] unknown field [${key}]${didYouMean(key, ['values', 'boost', '_name'])}`, at);
    }
    return { kind: 'ids', values, boost, ...opt('name', name) };
  }

  private term(body: Json, path: PathStep[]): QueryNode {
    const { field, o } = this.fieldQuery('term', body, path, TERM_OPTIONS, 'value');
    if (o.value === undefined) throw new QuarryError('illegal_argument_exception', 'value cannot be null');
    const node: QueryNode = { kind: 'term', field, value: o.value as Scalar, ...this.commonOf(o) };
    if (o.caseInsensitive !== undefined) node.caseInsensitive = o.caseInsensitive as boolean;
    return node;
  }

  private terms(body: Json, path: PathStep[]): QueryNode {
    let field: string | undefined;
    let values: Scalar[] = [];
    const o: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (Array.isArray(value)) {
        if (field !== undefined) throw this.parsing('[terms] query does not support multiple fields', at);
        field = key;
        values = value.map((v, i) => {
          if (v === null) throw new QuarryError('illegal_argument_exception', 'No value specified for terms query');
          if (!isScalar(v)) throw this.parsing(`[terms] unknown token [${esToken(v)}] after [${key}]`, [...at, i], 'value');
          return v;
        });
      } else if (isObject(value)) {
        throw this.parsing('[terms] terms lookup is not supported yet', at);
      } else if (key === 'boost' || key === '_name') {
        const read = this.read('terms', key, value, COMMON_OPTIONS[key][1], at);
        if (read !== undefined) o[COMMON_OPTIONS[key][0]] = read;
      } else {
        throw this.parsing(`[terms] query does not support [${key}]`, at);
      }
    }
    if (field === undefined) {
      throw this.parsing('[terms] query requires a field name, followed by array of terms or a document lookup specification', path);
    }
    if (values.length > MAX_TERMS_COUNT) {
      throw new QuarryError(
        'illegal_argument_exception',
        `The number of terms [${values.length}] used in the Terms Query request has exceeded the allowed maximum of [${MAX_TERMS_COUNT}]. ` +
          'This maximum can be set by changing the [index.max_terms_count] index level setting.',
      );
    }
    return { kind: 'terms', field, values, ...this.commonOf(o) };
  }

  private bool(body: Json, path: PathStep[], depth: number): QueryNode {
    const node: BoolNode = { kind: 'bool', must: [], filter: [], should: [], mustNot: [], boost: 1 };
    const slots = { must: 'must', filter: 'filter', should: 'should', must_not: 'mustNot' } as const;
    const fields = ['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'boost', '_name', 'adjust_pure_negative'];
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (Object.prototype.hasOwnProperty.call(slots, key)) {
        const slot = slots[key as keyof typeof slots];
        if (value === null) continue;
        if (!isObject(value) && !Array.isArray(value)) throw this.xContent(`[bool] ${key} doesn't support values of type: ${esToken(value)}`, at);
        const list = Array.isArray(value) ? value : [value];
        list.forEach((clause, i) => {
          try {
            node[slot].push(this.query(clause, Array.isArray(value) ? [...at, i] : at, depth));
          } catch (error) {
            if (error instanceof QuarryError) throw this.xContent(`[bool] failed to parse field [${key}]`, at, error);
            throw error;
          }
        });
      } else if (key === 'minimum_should_match') {
        if (value === null) continue;
        if (!isScalar(value)) throw this.xContent(`[bool] minimum_should_match doesn't support values of type: ${esToken(value)}`, at);
        try {
          checkMinimumShouldMatch(value);
        } catch (error) {
          throw this.xContent(`[bool] failed to parse field [${key}]`, at, error as QuarryError);
        }
        node.minimumShouldMatch = typeof value === 'boolean' ? String(value) : value;
      } else if (key === 'boost') node.boost = this.objectParserBoost('bool', value, at);
      else if (key === '_name') node.name = this.objectParserString('bool', key, value, at);
      else if (key === 'adjust_pure_negative') {
        if (typeof value !== 'boolean' && typeof value !== 'string') throw this.xContent(`[bool] ${key} doesn't support values of type: ${esToken(value)}`, at);
        try {
          booleanValue(value);
        } catch (error) {
          throw this.xContent(`[bool] failed to parse field [${key}]`, at, error as QuarryError);
        }
      } else {
        throw this.xContent(`[bool] unknown field [${key}]${didYouMean(key, fields)}`, at);
      }
    }
    return node;
  }

  private match(body: Json, path: PathStep[]): QueryNode {
    const { field, o } = this.fieldQuery('match', body, path, MATCH_OPTIONS, 'query');
    return {
      kind: 'match',
      field,
      query: this.textQuery(o, path),
      operator: (o.operator as Operator | undefined) ?? 'or',
      ...opt('minimumShouldMatch', msmOf(o.minimumShouldMatch)),
      ...fuzzy(o),
      ...opt('analyzer', str(o.analyzer)),
      zeroTermsQuery: zero(o),
      lenient: bool(o.lenient, false),
      autoGenerateSynonymsPhraseQuery: bool(o.autoGenerateSynonymsPhraseQuery, true),
      ...this.commonOf(o),
    };
  }

  private multiMatch(body: Json, path: PathStep[]): QueryNode {
    let fields: FieldWeight[] = [];
    const rest: Json = {};
    for (const [key, value] of Object.entries(body)) {
      if (key === 'fields') {
        const at = [...path, key];
        const list = Array.isArray(value) ? value : [value];
        fields = list.map((f, i) => {
          if (typeof f !== 'string') throw this.parsing(`[multi_match] query does not support [${key}]`, Array.isArray(value) ? [...at, i] : at);
          return fieldWeight(f);
        });
      } else rest[key] = value;
    }
    const o = this.options('multi_match', rest, path, MULTI_MATCH_OPTIONS);
    if (o.query === undefined) throw this.parsing('No text specified for multi_match query', path);
    const type = multiMatchType(o.type);
    if (o.fuzziness !== undefined && (type === 'cross_fields' || type === 'phrase' || type === 'phrase_prefix')) {
      throw this.parsing(`Fuzziness not allowed for type [${type}]`, path);
    }
    if (o.slop !== undefined && o.slop !== 0 && type === 'bool_prefix') throw this.parsing(`slop not allowed for type [${type}]`, path);
    return {
      kind: 'multi_match',
      query: o.query as Scalar,
      fields,
      type,
      ...opt('tieBreaker', numOf(o.tieBreaker)),
      operator: (o.operator as Operator | undefined) ?? 'or',
      ...opt('minimumShouldMatch', msmOf(o.minimumShouldMatch)),
      ...fuzzy(o),
      slop: num(o.slop, 0),
      ...opt('analyzer', str(o.analyzer)),
      zeroTermsQuery: zero(o),
      lenient: bool(o.lenient, false),
      autoGenerateSynonymsPhraseQuery: bool(o.autoGenerateSynonymsPhraseQuery, true),
      ...this.commonOf(o),
    };
  }

  private range(body: Json, path: PathStep[]): QueryNode {
    let field: string | undefined;
    let from: RangeValue | undefined;
    let to: RangeValue | undefined;
    let includeLower = true;
    let includeUpper = true;
    let boost = 1;
    let name: string | undefined;
    let format: string | undefined;
    let timeZone: string | undefined;
    let relation: RangeRelation = 'intersects';
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (isObject(value)) {
        if (field !== undefined) throw this.parsing(`[range] query doesn't support multiple fields, found [${field}] and [${key}]`, at);
        field = key;
        for (const [option, v] of Object.entries(value)) {
          const vat = [...at, option];
          if (v !== null && typeof v === 'object') throw this.parsing(`[range] query does not support [${option}]`, vat);
          const bound = (): RangeValue | undefined => (v === null ? undefined : typeof v === 'boolean' ? String(v) : (v as RangeValue));
          switch (option) {
            case 'gt':
              from = bound();
              includeLower = false;
              break;
            case 'gte':
              from = bound();
              includeLower = true;
              break;
            case 'lt':
              to = bound();
              includeUpper = false;
              break;
            case 'lte':
              to = bound();
              includeUpper = true;
              break;
            case 'from':
              from = bound();
              break;
            case 'to':
              to = bound();
              break;
            case 'include_lower':
              includeLower = booleanValue(v);
              break;
            case 'include_upper':
              includeUpper = booleanValue(v);
              break;
            case 'boost':
              boost = v === null ? 1 : this.number(v, vat, false);
              break;
            case '_name':
              name = v === null ? undefined : String(v);
              break;
            case 'format':
              format = v === null ? undefined : String(v);
              break;
            case 'time_zone':
              timeZone = v === null ? undefined : String(v);
              break;
            case 'relation': {
              const r = String(v).toLowerCase();
              if (r === 'disjoint') throw new QuarryError('illegal_argument_exception', `[range] query does not support relation [${String(v)}]`);
              if (!RANGE_RELATIONS.includes(r as RangeRelation)) throw new QuarryError('illegal_argument_exception', `${String(v)} is not a valid relation`);
              relation = r as RangeRelation;
              break;
            }
            default:
              throw this.parsing(`[range] query does not support [${option}]`, vat);
          }
        }
      } else if (key === '_name' && value !== null && !Array.isArray(value)) {
        name = String(value);
      } else {
        throw this.parsing(`[range] query does not support [${key}]`, at);
      }
    }
    if (field === undefined || field === '') throw new QuarryError('illegal_argument_exception', 'field name is null or empty');
    checkBoost(boost);
    return {
      kind: 'range',
      field,
      ...(from === undefined ? {} : includeLower ? { gte: from } : { gt: from }),
      ...(to === undefined ? {} : includeUpper ? { lte: to } : { lt: to }),
      ...opt('format', format),
      ...opt('timeZone', timeZone),
      relation,
      boost,
      ...opt('name', name),
    };
  }

  private exists(body: Json, path: PathStep[]): QueryNode {
    const o = this.options('exists', body, path, { ...COMMON_OPTIONS, field: ['field', 'text'] });
    if (o.field === undefined) throw this.parsing('[exists] must be provided with a [field]', path);
    return { kind: 'exists', field: o.field as string, ...this.commonOf(o) };
  }

  private regexp(body: Json, path: PathStep[]): QueryNode {
    const { field, o, fieldPath } = this.fieldQuery('regexp', body, path, REGEXP_OPTIONS, 'value');
    const value = requireValue(o.value as string | undefined);
    if (value.length > MAX_REGEX_LENGTH) {
      throw new QuarryError(
        'illegal_argument_exception',
        `The length of regex [${value.length}] used in the Regexp Query request has exceeded the allowed maximum of [${MAX_REGEX_LENGTH}]. ` +
          'This maximum can be set by changing the [index.max_regex_length] index level setting.',
      );
    }
    let flags = 'ALL';
    if (o.flags !== undefined) {
      flags = o.flags as string;
      for (const flag of flags.split('|')) {
        const f = flag.trim().toUpperCase();
        if (f !== '' && !REGEXP_FLAGS.includes(f)) throw new QuarryError('illegal_argument_exception', `Unknown regexp flag [${flag}]`);
      }
    } else if (o.flagsValue !== undefined) {
      flags = regexpFlagsFromValue(o.flagsValue as number);
    }
    const maxDeterminizedStates = num(o.maxDeterminizedStates, MAX_DETERMINIZED_STATES_DEFAULT);
    if (maxDeterminizedStates < 1) throw this.parsing(`[regexp] max_determinized_states must be positive, found [${maxDeterminizedStates}]`, fieldPath);
    return {
      kind: 'regexp',
      field,
      value,
      flags,
      maxDeterminizedStates,
      caseInsensitive: bool(o.caseInsensitive, false),
      ...opt('rewrite', str(o.rewrite)),
      ...this.commonOf(o),
    };
  }

  private constantScore(body: Json, path: PathStep[], depth: number): QueryNode {
    let filter: QueryNode | undefined;
    const o: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (isObject(value)) {
        if (key !== 'filter') throw this.parsing(`[constant_score] query does not support [${key}]`, at);
        filter = this.query(value, at, depth);
      } else if (Array.isArray(value)) {
        throw this.parsing(`unexpected token [START_ARRAY]`, at);
      } else if (key === 'boost' || key === '_name') {
        const read = this.read('constant_score', key, value, COMMON_OPTIONS[key][1], at);
        if (read !== undefined) o[COMMON_OPTIONS[key][0]] = read;
      } else {
        throw this.parsing(`[constant_score] query does not support [${key}]`, at);
      }
    }
    if (!filter) throw this.parsing("[constant_score] requires a 'filter' element", path);
    return { kind: 'constant_score', filter, ...this.commonOf(o) };
  }

  private disMax(body: Json, path: PathStep[], depth: number): QueryNode {
    const queries: QueryNode[] = [];
    let found = false;
    const o: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (isObject(value) || Array.isArray(value)) {
        if (key !== 'queries') throw this.parsing(`[dis_max] query does not support [${key}]`, at);
        found = true;
        if (Array.isArray(value)) value.forEach((q, i) => queries.push(this.query(q, [...at, i], depth)));
        else queries.push(this.query(value, at, depth));
      } else {
        const spec: OptionSpec = { ...COMMON_OPTIONS, tie_breaker: ['tieBreaker', 'float'] };
        if (!Object.prototype.hasOwnProperty.call(spec, key)) throw this.parsing(`[dis_max] query does not support [${key}]`, at);
        const read = this.read('dis_max', key, value, spec[key][1], at);
        if (read !== undefined) o[spec[key][0]] = read;
      }
    }
    if (!found) throw this.parsing("[dis_max] requires 'queries' field with at least one clause", path);
    return { kind: 'dis_max', queries, tieBreaker: num(o.tieBreaker, 0), ...this.commonOf(o) };
  }

  private boosting(body: Json, path: PathStep[], depth: number): QueryNode {
    let positive: QueryNode | undefined;
    let negative: QueryNode | undefined;
    const o: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (isObject(value)) {
        if (key === 'positive') positive = this.query(value, at, depth);
        else if (key === 'negative') negative = this.query(value, at, depth);
        else throw this.parsing(`[boosting] query does not support [${key}]`, at);
      } else {
        const spec: OptionSpec = { ...COMMON_OPTIONS, negative_boost: ['negativeBoost', 'float'] };
        if (Array.isArray(value) || !Object.prototype.hasOwnProperty.call(spec, key)) throw this.parsing(`[boosting] query does not support [${key}]`, at);
        const read = this.read('boosting', key, value, spec[key][1], at);
        if (read !== undefined) o[spec[key][0]] = read;
      }
    }
    if (!positive) throw this.parsing("[boosting] query requires 'positive' query to be set'", path);
    if (!negative) throw this.parsing("[boosting] query requires 'negative' query to be set'", path);
    const negativeBoost = num(o.negativeBoost, -1);
    if (negativeBoost < 0) throw this.parsing("[boosting] query requires 'negative_boost' to be set to be a positive value'", path);
    return { kind: 'boosting', positive, negative, negativeBoost, ...this.commonOf(o) };
  }

  /** FunctionScoreQueryBuilder.fromXContent: `functions` array, or one function (a top-level `weight` is one). */
  private functionScore(body: Json, path: PathStep[], depth: number): QueryNode {
    let query: QueryNode | undefined;
    const functions: ScoreFunction[] = [];
    let singleFunctionName: string | undefined;
    let arrayFound = false;
    let scoreMode: FunctionScoreMode = 'multiply';
    let boostMode: FunctionBoostMode = 'multiply';
    let maxBoost = FLOAT_MAX;
    let minScore: number | undefined;
    const o: Json = {};
    const misplaced = (what: string, at: PathStep[]): QuarryError =>
      this.parsing(`failed to parse [function_score] query. [you can either define [functions] array or a single function, not both. ${what}]`, at);
    const secondFunction = (name: string, at: PathStep[]): QuarryError =>
      this.parsing(
        `failed to parse [function_score] query. already found function [${singleFunctionName}], now encountering [${name}]. use [functions] array if you want to define several functions.`,
        at,
      );
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (isObject(value)) {
        if (key === 'query') {
          query = this.query(value, at, depth);
          continue;
        }
        if (singleFunctionName !== undefined) throw secondFunction(key, at);
        if (arrayFound) throw misplaced(`already found [functions] array, now encountering [${key}].`, at);
        singleFunctionName = key;
        functions.push(this.scoreFunction(key, value, at));
      } else if (Array.isArray(value)) {
        if (key !== 'functions') throw this.parsing(`failed to parse [function_score] query. array [${key}] is not supported`, at);
        if (singleFunctionName !== undefined) throw misplaced(`already found [${singleFunctionName}], now encountering [functions].`, at);
        arrayFound = true;
        value.forEach((f, i) => functions.push(this.filterFunction(f, [...at, i], depth)));
      } else {
        switch (key) {
          case 'score_mode':
            scoreMode = enumValue(String(value), SCORE_MODES, 'score_mode');
            break;
          case 'boost_mode':
            boostMode = enumValue(String(value), BOOST_MODES, 'boost_mode');
            break;
          case 'max_boost':
            maxBoost = this.number(value, at, false);
            break;
          case 'min_score':
            minScore = this.number(value, at, false);
            break;
          case 'boost':
          case '_name': {
            const read = this.read('function_score', key, value, COMMON_OPTIONS[key][1], at);
            if (read !== undefined) o[COMMON_OPTIONS[key][0]] = read;
            break;
          }
          default:
            if (singleFunctionName !== undefined) throw secondFunction(key, at);
            if (arrayFound) throw misplaced(`already found [functions] array, now encountering [${key}].`, at);
            if (key !== 'weight') throw this.parsing(`failed to parse [function_score] query. field [${key}] is not supported`, at);
            functions.push({ kind: 'weight', weight: this.number(value, at, false) });
            singleFunctionName = key;
        }
      }
    }
    return {
      kind: 'function_score',
      query: query ?? { kind: 'match_all', boost: 1 },
      functions,
      scoreMode,
      boostMode,
      maxBoost,
      ...opt('minScore', minScore),
      ...this.commonOf(o),
    };
  }

  /** One element of `functions`: `filter`, `weight` and at most one function. */
  private filterFunction(json: unknown, path: PathStep[], depth: number): ScoreFunction {
    if (!isObject(json)) {
      // Elasticsearch's message has its arguments in this order.
      throw this.parsing(`failed to parse [START_OBJECT]. malformed query, expected a [${esToken(json)}] while parsing functions but got a [function_score] instead`, path, 'value');
    }
    let filter: QueryNode | undefined;
    let weight: number | undefined;
    let fn: ScoreFunction | undefined;
    let fnName: string | undefined;
    for (const [key, value] of Object.entries(json)) {
      const at = [...path, key];
      if (isObject(value)) {
        if (key === 'filter') filter = this.query(value, at, depth);
        else {
          if (fnName !== undefined) throw this.parsing(`failed to parse function_score functions. already found [${fnName}], now encountering [${key}].`, at);
          fnName = key;
          fn = this.scoreFunction(key, value, at);
        }
      } else if (key === 'weight' && !Array.isArray(value)) {
        weight = this.number(value, at, false);
      } else {
        throw this.parsing(`failed to parse [function_score] query. field [${key}] is not supported`, at);
      }
    }
    if (weight !== undefined) fn = fn ? { ...fn, weight } : { kind: 'weight', weight };
    if (!fn) throw this.parsing('failed to parse [function_score] query. an entry in functions list is missing a function.', path, 'value');
    return filter ? { ...fn, filter } : fn;
  }

  private scoreFunction(name: string, body: Json, path: PathStep[]): ScoreFunction {
    switch (name) {
      case 'field_value_factor': {
        const o = this.options(name, body, path, {
          field: ['field', 'text'],
          factor: ['factor', 'float'],
          modifier: ['modifier', 'text'],
          missing: ['missing', 'float'],
        });
        if (o.field === undefined) throw this.parsing("[field_value_factor] required field 'field' missing", path);
        const modifier = enumValue(String(o.modifier ?? 'none'), FVF_MODIFIERS, 'modifier');
        return { kind: 'field_value_factor', field: o.field as string, factor: num(o.factor, 1), modifier, ...opt('missing', o.missing as number | undefined) };
      }
      case 'gauss':
      case 'linear':
      case 'exp': {
        let field: string | undefined;
        let multiValueMode: MultiValueMode = 'min';
        let spec: Json = {};
        for (const [key, value] of Object.entries(body)) {
          const at = [...path, key];
          if (key === 'multi_value_mode') {
            multiValueMode = enumValue(String(value), MULTI_VALUE_MODES, 'multi_value_mode');
          } else if (isObject(value)) {
            if (field !== undefined) throw this.parsing(`[${name}] query doesn't support multiple fields, found [${field}] and [${key}]`, at);
            field = key;
            spec = this.options(name, value, at, { origin: ['origin', 'scalar'], scale: ['scale', 'scalar'], offset: ['offset', 'scalar'], decay: ['decay', 'float'] });
          } else {
            throw this.parsing(`[${name}] query does not support [${key}]`, at);
          }
        }
        if (field === undefined) throw this.parsing(`[${name}] requires a field`, path);
        const decay = num(spec.decay, 0.5);
        if (!(decay > 0 && decay < 1)) throw new QuarryError('illegal_argument_exception', `decay must be in the range [0..1].`);
        const bound = (v: unknown): RangeValue | undefined => (v === undefined ? undefined : typeof v === 'boolean' ? String(v) : (v as RangeValue));
        const fn: ScoreFunction = { kind: 'decay', shape: name, field, scale: bound(spec.scale) ?? '', decay, multiValueMode };
        if (spec.scale === undefined) throw new QuarryError('parse_exception', `[${name}] must provide [scale] for field [${field}]`);
        const origin = bound(spec.origin);
        const offset = bound(spec.offset);
        if (origin !== undefined) fn.origin = origin;
        if (offset !== undefined) fn.offset = offset;
        return fn;
      }
      case 'random_score': {
        const o = this.options(name, body, path, { seed: ['seed', 'scalar'], field: ['field', 'text'] });
        return { kind: 'random_score', ...opt('seed', o.seed as string | number | undefined), ...opt('field', o.field as string | undefined) };
      }
      case 'weight':
        throw this.parsing('failed to parse [function_score] query. [weight] must be a number', path);
      case 'script_score':
        throw this.parsing('function [script_score] is not supported yet', path);
      default:
        throw this.xContent(`unknown field [${name}]`, path);
    }
  }

  private queryString(body: Json, path: PathStep[]): QueryNode {
    let fields: FieldWeight[] = [];
    const rest: Json = {};
    for (const [key, value] of Object.entries(body)) {
      if (key === 'fields') {
        if (!Array.isArray(value)) throw this.parsing(`[query_string] query does not support [${key}]`, [...path, key]);
        fields = value.map((f) => fieldWeight(String(f)));
      } else rest[key] = value;
    }
    const o = this.options('query_string', rest, path, QUERY_STRING_OPTIONS);
    if (o.query === undefined) throw this.parsing('[query_string] must be provided with a [query]', path);
    const type: QueryStringType = multiMatchType(o.type);
    if (fields.length > 0 && o.defaultField !== undefined) {
      throw new QuarryError('query_validation_exception', 'Validation Failed: 1: cannot use [fields] parameter in conjunction with [default_field];');
    }
    const defaultOperator = (o.defaultOperator as Operator | undefined) ?? 'or';
    const query = o.query as string;
    const targets = fields.length > 0 ? fields : [{ field: (o.defaultField as string | undefined) ?? '*', boost: 1 }];
    const node = {
      kind: 'query_string' as const,
      query,
      parsed: { kind: 'match_none', boost: 1 } as QueryNode,
      ...opt('defaultField', o.defaultField as string | undefined),
      fields,
      defaultOperator,
      ...opt('analyzer', o.analyzer as string | undefined),
      ...opt('quoteAnalyzer', o.quoteAnalyzer as string | undefined),
      ...opt('quoteFieldSuffix', o.quoteFieldSuffix as string | undefined),
      allowLeadingWildcard: bool(o.allowLeadingWildcard, true),
      analyzeWildcard: bool(o.analyzeWildcard, false),
      enablePositionIncrements: bool(o.enablePositionIncrements, true),
      fuzziness: (o.fuzziness as string | undefined) ?? 'AUTO',
      fuzzyPrefixLength: num(o.fuzzyPrefixLength, 0),
      fuzzyMaxExpansions: num(o.fuzzyMaxExpansions, MAX_EXPANSIONS_DEFAULT),
      fuzzyTranspositions: bool(o.fuzzyTranspositions, true),
      ...opt('fuzzyRewrite', o.fuzzyRewrite as string | undefined),
      phraseSlop: num(o.phraseSlop, 0),
      autoGenerateSynonymsPhraseQuery: bool(o.autoGenerateSynonymsPhraseQuery, true),
      maxDeterminizedStates: num(o.maxDeterminizedStates, MAX_DETERMINIZED_STATES_DEFAULT),
      ...opt('minimumShouldMatch', o.minimumShouldMatch as string | number | undefined),
      ...opt('lenient', o.lenient as boolean | undefined),
      ...opt('timeZone', o.timeZone as string | undefined),
      type,
      ...opt('tieBreaker', o.tieBreaker as number | undefined),
      ...opt('rewrite', o.rewrite as string | undefined),
      escape: bool(o.escape, false),
      ...this.commonOf(o),
    };
    node.parsed = parseQueryString(node.escape ? escapeQueryString(query) : query, {
      fields: targets,
      defaultOperator,
      tieBreaker: node.tieBreaker ?? 0,
      phraseSlop: node.phraseSlop,
      fuzziness: node.fuzziness,
      fuzzyPrefixLength: node.fuzzyPrefixLength,
      fuzzyMaxExpansions: node.fuzzyMaxExpansions,
      fuzzyTranspositions: node.fuzzyTranspositions,
      allowLeadingWildcard: node.allowLeadingWildcard,
      maxDeterminizedStates: node.maxDeterminizedStates,
      ...opt('analyzer', node.analyzer),
      ...opt('quoteAnalyzer', node.quoteAnalyzer),
      ...opt('timeZone', node.timeZone),
    });
    return node;
  }

  private simpleQueryString(body: Json, path: PathStep[]): QueryNode {
    let fields: FieldWeight[] = [];
    let flags = 'ALL';
    let flagsMask = -1;
    const rest: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (key === 'fields') {
        if (!Array.isArray(value)) throw this.parsing(`[simple_query_string] unsupported field [${key}]`, at);
        fields = value.map((f) => fieldWeight(String(f)));
      } else if (key === 'flags') {
        if (typeof value !== 'string' && typeof value !== 'number') throw this.parsing(`[simple_query_string] unsupported field [${key}]`, at);
        flags = String(value);
        // A negative number means all flags, as SimpleQueryStringBuilder reads it.
        flagsMask = typeof value === 'number' && value < 0 ? -1 : parseSimpleQueryStringFlags(value);
      } else if (Array.isArray(value)) {
        throw this.parsing(`[simple_query_string] query does not support [${key}]`, at);
      } else if (isObject(value)) {
        throw this.parsing(`[simple_query_string] unknown token [START_OBJECT] after [${key}]`, at);
      } else if (!Object.prototype.hasOwnProperty.call(SIMPLE_QUERY_STRING_OPTIONS, key)) {
        throw this.parsing(`[simple_query_string] unsupported field [${key}]`, at);
      } else rest[key] = value;
    }
    const o = this.options('simple_query_string', rest, path, SIMPLE_QUERY_STRING_OPTIONS);
    if (o.query === undefined) throw this.parsing('[simple_query_string] query text missing', path);
    const defaultOperator = (o.defaultOperator as Operator | undefined) ?? 'or';
    const query = o.query as string;
    const node = {
      kind: 'simple_query_string' as const,
      query,
      parsed: { kind: 'match_none', boost: 1 } as QueryNode,
      fields,
      defaultOperator,
      ...opt('analyzer', o.analyzer as string | undefined),
      ...opt('quoteFieldSuffix', o.quoteFieldSuffix as string | undefined),
      flags,
      flagsMask,
      analyzeWildcard: bool(o.analyzeWildcard, false),
      fuzzyPrefixLength: num(o.fuzzyPrefixLength, 0),
      fuzzyMaxExpansions: num(o.fuzzyMaxExpansions, MAX_EXPANSIONS_DEFAULT),
      fuzzyTranspositions: bool(o.fuzzyTranspositions, true),
      autoGenerateSynonymsPhraseQuery: bool(o.autoGenerateSynonymsPhraseQuery, true),
      ...opt('minimumShouldMatch', o.minimumShouldMatch as string | number | undefined),
      ...opt('lenient', o.lenient as boolean | undefined),
      ...this.commonOf(o),
    };
    node.parsed = parseSimpleQueryString(query, {
      fields: fields.length > 0 ? fields : [{ field: '*', boost: 1 }],
      defaultOperator,
      flagsMask,
      fuzzyPrefixLength: node.fuzzyPrefixLength,
      fuzzyMaxExpansions: node.fuzzyMaxExpansions,
      fuzzyTranspositions: node.fuzzyTranspositions,
      ...opt('analyzer', node.analyzer),
    });
    return node;
  }
}

// ---- small helpers ---------------------------------------------------------------------------------

/** `{ [key]: value }` when the value is defined, else `{}` (keeps optional fields absent, not undefined). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** AbstractQueryBuilder.checkNegativeBoost. */
function checkBoost(boost: number): number {
  if (boost < 0) throw new QuarryError('illegal_argument_exception', 'negative [boost] are not allowed.');
  return boost;
}

function str(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

function numOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function msmOf(value: unknown): string | number | undefined {
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function zero(o: Json): ZeroTermsQuery {
  return (o.zeroTermsQuery as ZeroTermsQuery | undefined) ?? 'none';
}

function fuzzy(o: Json): { fuzziness?: string; prefixLength: number; maxExpansions: number; fuzzyTranspositions: boolean; fuzzyRewrite?: string } {
  return {
    ...opt('fuzziness', o.fuzziness as string | undefined),
    prefixLength: num(o.prefixLength, 0),
    maxExpansions: num(o.maxExpansions, MAX_EXPANSIONS_DEFAULT),
    fuzzyTranspositions: bool(o.fuzzyTranspositions, true),
    ...opt('fuzzyRewrite', o.fuzzyRewrite as string | undefined),
  };
}

function requireValue<T>(value: T | undefined): T {
  if (value === undefined) throw new QuarryError('illegal_argument_exception', 'value cannot be null');
  return value;
}

/** `title^2` → {title, 2}; the first `^` splits, as Elasticsearch's field-and-boost parsing does. */
export function fieldWeight(spec: string): FieldWeight {
  const caret = spec.indexOf('^');
  if (caret < 0) return { field: spec, boost: 1 };
  const boostText = spec.slice(caret + 1);
  const boost = Number(boostText);
  if (boostText.trim() === '' || !Number.isFinite(boost)) throw new QuarryError('number_format_exception', `For input string: "${boostText}"`);
  return { field: spec.slice(0, caret), boost };
}

/** XContentParser.booleanValue: true/false, or the strings "true"/"false". */
function booleanValue(value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new QuarryError('illegal_argument_exception', `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.`);
}

/** Operator.fromString. */
function operatorValue(text: string): Operator {
  const lower = text.toLowerCase();
  if (lower === 'and' || lower === 'or') return lower;
  throw new QuarryError('illegal_argument_exception', `operator needs to be either [OR, AND], but not [${text}]`);
}

/** Fuzziness.parse: `AUTO`, `AUTO:low,high`, or 0/1/2 edits (as a number or a string), normalised to text. */
function fuzzinessValue(value: Scalar): string {
  if (typeof value === 'boolean') throw new QuarryError('illegal_argument_exception', "Can't parse fuzziness on token: [VALUE_BOOLEAN]");
  if (typeof value === 'number') return fromEdits(Math.trunc(value));
  if (value.length === 0) throw new QuarryError('illegal_argument_exception', 'fuzziness cannot be null or empty.');
  const upper = value.toUpperCase();
  if (upper === 'AUTO') return 'AUTO';
  if (upper.startsWith('AUTO:')) {
    const limits = upper.slice(5).split(',');
    if (limits.length !== 2) throw new QuarryError('parse_exception', 'failed to find low and high distance values');
    if (!limits.every((l) => /^[+-]?\d+$/.test(l))) throw new QuarryError('parse_exception', `failed to parse [${upper}] as a "auto:int,int"`);
    const [low, high] = limits.map(Number);
    if (low < 0 || high < 0 || low > high) {
      throw new QuarryError('parse_exception', `fuzziness wrongly configured [${upper}]. Must be 0 < lower value <= higher value.`);
    }
    return `AUTO:${low},${high}`;
  }
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/.test(upper.trim()) ? Math.fround(parseFloat(upper)) : NaN;
  if (Number.isNaN(n)) throw new QuarryError('illegal_argument_exception', `fuzziness cannot be [${value}].`);
  if (n % 1 > 0) throw new QuarryError('illegal_argument_exception', `fuzziness needs to be one of 0.0, 1.0 or 2.0 but was ${n}`);
  return fromEdits(Math.trunc(n));
}

/** Fuzziness.fromEdits: 0, 1 or 2 (FUZZINESS_MAX_EDITS). */
function fromEdits(edits: number): string {
  if (!Number.isInteger(edits) || edits < 0 || edits > FUZZINESS_MAX_EDITS) {
    throw new QuarryError('illegal_argument_exception', `Valid edit distances are [0, 1, 2] but was [${edits}]`);
  }
  return String(edits);
}

/** MultiMatchQueryBuilder.Type.parse (also query_string's `type`): exact names, parse_exception otherwise. */
function multiMatchType(value: unknown): MultiMatchType {
  if (value === undefined) return 'best_fields';
  const type = MULTI_MATCH_TYPES.find((t) => t === String(value));
  if (!type) throw new QuarryError('parse_exception', `failed to parse [multi_match] query type [${String(value)}]. unknown type.`);
  return type;
}

function enumValue<T extends string>(text: string, values: readonly T[], what: string): T {
  const lower = text.toLowerCase();
  const found = values.find((v) => v === lower);
  if (!found) throw new QuarryError('illegal_argument_exception', `illegal ${what} [${text}]`);
  return found;
}

/** RegexpFlag values as a `|` list (Lucene RegExp: INTERSECTION 1, COMPLEMENT 2, EMPTY 4, ANYSTRING 8, INTERVAL 32). */
function regexpFlagsFromValue(value: number): string {
  if (value === -1 || value === 0xffff) return 'ALL';
  if (value === 0) return 'NONE';
  const names: string[] = [];
  const bits: Array<[string, number]> = [['INTERSECTION', 1], ['COMPLEMENT', 2], ['EMPTY', 4], ['ANYSTRING', 8], ['INTERVAL', 32]];
  for (const [name, bit] of bits) if ((value & bit) !== 0) names.push(name);
  return names.length > 0 ? names.join('|') : 'NONE';
}

/** Children of a node, for walks. */
export function childQueries(node: QueryNode): QueryNode[] {
  switch (node.kind) {
    case 'bool':
      return [...node.must, ...node.filter, ...node.should, ...node.mustNot];
    case 'constant_score':
      return [node.filter];
    case 'dis_max':
      return node.queries;
    case 'boosting':
      return [node.positive, node.negative];
    case 'function_score':
      return [node.query, ...node.functions.flatMap((f) => (f.filter ? [f.filter] : []))];
    case 'query_string':
    case 'simple_query_string':
      return [node.parsed];
    default:
      return [];
  }
}

/** Counts leaf queries (iteratively) and refuses trees over MAX_CLAUSE_COUNT, as Lucene's IndexSearcher does. */
function checkClauseCount(root: QueryNode): void {
  let leaves = 0;
  const stack: QueryNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const children = childQueries(node);
    if (children.length === 0) leaves++;
    else stack.push(...children);
    if (leaves > MAX_CLAUSE_COUNT) {
      throw new QuarryError(
        'query_shard_exception',
        `failed to create query: Query contains too many nested clauses; maxClauseCount is set to ${MAX_CLAUSE_COUNT}`,
      );
    }
  }
}
