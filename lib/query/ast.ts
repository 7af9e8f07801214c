/**
 * The query AST: what the coordinator parses Elasticsearch's query DSL into (lib/query/dsl.ts) and what
 * every shard executes. Pure data, plain JSON (it crosses the cluster transport as is).
 *
 * The parser does what Elasticsearch's coordinating node does when it turns a search body into
 * QueryBuilders: it checks the shape and fills in defaults, but it never analyses text, never expands
 * field patterns (`*`, `title*`) against mappings and never resolves dates or `minimum_should_match`
 * against clause counts. Those happen on the shard, which knows the mappings. So values stay raw
 * (`minimumShouldMatch` is the spec string, range bounds are numbers or date-math strings, fuzziness is
 * `"AUTO"` or `"1"`), and every default Elasticsearch applies is written into the node so the shard
 * does not have to know it.
 *
 * Field names are camelCase versions of Elasticsearch's option names; `name` is `_name`.
 */

/** A JSON scalar as a term value. */
export type Scalar = string | number | boolean;

/** Options every query node carries: `boost` (default 1) multiplies the score; `_name` tags matches. */
interface Common {
  boost: number;
  name?: string;
}

/** A field with its per-field boost, from `"title^2"` (boost 1 when absent). */
export interface FieldWeight {
  field: string;
  boost: number;
}

/** `and` or `or`, as Elasticsearch's `operator` / `default_operator`. */
export type Operator = 'and' | 'or';
/** What a query whose text analyses to no tokens matches. */
export type ZeroTermsQuery = 'none' | 'all';
/** A range bound: a number, or a string (a number, a date, or date math such as `now-1d/d`). */
export type RangeValue = string | number;

export interface MatchAllNode extends Common { kind: 'match_all' }
export interface MatchNoneNode extends Common { kind: 'match_none' }
export interface IdsNode extends Common { kind: 'ids'; values: string[] }
export interface TermNode extends Common { kind: 'term'; field: string; value: Scalar; caseInsensitive?: boolean }
export interface TermsNode extends Common { kind: 'terms'; field: string; values: Scalar[] }

export interface BoolNode extends Common {
  kind: 'bool';
  must: QueryNode[];
  filter: QueryNode[];
  should: QueryNode[];
  mustNot: QueryNode[];
  /** The raw spec (`2`, `"-1"`, `"75%"`, `"3<90%"`); resolve with `resolveMinimumShouldMatch`. */
  minimumShouldMatch?: string | number;
}

/** Options shared by the analysed full-text queries. */
interface TextOptions {
  /** Search analyzer override; the field's search analyzer when absent. */
  analyzer?: string;
  zeroTermsQuery: ZeroTermsQuery;
}

/** Options of queries that build fuzzy term queries. */
interface FuzzyOptions {
  /** `"AUTO"`, `"AUTO:3,6"`, `"0"`, `"1"`, `"2"` (or a number as sent); absent = exact terms. */
  fuzziness?: string;
  prefixLength: number;
  maxExpansions: number;
  fuzzyTranspositions: boolean;
  fuzzyRewrite?: string;
}

export interface MatchNode extends Common, TextOptions, FuzzyOptions {
  kind: 'match';
  field: string;
  query: Scalar;
  operator: Operator;
  minimumShouldMatch?: string | number;
  lenient: boolean;
  autoGenerateSynonymsPhraseQuery: boolean;
}

export interface MatchPhraseNode extends Common, TextOptions {
  kind: 'match_phrase';
  field: string;
  query: Scalar;
  slop: number;
}

export interface MatchPhrasePrefixNode extends Common, TextOptions {
  kind: 'match_phrase_prefix';
  field: string;
  query: Scalar;
  slop: number;
  maxExpansions: number;
}

export interface MatchBoolPrefixNode extends Common, FuzzyOptions {
  kind: 'match_bool_prefix';
  field: string;
  query: Scalar;
  operator: Operator;
  minimumShouldMatch?: string | number;
  analyzer?: string;
}

/** multi_match's `type`. */
export type MultiMatchType = 'best_fields' | 'most_fields' | 'cross_fields' | 'phrase' | 'phrase_prefix' | 'bool_prefix';

export interface MultiMatchNode extends Common, TextOptions, FuzzyOptions {
  kind: 'multi_match';
  query: Scalar;
  /** As sent (patterns included); empty = `index.query.default_field` (`*`), expanded on the shard. */
  fields: FieldWeight[];
  type: MultiMatchType;
  /** Absent = the type's default (0 for best_fields, 1 for most_fields semantics). */
  tieBreaker?: number;
  operator: Operator;
  minimumShouldMatch?: string | number;
  slop: number;
  lenient: boolean;
  autoGenerateSynonymsPhraseQuery: boolean;
}

/** range's `relation` (for range fields; numbers and dates use intersects). */
export type RangeRelation = 'intersects' | 'contains' | 'within';

export interface RangeNode extends Common {
  kind: 'range';
  field: string;
  gt?: RangeValue;
  gte?: RangeValue;
  lt?: RangeValue;
  lte?: RangeValue;
  /** Date format for string bounds; the field's format when absent. */
  format?: string;
  /** Time zone of date bounds without one (`+01:00`, `UTC`). */
  timeZone?: string;
  relation: RangeRelation;
}

export interface ExistsNode extends Common { kind: 'exists'; field: string }
export interface PrefixNode extends Common { kind: 'prefix'; field: string; value: string; caseInsensitive: boolean; rewrite?: string }
export interface WildcardNode extends Common { kind: 'wildcard'; field: string; value: string; caseInsensitive: boolean; rewrite?: string }

export interface RegexpNode extends Common {
  kind: 'regexp';
  field: string;
  value: string;
  /** Lucene RegExp syntax flags as sent (`ALL`, `INTERSECTION|COMPLEMENT`, ...). */
  flags: string;
  maxDeterminizedStates: number;
  caseInsensitive: boolean;
  rewrite?: string;
}

export interface FuzzyNode extends Common {
  kind: 'fuzzy';
  field: string;
  value: Scalar;
  fuzziness: string;
  prefixLength: number;
  maxExpansions: number;
  transpositions: boolean;
  rewrite?: string;
}

export interface ConstantScoreNode extends Common { kind: 'constant_score'; filter: QueryNode }
export interface DisMaxNode extends Common { kind: 'dis_max'; queries: QueryNode[]; tieBreaker: number }
export interface BoostingNode extends Common { kind: 'boosting'; positive: QueryNode; negative: QueryNode; negativeBoost: number }

/** Decay function shape. */
export type DecayShape = 'gauss' | 'linear' | 'exp';
/** How a score function combines a multi-valued field. */
export type MultiValueMode = 'min' | 'max' | 'avg' | 'sum';
/** field_value_factor's modifier. */
export type FieldValueFactorModifier = 'none' | 'log' | 'log1p' | 'log2p' | 'ln' | 'ln1p' | 'ln2p' | 'square' | 'sqrt' | 'reciprocal';

/** One function of function_score; `filter` restricts it to matching docs, `weight` multiplies it. */
export type ScoreFunction =
  | { kind: 'weight'; filter?: QueryNode; weight: number }
  | { kind: 'field_value_factor'; filter?: QueryNode; weight?: number; field: string; factor: number; modifier: FieldValueFactorModifier; missing?: number }
  | {
      kind: 'decay';
      filter?: QueryNode;
      weight?: number;
      shape: DecayShape;
      field: string;
      /** Required for dates and numbers in Elasticsearch except that dates default to now. */
      origin?: RangeValue;
      scale: RangeValue;
      offset?: RangeValue;
      /** Score at distance `scale` from origin (+offset); 0 < decay < 1, default 0.5. */
      decay: number;
      multiValueMode: MultiValueMode;
    }
  | { kind: 'random_score'; filter?: QueryNode; weight?: number; seed?: string | number; field?: string };

/** function_score's score_mode / boost_mode. */
export type FunctionScoreMode = 'multiply' | 'sum' | 'avg' | 'first' | 'max' | 'min';
export type FunctionBoostMode = 'multiply' | 'replace' | 'sum' | 'avg' | 'max' | 'min';

export interface FunctionScoreNode extends Common {
  kind: 'function_score';
  query: QueryNode;
  functions: ScoreFunction[];
  scoreMode: FunctionScoreMode;
  boostMode: FunctionBoostMode;
  maxBoost: number;
  minScore?: number;
}

/** query_string's `type` (how several fields combine). */
export type QueryStringType = 'best_fields' | 'most_fields' | 'cross_fields' | 'phrase' | 'phrase_prefix' | 'bool_prefix';

/**
 * query_string: the options as sent plus `parsed`, the Lucene syntax turned into AST nodes with the
 * default operator applied (lib/query/query-string.ts). Unfielded terms name `defaultField` or each of
 * `fields` (a dis_max when several), patterns unexpanded.
 */
export interface QueryStringNode extends Common {
  kind: 'query_string';
  query: string;
  parsed: QueryNode;
  defaultField?: string;
  fields: FieldWeight[];
  defaultOperator: Operator;
  analyzer?: string;
  quoteAnalyzer?: string;
  quoteFieldSuffix?: string;
  allowLeadingWildcard: boolean;
  analyzeWildcard: boolean;
  enablePositionIncrements: boolean;
  fuzziness: string;
  fuzzyPrefixLength: number;
  fuzzyMaxExpansions: number;
  fuzzyTranspositions: boolean;
  fuzzyRewrite?: string;
  phraseSlop: number;
  autoGenerateSynonymsPhraseQuery: boolean;
  maxDeterminizedStates: number;
  minimumShouldMatch?: string | number;
  lenient?: boolean;
  timeZone?: string;
  type: QueryStringType;
  tieBreaker?: number;
  rewrite?: string;
  escape: boolean;
}

/** simple_query_string: options plus `parsed` (never fails; bad syntax degrades to terms). */
export interface SimpleQueryStringNode extends Common {
  kind: 'simple_query_string';
  query: string;
  parsed: QueryNode;
  fields: FieldWeight[];
  defaultOperator: Operator;
  analyzer?: string;
  quoteFieldSuffix?: string;
  /** The operator flags as sent (`ALL`, `OR|AND|PREFIX`) and as Lucene's bitmask. */
  flags: string;
  flagsMask: number;
  analyzeWildcard: boolean;
  fuzzyPrefixLength: number;
  fuzzyMaxExpansions: number;
  fuzzyTranspositions: boolean;
  autoGenerateSynonymsPhraseQuery: boolean;
  minimumShouldMatch?: string | number;
  lenient?: boolean;
}

/** A parsed query. */
export type QueryNode =
  | MatchAllNode
  | MatchNoneNode
  | IdsNode
  | TermNode
  | TermsNode
  | BoolNode
  | MatchNode
  | MatchPhraseNode
  | MatchPhrasePrefixNode
  | MatchBoolPrefixNode
  | MultiMatchNode
  | RangeNode
  | ExistsNode
  | PrefixNode
  | WildcardNode
  | RegexpNode
  | FuzzyNode
  | ConstantScoreNode
  | DisMaxNode
  | BoostingNode
  | FunctionScoreNode
  | QueryStringNode
  | SimpleQueryStringNode;

/** The `kind` of every node. */
export type QueryKind = QueryNode['kind'];
