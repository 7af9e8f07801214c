/**
 * `_search` and `_count` over one or more indices: parse the body, fan out to every shard (each
 * returns its top from+size), merge by score desc then shard then docKey, slice from..from+size, and
 * build the response around the hits' stored `_source` bytes.
 */
import { QuarryError, errors } from '../../../lib/common/errors.js';
import { MAX_RESULT_WINDOW } from '../../../lib/common/limits.js';
import type { IndexMetadata, ShardHit, ShardQuery, ShardSearchResult } from '../../../lib/cluster/api.js';
import { parseObjectBody } from '../body.js';
import type { Deps } from '../deps.js';
import { resolveIndices } from '../names.js';
import { booleanParam, integerParam, sourceFromJson, sourceParams, type SourceFilter } from '../params.js';
import type { QueryNode } from '../../../lib/query/ast.js';
import { parseQuery, parseUriQuery } from '../../../lib/query/dsl.js';
import { JsonBuilder, formatFloat, quote, sendJson, sendJsonText } from '../respond.js';
import type { RestContext, RestRouter } from '../router.js';
import { filterSource } from '../source-filter.js';
import { parseJson } from '../body.js';

/** Elasticsearch's default `size`. */
const SEARCH_SIZE_DEFAULT = 10;
/** Elasticsearch's default `track_total_hits`: count exactly up to 10 000, then say "gte". */
const TRACK_TOTAL_HITS_DEFAULT = 10_000;

const INDEX_EXPRESSION_PARAMS = ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards', 'ignore_throttled', 'preference', 'routing'];
/** URI search: `q` (query_string syntax) and the options that shape it. */
const URI_QUERY_PARAMS = ['q', 'df', 'default_operator', 'analyzer', 'analyze_wildcard', 'lenient'];
const SEARCH_PARAMS = [...INDEX_EXPRESSION_PARAMS, ...URI_QUERY_PARAMS, 'from', 'size', 'track_total_hits', '_source', '_source_includes', '_source_excludes', 'seq_no_primary_term', 'version', 'timeout', 'rest_total_hits_as_int', 'typed_keys', 'search_type', 'request_cache', 'batched_reduce_size', 'max_concurrent_shard_requests', 'pre_filter_shard_size', 'ccs_minimize_roundtrips', 'allow_partial_search_results'];
const COUNT_PARAMS = [...INDEX_EXPRESSION_PARAMS, ...URI_QUERY_PARAMS, 'min_score', 'terminate_after'];

/** Top-level search body keys understood today. */
const SEARCH_BODY_KEYS = new Set(['query', 'from', 'size', '_source', 'track_total_hits', 'seq_no_primary_term', 'version', 'timeout']);
/** Search body keys of later issues: refused by name rather than ignored. */
const LATER_BODY_KEYS = new Set(['sort', 'aggs', 'aggregations', 'highlight', 'search_after', 'pit', 'post_filter', 'suggest', 'collapse', 'rescore', 'knn', 'fields', 'docvalue_fields', 'stored_fields', 'script_fields', 'min_score', 'explain', 'profile', 'terminate_after', 'indices_boost', 'runtime_mappings', 'track_scores', 'stats', 'slice']);

/** Registers the search routes. */
export function registerSearchRoutes(router: RestRouter, deps: Deps): void {
  router.add(['GET', 'POST'], '/_search', (ctx) => search(deps, ctx, undefined), { params: SEARCH_PARAMS });
  router.add(['GET', 'POST'], '/{index}/_search', (ctx) => search(deps, ctx, ctx.params.index), { params: SEARCH_PARAMS });
  router.add(['GET', 'POST'], '/_count', (ctx) => count(deps, ctx, undefined), { params: COUNT_PARAMS });
  router.add(['GET', 'POST'], '/{index}/_count', (ctx) => count(deps, ctx, ctx.params.index), { params: COUNT_PARAMS });
}

/** A validated search request. */
interface SearchRequest {
  query: ShardQuery;
  from: number;
  size: number;
  /** 0 when totals are not tracked (`track_total_hits: false`). */
  trackTotalHitsUpTo: number;
  trackTotalHits: boolean;
  source: SourceFilter;
  seqNoPrimaryTerm: boolean;
  version: boolean;
}

/**
 * The query of a search or count: `?q=` (a query_string query, which wins over the body's, as in
 * Elasticsearch), else the body's `query`, else match_all.
 */
function requestQuery(ctx: RestContext, bodyQuery: unknown, text: string | undefined): QueryNode {
  if (ctx.query.q !== undefined) {
    const lenient = ctx.query.lenient;
    const analyzeWildcard = ctx.query.analyze_wildcard;
    return parseUriQuery(ctx.query.q, {
      ...(ctx.query.df !== undefined ? { df: ctx.query.df } : {}),
      ...(ctx.query.default_operator !== undefined ? { defaultOperator: ctx.query.default_operator } : {}),
      ...(ctx.query.analyzer !== undefined ? { analyzer: ctx.query.analyzer } : {}),
      ...(analyzeWildcard !== undefined ? { analyzeWildcard: booleanParam(ctx.query, 'analyze_wildcard', false) } : {}),
      ...(lenient !== undefined ? { lenient: booleanParam(ctx.query, 'lenient', false) } : {}),
    });
  }
  return bodyQuery === undefined ? { kind: 'match_all', boost: 1 } : parseQuery(bodyQuery, text);
}

async function parseSearchRequest(ctx: RestContext): Promise<SearchRequest> {
  const bytes = await ctx.readBody();
  const body = parseObjectBody(bytes) ?? {};
  const text = bytes.length > 0 ? bytes.toString('utf8') : undefined;
  for (const key of Object.keys(body)) {
    if (LATER_BODY_KEYS.has(key)) throw errors.illegalArgument(`[${key}] is not supported yet`);
    if (!SEARCH_BODY_KEYS.has(key)) throw new QuarryError('parsing_exception', `Unknown key for a ${typeof body[key] === 'object' && body[key] !== null ? 'START_OBJECT' : 'VALUE_STRING'} in [${key}].`);
  }
  const query = requestQuery(ctx, body.query, text);
  const from = integerParam(ctx.query, 'from') ?? bodyInteger(body.from, 'from') ?? 0;
  const size = integerParam(ctx.query, 'size') ?? bodyInteger(body.size, 'size') ?? SEARCH_SIZE_DEFAULT;
  if (from < 0) throw errors.illegalArgument(`[from] parameter cannot be negative, found [${from}]`);
  if (size < 0) throw errors.illegalArgument(`[size] parameter cannot be negative, found [${size}]`);
  let trackTotalHitsUpTo = TRACK_TOTAL_HITS_DEFAULT;
  let trackTotalHits = true;
  const track: unknown = ctx.query.track_total_hits ?? body.track_total_hits;
  if (track !== undefined) {
    if (track === true || track === 'true' || track === '') trackTotalHitsUpTo = Number.POSITIVE_INFINITY;
    else if (track === false || track === 'false') {
      trackTotalHits = false;
      trackTotalHitsUpTo = 0;
    } else if ((typeof track === 'number' && Number.isInteger(track)) || (typeof track === 'string' && /^-?\d+$/.test(track))) {
      trackTotalHitsUpTo = Number(track);
      if (trackTotalHitsUpTo < 0) throw errors.illegalArgument(`[track_total_hits] parameter must be positive or equals to -1, got ${trackTotalHitsUpTo}`);
    } else {
      throw new QuarryError('parsing_exception', `[track_total_hits] must be a boolean or an integer, found [${String(track)}]`);
    }
  }
  const fromParams = sourceParams(ctx.query);
  const source = fromParams ?? (body._source !== undefined ? sourceFromJson(body._source, '_source') : true);
  return {
    query,
    from,
    size,
    trackTotalHitsUpTo,
    trackTotalHits,
    source,
    seqNoPrimaryTerm: booleanParam(ctx.query, 'seq_no_primary_term', body.seq_no_primary_term === true),
    version: booleanParam(ctx.query, 'version', body.version === true),
  };
}

function bodyInteger(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new QuarryError('parsing_exception', `[${name}] must be an integer, found [${String(value)}]`);
}

/** One hit with where it came from, for the merge. */
interface SourcedHit {
  hit: ShardHit;
  index: string;
  shard: number;
  /** Position of the shard in the fan-out: the tie-break after score. */
  shardOrdinal: number;
}

async function search(deps: Deps, ctx: RestContext, expression: string | undefined): Promise<void> {
  const startedMs = performance.now();
  const request = await parseSearchRequest(ctx);
  const indices = resolveIndices(deps.node, expression, booleanParam(ctx.query, 'ignore_unavailable', false));
  const window = request.from + request.size;
  for (const metadata of indices) {
    const maxResultWindow = metadata.settings.maxResultWindow ?? MAX_RESULT_WINDOW;
    if (window > maxResultWindow) throw resultWindowTooLarge(metadata, window, maxResultWindow);
  }
  const shards = shardTargets(indices);
  const fetchSource = request.source !== false;
  const results = await Promise.all(
    shards.map((target) =>
      deps.node.search({
        index: target.metadata.name,
        shard: target.shard,
        query: request.query,
        size: window,
        trackTotalHitsUpTo: request.trackTotalHitsUpTo,
        fetchSource,
        seqNoPrimaryTerm: request.seqNoPrimaryTerm,
        version: request.version,
      }),
    ),
  );
  const { hits, total, relation, maxScore } = mergeShardResults(results, shards, request);
  const page = hits.slice(request.from, window);
  const restTotalHitsAsInt = booleanParam(ctx.query, 'rest_total_hits_as_int', false);

  const out = new JsonBuilder();
  out.text(`{"took":${Math.round(performance.now() - startedMs)},"timed_out":false,"_shards":{"total":${shards.length},"successful":${shards.length},"skipped":0,"failed":0},"hits":{`);
  if (request.trackTotalHits) {
    out.text(restTotalHitsAsInt ? `"total":${total},` : `"total":{"value":${total},"relation":"${relation}"},`);
  }
  out.text(`"max_score":${maxScore === null ? 'null' : formatFloat(maxScore)},"hits":[`);
  page.forEach((entry, position) => {
    const hit = entry.hit;
    out.text(position === 0 ? '{' : ',{');
    out.text(`"_index":${quote(entry.index)},"_id":${quote(hit.id)}`);
    if (request.version && hit.version !== undefined) out.text(`,"_version":${hit.version}`);
    if (request.seqNoPrimaryTerm && hit.seqNo !== undefined) out.text(`,"_seq_no":${hit.seqNo},"_primary_term":${hit.primaryTerm ?? 1}`);
    out.text(`,"_score":${formatFloat(hit.score)}`);
    if (hit.routing !== undefined) out.text(`,"_routing":${quote(hit.routing)}`);
    if (fetchSource && hit.source) {
      out.text(',"_source":');
      if (typeof request.source === 'object') {
        const source = parseJson(Buffer.from(hit.source), 'document') as Record<string, unknown>;
        out.text(JSON.stringify(filterSource(source, request.source)));
      } else {
        out.raw(hit.source);
      }
    }
    out.text('}');
  });
  sendJsonText(ctx.res, 200, out.text(']}}').build());
}

/** Every shard of the given indices, in index then shard order. */
function shardTargets(indices: IndexMetadata[]): Array<{ metadata: IndexMetadata; shard: number }> {
  const targets: Array<{ metadata: IndexMetadata; shard: number }> = [];
  for (const metadata of indices) for (let shard = 0; shard < metadata.settings.numberOfShards; shard++) targets.push({ metadata, shard });
  return targets;
}

/**
 * Merges shard top-k lists: score descending, then shard order, then docKey ascending, so equal
 * scores page deterministically. Totals add up; a shard that stopped counting makes the sum "gte".
 */
export function mergeShardResults(
  results: ShardSearchResult[],
  shards: Array<{ metadata: IndexMetadata; shard: number }>,
  request: { trackTotalHitsUpTo: number },
): { hits: SourcedHit[]; total: number; relation: 'eq' | 'gte'; maxScore: number | null } {
  const hits: SourcedHit[] = [];
  let total = 0;
  let relation: 'eq' | 'gte' = 'eq';
  let maxScore: number | null = null;
  results.forEach((result, shardOrdinal) => {
    const { metadata, shard } = shards[shardOrdinal];
    total += result.totalHits;
    if (result.totalRelation === 'gte') relation = 'gte';
    if (result.maxScore !== null && (maxScore === null || result.maxScore > maxScore)) maxScore = result.maxScore;
    for (const hit of result.hits) hits.push({ hit, index: metadata.name, shard, shardOrdinal });
  });
  if (total > request.trackTotalHitsUpTo) {
    total = request.trackTotalHitsUpTo;
    relation = 'gte';
  }
  if (results.length > 1) {
    hits.sort((a, b) => b.hit.score - a.hit.score || a.shardOrdinal - b.shardOrdinal || a.hit.docKey - b.hit.docKey);
  }
  return { hits, total, relation, maxScore };
}

/** Elasticsearch's answer to from+size over max_result_window: a failed query phase caused by it. */
function resultWindowTooLarge(metadata: IndexMetadata, window: number, maxResultWindow: number): QuarryError {
  const cause = errors.illegalArgument(
    `Result window is too large, from + size must be less than or equal to: [${maxResultWindow}] but was [${window}]. ` +
      'See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.',
  );
  return new QuarryError(
    'search_phase_execution_exception',
    'all shards failed',
    { phase: 'query', grouped: true, failed_shards: [{ shard: 0, index: metadata.name, node: null, reason: cause.toBody() }] },
    cause,
  );
}

async function count(deps: Deps, ctx: RestContext, expression: string | undefined): Promise<void> {
  const bytes = await ctx.readBody();
  const body = parseObjectBody(bytes) ?? {};
  for (const key of Object.keys(body)) {
    if (key !== 'query') throw new QuarryError('parsing_exception', `request does not support [${key}]`);
  }
  const query = requestQuery(ctx, body.query, bytes.length > 0 ? bytes.toString('utf8') : undefined);
  const indices = resolveIndices(deps.node, expression, booleanParam(ctx.query, 'ignore_unavailable', false));
  const shards = shardTargets(indices);
  const counts = await Promise.all(shards.map((target) => deps.node.count({ index: target.metadata.name, shard: target.shard, query })));
  const total = counts.reduce((sum, n) => sum + n, 0);
  sendJson(ctx.res, 200, { count: total, _shards: { total: shards.length, successful: shards.length, skipped: 0, failed: 0 } });
}
