/**
 * What document writes share: auto-creating a missing index (once, even under concurrent first
 * writes), routing to a shard, and rendering one write result in Elasticsearch's shape (single
 * responses and bulk items alike).
 */
import { QuarryError, errors } from '../../lib/common/errors.js';
import { shardForRouting } from '../../lib/common/murmur3.js';
import type { IndexMetadata, NodeApi, ShardWriteResult } from '../../lib/cluster/api.js';
import { validateIndexName } from './names.js';
import { JsonBuilder, quote } from './respond.js';
import { filterSource, type SourcePatterns } from './source-filter.js';
import { parseJson } from './body.js';

/**
 * Creates missing indices on first write, as Elasticsearch's `action.auto_create_index: true` does.
 * Concurrent first writes to one name share one creation; a creation that loses a race with another
 * coordinator (resource_already_exists_exception) reads the winner's metadata instead of failing.
 */
export class IndexAutoCreator {
  private readonly inFlight = new Map<string, Promise<IndexMetadata>>();

  constructor(private readonly node: NodeApi) {}

  /** The index's metadata, creating the index when it does not exist. */
  ensure(name: string): Promise<IndexMetadata> | IndexMetadata {
    // An in-flight creation is awaited even when the metadata is already visible: the index is
    // usable only once createIndex resolves (its shards started), not when the master records it.
    const pending = this.inFlight.get(name);
    if (pending) return pending;
    const existing = this.node.getIndex(name);
    if (existing) return existing;
    const created = this.create(name).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, created);
    return created;
  }

  private async create(name: string): Promise<IndexMetadata> {
    validateIndexName(name);
    try {
      return await this.node.createIndex({ name, auto: true });
    } catch (error) {
      if (error instanceof QuarryError && error.type === 'resource_already_exists_exception') {
        const metadata = this.node.getIndex(name);
        if (metadata) return metadata;
      }
      throw error;
    }
  }
}

/** The shard a document goes to: murmur3 of the routing value (or `_id`) modulo the shard count. */
export function shardOf(metadata: IndexMetadata, id: string, routing: string | undefined): number {
  return shardForRouting(routing ?? id, metadata.settings.numberOfShards);
}

/** `"_shards":{...}` of a write: total counts every configured copy; only the primary exists today. */
export function shardsJson(metadata: IndexMetadata | undefined, noop: boolean): string {
  if (noop) return '"_shards":{"total":0,"successful":0,"failed":0}';
  const total = 1 + (metadata?.settings.numberOfReplicas ?? 0);
  return `"_shards":{"total":${total},"successful":1,"failed":0}`;
}

/** Appends the members of one write result (no braces): Elasticsearch's field order. */
export function appendWriteResult(
  out: JsonBuilder,
  index: string,
  metadata: IndexMetadata | undefined,
  result: ShardWriteResult,
  options: { withStatus: boolean; sourceFilter?: SourcePatterns },
): void {
  out.text(`"_index":${quote(index)},"_id":${quote(result.id)}`);
  if (result.error) {
    out.text(`,"status":${result.status},"error":${JSON.stringify(result.error)}`);
    return;
  }
  if (result.version !== undefined) out.text(`,"_version":${result.version}`);
  if (result.result !== undefined) out.text(`,"result":${quote(result.result)}`);
  if (result.forcedRefresh) out.text(',"forced_refresh":true');
  out.text(',').text(shardsJson(metadata, result.result === 'noop'));
  if (result.seqNo !== undefined) out.text(`,"_seq_no":${result.seqNo},"_primary_term":${result.primaryTerm ?? 1}`);
  if (result.get) {
    out.text(`,"get":{"_seq_no":${result.get.seqNo},"_primary_term":${result.get.primaryTerm},"found":true,"_source":`);
    if (options.sourceFilter) {
      const source = parseJson(Buffer.from(result.get.source), 'document') as Record<string, unknown>;
      out.text(JSON.stringify(filterSource(source, options.sourceFilter)));
    } else {
      out.raw(result.get.source);
    }
    out.text('}');
  }
  if (options.withStatus) out.text(`,"status":${result.status}`);
}

/** A per-item failure that never reached a shard (bad id, bad source, index creation failed). */
export function itemFailure(id: string, error: QuarryError): ShardWriteResult {
  return { status: error.status, id, error: error.toBody() as ShardWriteResult['error'] };
}

/** The `require_alias` check: we have no aliases yet, so a required alias never exists. */
export function requireAliasError(index: string): QuarryError {
  const error = errors.indexNotFound(index);
  return new QuarryError(
    'index_not_found_exception',
    `no such index [${index}] and [require_alias] request flag is [true] and [${index}] is not an alias`,
    error.extra,
  );
}

/** Ingest pipelines do not exist yet: any `pipeline` names a missing one. */
export function pipelineError(pipeline: string): QuarryError {
  return errors.illegalArgument(`pipeline with id [${pipeline}] does not exist`);
}
