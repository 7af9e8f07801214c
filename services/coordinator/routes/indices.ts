/**
 * Index APIs: create, delete, exists, get, settings, mappings, and the shard maintenance family
 * (`_refresh`, `_flush`, `_forcemerge`, `_segments`, `_stats`), answered in Elasticsearch's shapes.
 */
import { QuarryError, errors } from '../../../lib/common/errors.js';
import type { IndexMetadata, ShardStatsResult } from '../../../lib/cluster/api.js';
import { parseObjectBody } from '../body.js';
import type { Deps } from '../deps.js';
import { requireIndex, resolveIndices, validateIndexName } from '../names.js';
import { booleanParam, integerParam, validationError } from '../params.js';
import { sendEmpty, sendJson } from '../respond.js';
import type { RestContext, RestRouter } from '../router.js';

/** Index version id Elasticsearch 8.15 stamps into `index.version.created`. */
export const INDEX_VERSION_CREATED = '8512000';
/** The Lucene version our segments claim, as `_segments` reports it. */
export const LUCENE_VERSION = '9.11.1';

const MASTER_PARAMS = ['timeout', 'master_timeout', 'wait_for_active_shards'];
const EXPRESSION_PARAMS = ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards'];
const CREATE_BODY_KEYS = new Set(['settings', 'mappings', 'aliases']);

/** Registers the index routes. */
export function registerIndexRoutes(router: RestRouter, deps: Deps): void {
  router.add(['PUT'], '/{index}', (ctx) => createIndex(deps, ctx), { params: MASTER_PARAMS });
  router.add(['DELETE'], '/{index}', (ctx) => deleteIndex(deps, ctx), { params: [...MASTER_PARAMS, ...EXPRESSION_PARAMS] });
  router.add(['HEAD'], '/{index}', (ctx) => indexExists(deps, ctx), { params: [...EXPRESSION_PARAMS, 'local', 'flat_settings', 'include_defaults'] });
  router.add(['GET'], '/{index}', (ctx) => getIndex(deps, ctx), { params: [...EXPRESSION_PARAMS, 'flat_settings', 'master_timeout', 'local', 'include_defaults', 'features'] });
  router.add(['GET'], '/_settings', (ctx) => getSettings(deps, ctx, undefined), { params: [...EXPRESSION_PARAMS, 'flat_settings', 'master_timeout', 'local'] });
  router.add(['GET'], '/{index}/_settings', (ctx) => getSettings(deps, ctx, ctx.params.index), { params: [...EXPRESSION_PARAMS, 'flat_settings', 'master_timeout', 'local'] });
  router.add(['GET'], '/_mapping', (ctx) => getMapping(deps, ctx, undefined), { params: [...EXPRESSION_PARAMS, 'master_timeout', 'local'] });
  router.add(['GET'], '/{index}/_mapping', (ctx) => getMapping(deps, ctx, ctx.params.index), { params: [...EXPRESSION_PARAMS, 'master_timeout', 'local'] });
  router.add(['PUT', 'POST'], '/{index}/_mapping', (ctx) => putMapping(deps, ctx), { params: [...MASTER_PARAMS, ...EXPRESSION_PARAMS, 'write_index_only'] });

  const maintenance = (run: (ctx: RestContext, metadata: IndexMetadata, shard: number) => Promise<void>) => async (ctx: RestContext) => {
    const indices = resolveIndices(deps.node, ctx.params.index, booleanParam(ctx.query, 'ignore_unavailable', false));
    let successful = 0;
    let total = 0;
    for (const metadata of indices) total += metadata.settings.numberOfShards * (1 + metadata.settings.numberOfReplicas);
    await Promise.all(
      indices.flatMap((metadata) =>
        Array.from({ length: metadata.settings.numberOfShards }, async (_, shard) => {
          await run(ctx, metadata, shard);
          successful++;
        }),
      ),
    );
    sendJson(ctx.res, 200, { _shards: { total, successful, failed: 0 } });
  };
  const refresh = maintenance((_ctx, metadata, shard) => deps.node.refresh(metadata.name, shard));
  router.add(['GET', 'POST'], '/_refresh', refresh, { params: EXPRESSION_PARAMS });
  router.add(['GET', 'POST'], '/{index}/_refresh', refresh, { params: EXPRESSION_PARAMS });
  const flush = maintenance((_ctx, metadata, shard) => deps.node.flush(metadata.name, shard));
  router.add(['GET', 'POST'], '/_flush', flush, { params: [...EXPRESSION_PARAMS, 'force', 'wait_if_ongoing'] });
  router.add(['GET', 'POST'], '/{index}/_flush', flush, { params: [...EXPRESSION_PARAMS, 'force', 'wait_if_ongoing'] });
  const forceMerge = maintenance(async (ctx, metadata, shard) => {
    const { maxNumSegments, onlyExpungeDeletes, flushAfter } = forceMergeParams(ctx);
    await deps.node.forceMerge(metadata.name, shard, maxNumSegments, onlyExpungeDeletes);
    if (flushAfter) await deps.node.flush(metadata.name, shard);
  });
  const forceMergeChecked = async (ctx: RestContext) => {
    forceMergeParams(ctx); // validate before touching any shard
    await forceMerge(ctx);
  };
  const forceMergeParamNames = [...EXPRESSION_PARAMS, 'max_num_segments', 'only_expunge_deletes', 'flush', 'wait_for_completion'];
  router.add(['POST'], '/_forcemerge', forceMergeChecked, { params: forceMergeParamNames });
  router.add(['POST'], '/{index}/_forcemerge', forceMergeChecked, { params: forceMergeParamNames });

  router.add(['GET'], '/_segments', (ctx) => segments(deps, ctx), { params: [...EXPRESSION_PARAMS, 'verbose'] });
  router.add(['GET'], '/{index}/_segments', (ctx) => segments(deps, ctx), { params: [...EXPRESSION_PARAMS, 'verbose'] });
  router.add(['GET'], '/_stats', (ctx) => stats(deps, ctx), { params: [...EXPRESSION_PARAMS, 'level', 'groups', 'fields', 'completion_fields', 'fielddata_fields', 'include_segment_file_sizes', 'include_unloaded_segments', 'forbid_closed_indices'] });
  router.add(['GET'], '/{index}/_stats', (ctx) => stats(deps, ctx), { params: [...EXPRESSION_PARAMS, 'level', 'groups', 'fields', 'completion_fields', 'fielddata_fields', 'include_segment_file_sizes', 'include_unloaded_segments', 'forbid_closed_indices'] });
}

/**
 * `NodeApi.forceMerge` wants a segment bound ≥ 1. Without `max_num_segments` Elasticsearch merges only
 * what the policy wants (background merges already do that), so an unbounded count — nothing to force
 * — is the faithful translation.
 */
const FORCE_MERGE_SEGMENTS_UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** `max_num_segments`, `only_expunge_deletes`, `flush` (default true), validated as Elasticsearch does. */
function forceMergeParams(ctx: RestContext): { maxNumSegments: number; onlyExpungeDeletes: boolean; flushAfter: boolean } {
  const requested = integerParam(ctx.query, 'max_num_segments', -1);
  const onlyExpungeDeletes = booleanParam(ctx.query, 'only_expunge_deletes', false);
  if (onlyExpungeDeletes && requested !== -1) throw validationError('cannot set only_expunge_deletes and max_num_segments at the same time, those two parameters are mutually exclusive');
  if (requested === 0 || requested < -1) throw errors.illegalArgument(`max_num_segments must be a positive integer or -1, found [${requested}]`);
  const maxNumSegments = requested === -1 ? FORCE_MERGE_SEGMENTS_UNBOUNDED : requested;
  return { maxNumSegments, onlyExpungeDeletes, flushAfter: booleanParam(ctx.query, 'flush', true) };
}

async function createIndex(deps: Deps, ctx: RestContext): Promise<void> {
  const name = ctx.params.index;
  validateIndexName(name);
  const body = parseObjectBody(await ctx.readBody()) ?? {};
  for (const key of Object.keys(body)) {
    if (!CREATE_BODY_KEYS.has(key)) throw new QuarryError('parse_exception', `unknown key [${key}] for create index`);
  }
  const objectOf = (key: string): Record<string, unknown> | undefined => {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw new QuarryError('parse_exception', `key [${key}] must be an object`);
    return value as Record<string, unknown>;
  };
  const aliases = objectOf('aliases');
  if (aliases && Object.keys(aliases).length > 0) throw errors.illegalArgument('aliases are not supported yet');
  const existing = deps.node.getIndex(name);
  if (existing) throw errors.indexExists(name, existing.uuid);
  const settings = objectOf('settings');
  const mappings = objectOf('mappings');
  await deps.node.createIndex({ name, ...(settings ? { settings } : {}), ...(mappings ? { mappings } : {}) });
  sendJson(ctx.res, 200, { acknowledged: true, shards_acknowledged: true, index: name });
}

async function deleteIndex(deps: Deps, ctx: RestContext): Promise<void> {
  const expression = ctx.params.index;
  // Elasticsearch 8 defaults to action.destructive_requires_name=true: no wildcards on delete.
  const names = expression.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const name of names) {
    if (name === '_all' || name.includes('*')) throw errors.illegalArgument('Wildcard expressions or all indices are not allowed');
  }
  const ignoreUnavailable = booleanParam(ctx.query, 'ignore_unavailable', false);
  const existing = names.filter((name) => {
    if (deps.node.getIndex(name)) return true;
    if (!ignoreUnavailable) throw errors.indexNotFound(name);
    return false;
  });
  for (const name of existing) await deps.node.deleteIndex(name);
  sendJson(ctx.res, 200, { acknowledged: true });
}

function indexExists(deps: Deps, ctx: RestContext): void {
  try {
    const found = resolveIndices(deps.node, ctx.params.index, booleanParam(ctx.query, 'ignore_unavailable', false));
    sendEmpty(ctx.res, found.length > 0 || booleanParam(ctx.query, 'allow_no_indices', false) ? 200 : 404);
  } catch (error) {
    if (error instanceof QuarryError && error.type === 'index_not_found_exception') return sendEmpty(ctx.res, 404);
    throw error;
  }
}

/** The index's settings in Elasticsearch's nested-string form (or flat with `flat_settings`). */
export function settingsJson(metadata: IndexMetadata, flat: boolean): Record<string, unknown> {
  const flatSettings: Record<string, string> = {
    'index.number_of_shards': String(metadata.settings.numberOfShards),
    'index.number_of_replicas': String(metadata.settings.numberOfReplicas),
    ...metadata.settings.raw,
    'index.provided_name': metadata.settings.raw['index.provided_name'] ?? metadata.name,
    'index.creation_date': String(metadata.creationDateMs),
    'index.uuid': metadata.uuid,
    'index.version.created': metadata.settings.raw['index.version.created'] ?? INDEX_VERSION_CREATED,
  };
  const keys = Object.keys(flatSettings).sort();
  if (flat) {
    const sorted: Record<string, string> = {};
    for (const key of keys) sorted[key] = flatSettings[key];
    return sorted;
  }
  const nested: Record<string, unknown> = {};
  for (const key of keys) {
    const path = key.split('.');
    let node = nested;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (next === undefined || typeof next !== 'object') node[path[i]] = {};
      node = node[path[i]] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = flatSettings[key];
  }
  return nested;
}

function getIndex(deps: Deps, ctx: RestContext): void {
  const flat = booleanParam(ctx.query, 'flat_settings', false);
  const out: Record<string, unknown> = {};
  for (const metadata of resolveIndices(deps.node, ctx.params.index, booleanParam(ctx.query, 'ignore_unavailable', false))) {
    out[metadata.name] = { aliases: {}, mappings: metadata.mappings, settings: settingsJson(metadata, flat) };
  }
  sendJson(ctx.res, 200, out);
}

function getSettings(deps: Deps, ctx: RestContext, expression: string | undefined): void {
  const flat = booleanParam(ctx.query, 'flat_settings', false);
  const out: Record<string, unknown> = {};
  for (const metadata of resolveIndices(deps.node, expression, booleanParam(ctx.query, 'ignore_unavailable', false))) {
    out[metadata.name] = { settings: settingsJson(metadata, flat) };
  }
  sendJson(ctx.res, 200, out);
}

function getMapping(deps: Deps, ctx: RestContext, expression: string | undefined): void {
  const out: Record<string, unknown> = {};
  for (const metadata of resolveIndices(deps.node, expression, booleanParam(ctx.query, 'ignore_unavailable', false))) {
    out[metadata.name] = { mappings: metadata.mappings };
  }
  sendJson(ctx.res, 200, out);
}

async function putMapping(deps: Deps, ctx: RestContext): Promise<void> {
  const body = parseObjectBody(await ctx.readBody());
  if (!body) throw validationError('mapping source is missing');
  const indices = resolveIndices(deps.node, ctx.params.index, booleanParam(ctx.query, 'ignore_unavailable', false));
  if (indices.length === 0) throw errors.indexNotFound(ctx.params.index);
  for (const metadata of indices) await deps.node.putMapping(metadata.name, body);
  sendJson(ctx.res, 200, { acknowledged: true });
}

function shardsHeader(indices: IndexMetadata[]): { total: number; successful: number; failed: number } {
  let total = 0;
  let successful = 0;
  for (const metadata of indices) {
    total += metadata.settings.numberOfShards * (1 + metadata.settings.numberOfReplicas);
    successful += metadata.settings.numberOfShards;
  }
  return { total, successful, failed: 0 };
}

function segments(deps: Deps, ctx: RestContext): void {
  const indices = resolveIndices(deps.node, ctx.params.index, booleanParam(ctx.query, 'ignore_unavailable', false));
  const nodeId = deps.node.nodeInfo().nodeId;
  const out: Record<string, unknown> = {};
  for (const metadata of indices) {
    const shards: Record<string, unknown> = {};
    for (let shard = 0; shard < metadata.settings.numberOfShards; shard++) {
      const list = deps.node.segments(metadata.name, shard);
      const segmentsJson: Record<string, unknown> = {};
      for (const segment of list) {
        segmentsJson[segment.name] = {
          generation: segment.generation,
          num_docs: segment.numDocs,
          deleted_docs: segment.deletedDocs,
          size_in_bytes: segment.sizeBytes,
          memory_in_bytes: 0,
          committed: segment.committed,
          search: segment.search,
          version: segment.version || LUCENE_VERSION,
          compound: segment.compound,
          attributes: segment.attributes,
        };
      }
      shards[String(shard)] = [
        {
          routing: { state: 'STARTED', primary: true, node: nodeId },
          num_committed_segments: list.filter((s) => s.committed).length,
          num_search_segments: list.filter((s) => s.search).length,
          segments: segmentsJson,
        },
      ];
    }
    out[metadata.name] = { shards };
  }
  sendJson(ctx.res, 200, { _shards: shardsHeader(indices), indices: out });
}

/** Sums shard statistics into Elasticsearch's per-section stats object. */
export function statsSections(list: ShardStatsResult[]): Record<string, unknown> {
  const sum = (pick: (s: ShardStatsResult) => number): number => list.reduce((total, s) => total + pick(s), 0);
  const storeSizeBytes = sum((s) => s.storeSizeBytes);
  return {
    docs: { count: sum((s) => s.docsCount), deleted: sum((s) => s.docsDeleted) },
    shard_stats: { total_count: list.length },
    store: { size_in_bytes: storeSizeBytes, total_data_set_size_in_bytes: storeSizeBytes, reserved_in_bytes: 0 },
    indexing: {
      index_total: sum((s) => s.indexingIndexTotal),
      index_time_in_millis: sum((s) => s.indexingIndexTimeMs),
      index_current: sum((s) => s.indexingIndexCurrent),
      index_failed: 0,
      delete_total: sum((s) => s.indexingDeleteTotal),
      delete_time_in_millis: 0,
      delete_current: 0,
      noop_update_total: 0,
      is_throttled: false,
      throttle_time_in_millis: 0,
    },
    get: { total: sum((s) => s.getTotal), time_in_millis: 0, exists_total: 0, exists_time_in_millis: 0, missing_total: 0, missing_time_in_millis: 0, current: 0 },
    search: {
      open_contexts: 0,
      query_total: sum((s) => s.searchQueryTotal),
      query_time_in_millis: sum((s) => s.searchQueryTimeMs),
      query_current: 0,
      fetch_total: sum((s) => s.searchQueryTotal),
      fetch_time_in_millis: 0,
      fetch_current: 0,
      scroll_total: 0,
      scroll_time_in_millis: 0,
      scroll_current: 0,
      suggest_total: 0,
      suggest_time_in_millis: 0,
      suggest_current: 0,
    },
    merges: {
      current: sum((s) => s.mergeCurrent),
      current_docs: 0,
      current_size_in_bytes: 0,
      total: sum((s) => s.mergeTotal),
      total_time_in_millis: sum((s) => s.mergeTimeMs),
      total_docs: sum((s) => s.mergeDocs),
      total_size_in_bytes: sum((s) => s.mergeSizeBytes),
      total_stopped_time_in_millis: 0,
      total_throttled_time_in_millis: 0,
      total_auto_throttle_in_bytes: 0,
    },
    refresh: {
      total: sum((s) => s.refreshTotal),
      total_time_in_millis: sum((s) => s.refreshTimeMs),
      external_total: sum((s) => s.refreshTotal),
      external_total_time_in_millis: sum((s) => s.refreshTimeMs),
      listeners: 0,
    },
    flush: { total: sum((s) => s.flushTotal), periodic: 0, total_time_in_millis: sum((s) => s.flushTimeMs) },
    segments: { count: sum((s) => s.segmentsCount), memory_in_bytes: 0 },
    translog: {
      operations: sum((s) => s.translogOperations),
      size_in_bytes: sum((s) => s.translogSizeBytes),
      uncommitted_operations: sum((s) => s.translogUncommittedOperations),
      uncommitted_size_in_bytes: sum((s) => s.translogUncommittedSizeBytes),
      earliest_last_modified_age: 0,
    },
  };
}

function stats(deps: Deps, ctx: RestContext): void {
  const indices = resolveIndices(deps.node, ctx.params.index, booleanParam(ctx.query, 'ignore_unavailable', false));
  const health = deps.node.health();
  const all: ShardStatsResult[] = [];
  const perIndex: Record<string, unknown> = {};
  for (const metadata of indices) {
    const list: ShardStatsResult[] = [];
    for (let shard = 0; shard < metadata.settings.numberOfShards; shard++) list.push(deps.node.shardStats(metadata.name, shard));
    all.push(...list);
    const sections = statsSections(list);
    perIndex[metadata.name] = {
      uuid: metadata.uuid,
      health: health.indices[metadata.name]?.status ?? 'red',
      status: 'open',
      primaries: sections,
      // Only primaries exist, so total equals primaries until replicas are allocated.
      total: sections,
    };
  }
  const allSections = statsSections(all);
  sendJson(ctx.res, 200, { _shards: shardsHeader(indices), _all: { primaries: allSections, total: allSections }, indices: perIndex });
}
