/**
 * Limits of the query DSL, each with why it exists. They bound what one request can make a node do
 * (parse, expand, run); a request past one is a 400, never a hung node.
 */

/**
 * Most leaf clauses one query may hold (`indices.query.bool.max_clause_count`). Elasticsearch 7 used
 * 1024; 8.x deprecated the setting (it has no effect) and derives the limit from heap and search
 * threads, never below 1024. We keep 4096, the 8.0 documented default, as a fixed bound: enough for
 * real queries, small enough that one request cannot build a huge tree. The parser counts leaves of
 * the parsed tree (query_string terms included); term expansion on the shard checks it again.
 */
export const MAX_CLAUSE_COUNT = 4096;

/**
 * Deepest nesting of queries inside queries (`indices.query.bool.max_nested_depth`). Elasticsearch's
 * SearchModule declares 30 in 8.x (it was 20 when added in 7.x). It also keeps our recursive parser
 * and every recursive walk on the shard far from the stack limit.
 */
export const MAX_NESTED_DEPTH = 30;

/** Most values in one `terms` query (`index.max_terms_count`, default 65 536): each is a term lookup. */
export const MAX_TERMS_COUNT = 65_536;

/** Longest regexp pattern in characters (`index.max_regex_length`, default 1000). */
export const MAX_REGEX_LENGTH = 1000;

/**
 * Most automaton states a regexp or wildcard may determinize into (Lucene's
 * `Operations.DEFAULT_DETERMINIZE_WORK_LIMIT`, Elasticsearch's `max_determinized_states` default).
 */
export const MAX_DETERMINIZED_STATES_DEFAULT = 10_000;

/** Longest query_string / simple_query_string text we parse, in characters (ours; ES has only the body cap). */
export const QUERY_STRING_MAX_LENGTH = 100_000;

/** Lucene's LevenshteinAutomata.MAXIMUM_SUPPORTED_DISTANCE: fuzziness above 2 is refused or capped. */
export const FUZZINESS_MAX_EDITS = 2;

/** Default `max_expansions` of fuzzy and prefix-style queries (Elasticsearch's FuzzyQuery default). */
export const MAX_EXPANSIONS_DEFAULT = 50;
