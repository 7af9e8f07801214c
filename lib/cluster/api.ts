/**
 * The vocabulary between the REST coordinator and the rest of the node: index metadata, shard-level
 * write/read/search requests and their results. Today the coordinator calls a `NodeApi` in the same
 * process; the cluster issue carries the same messages over `lib/transport`. Pure types, no I/O.
 */
import type { QueryNode } from '../query/ast.js';
import type { ShardSearchResult } from '../query/results.js';

/** Resolved index settings (every field present). `raw` keeps the flat `index.*` settings as given, for GET /_settings. */
export interface IndexSettings {
  numberOfShards: number;
  numberOfReplicas: number;
  /** -1 disables scheduled refresh. */
  refreshIntervalMs: number;
  translogDurability: 'request' | 'async';
  translogSyncIntervalMs: number;
  /** Our extension: search also reads the live buffer. */
  searchRealtime: boolean;
  maxResultWindow: number;
  /** Flat `index.*` keys → string values, as Elasticsearch reports them. */
  raw: Record<string, string>;
}

/** Metadata of one index, owned by the master. */
export interface IndexMetadata {
  name: string;
  uuid: string;
  settings: IndexSettings;
  /** The mapping as Elasticsearch shows it: `{ properties: {...} }` (dynamic mapping adds fields). */
  mappings: { dynamic?: boolean | 'strict'; properties: Record<string, unknown> };
  creationDateMs: number;
  /** Bumped whenever mappings or settings change. */
  version: number;
}

/** Request to create an index: the body of `PUT /{index}` plus its name. */
export interface CreateIndexRequest {
  name: string;
  /** Either nested `{index:{number_of_shards}}`, flat `{"index.number_of_shards"}` or bare `{number_of_shards}`. */
  settings?: Record<string, unknown>;
  mappings?: Record<string, unknown>;
  /** True when made by a write to a missing index (auto-create). */
  auto?: boolean;
}

/** Concurrency control on a write. */
export interface WriteConditions {
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
  version?: number;
  versionType?: 'internal' | 'external' | 'external_gte';
}

/** The partial-update part of an `update` item (`POST /{index}/_update/{id}` or a bulk update). */
export interface UpdateSpec {
  /** Partial document merged into the existing `_source` (deep merge of objects). */
  doc?: Record<string, unknown>;
  upsert?: Record<string, unknown>;
  docAsUpsert?: boolean;
  /** Default true: a merge that changes nothing answers `result: noop` without writing. */
  detectNoop?: boolean;
  /** `_source` filtering of the `get` returned with the update response (from `_source` in the request). */
  fetchSource?: boolean | { includes?: string[]; excludes?: string[] };
  retryOnConflict?: number;
}

/** One write to one shard. */
export interface ShardWriteItem {
  op: 'index' | 'create' | 'update' | 'delete';
  id: string;
  routing?: string;
  /** UTF-8 JSON bytes of the document (index/create). */
  source?: Uint8Array;
  /** The parsed document (index/create), already validated as a JSON object. */
  doc?: Record<string, unknown>;
  update?: UpdateSpec;
  conditions?: WriteConditions;
}

/** `?refresh=` of a write. */
export type RefreshPolicy = 'false' | 'true' | 'wait_for';

/** A batch of writes to one shard (a bulk's items for that shard, or a single write). */
export interface ShardBulkRequest {
  index: string;
  shard: number;
  items: ShardWriteItem[];
  refresh: RefreshPolicy;
  timeoutMs: number;
}

/** Elasticsearch's error body for one failed item: `{type, reason, index_uuid, shard, index}`. */
export interface ItemError {
  type: string;
  reason: string;
  [key: string]: unknown;
}

/** The outcome of one write item, as Elasticsearch reports it. */
export interface ShardWriteResult {
  /** HTTP status of the item: 200 updated/noop/deleted, 201 created, 404 not_found, 409 conflict, 400 bad doc. */
  status: number;
  id: string;
  result?: 'created' | 'updated' | 'deleted' | 'not_found' | 'noop';
  version?: number;
  seqNo?: number;
  primaryTerm?: number;
  error?: ItemError;
  /** For update items with `_source` requested: the document after the update. */
  get?: { source: Uint8Array; found: true; seqNo: number; primaryTerm: number; version: number };
  /** Whether a refresh this write forced made it visible (`forced_refresh` in the response). */
  forcedRefresh?: boolean;
}

/** Results in item order. */
export interface ShardBulkResponse {
  items: ShardWriteResult[];
}

/** Real-time GET of one document. */
export interface ShardGetRequest {
  index: string;
  shard: number;
  id: string;
  /** Default true: read unrefreshed writes from the buffer. */
  realtime: boolean;
  /** Refresh before reading. */
  refresh: boolean;
}

/** The stored document, or found: false. */
export interface ShardGetResult {
  found: boolean;
  id: string;
  version?: number;
  seqNo?: number;
  primaryTerm?: number;
  routing?: string;
  /** `_source` JSON bytes. */
  source?: Uint8Array;
}

/** The query a shard executes (the AST lives in lib/query). */
export type ShardQuery = QueryNode;

/** Query phase + fetch of one shard, in one round trip (query_then_fetch arrives with the search issue). */
export interface ShardSearchRequest {
  index: string;
  shard: number;
  query: ShardQuery;
  /** Top `size` hits after skipping none: the coordinator asks every shard for from+size. */
  size: number;
  /** Count hits exactly up to this number (Elasticsearch's track_total_hits; Infinity = exact). */
  trackTotalHitsUpTo: number;
  /** Whether to load `_source` for returned hits. */
  fetchSource: boolean;
  /** Include `_seq_no`/`_primary_term` and `_version` in hits. */
  seqNoPrimaryTerm?: boolean;
  version?: boolean;
}

/** One hit from one shard, and the shard's answer (declared in lib/query so lib/search shares them). */
export type { ShardHit, ShardSearchResult } from '../query/results.js';

/** Per-shard statistics for `_stats`. */
export interface ShardStatsResult {
  index: string;
  shard: number;
  primary: boolean;
  docsCount: number;
  docsDeleted: number;
  storeSizeBytes: number;
  indexingIndexTotal: number;
  indexingIndexTimeMs: number;
  indexingDeleteTotal: number;
  indexingIndexCurrent: number;
  getTotal: number;
  searchQueryTotal: number;
  searchQueryTimeMs: number;
  refreshTotal: number;
  refreshTimeMs: number;
  flushTotal: number;
  flushTimeMs: number;
  mergeTotal: number;
  mergeTimeMs: number;
  mergeCurrent: number;
  mergeDocs: number;
  mergeSizeBytes: number;
  segmentsCount: number;
  translogOperations: number;
  translogSizeBytes: number;
  translogUncommittedOperations: number;
  translogUncommittedSizeBytes: number;
  seqNoMax: number;
  localCheckpoint: number;
  globalCheckpoint: number;
}

/** One segment as `GET /{index}/_segments` shows it. */
export interface SegmentDescription {
  name: string;
  generation: number;
  numDocs: number;
  deletedDocs: number;
  sizeBytes: number;
  committed: boolean;
  search: boolean;
  version: string;
  compound: boolean;
  attributes: Record<string, string>;
}

/** A shard copy's state as reported for health and `_cat/shards`. */
export interface ShardRoutingState {
  index: string;
  shard: number;
  primary: boolean;
  state: 'STARTED' | 'INITIALIZING' | 'UNASSIGNED' | 'RELOCATING';
  node: string | null;
}

/** Cluster health as `GET /_cluster/health` reports it. */
export interface ClusterHealth {
  clusterName: string;
  status: 'green' | 'yellow' | 'red';
  numberOfNodes: number;
  numberOfDataNodes: number;
  activePrimaryShards: number;
  activeShards: number;
  relocatingShards: number;
  initializingShards: number;
  unassignedShards: number;
  /** Per index, for `/_cluster/health/{index}` and `level=indices`. */
  indices: Record<string, { status: 'green' | 'yellow' | 'red'; numberOfShards: number; numberOfReplicas: number; activePrimaryShards: number; activeShards: number; unassignedShards: number }>;
}

/** What the coordinator needs from the rest of the node. Every method throws QuarryError on bad input. */
export interface NodeApi {
  /** This node's identity, for the banner. */
  nodeInfo(): { name: string; clusterName: string; clusterUuid: string; nodeId: string };

  // Master-level (index metadata).
  getIndex(name: string): IndexMetadata | undefined;
  listIndices(): IndexMetadata[];
  createIndex(request: CreateIndexRequest): Promise<IndexMetadata>;
  deleteIndex(name: string): Promise<void>;
  /** Adds fields to an index's mapping (dynamic mapping or PUT _mapping); throws on a type change. */
  putMapping(name: string, mappings: Record<string, unknown>): Promise<IndexMetadata>;
  health(): ClusterHealth;
  shardRouting(): ShardRoutingState[];

  // Shard-level.
  bulk(request: ShardBulkRequest): Promise<ShardBulkResponse>;
  get(request: ShardGetRequest): Promise<ShardGetResult>;
  search(request: ShardSearchRequest): Promise<ShardSearchResult>;
  count(request: { index: string; shard: number; query: ShardQuery }): Promise<number>;
  refresh(index: string, shard: number): Promise<void>;
  flush(index: string, shard: number): Promise<void>;
  forceMerge(index: string, shard: number, maxNumSegments: number, onlyExpungeDeletes: boolean): Promise<void>;
  shardStats(index: string, shard: number): ShardStatsResult;
  segments(index: string, shard: number): SegmentDescription[];
}
