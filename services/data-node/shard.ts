/**
 * The shard engine: one shard copy's write path, real-time reads, refresh, flush and recovery
 * (architecture §2). It ties the translog (durability), the in-memory buffer (a SegmentBuilder), the
 * live version map and the segment manager (LMDB segments) together.
 *
 * Concurrency: every state change of a write (resolve the current version, check conditions, assign
 * `_seq_no`, append to the translog, apply to the buffer, update the version map) runs synchronously
 * in one turn of the event loop, so two writes to one `_id` can never interleave: the event loop is
 * the per-id lock. The only awaits of a write are a dynamic mapping update (before any state change;
 * the op restarts from the top afterwards) and the translog fsync (after the state change, before
 * the acknowledgement).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type pino from 'pino';
import type {
  IndexMetadata,
  ItemError,
  RefreshPolicy,
  SegmentDescription,
  ShardGetResult,
  ShardStatsResult,
  ShardWriteItem,
  ShardWriteResult,
} from '../../lib/cluster/api.js';
import { assert } from '../../lib/common/assert.js';
import { QuarryError, errors, toQuarryError } from '../../lib/common/errors.js';
import { GC_DELETES_MS, INDEXING_BUFFER_BYTES_MAX, RECOVERY_REFRESH_BYTES, SEARCH_IDLE_AFTER_MS_DEFAULT, TRANSLOG_FLUSH_THRESHOLD_BYTES_DEFAULT } from '../../lib/common/limits.js';
import { TokenRun } from '../../lib/common/token-run.js';
import { parseDocument, type Mappings } from '../../lib/mapping/index.js';
import { SegmentBuilder } from '../../lib/segments/builder.js';
import { SegmentManager } from '../../lib/segments/manager.js';
import type { RefreshWorkerClient } from '../../lib/segments/refresh-worker.js';
import type { SegmentSnapshot, StoredDocMeta } from '../../lib/segments/types.js';
import { Translog } from '../../lib/translog/translog.js';
import type { TranslogOp } from '../../lib/translog/types.js';
import { applyPartialUpdate } from './update.js';

/** What the shard needs from its index: current metadata and a way to add mapping fields. */
export interface ShardContext {
  metadata(): IndexMetadata;
  /** Adds fields to the index mapping (through the master); resolves once metadata() reflects them. */
  putMapping(update: Mappings): Promise<void>;
  logger: pino.Logger;
  /** The node's shared segment-writer thread (one per node; see docs/segments.md). */
  refreshWriter?: RefreshWorkerClient;
}

/** The live version map's entry for an `_id` written since the last refresh (or a recent delete). */
interface VersionEntry {
  seqNo: number;
  version: number;
  primaryTerm: number;
  deleted: boolean;
  /** The buffer holding the live doc (current or being refreshed); null for a delete tombstone. */
  builder: SegmentBuilder | null;
  ordinal: number;
  routing?: string;
  /** When the entry was written (tombstones are kept GC_DELETES_MS for version checks). */
  timeMs: number;
}

/** The current state of an `_id`, resolved from the version map or the segments. */
interface CurrentDoc {
  exists: boolean;
  seqNo: number;
  version: number;
  primaryTerm: number;
  /** Only when exists. */
  source?: Uint8Array;
  routing?: string;
}

const NOT_FOUND: CurrentDoc = { exists: false, seqNo: -1, version: 0, primaryTerm: 0 };

/** Signals that an op needs a mapping update before it can be applied. */
class NeedsMapping {
  constructor(readonly update: Mappings) {}
}

/** Minimum number of ms between automatic flushes triggered by translog size. */
const FLUSH_ON_IDLE_AFTER_MS = 5 * 60_000;
/** Retries of one op's mapping update (a concurrent update can add the same field). */
const MAPPING_RETRIES_MAX = 5;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Counters for `_stats`. */
interface ShardCounters {
  indexTotal: number;
  indexTimeMs: number;
  deleteTotal: number;
  indexCurrent: number;
  getTotal: number;
  searchQueryTotal: number;
  searchQueryTimeMs: number;
  /** Flush = roll + refresh + commit + trim, so it is timed here; refreshes are counted by the segment manager. */
  flushTotal: number;
  flushTimeMs: number;
}

/** One shard copy (today always a primary). */
export class IndexShard {
  readonly primaryTerm = 1;
  private buffer = new SegmentBuilder();
  /**
   * Token arena reused by every parse of this shard. Safe because each write path (indexSync,
   * updateSync, replayOp) parses and hands the doc to `buffer.addDocument` (which copies what it
   * keeps) in the same synchronous turn, with no parse in between; a NeedsMapping outcome drops the
   * parsed doc. The builder asserts the run was not reset under a doc it consumes.
   */
  private readonly tokens = new TokenRun();
  /** The buffer being written into a segment by a running refresh, readable until it is published. */
  private refreshing: SegmentBuilder | null = null;
  private readonly versionMap = new Map<string, VersionEntry>();
  /** `_id`s indexed or deleted since the last refresh whose older copies may live in segments. */
  private pendingDeletes = new Set<string>();
  private maxSeqNo = -1;
  /** Highest seq_no made visible to searchers by a refresh (tombstones below it may be pruned). */
  private refreshedSeqNo = -1;
  private refreshChain: Promise<unknown> = Promise.resolve();
  private refreshWaiters: Array<() => void> = [];
  private flushChain: Promise<unknown> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | null = null;
  private lastSearchMs = Date.now();
  private lastWriteMs = Date.now();
  private skippedRefreshWhileIdle = false;
  private memoryRefreshPending = false;
  private failure: QuarryError | null = null;
  private closed = false;
  private readonly counters: ShardCounters = {
    indexTotal: 0,
    indexTimeMs: 0,
    deleteTotal: 0,
    indexCurrent: 0,
    getTotal: 0,
    searchQueryTotal: 0,
    searchQueryTimeMs: 0,
    flushTotal: 0,
    flushTimeMs: 0,
  };

  private constructor(
    readonly indexName: string,
    readonly shardId: number,
    readonly path: string,
    private readonly ctx: ShardContext,
    private readonly translog: Translog,
    private readonly segments: SegmentManager,
  ) {}

  /**
   * Opens (or creates) the shard at `path`: opens the last commit point, replays translog ops above
   * its max seq_no, refreshes and commits so the next start replays nothing, then starts the refresh
   * scheduler.
   */
  static async open(indexName: string, shardId: number, path: string, ctx: ShardContext): Promise<IndexShard> {
    const settings = ctx.metadata().settings;
    const openStartMs = performance.now();
    await mkdir(join(path, 'index'), { recursive: true });
    const segments = await SegmentManager.open(join(path, 'index'), { refreshWriter: ctx.refreshWriter });
    ctx.logger.debug({ index: indexName, shard: shardId, tookMs: Math.round(performance.now() - openStartMs) }, 'segments opened');
    let translog: Translog;
    try {
      translog = await Translog.open(join(path, 'translog'), {
        durability: settings.translogDurability,
        syncIntervalMs: settings.translogSyncIntervalMs,
      });
    } catch (err) {
      await segments.close();
      throw err;
    }
    const shard = new IndexShard(indexName, shardId, path, ctx, translog, segments);
    try {
      await shard.recover();
    } catch (err) {
      await translog.close().catch(() => undefined);
      await segments.close().catch(() => undefined);
      throw err;
    }
    shard.scheduleRefresh();
    return shard;
  }

  /** Replays translog ops above the commit point, then refreshes and flushes. */
  private async recover(): Promise<void> {
    const startMs = performance.now();
    const commit = this.segments.lastCommit;
    const committedMaxSeqNo = commit ? Number(commit.userData.maxSeqNo ?? -1) : -1;
    this.maxSeqNo = committedMaxSeqNo;
    if (commit && commit.userData.translogUuid !== undefined && commit.userData.translogUuid !== this.translog.uuid) {
      // The translog belongs to another history than the commit: replaying it could resurrect or lose ops.
      throw new QuarryError(
        'translog_corrupted_exception',
        `translog uuid [${this.translog.uuid}] does not match the commit's [${commit.userData.translogUuid}] for shard [${this.indexName}][${this.shardId}]`,
      );
    }
    this.segments.warmUpRefreshWriter();
    let replayed = 0;
    // Ops are applied synchronously batch by batch; only a dynamic mapping update awaits.
    for await (const batch of this.translog.readOpBatches(committedMaxSeqNo + 1)) {
      for (let i = 0; i < batch.length; i++) {
        const op = batch[i];
        for (let attempt = 0; ; attempt++) {
          const pending = this.replayOpSync(op);
          if (pending === null) break;
          if (attempt >= MAPPING_RETRIES_MAX) throw new QuarryError('illegal_state_exception', `mapping update for [${op.id}] did not converge`);
          await this.ctx.putMapping(pending.update);
        }
        replayed++;
        // Smaller buffers than at run time: the writer thread writes segments while replay goes on,
        // so the refresh that ends recovery has little left to write.
        this.maybeRefreshForMemory(RECOVERY_REFRESH_BYTES);
      }
    }
    const replayMs = performance.now() - startMs;
    this.refreshedSeqNo = -1;
    if (replayed > 0) {
      // Searchable at once; the commit that lets the next start skip this replay runs in the
      // background (until it lands, the translog still holds every op, so a crash loses nothing).
      await this.refresh();
      void this.flush().catch((e) => this.logError(e, 'flush after recovery'));
    }
    this.ctx.logger.info(
      {
        index: this.indexName,
        shard: this.shardId,
        replayedOps: replayed,
        maxSeqNo: this.maxSeqNo,
        replayMs: Math.round(replayMs),
        tookMs: Math.round(performance.now() - startMs),
      },
      'shard recovered',
    );
  }

  /**
   * Applies one recorded op during recovery (the op carries its seq_no and version; stale ops are
   * skipped). Returns the mapping update to apply first when the doc needs one, else null.
   */
  private replayOpSync(op: TranslogOp): NeedsMapping | null {
    if (op.seqNo > this.maxSeqNo) this.maxSeqNo = op.seqNo;
    if (op.type === 'noop') return null;
    const current = this.resolveCurrent(op.id, false);
    if (current.seqNo >= op.seqNo) return null;
    if (op.type === 'delete') {
      this.applyDelete(op.id, op.seqNo, op.version, op.primaryTerm, false, current.exists);
      return null;
    }
    assert(op.source, 'an index op in the translog has a source');
    const parsed = this.parse(op.id, op.source, JSON.parse(decoder.decode(op.source)), op.routing);
    if (parsed instanceof NeedsMapping) return parsed;
    parsed.doc.seqNo = op.seqNo;
    parsed.doc.version = op.version;
    parsed.doc.primaryTerm = op.primaryTerm;
    this.applyIndex(op.id, parsed.doc, op.routing, false, current.exists);
    return null;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Applies a batch of write items in order and acknowledges them once durable (per the translog's
   * durability). Items fail one by one; the batch never throws for an item's bad input.
   */
  async bulk(items: ShardWriteItem[], refresh: RefreshPolicy): Promise<ShardWriteResult[]> {
    this.ensureOpen();
    this.segments.warmUpRefreshWriter();
    const results: ShardWriteResult[] = new Array(items.length);
    let wrote = false;
    this.counters.indexCurrent += items.length;
    const startMs = performance.now();
    try {
      for (let i = 0; i < items.length; i++) {
        const result = await this.applyItem(items[i]);
        results[i] = result;
        if (result.seqNo !== undefined && result.result !== 'noop') wrote = true;
      }
    } finally {
      this.counters.indexCurrent -= items.length;
    }
    this.counters.indexTimeMs += performance.now() - startMs;
    if (wrote) {
      this.lastWriteMs = Date.now();
      try {
        // `async` durability acknowledges before the fsync; the translog syncs every sync_interval.
        if (this.ctx.metadata().settings.translogDurability === 'request') await this.translog.sync();
      } catch (err) {
        // Nothing of this batch may be acknowledged, and the in-memory state is ahead of the disk:
        // the engine fails, as Elasticsearch fails a shard on a translog write error.
        const failure = this.fail(err);
        throw failure;
      }
      this.maybeRefreshForMemory();
      if (this.translog.stats().uncommittedSizeBytes > TRANSLOG_FLUSH_THRESHOLD_BYTES_DEFAULT) void this.flush().catch((e) => this.logError(e, 'flush'));
    }
    if (refresh === 'true' && wrote) {
      await this.refresh();
      for (const r of results) if (r.seqNo !== undefined) r.forcedRefresh = true;
    } else if (refresh === 'wait_for' && wrote) {
      await this.waitForRefresh();
    }
    return results;
  }

  /** Applies one item, retrying after a mapping update; turns bad input into an item error. */
  private async applyItem(item: ShardWriteItem): Promise<ShardWriteResult> {
    for (let attempt = 0; ; attempt++) {
      let outcome: ShardWriteResult | NeedsMapping;
      try {
        this.ensureOpen();
        outcome = this.applyItemSync(item);
      } catch (err) {
        const e = toQuarryError(err);
        if (e.status >= 500) this.logError(err, 'write');
        return { status: e.status, id: item.id, error: this.itemError(e) };
      }
      if (!(outcome instanceof NeedsMapping)) return outcome;
      if (attempt >= MAPPING_RETRIES_MAX) {
        return { status: 500, id: item.id, error: { type: 'illegal_state_exception', reason: 'mapping update did not converge' } };
      }
      try {
        await this.ctx.putMapping(outcome.update);
      } catch (err) {
        const e = toQuarryError(err);
        return { status: e.status, id: item.id, error: this.itemError(e) };
      }
    }
  }

  private itemError(e: QuarryError): ItemError {
    return e.toBody() as ItemError;
  }

  /** The synchronous heart of a write: no await from resolving the version to updating the buffer. */
  private applyItemSync(item: ShardWriteItem): ShardWriteResult | NeedsMapping {
    switch (item.op) {
      case 'delete':
        return this.deleteSync(item);
      case 'update':
        return this.updateSync(item);
      default:
        return this.indexSync(item);
    }
  }

  private indexSync(item: ShardWriteItem): ShardWriteResult | NeedsMapping {
    assert(item.source && item.doc, 'index items carry source and doc');
    const parsed = this.parse(item.id, item.source, item.doc, item.routing);
    if (parsed instanceof NeedsMapping) return parsed;
    const current = this.resolveCurrent(item.id, false);
    const version = this.checkConditions(item, current);
    const seqNo = ++this.maxSeqNo;
    parsed.doc.seqNo = seqNo;
    parsed.doc.version = version;
    parsed.doc.primaryTerm = this.primaryTerm;
    this.translog.add({ type: 'index', id: item.id, seqNo, primaryTerm: this.primaryTerm, version, source: item.source, routing: item.routing });
    this.applyIndex(item.id, parsed.doc, item.routing, true, current.exists);
    this.counters.indexTotal++;
    return {
      status: current.exists ? 200 : 201,
      id: item.id,
      result: current.exists ? 'updated' : 'created',
      version,
      seqNo,
      primaryTerm: this.primaryTerm,
    };
  }

  private deleteSync(item: ShardWriteItem): ShardWriteResult {
    const current = this.resolveCurrent(item.id, false);
    const version = this.checkConditions(item, current);
    const seqNo = ++this.maxSeqNo;
    this.translog.add({ type: 'delete', id: item.id, seqNo, primaryTerm: this.primaryTerm, version, routing: item.routing });
    this.applyDelete(item.id, seqNo, version, this.primaryTerm, true, current.exists);
    this.counters.deleteTotal++;
    return {
      status: current.exists ? 200 : 404,
      id: item.id,
      result: current.exists ? 'deleted' : 'not_found',
      version,
      seqNo,
      primaryTerm: this.primaryTerm,
    };
  }

  private updateSync(item: ShardWriteItem): ShardWriteResult | NeedsMapping {
    const spec = item.update ?? {};
    const meta = this.ctx.metadata();
    const current = this.resolveCurrent(item.id, true);
    let newDoc: Record<string, unknown>;
    let created = false;
    if (item.conditions?.ifSeqNo !== undefined || item.conditions?.ifPrimaryTerm !== undefined) {
      this.checkConditions({ ...item, op: 'index' }, current);
    }
    if (!current.exists) {
      if (spec.docAsUpsert && spec.doc) newDoc = spec.doc;
      else if (spec.upsert) newDoc = spec.upsert;
      else throw errors.documentMissing(this.indexName, this.shardId, item.id, meta.uuid);
      created = true;
    } else {
      assert(current.source, 'an existing doc has a source');
      const existing = JSON.parse(decoder.decode(current.source)) as Record<string, unknown>;
      const { merged, changed } = applyPartialUpdate(existing, spec.doc ?? {});
      if (!changed && spec.detectNoop !== false) {
        return {
          status: 200,
          id: item.id,
          result: 'noop',
          version: current.version,
          seqNo: current.seqNo,
          primaryTerm: current.primaryTerm,
          get: spec.fetchSource ? { source: current.source, found: true, seqNo: current.seqNo, primaryTerm: current.primaryTerm, version: current.version } : undefined,
        };
      }
      newDoc = merged;
    }
    const source = encoder.encode(JSON.stringify(newDoc));
    const parsed = this.parse(item.id, source, newDoc, item.routing ?? current.routing);
    if (parsed instanceof NeedsMapping) return parsed;
    const version = current.exists ? current.version + 1 : current.version > 0 ? current.version + 1 : 1;
    const seqNo = ++this.maxSeqNo;
    parsed.doc.seqNo = seqNo;
    parsed.doc.version = version;
    parsed.doc.primaryTerm = this.primaryTerm;
    const routing = item.routing ?? current.routing;
    this.translog.add({ type: 'index', id: item.id, seqNo, primaryTerm: this.primaryTerm, version, source, routing });
    this.applyIndex(item.id, parsed.doc, routing, true, current.exists);
    this.counters.indexTotal++;
    return {
      status: created ? 201 : 200,
      id: item.id,
      result: created ? 'created' : 'updated',
      version,
      seqNo,
      primaryTerm: this.primaryTerm,
      get: spec.fetchSource ? { source, found: true, seqNo, primaryTerm: this.primaryTerm, version } : undefined,
    };
  }

  /**
   * Checks `op_type=create`, `if_seq_no`/`if_primary_term` and external versions against the current
   * doc; returns the version the write gets. Throws 409 version_conflict_engine_exception.
   */
  private checkConditions(item: ShardWriteItem, current: CurrentDoc): number {
    const c = item.conditions ?? {};
    const uuid = this.ctx.metadata().uuid;
    const conflict = (reason: string) => errors.versionConflict(this.indexName, this.shardId, item.id, reason, uuid);
    if (item.op === 'create' && current.exists) {
      throw conflict(`document already exists (current version [${current.version}])`);
    }
    if (c.ifSeqNo !== undefined || c.ifPrimaryTerm !== undefined) {
      const ifSeqNo = c.ifSeqNo ?? -2;
      const ifPrimaryTerm = c.ifPrimaryTerm ?? 0;
      if (!current.exists) {
        throw conflict(`required seqNo [${ifSeqNo}], primary term [${ifPrimaryTerm}]. but no document was found`);
      }
      if (current.seqNo !== ifSeqNo || current.primaryTerm !== ifPrimaryTerm) {
        throw conflict(
          `required seqNo [${ifSeqNo}], primary term [${ifPrimaryTerm}]. current document has seqNo [${current.seqNo}] and primary term [${current.primaryTerm}]`,
        );
      }
    }
    const versionType = c.versionType ?? 'internal';
    if (versionType === 'external' || versionType === 'external_gte') {
      const version = c.version;
      assert(version !== undefined, 'external versioning carries a version');
      // A tombstone's version still counts for external versioning, as in Elasticsearch.
      const hasVersion = current.exists || current.version > 0;
      if (hasVersion) {
        if (versionType === 'external' && current.version >= version) {
          throw conflict(`current version [${current.version}] is higher or equal to the one provided [${version}]`);
        }
        if (versionType === 'external_gte' && current.version > version) {
          throw conflict(`current version [${current.version}] is higher than the one provided [${version}]`);
        }
      }
      return version;
    }
    if (item.op === 'delete' && !current.exists) return current.version > 0 ? current.version + 1 : 1;
    return current.exists ? current.version + 1 : current.version > 0 ? current.version + 1 : 1;
  }

  /** Parses a document against the current mapping; NeedsMapping when dynamic fields must be added first. */
  private parse(id: string, source: Uint8Array, doc: Record<string, unknown>, routing: string | undefined) {
    const mappings = this.ctx.metadata().mappings as Mappings;
    const parsed = parseDocument(mappings, { id, seqNo: 0, version: 0, primaryTerm: 0, routing }, doc, source, this.tokens);
    if (parsed.mappingUpdate) return new NeedsMapping(parsed.mappingUpdate);
    return parsed;
  }

  /** Puts a parsed doc into the buffer and the version map, superseding any older copy. */
  private applyIndex(id: string, doc: ReturnType<typeof parseDocument>['doc'], routing: string | undefined, live: boolean, existed: boolean): void {
    this.supersede(id, existed);
    const ordinal = this.buffer.addDocument(doc);
    this.versionMap.set(id, {
      seqNo: doc.seqNo,
      version: doc.version,
      primaryTerm: doc.primaryTerm,
      deleted: false,
      builder: this.buffer,
      ordinal,
      routing,
      timeMs: live ? Date.now() : 0,
    });
  }

  /** Records a delete: a tombstone in the version map, and the older copy removed at the next refresh. */
  private applyDelete(id: string, seqNo: number, version: number, primaryTerm: number, live: boolean, existed: boolean): void {
    this.supersede(id, existed);
    this.versionMap.set(id, { seqNo, version, primaryTerm, deleted: true, builder: null, ordinal: -1, timeMs: live ? Date.now() : 0 });
  }

  /**
   * Removes the older copy of `id`: in the current buffer at once; in the buffer being refreshed or in
   * segments at the next refresh (delete by id). A new id found nowhere (`existed` false, no entry)
   * needs neither, which keeps append-only indexing free of delete lookups at refresh.
   */
  private supersede(id: string, existed: boolean): void {
    const previous = this.versionMap.get(id);
    if (previous && previous.builder === this.buffer) this.buffer.deleteDoc(previous.ordinal);
    else if (previous || existed) this.pendingDeletes.add(id);
  }

  /**
   * The current state of `id`: the version map first (writes since the last refresh and recent
   * deletes), then the searcher's segments. `withSource` also loads `_source`.
   */
  private resolveCurrent(id: string, withSource: boolean): CurrentDoc {
    const entry = this.versionMap.get(id);
    if (entry) {
      if (entry.deleted) return { exists: false, seqNo: entry.seqNo, version: entry.version, primaryTerm: entry.primaryTerm };
      assert(entry.builder, 'a live version entry points at a buffer');
      return {
        exists: true,
        seqNo: entry.seqNo,
        version: entry.version,
        primaryTerm: entry.primaryTerm,
        routing: entry.routing,
        source: withSource ? entry.builder.source(entry.ordinal) : undefined,
      };
    }
    const snapshot = this.segments.acquireSnapshot();
    try {
      return this.lookupInSnapshot(snapshot, id, withSource) ?? NOT_FOUND;
    } finally {
      snapshot.release();
    }
  }

  /** Finds the live copy of `id` in a snapshot (there is at most one). */
  private lookupInSnapshot(snapshot: SegmentSnapshot, id: string, withSource: boolean): CurrentDoc | null {
    const segs = snapshot.segments;
    for (let i = segs.length - 1; i >= 0; i--) {
      const seg = segs[i];
      const doc = seg.reader.lookupId(id);
      if (doc < 0) continue;
      if (seg.liveDocs && (seg.liveDocs[doc >>> 3] & (1 << (doc & 7))) === 0) continue;
      const meta: StoredDocMeta = seg.reader.meta(doc);
      return {
        exists: true,
        seqNo: meta.seqNo,
        version: meta.version,
        primaryTerm: meta.primaryTerm,
        routing: meta.routing,
        source: withSource ? seg.reader.source(doc) : undefined,
      };
    }
    return null;
  }

  // ---------------------------------------------------------------- reads

  /** GET by id: real-time (buffer first) unless `realtime` is false (searcher view only). */
  async get(id: string, realtime: boolean, refresh: boolean): Promise<ShardGetResult> {
    this.ensureOpen();
    if (refresh) await this.refresh();
    this.counters.getTotal++;
    let current: CurrentDoc;
    if (realtime) current = this.resolveCurrent(id, true);
    else {
      const snapshot = this.segments.acquireSnapshot();
      try {
        current = this.lookupInSnapshot(snapshot, id, true) ?? NOT_FOUND;
      } finally {
        snapshot.release();
      }
    }
    if (!current.exists) return { found: false, id };
    return { found: true, id, version: current.version, seqNo: current.seqNo, primaryTerm: current.primaryTerm, routing: current.routing, source: current.source };
  }

  /**
   * A searcher snapshot for the query phase; marks the shard searched (search-idle) and refreshes
   * first when a scheduled refresh was skipped while idle. Release it when done.
   */
  async acquireSearcher(): Promise<SegmentSnapshot> {
    this.ensureOpen();
    this.lastSearchMs = Date.now();
    if (this.skippedRefreshWhileIdle) {
      this.skippedRefreshWhileIdle = false;
      await this.refresh();
    }
    return this.segments.acquireSnapshot();
  }

  /** Records a finished query phase for `_stats`. */
  recordSearch(tookMs: number): void {
    this.counters.searchQueryTotal++;
    this.counters.searchQueryTimeMs += tookMs;
  }

  // ---------------------------------------------------------------- refresh / flush / merge

  /** Turns the buffer into a searchable segment (serialised; concurrent calls share the chain). */
  refresh(): Promise<void> {
    const run = this.refreshChain.then(() => this.doRefresh());
    this.refreshChain = run.catch(() => undefined);
    return run;
  }

  private async doRefresh(): Promise<void> {
    if (this.closed && this.failure) return;
    const builder = this.buffer;
    const deletes = this.pendingDeletes;
    const seqNoAtSwap = this.maxSeqNo;
    if (builder.maxDoc === 0 && deletes.size === 0) {
      this.refreshedSeqNo = seqNoAtSwap;
      this.pruneVersionMap(null);
      this.notifyRefreshWaiters();
      return;
    }
    this.buffer = new SegmentBuilder();
    this.pendingDeletes = new Set();
    this.refreshing = builder;
    try {
      await this.segments.refresh(builder, deletes);
    } catch (err) {
      // The segments could not be written: the ops are still in the translog, but this copy's
      // in-memory state can no longer be trusted to match it. Fail the shard loudly.
      throw this.fail(err);
    } finally {
      this.refreshing = null;
    }
    this.refreshedSeqNo = seqNoAtSwap;
    this.pruneVersionMap(builder);
    this.notifyRefreshWaiters();
  }

  /** Drops version-map entries now visible in segments, and tombstones past GC_DELETES_MS. */
  private pruneVersionMap(refreshed: SegmentBuilder | null): void {
    const now = Date.now();
    for (const [id, entry] of this.versionMap) {
      if (entry.builder !== null) {
        if (entry.builder === refreshed) this.versionMap.delete(id);
      } else if (entry.seqNo <= this.refreshedSeqNo && now - entry.timeMs > GC_DELETES_MS) {
        this.versionMap.delete(id);
      }
    }
  }

  /**
   * Starts one refresh when the buffer outgrows INDEXING_BUFFER_BYTES_MAX, without waiting for it:
   * indexing (or replay) goes on into the next buffer while LMDB writes the segment.
   */
  private maybeRefreshForMemory(thresholdBytes = INDEXING_BUFFER_BYTES_MAX): void {
    if (this.memoryRefreshPending || this.buffer.ramBytesUsed <= thresholdBytes) return;
    this.memoryRefreshPending = true;
    void this.refresh()
      .catch((e) => this.logError(e, 'refresh'))
      .finally(() => {
        this.memoryRefreshPending = false;
      });
  }

  private waitForRefresh(): Promise<void> {
    const promise = new Promise<void>((resolve) => this.refreshWaiters.push(resolve));
    // With scheduled refresh off (or the shard search-idle) nothing would ever come: refresh now.
    if (this.ctx.metadata().settings.refreshIntervalMs <= 0 || this.skippedRefreshWhileIdle) void this.refresh().catch((e) => this.logError(e, 'refresh'));
    return promise;
  }

  private notifyRefreshWaiters(): void {
    const waiters = this.refreshWaiters;
    this.refreshWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Makes everything durable in LMDB and trims the translog: roll the translog generation, refresh,
   * write a commit point (segments + max seq_no + translog uuid), delete translog generations the
   * commit covers.
   */
  flush(): Promise<void> {
    const run = this.flushChain.then(() => this.doFlush());
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  private async doFlush(): Promise<void> {
    this.ensureOpen();
    const startMs = performance.now();
    const generation = await this.translog.rollGeneration();
    // Every op in generations below `generation` was applied before this point, so the refresh below puts it in a segment.
    const seqNoBeforeRefresh = this.maxSeqNo;
    await this.refresh();
    await this.segments.commit({
      maxSeqNo: seqNoBeforeRefresh,
      localCheckpoint: seqNoBeforeRefresh,
      translogUuid: this.translog.uuid,
      translogGeneration: generation,
    });
    await this.translog.trimBelow(generation);
    this.counters.flushTotal++;
    this.counters.flushTimeMs += performance.now() - startMs;
  }

  /** Force-merges the shard's segments. */
  async forceMerge(maxNumSegments: number, onlyExpungeDeletes: boolean): Promise<void> {
    this.ensureOpen();
    await this.refresh();
    await this.segments.forceMerge(maxNumSegments, onlyExpungeDeletes);
  }

  private scheduleRefresh(): void {
    const intervalMs = this.ctx.metadata().settings.refreshIntervalMs;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    if (intervalMs <= 0) return;
    const explicit = this.ctx.metadata().settings.raw['index.refresh_interval'] !== undefined;
    this.refreshTimer = setInterval(() => {
      if (this.closed) return;
      const pending = this.buffer.maxDoc > 0 || this.pendingDeletes.size > 0;
      if (pending) {
        // Elasticsearch's search-idle: without an explicit refresh_interval, a shard nobody searched
        // for 30 s skips scheduled refreshes until the next search.
        if (!explicit && Date.now() - this.lastSearchMs > SEARCH_IDLE_AFTER_MS_DEFAULT) this.skippedRefreshWhileIdle = true;
        else void this.refresh().catch((e) => this.logError(e, 'scheduled refresh'));
      }
      if (Date.now() - this.lastWriteMs > FLUSH_ON_IDLE_AFTER_MS && this.translog.stats().uncommittedOperations > 0) {
        void this.flush().catch((e) => this.logError(e, 'idle flush'));
      }
    }, intervalMs);
    this.refreshTimer.unref();
  }

  /** Re-reads settings that can change at runtime (refresh interval). */
  settingsChanged(): void {
    if (!this.closed) this.scheduleRefresh();
  }

  // ---------------------------------------------------------------- status

  /** Counters and sizes for `_stats`. */
  stats(): ShardStatsResult {
    const seg = this.segments.stats();
    const tl = this.translog.stats();
    return {
      index: this.indexName,
      shard: this.shardId,
      primary: true,
      docsCount: seg.docCount,
      docsDeleted: seg.deletedDocCount,
      storeSizeBytes: seg.sizeBytes + tl.sizeBytes,
      indexingIndexTotal: this.counters.indexTotal,
      indexingIndexTimeMs: Math.round(this.counters.indexTimeMs),
      indexingDeleteTotal: this.counters.deleteTotal,
      indexingIndexCurrent: this.counters.indexCurrent,
      getTotal: this.counters.getTotal,
      searchQueryTotal: this.counters.searchQueryTotal,
      searchQueryTimeMs: Math.round(this.counters.searchQueryTimeMs),
      refreshTotal: seg.refreshTotal,
      refreshTimeMs: Math.round(seg.refreshTimeMs),
      flushTotal: this.counters.flushTotal,
      flushTimeMs: Math.round(this.counters.flushTimeMs),
      mergeTotal: seg.mergeTotal,
      mergeTimeMs: Math.round(seg.mergeTimeMs),
      mergeCurrent: seg.currentMerges,
      mergeDocs: seg.mergeDocs,
      mergeSizeBytes: seg.mergeSizeBytes,
      segmentsCount: seg.count,
      translogOperations: tl.operations,
      translogSizeBytes: tl.sizeBytes,
      translogUncommittedOperations: tl.uncommittedOperations,
      translogUncommittedSizeBytes: tl.uncommittedSizeBytes,
      seqNoMax: this.maxSeqNo,
      localCheckpoint: this.maxSeqNo,
      globalCheckpoint: this.maxSeqNo,
    };
  }

  /** Segments as `GET _segments` lists them. */
  describeSegments(): SegmentDescription[] {
    return this.segments.describeSegments().map((s) => ({
      name: `_${s.info.id.toString(36)}`,
      generation: s.info.id,
      numDocs: s.numDocs,
      deletedDocs: s.delCount,
      sizeBytes: s.info.sizeBytes,
      committed: s.committed,
      search: s.searchable,
      version: '9.11.1',
      compound: false,
      attributes: { source: s.info.source, format_version: String(s.info.formatVersion) },
    }));
  }

  /** Whether the shard failed (and why); a failed shard rejects every request. */
  get failed(): QuarryError | null {
    return this.failure;
  }

  /** Graceful close: stop the scheduler, flush (unless failed), close translog and LMDB. */
  async close(options: { flush: boolean } = { flush: true }): Promise<void> {
    if (this.closed) return;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (options.flush && !this.failure) {
      try {
        await this.flush();
      } catch (err) {
        this.logError(err, 'flush on close');
      }
    }
    this.closed = true;
    await this.refreshChain;
    await this.translog.close().catch((e) => this.logError(e, 'translog close'));
    await this.segments.close().catch((e) => this.logError(e, 'segments close'));
    this.notifyRefreshWaiters();
  }

  private ensureOpen(): void {
    if (this.failure) throw new QuarryError('shard_not_available_exception', `[${this.indexName}][${this.shardId}] shard failed: ${this.failure.message}`);
    if (this.closed) throw errors.engineClosed(this.indexName, this.shardId);
  }

  private fail(err: unknown): QuarryError {
    if (!this.failure) {
      this.failure = toQuarryError(err);
      this.ctx.logger.error({ index: this.indexName, shard: this.shardId, err }, 'shard failed');
      if (this.refreshTimer) clearInterval(this.refreshTimer);
    }
    return new QuarryError('shard_not_available_exception', `[${this.indexName}][${this.shardId}] shard failed: ${this.failure.message}`);
  }

  private logError(err: unknown, what: string): void {
    this.ctx.logger.error({ index: this.indexName, shard: this.shardId, err }, `${what} failed`);
  }
}
