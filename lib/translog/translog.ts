/**
 * The write-ahead log of one shard copy: generations of append-only record files plus a two-slot
 * checkpoint. `add` encodes an op into an in-memory buffer; `sync` is a group commit (one write +
 * fdatasync of everything buffered, then a checkpoint write + fdatasync) shared by every caller that
 * arrived before it started. Format: see format.ts and docs/translog.md.
 *
 * Invariants:
 *  - All file mutations (writes, syncs, rolls, trims, checkpoint writes) run one at a time on a
 *    serial task queue; `add` only touches memory.
 *  - The checkpoint never covers bytes that are not fdatasync'ed.
 *  - Bytes past the checkpoint of the current generation were never acknowledged with `request`
 *    durability (the checkpoint is written before `sync` resolves), so on open they are kept while
 *    valid and the first torn or corrupt record ends the log. Bytes the checkpoint covers, and every
 *    older generation (sealed and synced at the roll), must be intact, or open fails loudly.
 *  - After a failed write or fsync nothing is retried (the page cache state is unknown): the
 *    translog is failed, every waiter and every later call gets the error.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { assert } from '../common/assert.js';
import { QuarryError, errors } from '../common/errors.js';
import {
  TRANSLOG_GENERATION_THRESHOLD_BYTES_DEFAULT,
  TRANSLOG_SYNC_INTERVAL_MS_DEFAULT,
} from '../common/limits.js';
import {
  CHECKPOINT_FILE_BYTES,
  CHECKPOINT_SLOT_BYTES,
  CHECKPOINT_SLOT_STRIDE_BYTES,
  GENERATION_HEADER_BYTES,
  RECORD_BODY_MAX_BYTES,
  RECORD_OVERHEAD_BYTES,
  decodeBody,
  decodeCheckpoint,
  decodeGenerationHeader,
  encodeCheckpoint,
  encodeGenerationHeader,
  encodeOpBody,
  encodeSealBody,
  isValidTranslogUuid,
  writeRecord,
  type CheckpointState,
} from './format.js';
import { nodeFileSystem, readFully, writeFully, type TranslogFile, type TranslogFileSystem } from './io.js';
import { RecordScanner, SCAN } from './scanner.js';
import type { TranslogLocation, TranslogOp, TranslogOptions, TranslogStats } from './types.js';

export type { TranslogLocation, TranslogOp, TranslogOptions, TranslogStats } from './types.js';
export type { TranslogFile, TranslogFileSystem, TranslogOpenMode } from './io.js';
export { nodeFileSystem } from './io.js';

/** Defaults of every translog option: fsync per request, 5 s async interval, 64 MB generations. */
export const TRANSLOG_DEFAULTS: TranslogOptions = Object.freeze({
  durability: 'request',
  syncIntervalMs: TRANSLOG_SYNC_INTERVAL_MS_DEFAULT,
  generationThresholdBytes: TRANSLOG_GENERATION_THRESHOLD_BYTES_DEFAULT,
}) as TranslogOptions;

/** Smallest accepted `syncIntervalMs`: faster background fsyncs would only burn the disk. */
export const TRANSLOG_SYNC_INTERVAL_MS_MIN = 10;
/** Largest accepted `syncIntervalMs` (one day): longer means "never durable" in practice. */
export const TRANSLOG_SYNC_INTERVAL_MS_MAX = 24 * 60 * 60 * 1000;
/** Smallest accepted `generationThresholdBytes`; tiny values are only useful to exercise rolls in tests. */
export const TRANSLOG_GENERATION_THRESHOLD_BYTES_MIN = 1024;
/** Largest accepted `generationThresholdBytes` (16 GB): offsets stay far below 2^53 and a roll happens eventually. */
export const TRANSLOG_GENERATION_THRESHOLD_BYTES_MAX = 16 * 1024 * 1024 * 1024;
/**
 * Buffered (not yet written) bytes that trigger a background write without fsync. Bounds the memory
 * of `async` durability between syncs; one extra write per 8 MB costs nothing measurable.
 */
export const TRANSLOG_PENDING_WRITE_TRIGGER_BYTES = 8 * 1024 * 1024;
/** Initial size of each of the two append buffers. */
const PENDING_BUFFER_INITIAL_BYTES = 1024 * 1024;
/** A buffer grown past this by a burst is dropped after use instead of being kept for reuse. */
const PENDING_BUFFER_RETAIN_BYTES_MAX = 16 * 1024 * 1024;
/** The global checkpoint before any is known (Elasticsearch's NO_OPS_PERFORMED). */
export const GLOBAL_CHECKPOINT_NONE = -1;

/** The checkpoint file's name. */
export const CHECKPOINT_FILE_NAME = 'translog.ckp';
/** Name of the checkpoint file while the translog is being created (renamed into place when complete). */
const CHECKPOINT_TEMP_FILE_NAME = 'translog.ckp.tmp';
const GENERATION_FILE_PATTERN = /^translog-(\d+)\.tlog$/;
/** The first generation of a new translog (as in Elasticsearch). */
const FIRST_GENERATION = 1;

/** Name of the file holding `generation`. */
export function generationFileName(generation: number): string {
  return `translog-${generation}.tlog`;
}

/** The translog's files are damaged where they must be intact; the shard copy must not start from them. */
export class TranslogCorruptedError extends QuarryError {
  readonly file: string;
  readonly generation: number | null;
  readonly offset: number;

  constructor(file: string, generation: number | null, offset: number, detail: string) {
    const where = generation === null ? '' : ` generation [${generation}]`;
    super(
      'translog_corrupted_exception',
      `translog file [${file}]${where} is corrupted at offset [${offset}]: ${detail}; ` +
        'acknowledged operations may be lost here, recover this shard copy from another copy or a snapshot',
    );
    this.name = 'TranslogCorruptedError';
    this.file = file;
    this.generation = generation;
    this.offset = offset;
  }
}

/** A write or fsync of the translog failed, or it is closed: no more ops can be added or made durable. */
export class TranslogFailedError extends QuarryError {
  constructor(reason: string, cause?: unknown) {
    super('illegal_state_exception', reason);
    this.name = 'TranslogFailedError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** What is kept in memory about a sealed (rolled) generation. */
interface SealedGeneration {
  generation: number;
  numOps: number;
  sizeBytes: number;
  modifiedMs: number;
}

/** What a write of the pending buffer covered, captured when the buffer was handed to the file. */
interface Capture {
  numOps: number;
  minSeqNo: number;
  maxSeqNo: number;
  maxSeqNoOverall: number;
}

const noop = (): void => {};

function resolveOptions(options: Partial<TranslogOptions>): TranslogOptions {
  const resolved: TranslogOptions = { ...TRANSLOG_DEFAULTS, ...stripUndefined(options) };
  if (resolved.durability !== 'request' && resolved.durability !== 'async') {
    throw errors.illegalArgument(`translog durability must be [request] or [async], got [${String(resolved.durability)}]`);
  }
  const interval = resolved.syncIntervalMs;
  if (!Number.isInteger(interval) || interval < TRANSLOG_SYNC_INTERVAL_MS_MIN || interval > TRANSLOG_SYNC_INTERVAL_MS_MAX) {
    throw errors.illegalArgument(
      `translog syncIntervalMs must be an integer in [${TRANSLOG_SYNC_INTERVAL_MS_MIN}, ${TRANSLOG_SYNC_INTERVAL_MS_MAX}], got [${interval}]`,
    );
  }
  const threshold = resolved.generationThresholdBytes;
  if (
    !Number.isInteger(threshold) ||
    threshold < TRANSLOG_GENERATION_THRESHOLD_BYTES_MIN ||
    threshold > TRANSLOG_GENERATION_THRESHOLD_BYTES_MAX
  ) {
    throw errors.illegalArgument(
      `translog generationThresholdBytes must be an integer in [${TRANSLOG_GENERATION_THRESHOLD_BYTES_MIN}, ${TRANSLOG_GENERATION_THRESHOLD_BYTES_MAX}], got [${threshold}]`,
    );
  }
  if (resolved.translogUuid !== undefined && !isValidTranslogUuid(resolved.translogUuid)) {
    throw errors.illegalArgument(`translog uuid must be 1 to 64 bytes, got [${resolved.translogUuid}]`);
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

/** Result of validating one generation file on open. */
interface GenerationScan {
  numOps: number;
  /** Ops in the region the checkpoint covers (must equal its numOps). */
  coveredNumOps: number;
  minSeqNo: number;
  maxSeqNo: number;
  /** End of the last valid record (after the seal, if any). */
  validEndOffset: number;
  sealed: boolean;
}

/** The shard's write-ahead log. Open with `Translog.open`. */
export class Translog {
  /** The translog's identity (recorded in every file and in commit points). */
  readonly uuid: string;

  private readonly dir: string;
  private readonly fs: TranslogFileSystem;
  private readonly options: TranslogOptions;

  // Durable state: the last checkpoint written and fdatasync'ed.
  private checkpointFile: TranslogFile;
  private checkpoint: CheckpointState;
  private readonly checkpointScratch = new Uint8Array(CHECKPOINT_SLOT_BYTES);
  private lastSyncedSeqNoValue: number;
  private globalCheckpointValue: number;

  // File side: the open current generation and what has been written into it.
  private generationFile: TranslogFile;
  private fileGeneration: number;
  private writtenOffset: number;
  private written: Capture;
  private currentModifiedMs: number;
  private readonly sealed: SealedGeneration[];

  // Append side: ops added, including those still in the pending buffer.
  private appendGeneration: number;
  private appendOffset: number;
  private appendNumOps: number;
  private appendMinSeqNo: number;
  private appendMaxSeqNo: number;
  private maxSeqNoAdded: number;
  private pending: Uint8Array = new Uint8Array(PENDING_BUFFER_INITIAL_BYTES);
  private pendingLength = 0;
  private spare: Uint8Array | null = new Uint8Array(PENDING_BUFFER_INITIAL_BYTES);

  // Scheduling.
  private queueTail: Promise<void> = Promise.resolve();
  /** A queued sync round that has not captured yet: new callers join it. */
  private queuedSync: Promise<void> | null = null;
  /** The round that captured the latest state: callers with nothing new wait for it. */
  private lastCapture: Promise<void> = Promise.resolve();
  /** Something (ops or the global checkpoint) changed since the last capture. */
  private dirty = false;
  private rollScheduled = false;
  private writeScheduled = false;
  private failure: TranslogFailedError | null = null;
  private closing = false;
  private timer: NodeJS.Timeout | null = null;

  private constructor(init: {
    dir: string;
    fs: TranslogFileSystem;
    options: TranslogOptions;
    checkpointFile: TranslogFile;
    checkpoint: CheckpointState;
    generationFile: TranslogFile;
    generationScan: GenerationScan;
    generationModifiedMs: number;
    sealed: SealedGeneration[];
    maxSeqNo: number;
  }) {
    this.dir = init.dir;
    this.fs = init.fs;
    this.options = init.options;
    this.uuid = init.checkpoint.uuid;
    this.checkpointFile = init.checkpointFile;
    this.checkpoint = init.checkpoint;
    this.globalCheckpointValue = init.checkpoint.globalCheckpoint;
    this.lastSyncedSeqNoValue = init.maxSeqNo;
    this.generationFile = init.generationFile;
    this.fileGeneration = init.checkpoint.generation;
    const scan = init.generationScan;
    this.writtenOffset = scan.validEndOffset;
    this.written = { numOps: scan.numOps, minSeqNo: scan.minSeqNo, maxSeqNo: scan.maxSeqNo, maxSeqNoOverall: init.maxSeqNo };
    this.currentModifiedMs = init.generationModifiedMs;
    this.sealed = init.sealed;
    this.appendGeneration = this.fileGeneration;
    this.appendOffset = scan.validEndOffset;
    this.appendNumOps = scan.numOps;
    this.appendMinSeqNo = scan.minSeqNo;
    this.appendMaxSeqNo = scan.maxSeqNo;
    this.maxSeqNoAdded = init.maxSeqNo;
    if (this.options.durability === 'async') {
      this.timer = setInterval(() => {
        if (this.dirty && this.failure === null && !this.closing) this.sync().catch(noop);
      }, this.options.syncIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Opens or creates the translog in `dir` (created if missing). Recovers: reads the checkpoint,
   * validates records up to it (corruption there → throws TranslogCorruptedError, never silently
   * drops), truncates a torn/corrupt tail past it. `fileSystem` is the seam for fault injection.
   */
  static async open(dir: string, options: Partial<TranslogOptions> = {}, fileSystem: TranslogFileSystem = nodeFileSystem): Promise<Translog> {
    const resolved = resolveOptions(options);
    const fs = fileSystem;
    await fs.mkdir(dir);
    const names = await fs.list(dir);
    if (!names.includes(CHECKPOINT_FILE_NAME)) {
      const generationNames = names.filter((name) => GENERATION_FILE_PATTERN.test(name));
      if (generationNames.length > 0 && !names.includes(CHECKPOINT_TEMP_FILE_NAME)) {
        throw new TranslogCorruptedError(join(dir, CHECKPOINT_FILE_NAME), null, 0, 'checkpoint file is missing but generation files exist');
      }
      // A temp checkpoint means a creation was interrupted before it completed: nothing was ever added.
      for (const name of [...generationNames, ...names.filter((n) => n === CHECKPOINT_TEMP_FILE_NAME)]) {
        await fs.unlink(join(dir, name));
      }
      await createFresh(fs, dir, resolved.translogUuid ?? randomUUID());
    } else if (names.includes(CHECKPOINT_TEMP_FILE_NAME)) {
      await fs.unlink(join(dir, CHECKPOINT_TEMP_FILE_NAME));
    }
    return Translog.recover(dir, resolved, fs);
  }

  private static async recover(dir: string, options: TranslogOptions, fs: TranslogFileSystem): Promise<Translog> {
    const checkpointPath = join(dir, CHECKPOINT_FILE_NAME);
    const checkpointFile = await fs.open(checkpointPath, 'readWrite');
    const opened: TranslogFile[] = [checkpointFile];
    try {
      const checkpoint = await readCheckpoint(checkpointFile, checkpointPath);
      if (options.translogUuid !== undefined && options.translogUuid !== checkpoint.uuid) {
        throw new TranslogCorruptedError(
          checkpointPath,
          checkpoint.generation,
          0,
          `translog uuid [${checkpoint.uuid}] does not match the expected [${options.translogUuid}]`,
        );
      }
      const current = checkpoint.generation;
      const minGeneration = checkpoint.minTranslogGeneration;
      const byGeneration = new Map<number, string>();
      for (const name of await fs.list(dir)) {
        const match = GENERATION_FILE_PATTERN.exec(name);
        if (match) byGeneration.set(Number(match[1]), name);
      }
      // Leftovers: below the minimum from a trim interrupted after its checkpoint; above the current
      // from a roll interrupted before its checkpoint (such a file never received an op).
      for (const [generation, name] of byGeneration) {
        const path = join(dir, name);
        if (generation > current) {
          const file = await fs.open(path, 'read');
          const { sizeBytes } = await file.stat().finally(() => file.close());
          if (sizeBytes > GENERATION_HEADER_BYTES) {
            throw new TranslogCorruptedError(path, generation, GENERATION_HEADER_BYTES, `holds records but the checkpoint's generation is ${current}`);
          }
        }
        if (generation < minGeneration || generation > current) {
          await fs.unlink(path);
          byGeneration.delete(generation);
        }
      }

      const sealed: SealedGeneration[] = [];
      let maxSeqNo = -1;
      for (let generation = minGeneration; generation < current; generation++) {
        const path = join(dir, generationFileName(generation));
        if (!byGeneration.has(generation)) {
          throw new TranslogCorruptedError(path, generation, 0, 'generation file is missing');
        }
        const file = await fs.open(path, 'read');
        try {
          const { sizeBytes, modifiedMs } = await file.stat();
          const scan = await scanGeneration(file, path, generation, checkpoint.uuid, sizeBytes, sizeBytes);
          if (!scan.sealed || scan.validEndOffset !== sizeBytes) {
            throw new TranslogCorruptedError(path, generation, scan.validEndOffset, 'rolled generation does not end with its seal record');
          }
          sealed.push({ generation, numOps: scan.numOps, sizeBytes, modifiedMs });
          maxSeqNo = Math.max(maxSeqNo, scan.maxSeqNo);
        } finally {
          await file.close();
        }
      }

      const path = join(dir, generationFileName(current));
      if (!byGeneration.has(current)) throw new TranslogCorruptedError(path, current, 0, 'generation file is missing');
      const generationFile = await fs.open(path, 'readWrite');
      opened.push(generationFile);
      const { sizeBytes, modifiedMs } = await generationFile.stat();
      const scan = await scanGeneration(generationFile, path, current, checkpoint.uuid, checkpoint.offset, sizeBytes);
      if (scan.coveredNumOps !== checkpoint.numOps) {
        throw new TranslogCorruptedError(path, current, checkpoint.offset, `checkpoint covers ${checkpoint.numOps} ops but ${scan.coveredNumOps} were found`);
      }
      maxSeqNo = Math.max(maxSeqNo, scan.maxSeqNo);
      const translog = new Translog({
        dir,
        fs,
        options,
        checkpointFile,
        checkpoint,
        generationFile,
        generationScan: scan,
        generationModifiedMs: modifiedMs,
        sealed,
        maxSeqNo,
      });
      opened.length = 0; // the translog owns the handles now
      try {
        await translog.finishRecovery(sizeBytes, scan);
      } catch (err) {
        await translog.close().catch(noop);
        throw err;
      }
      return translog;
    } finally {
      for (const file of opened) await file.close().catch(noop);
    }
  }

  /** Truncates the torn tail, makes the kept tail durable, records it, and completes an interrupted roll. */
  private async finishRecovery(fileSizeBytes: number, scan: GenerationScan): Promise<void> {
    const tailChanged = fileSizeBytes !== this.checkpoint.offset || scan.validEndOffset !== this.checkpoint.offset;
    if (!tailChanged && !scan.sealed) return;
    if (fileSizeBytes > scan.validEndOffset) await this.generationFile.truncate(scan.validEndOffset);
    // Records past the checkpoint may sit only in the page cache (the process died, not the machine):
    // make them durable before a checkpoint covers them.
    await this.generationFile.datasync();
    if (scan.sealed) {
      // The seal was written and synced but the roll's checkpoint was not: finish the roll.
      this.sealed.push({ generation: this.fileGeneration, numOps: scan.numOps, sizeBytes: scan.validEndOffset, modifiedMs: Date.now() });
      this.appendGeneration = this.fileGeneration + 1;
      this.appendOffset = GENERATION_HEADER_BYTES;
      this.appendNumOps = 0;
      this.appendMinSeqNo = -1;
      this.appendMaxSeqNo = -1;
      await this.startNextGeneration();
    } else {
      await this.writeCheckpoint(this.checkpointOfWritten());
    }
  }

  /** Highest seqNo known durable (−1 if none). */
  get lastSyncedSeqNo(): number {
    return this.lastSyncedSeqNoValue;
  }

  /** The generation new ops are appended to. */
  get currentGeneration(): number {
    return this.appendGeneration;
  }

  /** The oldest retained generation. */
  get minGeneration(): number {
    return this.checkpoint.minTranslogGeneration;
  }

  /** The latest global checkpoint (as set, or as recovered from the checkpoint file). */
  get globalCheckpoint(): number {
    return this.globalCheckpointValue;
  }

  /** Sets the global checkpoint; it is persisted by the next `sync` (which writes a checkpoint for it alone if needed). */
  setGlobalCheckpoint(globalCheckpoint: number): void {
    assert(Number.isSafeInteger(globalCheckpoint) && globalCheckpoint >= -2, `bad global checkpoint ${globalCheckpoint}`);
    this.throwIfUnusable();
    if (globalCheckpoint === this.globalCheckpointValue) return;
    this.globalCheckpointValue = globalCheckpoint;
    this.dirty = true;
  }

  /** Appends an op (synchronously encoded into the in-memory write buffer). Not durable until sync. */
  add(op: TranslogOp): TranslogLocation {
    this.throwIfUnusable();
    assert(Number.isSafeInteger(op.seqNo) && op.seqNo >= 0, `op seqNo must be a non-negative integer, got ${op.seqNo}`);
    assert(Number.isSafeInteger(op.primaryTerm) && Number.isSafeInteger(op.version), 'op primaryTerm and version must be integers');
    // A body that open could not decode would make the whole translog unreadable: check the shape here.
    assert(op.type === 'index' || op.type === 'delete' || op.type === 'noop', `unknown op type ${String(op.type)}`);
    assert(typeof op.id === 'string', 'op id must be a string');
    assert(op.source === undefined || op.source instanceof Uint8Array, 'op source must be bytes');
    assert(op.routing === undefined || typeof op.routing === 'string', 'op routing must be a string');
    assert(op.reason === undefined || typeof op.reason === 'string', 'op reason must be a string');
    const body = encodeOpBody(op);
    if (body.length > RECORD_BODY_MAX_BYTES) {
      throw errors.illegalArgument(`translog op for [${op.id}] is ${body.length} bytes, over the limit of ${RECORD_BODY_MAX_BYTES}`);
    }
    const sizeBytes = body.length + RECORD_OVERHEAD_BYTES;
    if (this.pendingLength + sizeBytes > this.pending.length) this.growPending(sizeBytes);
    writeRecord(this.pending, this.pendingLength, body);
    const location: TranslogLocation = { generation: this.appendGeneration, offset: this.appendOffset, sizeBytes };
    this.pendingLength += sizeBytes;
    this.appendOffset += sizeBytes;
    this.appendNumOps++;
    if (this.appendMinSeqNo === -1 || op.seqNo < this.appendMinSeqNo) this.appendMinSeqNo = op.seqNo;
    if (op.seqNo > this.appendMaxSeqNo) this.appendMaxSeqNo = op.seqNo;
    if (op.seqNo > this.maxSeqNoAdded) this.maxSeqNoAdded = op.seqNo;
    this.dirty = true;
    if (this.pendingLength >= TRANSLOG_PENDING_WRITE_TRIGGER_BYTES && !this.writeScheduled) {
      this.writeScheduled = true;
      this.enqueue(async () => {
        this.writeScheduled = false;
        await this.writePending();
      }).catch(noop);
    }
    return location;
  }

  /**
   * Group commit: resolves when every op added before the call is written and fdatasync'ed and the
   * checkpoint covers it. Concurrent callers share one fsync; calls during an fsync ride the next one.
   */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing && this.dirty) return Promise.reject(closedError(this.dir));
    if (this.queuedSync) return this.queuedSync;
    if (!this.dirty) return this.lastCapture;
    const round = this.enqueue(() => this.syncRound());
    this.queuedSync = round;
    return round;
  }

  /** Closes the current generation file (synced) and starts generation+1. Returns the new generation. */
  rollGeneration(): Promise<number> {
    const roll = this.enqueue(() => this.roll());
    return roll;
  }

  /**
   * Deletes generation files below `generation` (after a flush committed everything in them);
   * records the new minimum in the checkpoint so a crash mid-trim is safe.
   */
  trimBelow(generation: number): Promise<void> {
    assert(Number.isSafeInteger(generation), `bad generation ${generation}`);
    return this.enqueue(async () => {
      if (generation > this.fileGeneration) {
        throw errors.illegalArgument(`cannot trim translog below generation [${generation}]: the current generation is [${this.fileGeneration}]`);
      }
      if (generation <= this.checkpoint.minTranslogGeneration) return;
      // The new minimum is durable before any file goes: a crash in between leaves files that open deletes.
      await this.writeCheckpoint({ ...this.checkpoint, minTranslogGeneration: generation });
      while (this.sealed.length > 0 && this.sealed[0].generation < generation) {
        const gone = this.sealed.shift()!;
        await this.fs.unlink(join(this.dir, generationFileName(gone.generation))).catch((err: NodeJS.ErrnoException) => {
          // Already gone is fine (a retry after a crash); anything else is left for the next open to delete.
          if (err.code !== 'ENOENT') throw err;
        });
      }
    });
  }

  /**
   * Every op with seqNo >= fromSeqNo in retained generations, in file order (for recovery and, later,
   * peer recovery). Reads from disk; ops not yet synced are included too (they are written to the file
   * first, without fsync).
   */
  async *readOps(fromSeqNo = 0): AsyncIterable<TranslogOp> {
    for await (const batch of this.readOpBatches(fromSeqNo)) {
      for (let i = 0; i < batch.length; i++) yield batch[i];
    }
  }

  /** Like `readOps`, in batches (one per chunk read): cheaper per op for bulk replay. */
  async *readOpBatches(fromSeqNo = 0): AsyncIterable<TranslogOp[]> {
    const files = await this.enqueue(async () => {
      await this.writePending();
      const out: { generation: number; path: string; file: TranslogFile; endOffset: number }[] = [];
      try {
        for (const g of this.sealed) {
          const path = join(this.dir, generationFileName(g.generation));
          out.push({ generation: g.generation, path, file: await this.fs.open(path, 'read'), endOffset: g.sizeBytes });
        }
        const path = join(this.dir, generationFileName(this.fileGeneration));
        out.push({ generation: this.fileGeneration, path, file: await this.fs.open(path, 'read'), endOffset: this.writtenOffset });
      } catch (err) {
        for (const f of out) await f.file.close().catch(noop);
        throw err;
      }
      return out;
    });
    try {
      for (const { generation, path, file, endOffset } of files) {
        await checkHeader(file, path, generation, this.uuid);
        const scanner = new RecordScanner(file, GENERATION_HEADER_BYTES, endOffset);
        let batch: TranslogOp[] = [];
        for (;;) {
          const found = scanner.nextBuffered();
          if (found === -1) {
            if (batch.length > 0) {
              yield batch;
              batch = [];
            }
            await scanner.readMore();
            continue;
          }
          if (found === SCAN.end) break;
          if (found === SCAN.invalid) throw new TranslogCorruptedError(path, generation, scanner.recordOffset, scanner.invalidReason);
          const decoded = decodeBody(scanner.body);
          if (typeof decoded === 'string') throw new TranslogCorruptedError(path, generation, scanner.recordOffset, decoded);
          if (decoded.kind === 'op' && decoded.op.seqNo >= fromSeqNo) batch.push(decoded.op);
        }
        if (batch.length > 0) yield batch;
      }
    } finally {
      for (const f of files) await f.file.close().catch(noop);
    }
  }

  /** Sizes and counts for `_stats` and the admin page. */
  stats(): TranslogStats {
    let operations = this.appendNumOps;
    let sizeBytes = this.appendOffset;
    let earliestModifiedMs = this.currentModifiedMs;
    for (const g of this.sealed) {
      operations += g.numOps;
      sizeBytes += g.sizeBytes;
      if (g.modifiedMs < earliestModifiedMs) earliestModifiedMs = g.modifiedMs;
    }
    return {
      operations,
      sizeBytes,
      // Everything retained is uncommitted: the engine trims every generation a flush committed.
      uncommittedOperations: operations,
      uncommittedSizeBytes: sizeBytes,
      generation: this.appendGeneration,
      minGeneration: this.checkpoint.minTranslogGeneration,
      lastSyncedSeqNo: this.lastSyncedSeqNoValue,
      earliestLastModifiedAgeMs: Math.max(0, Date.now() - earliestModifiedMs),
    };
  }

  /** Syncs and closes. Rejects if that last sync fails; a translog that had already failed just closes its files. */
  async close(): Promise<void> {
    if (this.closing) {
      await this.queueTail;
      return;
    }
    let syncError: unknown = null;
    if (this.failure === null) await this.sync().catch((err) => (syncError = err));
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const closeFiles = async (): Promise<void> => {
      await this.generationFile.close().catch(noop);
      await this.checkpointFile.close().catch(noop);
    };
    const run = this.queueTail.then(closeFiles);
    this.queueTail = run;
    await run;
    if (syncError !== null) throw syncError;
  }

  // ---- internals -------------------------------------------------------------------------------

  private throwIfUnusable(): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw closedError(this.dir);
  }

  /** Runs `task` after every earlier task; a failed translog runs nothing more. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queueTail.then(() => {
      if (this.failure) throw this.failure;
      if (this.closing) throw closedError(this.dir);
      return task();
    });
    this.queueTail = run.then(noop, noop);
    run.catch(noop); // callers handle the rejection; this only keeps an unobserved one from crashing Node
    return run;
  }

  /** Marks the translog failed (once) and returns the error every caller gets from now on. */
  private fail(what: string, cause: unknown): TranslogFailedError {
    if (this.failure === null) {
      const message = cause instanceof Error ? cause.message : String(cause);
      this.failure = new TranslogFailedError(
        `translog [${this.dir}] failed to ${what}: ${message}; ops not yet synced may be lost, the shard copy must be recovered`,
        cause,
      );
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
    return this.failure;
  }

  private growPending(extraBytes: number): void {
    let size = this.pending.length * 2;
    while (size < this.pendingLength + extraBytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.pending.subarray(0, this.pendingLength));
    this.pending = next;
  }

  /** Takes the pending buffer for writing and gives adds a fresh one; records what it covers. */
  private takePending(): { bytes: Uint8Array; length: number; capture: Capture } {
    const bytes = this.pending;
    const length = this.pendingLength;
    this.pending = this.spare ?? new Uint8Array(PENDING_BUFFER_INITIAL_BYTES);
    this.spare = null;
    this.pendingLength = 0;
    const capture = {
      numOps: this.appendNumOps,
      minSeqNo: this.appendMinSeqNo,
      maxSeqNo: this.appendMaxSeqNo,
      maxSeqNoOverall: this.maxSeqNoAdded,
    };
    return { bytes, length, capture };
  }

  private releasePending(bytes: Uint8Array): void {
    this.spare = bytes.length > PENDING_BUFFER_RETAIN_BYTES_MAX ? null : bytes;
  }

  /** Writes the pending buffer to the current generation (no fsync). Runs on the queue. */
  private async writePending(): Promise<void> {
    if (this.pendingLength === 0) return;
    assert(this.appendGeneration === this.fileGeneration, 'pending bytes belong to the open generation');
    const { bytes, length, capture } = this.takePending();
    try {
      await writeFully(this.generationFile, bytes, 0, length, this.writtenOffset);
    } catch (err) {
      throw this.fail('write', err);
    }
    this.writtenOffset += length;
    this.written = capture;
    this.currentModifiedMs = Date.now();
    this.releasePending(bytes);
  }

  /** One group commit: write, fdatasync, checkpoint. Runs on the queue. */
  private async syncRound(): Promise<void> {
    // Everything added until now is in this round; later callers queue the next one.
    this.lastCapture = this.queuedSync ?? this.lastCapture;
    this.queuedSync = null;
    this.dirty = false;
    await this.writePending();
    const dataChanged = this.writtenOffset !== this.checkpoint.offset || this.fileGeneration !== this.checkpoint.generation;
    if (dataChanged) {
      try {
        await this.generationFile.datasync();
      } catch (err) {
        throw this.fail('fsync', err);
      }
    }
    if (dataChanged || this.globalCheckpointValue !== this.checkpoint.globalCheckpoint) {
      await this.writeCheckpoint(this.checkpointOfWritten());
    }
    if (this.written.maxSeqNoOverall > this.lastSyncedSeqNoValue) this.lastSyncedSeqNoValue = this.written.maxSeqNoOverall;
    if (this.writtenOffset >= this.options.generationThresholdBytes && !this.rollScheduled) {
      this.rollScheduled = true;
      this.enqueue(async () => {
        this.rollScheduled = false;
        // A manual roll may have run in between.
        if (this.appendOffset >= this.options.generationThresholdBytes) await this.roll();
      }).catch(noop);
    }
  }

  /** The checkpoint describing what is written to the current generation (call after it is synced). */
  private checkpointOfWritten(): CheckpointState {
    return {
      sequence: this.checkpoint.sequence,
      generation: this.fileGeneration,
      offset: this.writtenOffset,
      numOps: this.written.numOps,
      minSeqNo: this.written.minSeqNo,
      maxSeqNo: this.written.maxSeqNo,
      globalCheckpoint: this.globalCheckpointValue,
      minTranslogGeneration: this.checkpoint.minTranslogGeneration,
      uuid: this.uuid,
    };
  }

  /** Writes `state` into the slot not holding the current checkpoint, then fdatasyncs it. */
  private async writeCheckpoint(state: CheckpointState): Promise<void> {
    const sequence = this.checkpoint.sequence + 1;
    const next = { ...state, sequence };
    encodeCheckpoint(next, this.checkpointScratch);
    try {
      await writeFully(this.checkpointFile, this.checkpointScratch, 0, CHECKPOINT_SLOT_BYTES, (sequence % 2) * CHECKPOINT_SLOT_STRIDE_BYTES);
      await this.checkpointFile.datasync();
    } catch (err) {
      throw this.fail('write the checkpoint', err);
    }
    this.checkpoint = next;
  }

  /**
   * Seals the current generation and starts the next. The pending ops are captured into this
   * generation; adds made while the roll runs already go to the next one.
   */
  private async roll(): Promise<number> {
    // `dirty` stays set: callers of `sync` wait for a round queued behind this roll, which covers them.
    assert(this.appendGeneration === this.fileGeneration, 'no roll in progress');
    const { bytes, length, capture } = this.takePending();
    // Switch adds to the next generation now, in the same tick as the capture.
    this.appendGeneration = this.fileGeneration + 1;
    this.appendOffset = GENERATION_HEADER_BYTES;
    this.appendNumOps = 0;
    this.appendMinSeqNo = -1;
    this.appendMaxSeqNo = -1;
    // The captured ops and the seal go out in one write and one fdatasync.
    const seal = encodeSealBody(this.fileGeneration, capture.numOps);
    const total = length + seal.length + RECORD_OVERHEAD_BYTES;
    let out = bytes;
    if (out.length < total) {
      out = new Uint8Array(total);
      out.set(bytes.subarray(0, length));
    }
    writeRecord(out, length, seal);
    try {
      await writeFully(this.generationFile, out, 0, total, this.writtenOffset);
      await this.generationFile.datasync();
    } catch (err) {
      throw this.fail('seal the generation', err);
    }
    this.releasePending(bytes);
    this.writtenOffset += total;
    this.written = capture;
    this.sealed.push({ generation: this.fileGeneration, numOps: capture.numOps, sizeBytes: this.writtenOffset, modifiedMs: Date.now() });
    await this.startNextGeneration();
    if (capture.maxSeqNoOverall > this.lastSyncedSeqNoValue) this.lastSyncedSeqNoValue = capture.maxSeqNoOverall;
    return this.fileGeneration;
  }

  /** Creates the file of `appendGeneration` (durably, entry included), records it in the checkpoint and makes it current. */
  private async startNextGeneration(): Promise<void> {
    const generation = this.appendGeneration;
    assert(generation === this.fileGeneration + 1, 'next generation follows the open one');
    const path = join(this.dir, generationFileName(generation));
    let file: TranslogFile | null = null;
    try {
      file = await this.fs.open(path, 'create');
      await writeFully(file, encodeGenerationHeader({ generation, uuid: this.uuid }), 0, GENERATION_HEADER_BYTES, 0);
      await file.datasync();
      await this.fs.syncDirectory(this.dir);
    } catch (err) {
      await file?.close().catch(noop);
      throw this.fail('create the next generation', err);
    }
    const previous = this.generationFile;
    this.generationFile = file;
    this.fileGeneration = generation;
    this.writtenOffset = GENERATION_HEADER_BYTES;
    this.written = { numOps: 0, minSeqNo: -1, maxSeqNo: -1, maxSeqNoOverall: this.written.maxSeqNoOverall };
    this.currentModifiedMs = Date.now();
    await previous.close().catch(noop);
    await this.writeCheckpoint(this.checkpointOfWritten());
  }
}

function closedError(dir: string): TranslogFailedError {
  return new TranslogFailedError(`translog [${dir}] is closed`);
}

/** Creates a new translog: generation file, then a complete checkpoint file renamed into place, then a directory fsync. */
async function createFresh(fs: TranslogFileSystem, dir: string, uuid: string): Promise<void> {
  const generationFile = await fs.open(join(dir, generationFileName(FIRST_GENERATION)), 'create');
  try {
    await writeFully(generationFile, encodeGenerationHeader({ generation: FIRST_GENERATION, uuid }), 0, GENERATION_HEADER_BYTES, 0);
    await generationFile.datasync();
  } finally {
    await generationFile.close();
  }
  const state: CheckpointState = {
    sequence: 0,
    generation: FIRST_GENERATION,
    offset: GENERATION_HEADER_BYTES,
    numOps: 0,
    minSeqNo: -1,
    maxSeqNo: -1,
    globalCheckpoint: GLOBAL_CHECKPOINT_NONE,
    minTranslogGeneration: FIRST_GENERATION,
    uuid,
  };
  // Both slots hold the same state (sequences 0 and 1), so either can be torn by the next write.
  const bytes = new Uint8Array(CHECKPOINT_FILE_BYTES);
  encodeCheckpoint(state, bytes.subarray(0, CHECKPOINT_SLOT_BYTES));
  encodeCheckpoint({ ...state, sequence: 1 }, bytes.subarray(CHECKPOINT_SLOT_STRIDE_BYTES, CHECKPOINT_SLOT_STRIDE_BYTES + CHECKPOINT_SLOT_BYTES));
  const tempPath = join(dir, CHECKPOINT_TEMP_FILE_NAME);
  const checkpointFile = await fs.open(tempPath, 'create');
  try {
    await writeFully(checkpointFile, bytes, 0, bytes.length, 0);
    await checkpointFile.datasync();
  } finally {
    await checkpointFile.close();
  }
  await fs.rename(tempPath, join(dir, CHECKPOINT_FILE_NAME));
  await fs.syncDirectory(dir);
}

/** Reads both slots and returns the valid one with the highest sequence. */
async function readCheckpoint(file: TranslogFile, path: string): Promise<CheckpointState> {
  const bytes = new Uint8Array(CHECKPOINT_FILE_BYTES);
  const read = await readFully(file, bytes, 0, CHECKPOINT_FILE_BYTES, 0);
  const slotA = decodeCheckpoint(bytes.subarray(0, Math.min(read, CHECKPOINT_SLOT_BYTES)));
  const slotB =
    read > CHECKPOINT_SLOT_STRIDE_BYTES ? decodeCheckpoint(bytes.subarray(CHECKPOINT_SLOT_STRIDE_BYTES, read)) : null;
  let best = slotA;
  if (slotB && (best === null || slotB.sequence > best.sequence)) best = slotB;
  if (best === null) throw new TranslogCorruptedError(path, null, 0, 'neither checkpoint slot is valid');
  if (
    best.generation < FIRST_GENERATION ||
    best.minTranslogGeneration < FIRST_GENERATION ||
    best.minTranslogGeneration > best.generation ||
    best.offset < GENERATION_HEADER_BYTES ||
    best.numOps < 0
  ) {
    throw new TranslogCorruptedError(path, best.generation, (best.sequence % 2) * CHECKPOINT_SLOT_STRIDE_BYTES, 'checkpoint fields are inconsistent');
  }
  return best;
}

async function checkHeader(file: TranslogFile, path: string, generation: number, uuid: string): Promise<void> {
  const bytes = new Uint8Array(GENERATION_HEADER_BYTES);
  const read = await readFully(file, bytes, 0, GENERATION_HEADER_BYTES, 0);
  const header = decodeGenerationHeader(bytes.subarray(0, read));
  if (typeof header === 'string') throw new TranslogCorruptedError(path, generation, 0, header);
  if (header.generation !== generation) {
    throw new TranslogCorruptedError(path, generation, 0, `header names generation ${header.generation}`);
  }
  if (header.uuid !== uuid) throw new TranslogCorruptedError(path, generation, 0, `header names translog uuid [${header.uuid}], expected [${uuid}]`);
}

/**
 * Validates a generation file: header, then every record up to `mustBeValidUpTo` (any fault there is
 * corruption), then records past it while they are complete and valid (the tail). A seal record ends
 * the scan. Returns what was found; the caller decides what a short scan means.
 */
async function scanGeneration(
  file: TranslogFile,
  path: string,
  generation: number,
  uuid: string,
  mustBeValidUpTo: number,
  fileSizeBytes: number,
): Promise<GenerationScan> {
  await checkHeader(file, path, generation, uuid);
  const result: GenerationScan = { numOps: 0, coveredNumOps: 0, minSeqNo: -1, maxSeqNo: -1, validEndOffset: GENERATION_HEADER_BYTES, sealed: false };
  const scanner = new RecordScanner(file, GENERATION_HEADER_BYTES, Math.max(fileSizeBytes, mustBeValidUpTo));
  for (;;) {
    const found = await scanner.next();
    if (found === SCAN.end) break;
    const offset = scanner.recordOffset;
    const covered = offset < mustBeValidUpTo;
    if (found === SCAN.invalid) {
      if (covered) throw new TranslogCorruptedError(path, generation, offset, scanner.invalidReason);
      break; // a torn tail
    }
    if (covered && offset + scanner.recordSizeBytes > mustBeValidUpTo) {
      throw new TranslogCorruptedError(path, generation, offset, `record crosses the checkpoint offset ${mustBeValidUpTo}`);
    }
    const decoded = decodeBody(scanner.body);
    if (typeof decoded === 'string') {
      // The checksum matched, so these bytes are what we wrote: a malformed body is never a torn write.
      throw new TranslogCorruptedError(path, generation, offset, decoded);
    }
    if (decoded.kind === 'seal') {
      if (covered && offset + scanner.recordSizeBytes !== mustBeValidUpTo) {
        throw new TranslogCorruptedError(path, generation, offset, 'seal record before the end of the checkpointed data');
      }
      if (decoded.generation !== generation || decoded.numOps !== result.numOps) {
        throw new TranslogCorruptedError(
          path,
          generation,
          offset,
          `seal record says generation ${decoded.generation} with ${decoded.numOps} ops, found generation ${generation} with ${result.numOps}`,
        );
      }
      result.sealed = true;
      result.validEndOffset = scanner.offset;
      break;
    }
    const seqNo = decoded.op.seqNo;
    result.numOps++;
    if (covered) result.coveredNumOps++;
    if (result.minSeqNo === -1 || seqNo < result.minSeqNo) result.minSeqNo = seqNo;
    if (seqNo > result.maxSeqNo) result.maxSeqNo = seqNo;
    result.validEndOffset = scanner.offset;
  }
  if (result.validEndOffset < mustBeValidUpTo) {
    throw new TranslogCorruptedError(path, generation, result.validEndOffset, `file ends before the checkpoint offset ${mustBeValidUpTo}`);
  }
  return result;
}
