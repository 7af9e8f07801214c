/**
 * Single-document APIs: index, create, get, exists, `_source`, delete, update, mget.
 * Each handler validates the request, sends one item to the document's shard, and renders the
 * result; the stored `_source` bytes are spliced into answers, never re-serialized.
 */
import { QuarryError, errors } from '../../../lib/common/errors.js';
import type { IndexMetadata, ShardGetResult, ShardWriteItem, ShardWriteResult, UpdateSpec } from '../../../lib/cluster/api.js';
import { parseDocument, parseJson, parseObjectBody } from '../body.js';
import type { Deps } from '../deps.js';
import { generateId } from '../ids.js';
import { requireIndex, validateId } from '../names.js';
import {
  WRITE_TIMEOUT_MS_DEFAULT,
  booleanParam,
  integerParam,
  refreshParam,
  sourceFromJson,
  sourceParams,
  timeParamMs,
  validationError,
  writeConditions,
  type SourceFilter,
} from '../params.js';
import { JsonBuilder, itemErrorResponse, quote, sendEmpty, sendJson, sendJsonText } from '../respond.js';
import type { RestContext, RestRouter } from '../router.js';
import { filterSource } from '../source-filter.js';
import { appendWriteResult, pipelineError, requireAliasError, shardOf } from '../write.js';

const WRITE_PARAMS = ['refresh', 'routing', 'timeout', 'wait_for_active_shards', 'require_alias', 'pipeline', 'require_data_stream'];
const INDEX_PARAMS = [...WRITE_PARAMS, 'if_seq_no', 'if_primary_term', 'version', 'version_type', 'op_type'];
const DELETE_PARAMS = [...WRITE_PARAMS, 'if_seq_no', 'if_primary_term', 'version', 'version_type'];
const UPDATE_PARAMS = [...WRITE_PARAMS, 'if_seq_no', 'if_primary_term', 'retry_on_conflict', '_source', '_source_includes', '_source_excludes', 'lang'];
const GET_PARAMS = ['realtime', 'refresh', 'routing', 'preference', '_source', '_source_includes', '_source_excludes', '_source_include', '_source_exclude'];

/** Keys an `_update` body may hold. */
const UPDATE_BODY_KEYS = new Set(['doc', 'upsert', 'doc_as_upsert', 'detect_noop', '_source', 'script', 'scripted_upsert']);

/** Registers the document routes. */
export function registerDocumentRoutes(router: RestRouter, deps: Deps): void {
  const index = (op: 'index' | 'create') => (ctx: RestContext) => indexDocument(deps, ctx, op, ctx.params.id);
  router.add(['PUT', 'POST'], '/{index}/_doc/{id}', index('index'), { params: INDEX_PARAMS });
  router.add(['POST'], '/{index}/_doc', (ctx) => indexDocument(deps, ctx, 'create', undefined), { params: INDEX_PARAMS });
  router.add(['PUT', 'POST'], '/{index}/_create/{id}', index('create'), { params: INDEX_PARAMS });
  router.add(['GET', 'HEAD'], '/{index}/_doc/{id}', (ctx) => getDocument(deps, ctx, false), { params: GET_PARAMS });
  router.add(['GET', 'HEAD'], '/{index}/_source/{id}', (ctx) => getDocument(deps, ctx, true), { params: GET_PARAMS });
  router.add(['DELETE'], '/{index}/_doc/{id}', (ctx) => deleteDocument(deps, ctx), { params: DELETE_PARAMS });
  router.add(['POST'], '/{index}/_update/{id}', (ctx) => updateDocument(deps, ctx), { params: UPDATE_PARAMS });
  router.add(['GET', 'POST'], '/_mget', (ctx) => multiGet(deps, ctx, undefined), { params: GET_PARAMS });
  router.add(['GET', 'POST'], '/{index}/_mget', (ctx) => multiGet(deps, ctx, ctx.params.index), { params: GET_PARAMS });
}

/** Checks shared by every single-document write. */
function commonWriteChecks(ctx: RestContext): void {
  if (ctx.query.pipeline !== undefined && ctx.query.pipeline !== '_none') throw pipelineError(ctx.query.pipeline);
  if (booleanParam(ctx.query, 'require_alias', false)) throw requireAliasError(ctx.params.index);
}

async function indexDocument(deps: Deps, ctx: RestContext, defaultOp: 'index' | 'create', pathId: string | undefined): Promise<void> {
  commonWriteChecks(ctx);
  let op = defaultOp;
  const opType = ctx.query.op_type;
  if (opType !== undefined) {
    if (opType !== 'index' && opType !== 'create') throw errors.illegalArgument(`opType must be 'create' or 'index', found: [${opType}]`);
    // An auto-generated id is always a create; Elasticsearch ignores op_type=index there.
    if (pathId !== undefined) op = opType;
  }
  const id = pathId ?? generateId();
  validateId(id);
  const conditions = writeConditions(
    { ifSeqNo: ctx.query.if_seq_no, ifPrimaryTerm: ctx.query.if_primary_term, version: ctx.query.version, versionType: ctx.query.version_type },
    op,
  );
  const body = await ctx.readBody();
  const doc = parseDocument(body);
  const item: ShardWriteItem = { op, id, source: body, doc };
  if (ctx.query.routing !== undefined) item.routing = ctx.query.routing;
  if (conditions) item.conditions = conditions;
  const metadata = await deps.autoCreator.ensure(ctx.params.index);
  const result = await writeOne(deps, ctx, metadata, item);
  sendWriteResult(ctx, metadata, result);
}

async function deleteDocument(deps: Deps, ctx: RestContext): Promise<void> {
  commonWriteChecks(ctx);
  const id = ctx.params.id;
  validateId(id);
  const conditions = writeConditions(
    { ifSeqNo: ctx.query.if_seq_no, ifPrimaryTerm: ctx.query.if_primary_term, version: ctx.query.version, versionType: ctx.query.version_type },
    'delete',
  );
  // Deletes never auto-create an index (Elasticsearch answers index_not_found instead).
  const metadata = requireIndex(deps.node, ctx.params.index);
  const item: ShardWriteItem = { op: 'delete', id };
  if (ctx.query.routing !== undefined) item.routing = ctx.query.routing;
  if (conditions) item.conditions = conditions;
  const result = await writeOne(deps, ctx, metadata, item);
  sendWriteResult(ctx, metadata, result);
}

async function updateDocument(deps: Deps, ctx: RestContext): Promise<void> {
  commonWriteChecks(ctx);
  const id = ctx.params.id;
  validateId(id);
  const conditions = writeConditions({ ifSeqNo: ctx.query.if_seq_no, ifPrimaryTerm: ctx.query.if_primary_term }, 'update');
  const body = parseObjectBody(await ctx.readBody());
  if (!body) throw validationError('script or doc is missing');
  const update = parseUpdateBody(body, 'UpdateRequest');
  const retryOnConflict = integerParam(ctx.query, 'retry_on_conflict');
  if (retryOnConflict !== undefined) {
    if (retryOnConflict < 0) throw validationError('retry_on_conflict must be greater than or equal to 0');
    update.retryOnConflict = retryOnConflict;
  }
  const fromParams = sourceParams(ctx.query);
  if (fromParams !== undefined) update.fetchSource = fromParams;
  const item: ShardWriteItem = { op: 'update', id, update };
  if (ctx.query.routing !== undefined) item.routing = ctx.query.routing;
  if (conditions) item.conditions = conditions;
  const metadata = await deps.autoCreator.ensure(ctx.params.index);
  const result = await writeOne(deps, ctx, metadata, item);
  sendWriteResult(ctx, metadata, result, patternsOf(update.fetchSource));
}

/**
 * Reads an update body (`doc`, `upsert`, `doc_as_upsert`, `detect_noop`, `_source`). A `script`
 * is refused: scripting does not exist yet. `where` names the request in errors.
 */
export function parseUpdateBody(body: Record<string, unknown>, where: string): UpdateSpec {
  for (const key of Object.keys(body)) {
    if (!UPDATE_BODY_KEYS.has(key)) throw new QuarryError('x_content_parse_exception', `[1:2] [${where}] unknown field [${key}]`);
  }
  if (body.script !== undefined || body.scripted_upsert !== undefined) throw errors.illegalArgument('scripts are not supported yet');
  const update: UpdateSpec = {};
  const object = (key: string): Record<string, unknown> | undefined => {
    const value = body[key];
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new QuarryError('x_content_parse_exception', `[1:2] [${where}] failed to parse field [${key}]: expected an object`);
    }
    return value as Record<string, unknown>;
  };
  const flag = (key: string): boolean | undefined => {
    const value = body[key];
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new QuarryError('x_content_parse_exception', `[1:2] [${where}] failed to parse field [${key}]: expected a boolean`);
  };
  const doc = object('doc');
  const upsert = object('upsert');
  const docAsUpsert = flag('doc_as_upsert');
  const detectNoop = flag('detect_noop');
  if (doc) update.doc = doc;
  if (upsert) update.upsert = upsert;
  if (docAsUpsert !== undefined) update.docAsUpsert = docAsUpsert;
  if (detectNoop !== undefined) update.detectNoop = detectNoop;
  if (body._source !== undefined) update.fetchSource = sourceFromJson(body._source, '_source');
  if (!update.doc) throw validationError('script or doc is missing');
  if (update.docAsUpsert && update.upsert) throw validationError('upsert requests don\'t support `doc_as_upsert` and `upsert` at the same time');
  return update;
}

/** Sends one item to its shard and returns its result. */
async function writeOne(deps: Deps, ctx: RestContext, metadata: IndexMetadata, item: ShardWriteItem): Promise<ShardWriteResult> {
  const shard = shardOf(metadata, item.id, item.routing);
  const response = await deps.node.bulk({
    index: metadata.name,
    shard,
    items: [item],
    refresh: refreshParam(ctx.query),
    timeoutMs: timeParamMs(ctx.query, 'timeout', WRITE_TIMEOUT_MS_DEFAULT),
  });
  return response.items[0];
}

function sendWriteResult(ctx: RestContext, metadata: IndexMetadata, result: ShardWriteResult, sourceFilter?: { includes: string[]; excludes: string[] }): void {
  if (result.error) {
    sendJson(ctx.res, result.status, itemErrorResponse(result.error, result.status));
    return;
  }
  if (result.status === 201) ctx.res.setHeader('location', `/${encodeURIComponent(metadata.name)}/_doc/${encodeURIComponent(result.id)}`);
  const out = new JsonBuilder().text('{');
  appendWriteResult(out, metadata.name, metadata, result, { withStatus: false, sourceFilter });
  sendJsonText(ctx.res, result.status, out.text('}').build());
}

function patternsOf(filter: UpdateSpec['fetchSource']): { includes: string[]; excludes: string[] } | undefined {
  if (filter === undefined || typeof filter !== 'object') return undefined;
  return { includes: filter.includes ?? [], excludes: filter.excludes ?? [] };
}

async function getDocument(deps: Deps, ctx: RestContext, sourceOnly: boolean): Promise<void> {
  const head = ctx.method === 'HEAD';
  const metadata = deps.node.getIndex(ctx.params.index);
  if (!metadata) {
    if (head) return sendEmpty(ctx.res, 404);
    throw errors.indexNotFound(ctx.params.index);
  }
  const routing = ctx.query.routing;
  const result = await deps.node.get({
    index: metadata.name,
    shard: shardOf(metadata, ctx.params.id, routing),
    id: ctx.params.id,
    realtime: booleanParam(ctx.query, 'realtime', true),
    refresh: booleanParam(ctx.query, 'refresh', false),
  });
  const filter = sourceParams(ctx.query);
  if (head) return sendEmpty(ctx.res, result.found ? 200 : 404);
  if (sourceOnly) {
    if (!result.found || !result.source) {
      throw new QuarryError('resource_not_found_exception', `Document not found [${metadata.name}]/[${ctx.params.id}]`);
    }
    if (filter === false) throw validationError('source is disabled');
    if (typeof filter === 'object') {
      const source = parseJson(Buffer.from(result.source), 'document') as Record<string, unknown>;
      return sendJson(ctx.res, 200, filterSource(source, filter));
    }
    return sendJsonText(ctx.res, 200, Buffer.from(result.source.buffer, result.source.byteOffset, result.source.byteLength));
  }
  const out = new JsonBuilder().text('{');
  appendGetResult(out, metadata.name, result, filter);
  sendJsonText(ctx.res, result.found ? 200 : 404, out.text('}').build());
}

/** Appends the members of a GET answer (no braces), in Elasticsearch's order. */
export function appendGetResult(out: JsonBuilder, index: string, result: ShardGetResult, filter: SourceFilter | undefined): void {
  out.text(`"_index":${quote(index)},"_id":${quote(result.id)}`);
  if (!result.found) {
    out.text(',"found":false');
    return;
  }
  if (result.version !== undefined) out.text(`,"_version":${result.version}`);
  if (result.seqNo !== undefined) out.text(`,"_seq_no":${result.seqNo},"_primary_term":${result.primaryTerm ?? 1}`);
  if (result.routing !== undefined) out.text(`,"_routing":${quote(result.routing)}`);
  out.text(',"found":true');
  if (!result.source || filter === false) return;
  out.text(',"_source":');
  if (typeof filter === 'object') {
    const source = parseJson(Buffer.from(result.source), 'document') as Record<string, unknown>;
    out.text(JSON.stringify(filterSource(source, filter)));
  } else {
    out.raw(result.source);
  }
}

/** One entry of an `_mget` request after validation. */
interface MgetEntry {
  index: string;
  id: string;
  routing?: string;
  filter?: SourceFilter;
}

async function multiGet(deps: Deps, ctx: RestContext, defaultIndex: string | undefined): Promise<void> {
  const body = parseObjectBody(await ctx.readBody());
  if (!body) throw validationError('no documents to get');
  const defaultFilter = sourceParams(ctx.query);
  const entries: MgetEntry[] = [];
  for (const key of Object.keys(body)) {
    if (key !== 'docs' && key !== 'ids') throw new QuarryError('parsing_exception', `unknown parameter [${key}] in request body or parameter is of the wrong type[${typeof body[key] === 'object' ? 'START_OBJECT' : 'VALUE_STRING'}] `);
  }
  const missingIndex: number[] = [];
  if (body.docs !== undefined) {
    if (!Array.isArray(body.docs)) throw new QuarryError('parsing_exception', 'docs array element should include an object');
    body.docs.forEach((doc, position) => {
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new QuarryError('parsing_exception', 'docs array element should include an object');
      const d = doc as Record<string, unknown>;
      const index = typeof d._index === 'string' ? d._index : defaultIndex;
      const id = typeof d._id === 'string' || typeof d._id === 'number' ? String(d._id) : undefined;
      if (index === undefined) missingIndex.push(position);
      if (id === undefined) throw validationError(`id is missing for doc ${position}`);
      const routing = d.routing ?? d._routing ?? ctx.query.routing;
      const entry: MgetEntry = { index: index ?? '', id };
      if (routing !== undefined) entry.routing = String(routing);
      entry.filter = d._source !== undefined ? sourceFromJson(d._source, '_source') : defaultFilter;
      entries.push(entry);
    });
  } else if (body.ids !== undefined) {
    if (!Array.isArray(body.ids)) throw new QuarryError('parsing_exception', 'ids array element should only contain ids');
    for (const id of body.ids) {
      if (typeof id !== 'string' && typeof id !== 'number') throw new QuarryError('parsing_exception', 'ids array element should only contain ids');
      if (defaultIndex === undefined) missingIndex.push(entries.length);
      const entry: MgetEntry = { index: defaultIndex ?? '', id: String(id), filter: defaultFilter };
      if (ctx.query.routing !== undefined) entry.routing = ctx.query.routing;
      entries.push(entry);
    }
  }
  if (missingIndex.length > 0) throw validationError(...missingIndex.map((p) => `index is missing for doc ${p}`));
  if (entries.length === 0) throw validationError('no documents to get');

  const realtime = booleanParam(ctx.query, 'realtime', true);
  const refresh = booleanParam(ctx.query, 'refresh', false);
  const results = await Promise.all(
    entries.map(async (entry): Promise<{ result?: ShardGetResult; error?: QuarryError }> => {
      const metadata = deps.node.getIndex(entry.index);
      if (!metadata) return { error: errors.indexNotFound(entry.index) };
      try {
        const result = await deps.node.get({ index: metadata.name, shard: shardOf(metadata, entry.id, entry.routing), id: entry.id, realtime, refresh });
        return { result };
      } catch (error) {
        if (error instanceof QuarryError) return { error };
        throw error;
      }
    }),
  );
  const out = new JsonBuilder().text('{"docs":[');
  results.forEach((outcome, position) => {
    const entry = entries[position];
    out.text(position === 0 ? '{' : ',{');
    if (outcome.result) {
      appendGetResult(out, entry.index, outcome.result, entry.filter);
    } else {
      out.text(`"_index":${quote(entry.index)},"_id":${quote(entry.id)},"error":${JSON.stringify(outcome.error!.toResponse().error)}`);
    }
    out.text('}');
  });
  sendJsonText(ctx.res, 200, out.text(']}').build());
}

