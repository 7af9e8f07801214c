/**
 * The query subset of this issue (match_all, match_none, ids, term, terms, bool), parsed from the
 * search body into the shard's `ShardQuery`. Errors follow Elasticsearch: `parsing_exception` with the
 * reason and, when the source text is at hand, the `line`/`col` of the offending key.
 * The full DSL (lib/query) replaces this with the search issue.
 */
import { QuarryError } from '../../lib/common/errors.js';
import type { ShardQuery } from '../../lib/cluster/api.js';
import { describeToken, lineColumn } from './body.js';

/** Query types the shard cannot run yet, named so the error says "not supported" rather than "unknown". */
const LATER_QUERIES = new Set([
  'match', 'match_phrase', 'match_phrase_prefix', 'multi_match', 'query_string', 'simple_query_string', 'range', 'exists',
  'prefix', 'wildcard', 'regexp', 'fuzzy', 'nested', 'constant_score', 'dis_max', 'function_score', 'boosting', 'terms_set',
  'match_bool_prefix', 'combined_fields', 'geo_distance', 'geo_bounding_box', 'more_like_this', 'script', 'script_score',
]);

/** Parses `query` JSON; `text` (the body as sent) lets errors carry a position. */
export function parseQuery(json: unknown, text?: string): ShardQuery {
  return new QueryParser(text).parse(json);
}

class QueryParser {
  constructor(private readonly text: string | undefined) {}

  parse(json: unknown): ShardQuery {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw this.error(`[_na] query malformed, must start with start_object`, undefined);
    }
    const keys = Object.keys(json);
    if (keys.length === 0) throw this.error('query malformed, empty clause found', undefined);
    if (keys.length > 1) {
      throw this.error(`[${keys[0]}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]`, keys[1]);
    }
    const type = keys[0];
    const body = (json as Record<string, unknown>)[type];
    switch (type) {
      case 'match_all':
        return { kind: 'match_all', boost: this.boostOnly(type, body) };
      case 'match_none':
        this.boostOnly(type, body);
        return { kind: 'match_none' };
      case 'ids':
        return this.ids(body);
      case 'term':
        return this.term(body);
      case 'terms':
        return this.terms(body);
      case 'bool':
        return this.bool(body);
      default:
        if (LATER_QUERIES.has(type)) {
          throw this.error(`query [${type}] is not supported yet (supported: match_all, match_none, ids, term, terms, bool)`, type);
        }
        throw this.error(`unknown query [${type}]`, type);
    }
  }

  private object(type: string, body: unknown): Record<string, unknown> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw this.error(`[${type}] query malformed, no start_object after query name`, type);
    }
    return body as Record<string, unknown>;
  }

  private boostOnly(type: string, body: unknown): number {
    const object = this.object(type, body);
    let boost = 1;
    for (const [key, value] of Object.entries(object)) {
      if (key === 'boost') boost = this.number(type, key, value);
      else if (key !== '_name') throw this.error(`[${type}] query does not support [${key}]`, key);
    }
    return boost;
  }

  private ids(body: unknown): ShardQuery {
    const object = this.object('ids', body);
    let values: string[] = [];
    let boost = 1;
    for (const [key, value] of Object.entries(object)) {
      if (key === 'values') {
        if (!Array.isArray(value)) throw this.error(`[ids] values must be an array, found [${describeToken(value)}]`, key);
        values = value.map((v) => {
          if (typeof v !== 'string' && typeof v !== 'number') throw this.error(`[ids] values must be strings, found [${describeToken(v)}]`, key);
          return String(v);
        });
      } else if (key === 'boost') boost = this.number('ids', key, value);
      else if (key !== '_name') throw this.error(`[ids] unknown field [${key}]`, key);
    }
    return { kind: 'ids', values, boost };
  }

  private term(body: unknown): ShardQuery {
    const object = this.object('term', body);
    const fields = Object.keys(object);
    if (fields.length === 0) throw this.error('[term] query doesn\'t support empty fields', 'term');
    if (fields.length > 1) throw this.error(`[term] query doesn't support multiple fields, found [${fields[0]}] and [${fields[1]}]`, fields[1]);
    const field = fields[0];
    const spec = object[field];
    if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
      let value: string | number | boolean | undefined;
      let boost = 1;
      for (const [key, v] of Object.entries(spec)) {
        if (key === 'value') value = this.scalar('term', field, v);
        else if (key === 'boost') boost = this.number('term', key, v);
        else if (key === 'case_insensitive') {
          if (v !== false) throw this.error('[term] case_insensitive is not supported yet', key);
        } else if (key !== '_name') throw this.error(`[term] query does not support [${key}]`, key);
      }
      if (value === undefined) throw this.error(`[term] query requires a [value] for field [${field}]`, field);
      return { kind: 'term', field, value, boost };
    }
    return { kind: 'term', field, value: this.scalar('term', field, spec), boost: 1 };
  }

  private terms(body: unknown): ShardQuery {
    const object = this.object('terms', body);
    let field: string | undefined;
    let values: Array<string | number | boolean> = [];
    let boost = 1;
    for (const [key, value] of Object.entries(object)) {
      if (key === 'boost') boost = this.number('terms', key, value);
      else if (key === '_name') continue;
      else {
        if (field !== undefined) throw this.error(`[terms] query does not support multiple fields`, key);
        if (!Array.isArray(value)) {
          throw this.error(value !== null && typeof value === 'object' ? '[terms] terms lookup is not supported yet' : `[terms] query does not support [${key}]`, key);
        }
        field = key;
        values = value.map((v) => this.scalar('terms', key, v));
      }
    }
    if (field === undefined) throw this.error('[terms] query requires a field with an array of values', 'terms');
    return { kind: 'terms', field, values, boost };
  }

  private bool(body: unknown): ShardQuery {
    const object = this.object('bool', body);
    const clauses = { must: [] as ShardQuery[], filter: [] as ShardQuery[], should: [] as ShardQuery[], mustNot: [] as ShardQuery[] };
    let boost = 1;
    let minimumShouldMatch: unknown;
    for (const [key, value] of Object.entries(object)) {
      const slot = key === 'must' ? 'must' : key === 'filter' ? 'filter' : key === 'should' ? 'should' : key === 'must_not' ? 'mustNot' : undefined;
      if (slot) {
        const list = Array.isArray(value) ? value : [value];
        for (const clause of list) clauses[slot].push(this.parse(clause));
      } else if (key === 'boost') boost = this.number('bool', key, value);
      else if (key === 'minimum_should_match') minimumShouldMatch = value;
      else if (key === 'adjust_pure_negative' || key === '_name') continue;
      else throw this.error(`[bool] query does not support [${key}]`, key);
    }
    const query: ShardQuery = { kind: 'bool', ...clauses, boost };
    if (minimumShouldMatch !== undefined && minimumShouldMatch !== null) {
      query.minimumShouldMatch = this.minimumShouldMatch(minimumShouldMatch, clauses.should.length);
    }
    return query;
  }

  /**
   * Elasticsearch's minimum_should_match forms resolved against the number of should clauses:
   * `2`, `-1` (all but one), `"75%"`, `"-25%"`. Combinations (`3<90%`) are not supported yet.
   */
  private minimumShouldMatch(value: unknown, optionalClauses: number): number {
    const text = String(value).trim();
    let result: number;
    if (/^-?\d+$/.test(text)) {
      const n = Number(text);
      result = n < 0 ? optionalClauses + n : n;
    } else if (/^-?\d+(\.\d+)?%$/.test(text)) {
      const percent = Number(text.slice(0, -1));
      const computed = Math.trunc((optionalClauses * Math.abs(percent)) / 100);
      result = percent < 0 ? optionalClauses - computed : computed;
    } else {
      throw this.error(`[bool] minimum_should_match [${text}] is not supported (use an integer or a percentage)`, 'minimum_should_match');
    }
    return Math.max(0, Math.min(result, optionalClauses));
  }

  private scalar(type: string, field: string, value: unknown): string | number | boolean {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    throw this.error(`[${type}] query does not support [${describeToken(value)}] values for field [${field}]`, field);
  }

  private number(type: string, key: string, value: unknown): number {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n)) throw this.error(`[${type}] [${key}] must be a number, found [${String(value)}]`, key);
    return n;
  }

  /** Line and column of the first `"key":` in the body text, for error positions. */
  private locate(key: string | undefined): { line: number; column: number } | undefined {
    if (this.text === undefined || key === undefined) return undefined;
    const needle = JSON.stringify(key);
    let offset = this.text.indexOf(needle);
    while (offset >= 0) {
      let after = offset + needle.length;
      while (after < this.text.length && /\s/.test(this.text[after])) after++;
      if (this.text[after] === ':') return lineColumn(this.text, offset);
      offset = this.text.indexOf(needle, offset + 1);
    }
    return undefined;
  }

  private error(reason: string, key: string | undefined): QuarryError {
    const where = this.locate(key);
    const extra = where ? { line: where.line, col: where.column } : {};
    return new QuarryError('parsing_exception', reason, extra);
  }
}
