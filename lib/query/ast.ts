/**
 * The query AST every shard executes: what the REST layer parses the query DSL into. Pure data.
 * Today the subset the storage issue needs; the search issue grows it (match, phrase, range, ...).
 */

/** A parsed query. `boost` multiplies the clause's score, as in Elasticsearch. */
export type QueryNode =
  | { kind: 'match_all'; boost: number }
  | { kind: 'match_none' }
  | { kind: 'ids'; values: string[]; boost: number }
  | { kind: 'term'; field: string; value: string | number | boolean; boost: number }
  | { kind: 'terms'; field: string; values: Array<string | number | boolean>; boost: number }
  | { kind: 'bool'; must: QueryNode[]; filter: QueryNode[]; should: QueryNode[]; mustNot: QueryNode[]; minimumShouldMatch?: number; boost: number };
