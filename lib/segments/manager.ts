/**
 * The segment manager of one shard copy: which segments make up the shard, with which live docs;
 * refresh (buffer → new segment + deletes), commit (durable commit point), merges (scheduled from
 * the tiered policy, run in a worker thread) and refcounted snapshots for searchers.
 *
 * Words: a *checkpoint* is an in-memory publication of a new segment list (refresh, merge); a
 * *commit* is the durable record of one (see below). Snapshots only ever see checkpoints.
 *
 * Commit point record (data db), key `0x03 <generation u32 BE>`, value:
 *   bytes   msgpackr of {
 *             v: COMMIT_FORMAT_VERSION,
 *             generation: number,           same as in the key
 *             nextSegmentId: number,        segment ids below it were handed out already
 *             segments: Array<{ info: SegmentInfo, liveDocsGeneration: number, delCount: number }>,
 *             userData: Record<string, string | number>   the engine's (max seq_no, translog ...)
 *           }
 *   u32 LE  CRC32C of the msgpackr bytes
 * Only the latest record is kept: writing generation N removes the older ones in the same LMDB
 * transaction, so a crash leaves either the old or the new record, never both or neither.
 *
 * Lifetime of stored data. A segment's keys (and its live-docs generations) are deleted when
 * (a) it is no longer in the current list, (b) no unreleased snapshot holds it, and (c) neither the
 * last durable commit nor a commit being written lists it. A live-docs generation is deleted after
 * a commit when it is neither the committed generation nor the current one of its segment. At open,
 * everything the last commit does not list is deleted: leftovers of refreshes and merges after it,
 * or of a crash in the middle of writing one.
 *
 * Concurrency. All changes to the segment list (refresh, the swap at the end of a merge, taking
 * a commit's view) run one at a time under `listLock`; merges themselves run outside it (in a
 * worker thread by default) and only their final swap takes the lock, so indexing, refresh and
 * search go on during a merge. Deletes that hit a merge's sources while it ran are carried into
 * the merged segment through the merge's doc maps before the swap.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Packr } from 'msgpackr';
import { assert } from '../common/assert.js';
import { crc32c } from '../common/crc32c.js';
import { QuarryError, toQuarryError } from '../common/errors.js';
import { KEY_SPACE, closeShardStorage, openShardStorage, type ShardStorage } from './env.js';
import { isLive, LiveDocsEditor, liveDocsKey, liveDocsWithDeleted, listStoredLiveDocs, readLiveDocs, writeLiveDocs } from './live-docs.js';
import {
  findForcedDeletesMerges,
  findForcedMerges,
  findMerges,
  resolveMergePolicyOptions,
  type MergeCandidateInfo,
} from './merge-policy.js';
import { MERGE_WORKER_KIND, deserializeError, type MergeWorkerRequest, type MergeWorkerResponse } from './merge-worker.js';
import { isMergeAborted, mergeSegments } from './merger.js';
import { deleteSegmentData, listStoredSegmentIds, openSegmentReader } from './reader.js';
import { RefreshWorkerClient, type RefreshWorkerFault } from './refresh-worker.js';
import { workerEntry } from './worker-entry.js';
import { deletedOrdinalsOf, writeSegment } from './writer.js';
import type { SegmentBuilder } from './builder.js';
import type {
  CommitPoint,
  MergePolicyOptions,
  SegmentInfo,
  SegmentReader,
  SegmentSnapshot,
  SegmentStats,
  SnapshotSegment,
} from './types.js';

/** Version of the commit point record layout (see the module comment). */
export const COMMIT_FORMAT_VERSION = 1;

/**
 * Most merges running at once per shard. Each holds a worker thread and its per-doc columns in
 * memory, and two cores are the common case; Lucene's ConcurrentMergeScheduler uses about half the
 * cores for the same reason. The default is min(this, max(1, cores / 2)).
 */
export const MERGE_CONCURRENCY_MAX = 2;

/**
 * Rounds of one forceMerge call. Each round merges at least two segments into one, so a shard of N
 * segments needs fewer than N rounds; this only guards against a bug looping forever.
 */
export const FORCE_MERGE_ROUNDS_MAX = 100_000;

/**
 * Longest stretch of deletes-by-id a refresh runs before yielding to the event loop. Each id costs
 * one LMDB lookup per older segment (about 1 µs): 10k ids × 20 segments would otherwise block for
 * ~200 ms. Same slice as the segment writer's.
 */
export const DELETE_SLICE_MS = 10;

/**
 * Longest stretch of freezing a buffer (refreshInWorker) before yielding to the event loop. The
 * freeze of a full 64 MB buffer is tens of ms of term-table iteration; in slices it never stalls
 * indexing and searches for longer than the segment writer's own slices did.
 */
export const FREEZE_SLICE_MS = 10;

/** A pino-compatible logger; only these two levels are used. */
export interface SegmentLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

/** Options of SegmentManager.open. */
export interface SegmentManagerOptions {
  /** Merge policy settings; defaults: MERGE_POLICY_DEFAULTS. */
  mergePolicy?: Partial<MergePolicyOptions>;
  /** Run merges in a worker thread (default true); false runs them on this thread (tests, debugging). */
  mergeInWorker?: boolean;
  /**
   * Write refreshed buffers in the shard's segment-writer thread (default true): the event loop only
   * freezes the buffer (copies it into transferable arrays). false writes on this thread (tests, debugging).
   */
  refreshInWorker?: boolean;
  /**
   * The node's shared segment-writer thread (refreshInWorker): the data node passes one to every
   * shard so a node runs one writer thread whatever its shard count. Without it the manager starts
   * a private one, stopped by close() (tests). With it, close() only closes this shard's handle in it.
   */
  refreshWriter?: RefreshWorkerClient;
  /** Most concurrent merges, 1..MERGE_CONCURRENCY_MAX (default: half the cores, at least 1). */
  maxConcurrentMerges?: number;
  /** Merge failures and GC errors are logged here (default: nowhere; they still count in stats). */
  logger?: SegmentLogger;
}

/** One segment the manager tracks: shared by every snapshot state that lists it. */
interface SegmentEntry {
  readonly info: SegmentInfo;
  readonly reader: SegmentReader;
  /** Latest live docs (what the next snapshot will see); published bitmaps are never mutated. */
  liveDocs: Uint8Array | null;
  delCount: number;
  /** 0 = no deletes stored; otherwise the stored generation matching `liveDocs`. */
  liveDocsGeneration: number;
  /** Snapshot states (with refCount > 0) listing this entry. */
  snapshotRefs: number;
  merging: boolean;
  /** A merge of this segment failed: it is not proposed again (a corrupt segment would fail forever). */
  mergeFailed: boolean;
  /** No longer in the current list: waits for snapshots and commits to let go. */
  retired: boolean;
  /** Live-docs generations in storage not yet garbage-collected. */
  storedLiveDocsGenerations: number[];
}

/** One published segment list. The manager holds one reference to the current one. */
class SnapshotState {
  refCount = 1;
  constructor(
    readonly version: number,
    readonly entries: readonly SegmentEntry[],
    readonly segments: readonly SnapshotSegment[],
  ) {}
}

/** What acquireSnapshot hands out: one reference, released once. */
class SnapshotHandle implements SegmentSnapshot {
  private released = false;
  constructor(
    private readonly state: SnapshotState,
    private readonly onRelease: (state: SnapshotState) => void,
  ) {}
  get segments(): readonly SnapshotSegment[] {
    return this.state.segments;
  }
  get version(): number {
    return this.state.version;
  }
  release(): void {
    assert(!this.released, 'snapshot released twice');
    this.released = true;
    this.onRelease(this.state);
  }
}

/** The stored form of a commit point (before the CRC). */
interface CommitRecord extends CommitPoint {
  v: number;
  nextSegmentId: number;
}

// Records must decode the same way forever: plain structures, no shared-structure state.
const commitPackr = new Packr({ useRecords: false, moreTypes: false });

/** The data-db key of a commit point. */
export function commitKey(generation: number): Buffer {
  const key = Buffer.allocUnsafe(5);
  key[0] = KEY_SPACE.commit;
  key.writeUInt32BE(generation, 1);
  return key;
}

/** Encodes a commit point record (msgpackr + CRC32C, see the module comment). */
export function encodeCommitPoint(point: CommitPoint, nextSegmentId: number): Buffer {
  const record: CommitRecord = { v: COMMIT_FORMAT_VERSION, nextSegmentId, ...point };
  const body = commitPackr.pack(record);
  const out = Buffer.allocUnsafe(body.length + 4);
  out.set(body, 0);
  out.writeUInt32LE(crc32c(body), body.length);
  return out;
}

/** Decodes and verifies a commit point record; a bad one is a `corrupt_index_exception`. */
export function decodeCommitPoint(value: Uint8Array, generation: number): { point: CommitPoint; nextSegmentId: number } {
  const corrupt = (why: string) => new QuarryError('corrupt_index_exception', `commit point generation [${generation}]: ${why}`, { generation });
  if (value.length < 5) throw corrupt(`record of ${value.length} bytes is too short`);
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const end = buf.length - 4;
  const stored = buf.readUInt32LE(end);
  const computed = crc32c(buf, 0, end);
  if (stored !== computed) throw corrupt(`checksum mismatch (stored ${stored}, computed ${computed})`);
  let record: CommitRecord;
  try {
    record = commitPackr.unpack(buf.subarray(0, end)) as CommitRecord;
  } catch (err) {
    throw corrupt(`undecodable record: ${(err as Error).message}`);
  }
  if (record.v !== COMMIT_FORMAT_VERSION) throw corrupt(`unknown format version ${String(record.v)}`);
  if (record.generation !== generation) throw corrupt(`record says generation ${record.generation}`);
  const { v: _v, nextSegmentId, ...point } = record;
  return { point, nextSegmentId };
}

function listCommitGenerations(storage: ShardStorage): number[] {
  const out: number[] = [];
  for (const key of storage.data.getKeys({ start: Buffer.from([KEY_SPACE.commit]), end: Buffer.from([KEY_SPACE.commit + 1]) })) {
    out.push((key as Buffer).readUInt32BE(1));
  }
  return out;
}

/** A simple FIFO mutex over async sections. */
class AsyncLock {
  private tail: Promise<void> = Promise.resolve();
  run<T>(section: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(section);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Counters kept beside SegmentStats' (which are derived from the current list). */
interface Counters {
  refreshTotal: number;
  refreshTimeMs: number;
  flushTotal: number;
  flushTimeMs: number;
  mergeTotal: number;
  mergeTimeMs: number;
  mergeDocs: number;
  mergeSizeBytes: number;
  mergeFailedTotal: number;
}

/** The manager of one shard copy's segments (see the module comment). */
export class SegmentManager {
  private current: SnapshotState;
  private versionCounter = 1;
  private readonly listLock = new AsyncLock();
  private readonly commitLock = new AsyncLock();
  private readonly retired = new Set<SegmentEntry>();
  private readonly runningMerges = new Set<Promise<void>>();
  /** Abort flags of the running merges (shared with their threads); close raises them. */
  private readonly mergeAbortFlags = new Set<Int32Array>();
  private readonly pendingDeletions = new Set<Promise<void>>();
  private pendingCommit: CommitPoint | null = null;
  private forceMergeActive = 0;
  private closing = false;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  private lastMergeError: string | null = null;
  /** The segment-writer thread's handle (refreshInWorker): the shared one, or a private one created at the first refresh. */
  private refreshWriter: RefreshWorkerClient | null;
  private nextRefreshFault: RefreshWorkerFault | null = null;
  private readonly counters: Counters = {
    refreshTotal: 0,
    refreshTimeMs: 0,
    flushTotal: 0,
    flushTimeMs: 0,
    mergeTotal: 0,
    mergeTimeMs: 0,
    mergeDocs: 0,
    mergeSizeBytes: 0,
    mergeFailedTotal: 0,
  };

  private constructor(
    private readonly storage: ShardStorage,
    private readonly policy: MergePolicyOptions,
    private readonly mergeInWorker: boolean,
    private readonly refreshInWorker: boolean,
    private readonly mergeConcurrency: number,
    private readonly logger: SegmentLogger | null,
    private readonly sharedRefreshWriter: RefreshWorkerClient | null,
    private lastCommitPoint: CommitPoint | null,
    private nextSegmentId: number,
    entries: SegmentEntry[],
  ) {
    this.current = this.newState(entries);
    this.refreshWriter = sharedRefreshWriter;
  }

  /**
   * Opens the shard's LMDB env, loads the latest commit point, opens its segments with their
   * committed live-docs generations, deletes every segment and live-docs generation no commit
   * references (leftovers of refreshes/merges after the last commit or of a crash mid-write), and
   * publishes the first snapshot. A corrupt commit point, segment or bitmap is a
   * `corrupt_index_exception` naming the shard path and the part.
   */
  static async open(path: string, options: SegmentManagerOptions = {}): Promise<SegmentManager> {
    const policy = resolveMergePolicyOptions(options.mergePolicy);
    const concurrencyDefault = Math.max(1, Math.min(MERGE_CONCURRENCY_MAX, Math.floor(availableParallelism() / 2)));
    const concurrency = options.maxConcurrentMerges ?? concurrencyDefault;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MERGE_CONCURRENCY_MAX) {
      throw new QuarryError('illegal_argument_exception', `maxConcurrentMerges must be an integer in [1, ${MERGE_CONCURRENCY_MAX}], got [${String(concurrency)}]`);
    }
    const storage = openShardStorage(path);
    try {
      const generations = listCommitGenerations(storage);
      let commit: CommitPoint | null = null;
      let nextSegmentId = 1;
      if (generations.length > 0) {
        const latest = generations[generations.length - 1];
        const decoded = decodeCommitPoint(storage.data.getBinary(commitKey(latest))!, latest);
        commit = decoded.point;
        nextSegmentId = decoded.nextSegmentId;
      }
      // Ids of leftovers count too: they are deleted below, but an id is never handed out twice.
      const storedIds = listStoredSegmentIds(storage);
      for (const id of storedIds) nextSegmentId = Math.max(nextSegmentId, id + 1);

      const entries: SegmentEntry[] = [];
      for (const { info, liveDocsGeneration, delCount } of commit?.segments ?? []) {
        nextSegmentId = Math.max(nextSegmentId, info.id + 1);
        let reader: SegmentReader;
        let liveDocs: Uint8Array | null = null;
        try {
          reader = openSegmentReader(storage, info);
          if (liveDocsGeneration > 0) {
            const stored = readLiveDocs(storage, info.id, liveDocsGeneration, info.maxDoc);
            if (stored.delCount !== delCount) {
              throw new QuarryError('corrupt_index_exception', `live docs of segment [${info.id}] hold ${stored.delCount} deletes, the commit says ${delCount}`);
            }
            liveDocs = stored.liveDocs;
          } else if (delCount !== 0) {
            throw new QuarryError('corrupt_index_exception', `segment [${info.id}] has ${delCount} deletes in the commit but no live-docs generation`);
          }
        } catch (err) {
          const cause = toQuarryError(err);
          throw new QuarryError(
            'corrupt_index_exception',
            `cannot open shard at [${path}]: segment [${info.id}] of commit generation [${commit!.generation}] is unreadable: ${cause.message}`,
            { path, segment: info.id },
            cause,
          );
        }
        entries.push(newEntry(info, reader, liveDocs, delCount, liveDocsGeneration));
      }

      // Garbage from after the last commit (or from before any commit).
      const committedGeneration = new Map(entries.map((e) => [e.info.id, e.liveDocsGeneration]));
      const removals: Array<Promise<unknown>> = [];
      for (const { segmentId, generation } of listStoredLiveDocs(storage)) {
        if (committedGeneration.get(segmentId) !== generation) removals.push(storage.data.remove(liveDocsKey(segmentId, generation)));
      }
      for (const generation of generations.slice(0, -1)) removals.push(storage.data.remove(commitKey(generation)));
      // Live-docs generations and commit keys are removed before anything is written: a new live-docs
      // generation of a committed segment reuses the leftover's key, and must not be deleted by it.
      await Promise.all(removals);

      const manager = new SegmentManager(
        storage,
        policy,
        options.mergeInWorker ?? true,
        options.refreshInWorker ?? true,
        concurrency,
        options.logger ?? null,
        options.refreshWriter ?? null,
        commit,
        nextSegmentId,
        entries,
      );
      // Leftover segments' data is deleted in the background (it can be hundreds of MB after a crash
      // during a bulk load, and recovery should not wait for it): their ids are never handed out
      // again, and close() waits for pending deletions; a crash meanwhile leaves them for the next open.
      for (const id of storedIds) if (!committedGeneration.has(id)) manager.trackDeletion(deleteSegmentData(storage, id), id);
      return manager;
    } catch (err) {
      await closeShardStorage(storage).catch(() => undefined);
      if (err instanceof QuarryError && err.type === 'corrupt_index_exception' && !err.message.startsWith('cannot open shard')) {
        throw new QuarryError('corrupt_index_exception', `cannot open shard at [${path}]: ${err.message}`, { path }, err);
      }
      throw err;
    }
  }

  /** The last durable commit point (null before the first commit of a new shard). */
  get lastCommit(): CommitPoint | null {
    return this.lastCommitPoint;
  }

  /** A refcounted view of the current segments (refcount++); caller must release(). */
  acquireSnapshot(): SegmentSnapshot {
    this.ensureOpen();
    const state = this.current;
    state.refCount++;
    return new SnapshotHandle(state, (s) => this.releaseState(s));
  }

  /**
   * Writes the builder as a new segment, applies deletes-by-id to every segment that existed before
   * this refresh (each id in `deletedIds` — ids updated or deleted since the last refresh — is
   * removed from older segments), writes changed live-docs bitmaps as new generations, publishes a
   * new snapshot, then asks the merge policy for work. Refreshes are serialized. An empty builder
   * with no deletes publishes nothing. `deletedIds` is read before this returns its promise.
   */
  async refresh(builder: SegmentBuilder, deletedIds: Iterable<string>): Promise<void> {
    this.ensureOpen();
    const ids = Array.isArray(deletedIds) ? (deletedIds as string[]).slice() : Array.from(deletedIds);
    await this.listLock.run(() => this.refreshLocked(builder, ids));
    this.maybeMerge();
  }

  private async refreshLocked(builder: SegmentBuilder, ids: string[]): Promise<void> {
    if (builder.maxDoc === 0 && ids.length === 0) return;
    this.ensureOpen();
    const startedMs = performance.now();
    const prior = this.current.entries;

    let fresh: SegmentEntry | null = null;
    if (builder.maxDoc > 0) {
      const segmentId = this.nextSegmentId++;
      let written: Awaited<ReturnType<typeof writeSegment>>;
      try {
        written = this.refreshInWorker ? await this.writeInWorkerThread(segmentId, builder) : await writeSegment(this.storage, segmentId, builder);
      } catch (err) {
        // A half-written segment is garbage now (and at the next open, should this fail too). A dead
        // writer thread has exited by now, so nothing of it writes after this deletion is queued.
        this.trackDeletion(deleteSegmentData(this.storage, segmentId), segmentId);
        throw err;
      }
      const { info, deletedOrdinals } = written;
      fresh = newEntry(info, openSegmentReader(this.storage, info), liveDocsWithDeleted(info.maxDoc, deletedOrdinals), deletedOrdinals.length, 0);
    }

    // Deletes by id against the segments that existed before this refresh.
    const writes: Array<Promise<unknown>> = [];
    const updates: Array<{ entry: SegmentEntry; liveDocs: Uint8Array; delCount: number; generation: number }> = [];
    if (ids.length > 0) {
      // Key order makes consecutive lookups touch neighbouring LMDB pages.
      ids.sort();
      let sliceStartMs = performance.now();
      for (const entry of prior) {
        let editor: LiveDocsEditor | null = null;
        for (let i = 0; i < ids.length; i++) {
          // Every lookup is an LMDB read (~1 µs): give the event loop a turn every slice.
          if ((i & 255) === 255 && performance.now() - sliceStartMs > DELETE_SLICE_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            sliceStartMs = performance.now();
          }
          const doc = entry.reader.lookupId(ids[i]);
          if (doc < 0) continue;
          editor ??= new LiveDocsEditor(entry.liveDocs, entry.info.maxDoc, entry.delCount);
          editor.delete(doc);
        }
        if (editor !== null && editor.changed) {
          const liveDocs = editor.result()!;
          const generation = entry.liveDocsGeneration + 1;
          writes.push(writeLiveDocs(this.storage, entry.info.id, generation, liveDocs, entry.info.maxDoc, editor.delCount));
          updates.push({ entry, liveDocs, delCount: editor.delCount, generation });
        }
      }
    }
    if (fresh !== null && fresh.liveDocs !== null) {
      fresh.liveDocsGeneration = 1;
      fresh.storedLiveDocsGenerations.push(1);
      writes.push(writeLiveDocs(this.storage, fresh.info.id, 1, fresh.liveDocs, fresh.info.maxDoc, fresh.delCount));
    }
    await Promise.all(writes);

    for (const { entry, liveDocs, delCount, generation } of updates) {
      entry.liveDocs = liveDocs;
      entry.delCount = delCount;
      entry.liveDocsGeneration = generation;
      entry.storedLiveDocsGenerations.push(generation);
    }
    const next = prior.slice();
    if (fresh !== null) next.push(fresh);
    this.publish(next);
    this.counters.refreshTotal++;
    this.counters.refreshTimeMs += performance.now() - startedMs;
  }

  /**
   * Starts the segment-writer thread ahead of the first refresh (a thread start costs a few hundred
   * ms of module loading, which would otherwise land on the first refresh). No-op when refreshes
   * run on this thread, when the thread already runs, or once closing.
   */
  warmUpRefreshWriter(): void {
    if (!this.refreshInWorker || this.closing) return;
    this.refreshWriter ??= new RefreshWorkerClient();
    this.refreshWriter.warmUp();
  }

  /**
   * writeSegment in the segment-writer thread: freezes the builder (the one synchronous copy on this
   * thread), ships it, and once the thread has committed every key, resets this thread's read
   * transaction so the reader opened next sees them. Deleted ordinals are taken from the builder
   * after the write, as writeSegment does (deletes may still hit it meanwhile).
   */
  private async writeInWorkerThread(segmentId: number, builder: SegmentBuilder): Promise<{ info: SegmentInfo; deletedOrdinals: number[] }> {
    this.refreshWriter ??= new RefreshWorkerClient();
    const fault = this.nextRefreshFault;
    this.nextRefreshFault = null;
    const frozen = await builder.freezeInSlices(FREEZE_SLICE_MS);
    const info = await this.refreshWriter.write(this.storage.path, segmentId, frozen, fault);
    // Written and committed by another thread: lmdb-js renews a read transaction after this
    // thread's own writes only (same as after a worker merge).
    this.storage.root.resetReadTxn();
    return { info, deletedOrdinals: deletedOrdinalsOf(builder) };
  }

  /** @internal Tests only: makes the next refresh's write in the segment-writer thread fail this way. */
  injectRefreshFaultForTests(fault: RefreshWorkerFault): void {
    this.nextRefreshFault = fault;
  }

  /**
   * Durable commit point of the current segments + live-docs generations + userData, written in
   * one LMDB transaction, resolved only once LMDB has fsync'ed it. Then garbage-collects what no
   * commit and no live snapshot uses.
   */
  async commit(userData: Record<string, string | number>): Promise<CommitPoint> {
    this.ensureOpen();
    return this.commitLock.run(async () => {
      const startedMs = performance.now();
      const point = await this.listLock.run(async () => {
        this.ensureOpen();
        const generation = (this.lastCommitPoint?.generation ?? 0) + 1;
        const committed: CommitPoint = {
          generation,
          segments: this.current.entries.map((e) => ({ info: e.info, liveDocsGeneration: e.liveDocsGeneration, delCount: e.delCount })),
          userData: { ...userData },
        };
        // From here until the commit is durable its segments must survive GC (see collectGarbage).
        this.pendingCommit = committed;
        const record = encodeCommitPoint(committed, this.nextSegmentId);
        const previous = this.lastCommitPoint?.generation ?? null;
        // `batch` is one LMDB transaction (lmdb-js README: operations are "explicitly batched
        // together" by transaction/batch/ifVersion). We avoid the async `transaction()` API: with
        // lmdb 3.5 on Node 20 its promise never settled in our probe.
        const written = this.storage.data.batch(() => {
          void this.storage.data.put(commitKey(generation), record);
          if (previous !== null) void this.storage.data.remove(commitKey(previous));
        });
        // Durability: lmdb-js resolves writes when committed (visible), and with overlappingSync
        // (its default on Linux/macOS) fsyncs afterwards. `root.flushed` is, in lmdb/write.js,
        // `Promise.all([flushPromise || committed, lastSyncTxnFlush])`, where flushPromise is the
        // promise of the batch being written, resolved by the write thread after its fdatasync.
        // Taking it in the same event turn as the batch binds it to this batch; an strace of the
        // same sequence shows fdatasync(data.mdb) and the meta-page write before it resolves.
        const flushed = Promise.resolve(this.storage.root.flushed);
        await written;
        await flushed;
        return committed;
      });
      try {
        this.lastCommitPoint = point;
      } finally {
        this.pendingCommit = null;
      }
      this.counters.flushTotal++;
      this.counters.flushTimeMs += performance.now() - startedMs;
      this.collectLiveDocsGarbage();
      this.collectGarbage();
      return point;
    });
  }

  /**
   * Merges down to at most maxNumSegments (or, with onlyExpungeDeletes, rewrites every segment
   * with deletes), waiting until done. Natural merges pause meanwhile; running ones finish first.
   * A failed merge rejects with its error.
   */
  async forceMerge(maxNumSegments: number, onlyExpungeDeletes = false): Promise<void> {
    this.ensureOpen();
    if (!onlyExpungeDeletes && (!Number.isInteger(maxNumSegments) || maxNumSegments < 1)) {
      throw new QuarryError('illegal_argument_exception', `max_num_segments must be an integer ≥ 1, got [${String(maxNumSegments)}]`);
    }
    this.forceMergeActive++;
    try {
      await this.waitForMerges();
      this.ensureOpen();
      // Like Lucene, only segments that exist now (and what merging them produces) are forced:
      // refreshes during a long force merge do not keep it going.
      const eligible = new Set(this.current.entries.map((e) => e.info.id));
      const eligibleCandidates = () => this.mergeCandidates().filter((c) => eligible.has(c.id));
      if (onlyExpungeDeletes) {
        const merges = findForcedDeletesMerges(eligibleCandidates(), this.policy);
        for (let i = 0; i < merges.length; i += this.mergeConcurrency) {
          await this.runForcedRound(merges.slice(i, i + this.mergeConcurrency), eligible);
        }
        return;
      }
      let singletonDone = false;
      for (let round = 0; round < FORCE_MERGE_ROUNDS_MAX; round++) {
        const merges = findForcedMerges(eligibleCandidates(), maxNumSegments);
        if (merges.length === 0) return;
        // A lone segment is rewritten once for its deletes; deletes arriving meanwhile stay.
        if (merges.length === 1 && merges[0].length === 1) {
          if (singletonDone) return;
          singletonDone = true;
        }
        await this.runForcedRound(merges.slice(0, this.mergeConcurrency), eligible);
      }
      assert(false, 'forceMerge did not converge');
    } finally {
      this.forceMergeActive--;
      this.maybeMerge();
    }
  }

  /** Runs some forced merges at once; merged segments stay eligible for the next round. */
  private async runForcedRound(merges: number[][], eligible: Set<number>): Promise<void> {
    this.ensureOpen();
    const present = new Map(this.current.entries.map((e) => [e.info.id, e]));
    const runnable = merges.map((ids) => ids.filter((id) => present.get(id)?.merging === false)).filter((ids) => ids.length > 0);
    const results = await Promise.allSettled(runnable.map((ids) => this.startMerge(ids, true)));
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
      eligible.add(r.value);
    }
  }

  /** Resolves when no merge is running (merges started meanwhile included). */
  async waitForMerges(): Promise<void> {
    // Bounded: at most MERGE_CONCURRENCY_MAX run at once, and each finishes or fails.
    while (this.runningMerges.size > 0) await Promise.allSettled([...this.runningMerges]);
  }

  /** Counters for `_stats` and `_segments`. */
  stats(): SegmentStats & { mergeFailedTotal: number; lastMergeError: string | null } {
    let docCount = 0;
    let deletedDocCount = 0;
    let sizeBytes = 0;
    let currentMerges = 0;
    for (const e of this.current.entries) {
      docCount += e.info.maxDoc - e.delCount;
      deletedDocCount += e.delCount;
      sizeBytes += e.info.sizeBytes;
    }
    currentMerges = this.runningMerges.size;
    return {
      count: this.current.entries.length,
      docCount,
      deletedDocCount,
      sizeBytes,
      currentMerges,
      ...this.counters,
      lastMergeError: this.lastMergeError,
    };
  }

  /** For GET _segments: each segment with live/deleted counts, size, committed?, searchable? */
  describeSegments(): Array<{ info: SegmentInfo; numDocs: number; delCount: number; committed: boolean; searchable: boolean }> {
    const committed = new Map((this.lastCommitPoint?.segments ?? []).map((s) => [s.info.id, s]));
    const out: Array<{ info: SegmentInfo; numDocs: number; delCount: number; committed: boolean; searchable: boolean }> = [];
    const listed = new Set<number>();
    for (const e of this.current.entries) {
      listed.add(e.info.id);
      out.push({ info: e.info, numDocs: e.info.maxDoc - e.delCount, delCount: e.delCount, committed: committed.has(e.info.id), searchable: true });
    }
    // Merged away since the last commit: still the durable state until the next commit.
    for (const [id, s] of committed) {
      if (!listed.has(id)) out.push({ info: s.info, numDocs: s.info.maxDoc - s.delCount, delCount: s.delCount, committed: true, searchable: false });
    }
    return out;
  }

  /**
   * Waits for running merges (their swaps included), for pending refreshes and deletions, releases
   * the manager's own snapshot and closes LMDB. Snapshots still held by callers must not be read
   * afterwards. Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    // Running merges stop at their next yield point (as Lucene aborts merges on close); what they
    // wrote is deleted, and the next open finds the segments as they were before the merge.
    for (const flag of this.mergeAbortFlags) Atomics.store(flag, 0, 1);
    await this.waitForMerges();
    // Let queued refreshes and commits drain (they fail fast with engine_closed_exception or finish).
    await this.commitLock.run(() => undefined);
    await this.listLock.run(() => undefined);
    // No refresh runs now: the segment-writer thread closes its handle on this shard (a shared
    // thread goes on serving the other shards; a private one exits).
    if (this.sharedRefreshWriter !== null) {
      // Closing the thread's handle can only fail in LMDB's close; this shard's own close goes on.
      await this.sharedRefreshWriter.closePath(this.storage.path).catch((err: unknown) => {
        this.logger?.warn({ path: this.storage.path, err }, 'segment writer thread failed to close its shard handle');
      });
    } else {
      await this.refreshWriter?.close();
    }
    while (this.pendingDeletions.size > 0) await Promise.allSettled([...this.pendingDeletions]);
    this.closed = true;
    await closeShardStorage(this.storage);
  }

  // ---- merges ----

  private mergeCandidates(): MergeCandidateInfo[] {
    return this.current.entries.map((e) => ({
      id: e.info.id,
      sizeBytes: e.info.sizeBytes,
      maxDoc: e.info.maxDoc,
      delCount: e.delCount,
      merging: e.merging || e.mergeFailed,
    }));
  }

  /** Starts natural merges while slots are free (bounded by mergeConcurrency). */
  private maybeMerge(): void {
    if (this.closing || this.forceMergeActive > 0) return;
    while (this.runningMerges.size < this.mergeConcurrency) {
      const merges = findMerges(this.mergeCandidates(), this.policy);
      if (merges.length === 0) return;
      // Failures of natural merges are counted and logged in runMerge; nobody awaits this one.
      this.startMerge(merges[0], false).catch(() => undefined);
    }
  }

  /** Marks the sources as merging at once (synchronously) and runs the merge. */
  private startMerge(ids: number[], forced: boolean): Promise<number> {
    const byId = new Map(this.current.entries.map((e) => [e.info.id, e]));
    const sources = ids.map((id) => byId.get(id));
    assert(sources.every((e) => e !== undefined && !e.merging), `merge of [${ids.join(',')}] lists unknown or busy segments`);
    for (const e of sources as SegmentEntry[]) e.merging = true;
    const run = this.runMerge(sources as SegmentEntry[], forced);
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    this.runningMerges.add(tracked);
    void tracked.then(() => {
      this.runningMerges.delete(tracked);
      this.maybeMerge();
    });
    return run;
  }

  /** Runs one merge to its swap; resolves to the merged segment's id. */
  private async runMerge(sources: SegmentEntry[], forced: boolean): Promise<number> {
    const startedMs = performance.now();
    const newSegmentId = this.nextSegmentId++;
    // The bitmaps as of now: deletes after this point are carried over when the merge finishes.
    const startLiveDocs = sources.map((e) => e.liveDocs);
    const request = sources.map((e) => ({ info: e.info, liveDocs: e.liveDocs }));
    const abortFlag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    this.mergeAbortFlags.add(abortFlag);
    let published = false;
    try {
      const result = this.mergeInWorker
        ? await this.mergeInWorkerThread(newSegmentId, request, abortFlag)
        : await mergeSegments(this.storage, newSegmentId, request, abortFlag);
      await this.listLock.run(async () => {
        await this.finishMerge(sources, startLiveDocs, result.info, result.docMaps);
        published = true;
      });
      this.counters.mergeTotal++;
      this.counters.mergeTimeMs += performance.now() - startedMs;
      this.counters.mergeDocs += result.info.maxDoc;
      this.counters.mergeSizeBytes += result.info.sizeBytes;
      return newSegmentId;
    } catch (err) {
      if (isMergeAborted(err)) {
        this.logger?.info({ segments: sources.map((e) => e.info.id), newSegmentId, forced, path: this.storage.path }, 'segment merge aborted: the shard is closing');
      } else {
        this.counters.mergeFailedTotal++;
        this.lastMergeError = (err as Error).message;
        for (const e of sources) e.mergeFailed = true;
        this.logger?.warn(
          { err, segments: sources.map((e) => e.info.id), newSegmentId, forced, path: this.storage.path },
          'segment merge failed; its segments will not be merged again until the shard reopens',
        );
      }
      if (!published) {
        const partial = deleteSegmentData(this.storage, newSegmentId).then(() => this.storage.data.remove(liveDocsKey(newSegmentId, 1)));
        this.trackDeletion(partial, newSegmentId);
      }
      throw err;
    } finally {
      this.mergeAbortFlags.delete(abortFlag);
      for (const e of sources) e.merging = false;
    }
  }

  /** Runs mergeSegments in a fresh worker thread; settles once the thread has exited. */
  private mergeInWorkerThread(
    newSegmentId: number,
    sources: MergeWorkerRequest['sources'],
    abortFlag: Int32Array,
  ): Promise<{ info: SegmentInfo; docMaps: Int32Array[] }> {
    const request: MergeWorkerRequest = { kind: MERGE_WORKER_KIND, path: this.storage.path, newSegmentId, sources, abortFlag };
    return new Promise((resolve, reject) => {
      let response: MergeWorkerResponse | null = null;
      let failure: Error | null = null;
      const worker = new Worker(workerEntry('merge-worker'), { workerData: request });
      worker.once('message', (message: MergeWorkerResponse) => {
        response = message;
      });
      worker.once('error', (err) => {
        failure = err;
      });
      worker.once('exit', (code) => {
        if (response?.ok) resolve({ info: response.info, docMaps: response.docMaps });
        else if (response !== null) reject(deserializeError(response.error));
        else reject(failure ?? new QuarryError('exception', `merge worker exited with code ${code} without a result`));
      });
    });
  }

  /** Carries new deletes into the merged segment and swaps it in for its sources (under listLock). */
  private async finishMerge(sources: SegmentEntry[], startLiveDocs: Array<Uint8Array | null>, info: SegmentInfo, docMaps: Int32Array[]): Promise<void> {
    assert(docMaps.length === sources.length, 'one doc map per merge source');
    // The worker committed the segment from another thread: make sure our reads see it.
    this.storage.root.resetReadTxn();
    const reader = openSegmentReader(this.storage, info);
    const editor = new LiveDocsEditor(null, info.maxDoc, 0);
    for (let i = 0; i < sources.length; i++) carryDeletes(startLiveDocs[i], sources[i].liveDocs, sources[i].info.maxDoc, docMaps[i], editor);
    const merged = newEntry(info, reader, editor.result(), editor.delCount, 0);
    if (editor.changed) {
      merged.liveDocsGeneration = 1;
      merged.storedLiveDocsGenerations.push(1);
      await writeLiveDocs(this.storage, info.id, 1, merged.liveDocs!, info.maxDoc, merged.delCount);
    }
    const sourceSet = new Set(sources);
    const list = this.current.entries;
    const firstIndex = list.findIndex((e) => sourceSet.has(e));
    assert(firstIndex >= 0 && sources.every((e) => list.includes(e)), 'merge sources left the segment list during the merge');
    const next: SegmentEntry[] = [];
    for (let i = 0; i < list.length; i++) {
      if (i === firstIndex) next.push(merged);
      if (!sourceSet.has(list[i])) next.push(list[i]);
    }
    this.publish(next);
  }

  // ---- snapshots and garbage ----

  private newState(entries: SegmentEntry[]): SnapshotState {
    const segments: SnapshotSegment[] = entries.map((e) =>
      Object.freeze({ reader: e.reader, liveDocs: e.liveDocs, numDocs: e.info.maxDoc - e.delCount, liveDocsGeneration: e.liveDocsGeneration }),
    );
    for (const e of entries) e.snapshotRefs++;
    return new SnapshotState(this.versionCounter++, Object.freeze(entries.slice()), Object.freeze(segments));
  }

  /**
   * Publishes `entries` as the current list. Segments with no live doc left are dropped (unless a
   * merge is reading them), as Lucene drops fully deleted segments.
   */
  private publish(entries: SegmentEntry[]): void {
    const kept = entries.filter((e) => e.merging || e.info.maxDoc - e.delCount > 0);
    const previous = this.current;
    this.current = this.newState(kept);
    const keptSet = new Set(kept);
    for (const e of previous.entries) if (!keptSet.has(e)) this.retire(e);
    for (const e of entries) if (!keptSet.has(e) && !e.retired) this.retire(e);
    this.releaseState(previous);
    // A fully deleted new segment never reached a snapshot: collect it now.
    this.collectGarbage();
  }

  private retire(entry: SegmentEntry): void {
    if (entry.retired) return;
    entry.retired = true;
    this.retired.add(entry);
  }

  private releaseState(state: SnapshotState): void {
    assert(state.refCount > 0, 'snapshot state released more often than acquired');
    if (--state.refCount > 0) return;
    for (const e of state.entries) e.snapshotRefs--;
    this.collectGarbage();
  }

  /** Segment ids no durable or in-flight commit lets go of. */
  private protectedSegmentIds(): Set<number> {
    const ids = new Set<number>();
    for (const point of [this.lastCommitPoint, this.pendingCommit]) for (const s of point?.segments ?? []) ids.add(s.info.id);
    return ids;
  }

  /** Deletes retired segments that no snapshot and no commit uses. */
  private collectGarbage(): void {
    if (this.closed) return;
    let protectedIds: Set<number> | null = null;
    for (const entry of this.retired) {
      if (entry.snapshotRefs > 0) continue;
      protectedIds ??= this.protectedSegmentIds();
      if (protectedIds.has(entry.info.id)) continue;
      this.retired.delete(entry);
      const id = entry.info.id;
      const generations = entry.storedLiveDocsGenerations.splice(0);
      this.trackDeletion(
        deleteSegmentData(this.storage, id).then(() => Promise.all(generations.map((g) => this.storage.data.remove(liveDocsKey(id, g))))),
        id,
      );
    }
  }

  /** After a commit: drops live-docs generations that are neither committed nor current. */
  private collectLiveDocsGarbage(): void {
    const committed = new Map((this.lastCommitPoint?.segments ?? []).map((s) => [s.info.id, s.liveDocsGeneration]));
    const removals: Array<Promise<unknown>> = [];
    for (const entry of [...this.current.entries, ...this.retired]) {
      const id = entry.info.id;
      const keep = (g: number) => g === entry.liveDocsGeneration || g === committed.get(id);
      const doomed = entry.storedLiveDocsGenerations.filter((g) => !keep(g));
      if (doomed.length === 0) continue;
      entry.storedLiveDocsGenerations = entry.storedLiveDocsGenerations.filter(keep);
      for (const g of doomed) removals.push(this.storage.data.remove(liveDocsKey(id, g)));
    }
    if (removals.length > 0) this.trackDeletion(Promise.all(removals), null);
  }

  private trackDeletion(work: Promise<unknown>, segmentId: number | null): void {
    const tracked: Promise<void> = work.then(
      () => undefined,
      (err: unknown) => {
        // Leftovers are harmless: the next open deletes whatever no commit lists.
        this.logger?.warn({ err, segmentId, path: this.storage.path }, 'deleting unused segment data failed');
      },
    );
    this.pendingDeletions.add(tracked);
    void tracked.then(() => this.pendingDeletions.delete(tracked));
  }

  private ensureOpen(): void {
    if (this.closing) throw new QuarryError('engine_closed_exception', `segment manager of [${this.storage.path}] is closed`);
  }
}

/** Marks in `editor` (the merged segment) the docs live in `before` but deleted in `after`. */
function carryDeletes(before: Uint8Array | null, after: Uint8Array | null, maxDoc: number, docMap: Int32Array, editor: LiveDocsEditor): void {
  if (before === after || after === null) return;
  for (let byte = 0; byte < after.length; byte++) {
    const beforeBits = before === null ? 0xff : before[byte];
    let gone = beforeBits & ~after[byte] & 0xff;
    while (gone !== 0) {
      const bit = 31 - Math.clz32(gone & -gone);
      gone &= gone - 1;
      const doc = (byte << 3) | bit;
      if (doc >= maxDoc) break;
      assert(isLive(before, doc), 'carried delete of a doc the merge dropped');
      const target = docMap[doc];
      assert(target >= 0, `doc ${doc} was live at merge start but the merge dropped it`);
      editor.delete(target);
    }
  }
}

/** A segment entry as the manager tracks it; a stored live-docs generation (> 0) is remembered for GC. */
function newEntry(info: SegmentInfo, reader: SegmentReader, liveDocs: Uint8Array | null, delCount: number, liveDocsGeneration: number): SegmentEntry {
  return {
    info,
    reader,
    liveDocs,
    delCount,
    liveDocsGeneration,
    snapshotRefs: 0,
    merging: false,
    mergeFailed: false,
    retired: false,
    storedLiveDocsGenerations: liveDocsGeneration > 0 ? [liveDocsGeneration] : [],
  };
}
