/**
 * `POST /_bulk` and `/{index}/_bulk`: NDJSON parsing (each source is a slice of the body, stored as
 * sent), per-item validation, auto-creation of target indices, one `NodeApi.bulk` call per shard
 * (all shards in parallel), and the response in item order.
 *
 * Failure granularity follows Elasticsearch: a malformed action line fails the whole request (400);
 * a bad document, a too-long `_id`, a version conflict or an unusable index fails only its item.
 */
import { QuarryError, errors } from '../../../lib/common/errors.js';
import { BULK_ITEMS_MAX } from '../../../lib/common/limits.js';
import type { IndexMetadata, ShardWriteItem, ShardWriteResult } from '../../../lib/cluster/api.js';
import { describeToken, isBlank, mayHoldPrototypeKeys, parseDocument, parseJson } from '../body.js';
import type { Deps } from '../deps.js';
import { generateId } from '../ids.js';
import { idProblem } from '../names.js';
import { WRITE_TIMEOUT_MS_DEFAULT, booleanParam, refreshParam, sourceFromJson, sourceParams, timeParamMs, validationError, writeConditions, type SourceFilter } from '../params.js';
import { JsonBuilder, sendJsonText } from '../respond.js';
import type { RestContext, RestRouter } from '../router.js';
import { appendWriteResult, itemFailure, pipelineError, requireAliasError, shardOf } from '../write.js';
import { parseUpdateBody } from './document.js';

const BULK_PARAMS = ['refresh', 'routing', 'timeout', 'wait_for_active_shards', 'pipeline', 'require_alias', 'require_data_stream', '_source', '_source_includes', '_source_excludes', 'list_executed_pipelines'];

/** Keys allowed in an action line's metadata object. */
const ACTION_KEYS = new Set([
  '_index', '_id', 'routing', '_routing', 'if_seq_no', 'if_primary_term', 'version', 'version_type', 'retry_on_conflict',
  'pipeline', 'require_alias', 'require_data_stream', '_source', 'dynamic_templates', 'list_executed_pipelines',
]);

type BulkOp = 'index' | 'create' | 'update' | 'delete';

/** One parsed bulk item: either ready to send, or already failed. */
interface BulkEntry {
  op: BulkOp;
  index: string;
  item: ShardWriteItem;
  /** Set when the item failed before reaching a shard. */
  result?: ShardWriteResult;
  sourceFilter?: { includes: string[]; excludes: string[] };
}

/** Registers the bulk routes. */
export function registerBulkRoutes(router: RestRouter, deps: Deps): void {
  router.add(['POST', 'PUT'], '/_bulk', (ctx) => bulk(deps, ctx, undefined), { params: BULK_PARAMS });
  router.add(['POST', 'PUT'], '/{index}/_bulk', (ctx) => bulk(deps, ctx, ctx.params.index), { params: BULK_PARAMS });
}

async function bulk(deps: Deps, ctx: RestContext, defaultIndex: string | undefined): Promise<void> {
  const startedMs = performance.now();
  if (ctx.query.pipeline !== undefined && ctx.query.pipeline !== '_none') throw pipelineError(ctx.query.pipeline);
  const refresh = refreshParam(ctx.query);
  const timeoutMs = timeParamMs(ctx.query, 'timeout', WRITE_TIMEOUT_MS_DEFAULT);
  const requireAlias = booleanParam(ctx.query, 'require_alias', false);
  const defaultFilter = sourceParams(ctx.query);
  const body = await ctx.readBody();
  const entries = parseBulk(body, defaultIndex, ctx.query.routing, defaultFilter, requireAlias);

  // Resolve (and auto-create) every target index once, in parallel.
  const targets = new Map<string, Promise<IndexMetadata | QuarryError>>();
  for (const entry of entries) {
    if (entry.result || targets.has(entry.index)) continue;
    const onlyDeletes = entries.every((e) => e.index !== entry.index || e.op === 'delete');
    targets.set(entry.index, resolveTarget(deps, entry.index, onlyDeletes));
  }
  const metadataByIndex = new Map<string, IndexMetadata | QuarryError>();
  await Promise.all([...targets].map(async ([name, pending]) => metadataByIndex.set(name, await pending)));

  // Group the sendable items by shard, remembering each one's position.
  const groups = new Map<string, { metadata: IndexMetadata; shard: number; positions: number[]; items: ShardWriteItem[] }>();
  entries.forEach((entry, position) => {
    if (entry.result) return;
    const target = metadataByIndex.get(entry.index)!;
    if (target instanceof QuarryError) {
      entry.result = itemFailure(entry.item.id, target);
      return;
    }
    const shard = shardOf(target, entry.item.id, entry.item.routing);
    const key = `${entry.index}\u0000${shard}`;
    let group = groups.get(key);
    if (!group) {
      group = { metadata: target, shard, positions: [], items: [] };
      groups.set(key, group);
    }
    group.positions.push(position);
    group.items.push(entry.item);
  });

  await Promise.all(
    [...groups.values()].map(async (group) => {
      let results: ShardWriteResult[];
      try {
        results = (await deps.node.bulk({ index: group.metadata.name, shard: group.shard, items: group.items, refresh, timeoutMs })).items;
      } catch (error) {
        // A shard that cannot take the batch fails its items, not the whole request.
        if (!(error instanceof QuarryError)) throw error;
        results = group.items.map((item) => itemFailure(item.id, error));
      }
      group.positions.forEach((position, i) => (entries[position].result = results[i]));
    }),
  );

  let failed = false;
  for (const entry of entries) if (entry.result!.error) failed = true;
  const out = new JsonBuilder().text(`{"errors":${failed},"took":${Math.round(performance.now() - startedMs)},"items":[`);
  entries.forEach((entry, position) => {
    out.text(position === 0 ? `{"${entry.op}":{` : `,{"${entry.op}":{`);
    const target = metadataByIndex.get(entry.index);
    appendWriteResult(out, entry.index, target instanceof QuarryError ? undefined : target, entry.result!, { withStatus: true, sourceFilter: entry.sourceFilter });
    out.text('}}');
  });
  sendJsonText(ctx.res, 200, out.text(']}').build());
}

/** The index's metadata, or the error its items fail with (deletes alone never auto-create). */
async function resolveTarget(deps: Deps, name: string, onlyDeletes: boolean): Promise<IndexMetadata | QuarryError> {
  try {
    if (onlyDeletes) {
      const metadata = deps.node.getIndex(name);
      return metadata ?? errors.indexNotFound(name);
    }
    return await deps.autoCreator.ensure(name);
  } catch (error) {
    if (error instanceof QuarryError) return error;
    throw error;
  }
}

/**
 * Splits the NDJSON body into entries. Sources are `subarray`s of the body (no copy). Lines are
 * numbered from 1 as Elasticsearch numbers them in its messages; a final line without `\n` is fine.
 */
function parseBulk(body: Buffer, defaultIndex: string | undefined, defaultRouting: string | undefined, defaultFilter: SourceFilter | undefined, requireAlias: boolean): BulkEntry[] {
  const entries: BulkEntry[] = [];
  const missingIndex: string[] = [];
  const screened = !mayHoldPrototypeKeys(body);
  let position = 0;
  let line = 0;
  // Returns the next line's [start, end) with a trailing \r dropped, or undefined at the end.
  const nextLine = (): [number, number] | undefined => {
    if (position >= body.length) return undefined;
    let newline = body.indexOf(0x0a, position);
    if (newline < 0) newline = body.length;
    const start = position;
    let end = newline;
    if (end > start && body[end - 1] === 0x0d) end--;
    position = newline + 1;
    line++;
    return [start, end];
  };
  for (;;) {
    const actionLine = nextLine();
    if (!actionLine) break;
    if (isBlank(body, actionLine[0], actionLine[1])) continue;
    const actionLineNumber = line;
    const action = parseJson(body, 'request', actionLine[0], actionLine[1], screened);
    const malformed = (what: string): QuarryError => errors.illegalArgument(`Malformed action/metadata line [${actionLineNumber}], ${what}`);
    if (action === null || typeof action !== 'object' || Array.isArray(action)) throw malformed(`expected START_OBJECT but found [${describeToken(action)}]`);
    const keys = Object.keys(action);
    if (keys.length === 0) throw malformed('expected FIELD_NAME but found [END_OBJECT]');
    if (keys.length > 1) throw malformed('expected END_OBJECT but found [FIELD_NAME]');
    const op = keys[0];
    if (op !== 'index' && op !== 'create' && op !== 'update' && op !== 'delete') {
      throw malformed(`expected field [create], [delete], [index] or [update] but found [${op}]`);
    }
    const meta = (action as Record<string, unknown>)[op];
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw malformed(`expected START_OBJECT but found [${describeToken(meta)}]`);
    const m = meta as Record<string, unknown>;
    for (const key of Object.keys(m)) {
      if (!ACTION_KEYS.has(key)) throw errors.illegalArgument(`Action/metadata line [${actionLineNumber}] contains an unknown parameter [${key}]`);
      const value = m[key];
      const structured = key === '_source' || key === 'dynamic_templates';
      if (!structured && value !== null && typeof value === 'object') {
        throw malformed(`expected a simple value for field [${key}] but found [${describeToken(value)}]`);
      }
    }
    if (entries.length >= BULK_ITEMS_MAX) throw errors.illegalArgument(`a bulk request may hold at most ${BULK_ITEMS_MAX} items`);

    const index = m._index !== undefined ? String(m._index) : defaultIndex;
    if (index === undefined) missingIndex.push('index is missing');
    const rawId = m._id;
    if ((op === 'update' || op === 'delete') && (rawId === undefined || rawId === null)) {
      throw validationError('id is missing');
    }
    const id = rawId === undefined || rawId === null ? generateId() : String(rawId);
    const routing = m.routing ?? m._routing ?? defaultRouting;
    const item: ShardWriteItem = { op, id };
    if (routing !== undefined && routing !== null) item.routing = String(routing);
    const entry: BulkEntry = { op, index: index ?? '', item };
    entries.push(entry);

    // The source line comes next for everything but delete; read it even if the item fails.
    let sourceLine: [number, number] | undefined;
    if (op !== 'delete') {
      sourceLine = nextLine();
      if (!sourceLine) throw errors.illegalArgument(`The bulk request must be terminated by a newline [\\n]: the [${op}] action on line [${actionLineNumber}] has no source line`);
    }

    const fail = (error: QuarryError): void => {
      entry.result = itemFailure(id, error);
    };
    const problem = idProblem(id);
    if (problem) {
      fail(errors.illegalArgument(problem));
      continue;
    }
    if (m.pipeline !== undefined && m.pipeline !== null && m.pipeline !== '_none') {
      fail(pipelineError(String(m.pipeline)));
      continue;
    }
    if (requireAlias || m.require_alias === true || m.require_alias === 'true') {
      fail(requireAliasError(entry.index));
      continue;
    }
    try {
      const conditions = writeConditions({ ifSeqNo: m.if_seq_no, ifPrimaryTerm: m.if_primary_term, version: m.version, versionType: m.version_type }, op);
      if (conditions) item.conditions = conditions;
    } catch (error) {
      if (!(error instanceof QuarryError)) throw error;
      fail(error);
      continue;
    }
    if (op === 'index' || op === 'create') {
      const [start, end] = sourceLine!;
      try {
        item.doc = parseDocument(body, start, end, screened);
        item.source = body.subarray(start, end);
      } catch (error) {
        if (!(error instanceof QuarryError)) throw error;
        fail(error);
      }
    } else if (op === 'update') {
      const [start, end] = sourceLine!;
      // An unparseable update body fails the whole request, as in Elasticsearch (it parses it up front).
      const updateBody = parseJson(body, 'request', start, end);
      if (updateBody === null || typeof updateBody !== 'object' || Array.isArray(updateBody)) {
        throw errors.illegalArgument(`Malformed update line [${line}], expected START_OBJECT but found [${describeToken(updateBody)}]`);
      }
      try {
        const update = parseUpdateBody(updateBody as Record<string, unknown>, 'UpdateRequest');
        if (m.retry_on_conflict !== undefined) update.retryOnConflict = Number(m.retry_on_conflict);
        if (update.fetchSource === undefined && m._source !== undefined) update.fetchSource = sourceFromJson(m._source, '_source');
        if (update.fetchSource === undefined && defaultFilter !== undefined) update.fetchSource = defaultFilter;
        if (typeof update.fetchSource === 'object') entry.sourceFilter = update.fetchSource as { includes: string[]; excludes: string[] };
        item.update = update;
      } catch (error) {
        if (!(error instanceof QuarryError)) throw error;
        fail(error);
      }
    }
  }
  if (missingIndex.length > 0) throw validationError(...missingIndex);
  if (entries.length === 0) throw validationError('no requests added');
  return entries;
}
