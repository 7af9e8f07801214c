/**
 * The data role: holds the shard copies of every index on this node, opens them on start (recovery),
 * creates and removes them as index metadata changes, and answers shard-level requests.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type pino from 'pino';
import type {
  IndexMetadata,
  SegmentDescription,
  ShardBulkRequest,
  ShardBulkResponse,
  ShardGetRequest,
  ShardGetResult,
  ShardQuery,
  ShardRoutingState,
  ShardSearchRequest,
  ShardSearchResult,
  ShardStatsResult,
} from '../../lib/cluster/api.js';
import { QuarryError, errors } from '../../lib/common/errors.js';
import type { Mappings } from '../../lib/mapping/index.js';
import { countQuery, executeQuery } from '../../lib/search/basic.js';
import { RefreshWorkerClient } from '../../lib/segments/refresh-worker.js';
import { IndexShard } from './shard.js';

/** What the data node needs from the master: the metadata and a way to add mapping fields. */
export interface MetadataClient {
  getIndex(name: string): IndexMetadata | undefined;
  putMapping(name: string, mappings: Record<string, unknown>): Promise<IndexMetadata>;
}

/** One index's shards on this node. */
interface LocalIndex {
  metadata: IndexMetadata;
  shards: Array<IndexShard | null>;
  /** Why a shard could not be opened (corruption), per shard number. */
  failures: Array<QuarryError | null>;
}

/** Options of the data node. */
export interface DataNodeOptions {
  /** `<data>/nodes/0`: shard data goes under `indices/<uuid>/<shard>`. */
  nodePath: string;
  logger: pino.Logger;
  metadata: MetadataClient;
}

/** The data node service. */
export class DataNodeService {
  private readonly indices = new Map<string, LocalIndex>();
  private closing = false;
  /**
   * The node's one segment-writer thread, shared by every shard here (as Elasticsearch's refresh
   * pool, size 1: the other core is the event loop's). Started by the first shard's warm-up.
   */
  private readonly refreshWriter = new RefreshWorkerClient();

  constructor(private readonly options: DataNodeOptions) {}

  /** Opens the shards of every known index (recovering each from its commit point and translog). */
  async start(indices: IndexMetadata[]): Promise<void> {
    for (const meta of indices) await this.openIndex(meta);
  }

  /** Creates the shards of a new index (empty, fresh translog). */
  async indexCreated(meta: IndexMetadata): Promise<void> {
    await this.openIndex(meta);
  }

  /** Closes an index's shards and deletes their data. */
  async indexDeleted(meta: IndexMetadata): Promise<void> {
    const local = this.indices.get(meta.name);
    this.indices.delete(meta.name);
    if (local) await Promise.all(local.shards.map((s) => s?.close({ flush: false })));
    await rm(this.indexPath(meta), { recursive: true, force: true });
  }

  /** Applies new metadata (mapping or settings changes). */
  indexUpdated(meta: IndexMetadata): void {
    const local = this.indices.get(meta.name);
    if (!local) return;
    const refreshChanged = local.metadata.settings.refreshIntervalMs !== meta.settings.refreshIntervalMs;
    local.metadata = meta;
    if (refreshChanged) for (const s of local.shards) s?.settingsChanged();
  }

  private indexPath(meta: IndexMetadata): string {
    return join(this.options.nodePath, 'indices', meta.uuid);
  }

  private async openIndex(meta: IndexMetadata): Promise<void> {
    const local: LocalIndex = { metadata: meta, shards: [], failures: [] };
    this.indices.set(meta.name, local);
    const logger = this.options.logger;
    for (let shardId = 0; shardId < meta.settings.numberOfShards; shardId++) {
      const path = join(this.indexPath(meta), String(shardId));
      try {
        const shard = await IndexShard.open(meta.name, shardId, path, {
          metadata: () => local.metadata,
          putMapping: async (update: Mappings) => {
            const next = await this.options.metadata.putMapping(meta.name, update as unknown as Record<string, unknown>);
            local.metadata = next;
          },
          logger,
          refreshWriter: this.refreshWriter,
        });
        local.shards[shardId] = shard;
        local.failures[shardId] = null;
      } catch (err) {
        // A shard that cannot be recovered (corrupt translog or segments) stays unassigned (red) with
        // its reason; the node and the other shards keep running.
        const e = err instanceof QuarryError ? err : new QuarryError('exception', err instanceof Error ? err.message : String(err));
        logger.error({ index: meta.name, shard: shardId, err }, 'failed to recover shard');
        local.shards[shardId] = null;
        local.failures[shardId] = e;
      }
    }
  }

  /** The open shard, or a 404/503 error. */
  shard(index: string, shardId: number): IndexShard {
    if (this.closing) throw new QuarryError('engine_closed_exception', 'node is shutting down');
    const local = this.indices.get(index);
    if (!local) throw errors.indexNotFound(index);
    if (shardId < 0 || shardId >= local.metadata.settings.numberOfShards) throw errors.illegalArgument(`shard [${shardId}] does not exist in index [${index}]`);
    const shard = local.shards[shardId];
    if (!shard) {
      const why = local.failures[shardId];
      throw new QuarryError('no_shard_available_action_exception', `No shard available for [${index}][${shardId}]${why ? `: ${why.message}` : ''}`);
    }
    const failed = shard.failed;
    if (failed) throw new QuarryError('no_shard_available_action_exception', `No shard available for [${index}][${shardId}]: shard failed: ${failed.message}`);
    return shard;
  }

  async bulk(request: ShardBulkRequest): Promise<ShardBulkResponse> {
    const items = await this.shard(request.index, request.shard).bulk(request.items, request.refresh);
    return { items };
  }

  get(request: ShardGetRequest): Promise<ShardGetResult> {
    return this.shard(request.index, request.shard).get(request.id, request.realtime, request.refresh);
  }

  async search(request: ShardSearchRequest): Promise<ShardSearchResult> {
    const shard = this.shard(request.index, request.shard);
    const startMs = performance.now();
    const snapshot = await shard.acquireSearcher();
    try {
      const mappings = this.indices.get(request.index)!.metadata.mappings as Mappings;
      return executeQuery(snapshot, mappings, request.query, {
        size: request.size,
        trackTotalHitsUpTo: request.trackTotalHitsUpTo,
        fetchSource: request.fetchSource,
      });
    } finally {
      snapshot.release();
      shard.recordSearch(performance.now() - startMs);
    }
  }

  async count(request: { index: string; shard: number; query: ShardQuery }): Promise<number> {
    const shard = this.shard(request.index, request.shard);
    const snapshot = await shard.acquireSearcher();
    try {
      return countQuery(snapshot, this.indices.get(request.index)!.metadata.mappings as Mappings, request.query);
    } finally {
      snapshot.release();
    }
  }

  refresh(index: string, shard: number): Promise<void> {
    return this.shard(index, shard).refresh();
  }

  flush(index: string, shard: number): Promise<void> {
    return this.shard(index, shard).flush();
  }

  forceMerge(index: string, shard: number, maxNumSegments: number, onlyExpungeDeletes: boolean): Promise<void> {
    return this.shard(index, shard).forceMerge(maxNumSegments, onlyExpungeDeletes);
  }

  shardStats(index: string, shard: number): ShardStatsResult {
    return this.shard(index, shard).stats();
  }

  segments(index: string, shard: number): SegmentDescription[] {
    return this.shard(index, shard).describeSegments();
  }

  /** The state of every shard copy here, for health and `_cat/shards`. */
  shardRouting(nodeName: string): ShardRoutingState[] {
    const out: ShardRoutingState[] = [];
    for (const local of this.indices.values()) {
      for (let s = 0; s < local.metadata.settings.numberOfShards; s++) {
        const shard = local.shards[s];
        const ok = shard !== null && shard !== undefined && !shard.failed;
        out.push({ index: local.metadata.name, shard: s, primary: true, state: ok ? 'STARTED' : 'UNASSIGNED', node: ok ? nodeName : null });
        // Replicas cannot be placed on the node that holds the primary: they stay unassigned (yellow).
        for (let r = 0; r < local.metadata.settings.numberOfReplicas; r++) {
          out.push({ index: local.metadata.name, shard: s, primary: false, state: 'UNASSIGNED', node: null });
        }
      }
    }
    return out;
  }

  /** Graceful shutdown: flush and close every shard. */
  async close(): Promise<void> {
    this.closing = true;
    for (const local of this.indices.values()) {
      await Promise.all(local.shards.map((s) => s?.close({ flush: true })));
    }
    this.indices.clear();
    // Every shard has closed its handle in the writer thread: stop it.
    await this.refreshWriter.close();
  }
}
