/**
 * The segment-writer thread: writes refreshed buffers into segments off the event loop.
 *
 * One long-lived worker per data node, shared by every shard of the node (`RefreshWorkerClient`,
 * created by the data node and passed to each SegmentManager; a manager opened without one creates a
 * private one, as unit tests do). The thread starts at the first write (or warmUp), keeps a map
 * shard path → ShardStorage (opened at the first write for that path), and serves requests one at a
 * time in arrival order, whatever shard they come from. The manager freezes the retired buffer
 * (`SegmentBuilder.freeze()`: plain typed arrays), transfers it here with its shard path, and this
 * thread thaws it into a read-only SegmentSource and runs `writeSegmentFrom` against its own handle
 * on the shard's LMDB env (lmdb-js shares one native env between the threads of a process). The
 * answer comes only once every key is committed; the manager then resets its read transaction so it
 * sees them. A shard's close (`closePath`) closes that path's handle in the thread, after the
 * shard's earlier writes (same queue), without stopping the thread; `close()` stops the thread.
 *
 * A failed write rejects that refresh only. A thread that dies (uncaught exception, exit) fails
 * every request in flight, of every shard, like a failed writeSegment; the next write starts a fresh
 * thread (which reopens the paths it is asked to write).
 */
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { QuarryError } from '../common/errors.js';
import { frozenTransferList, thawBuffer, type FrozenBuffer, type SegmentSource } from './builder.js';
import { closeShardStorage, openShardStorage, type ShardStorage } from './env.js';
import { deserializeError, serializeError, type SerializedError } from './merge-worker.js';
import type { SegmentInfo } from './types.js';
import { workerEntry } from './worker-entry.js';
import { writeSegmentFrom } from './writer.js';

/** Marks workerData meant for this module (guards against running it by accident elsewhere). */
export const REFRESH_WORKER_KIND = 'quarry-segment-refresh';

/**
 * Faults a test can inject into the next write (never set in production): `throw` fails the write
 * after its stored fields are queued (a write error); `exit` ends the thread there (process.exit in
 * the worker); `uncaught` throws outside any promise before writing, so the thread dies with an
 * 'error' event.
 */
export type RefreshWorkerFault = 'throw' | 'exit' | 'uncaught';

/** workerData of the thread. */
interface RefreshWorkerData {
  kind: typeof REFRESH_WORKER_KIND;
}

/** Messages to the thread. */
type RefreshWorkerRequest =
  | { type: 'write'; requestId: number; path: string; segmentId: number; frozen: FrozenBuffer; fault: RefreshWorkerFault | null }
  | { type: 'closePath'; requestId: number; path: string }
  | { type: 'stop' };

/** Messages from the thread. */
type RefreshWorkerResponse =
  | { type: 'written'; requestId: number; ok: true; info: SegmentInfo }
  | { type: 'written'; requestId: number; ok: false; error: SerializedError }
  | { type: 'pathClosed'; requestId: number; ok: true }
  | { type: 'pathClosed'; requestId: number; ok: false; error: SerializedError };

/** A request waiting for the thread's answer. */
interface Waiter {
  resolve: (info: SegmentInfo | null) => void;
  reject: (err: Error) => void;
}

/** Main-thread handle of the node's segment-writer thread (see the module comment). */
export class RefreshWorkerClient {
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();
  private nextRequestId = 1;
  private readonly pending = new Map<number, Waiter>();

  /**
   * Writes a frozen buffer as segment `segmentId` of the shard at `path` in the thread (starting one
   * if needed). The frozen arrays are transferred (unusable here afterwards). Resolves with the
   * segment's info once every key is committed; rejects with the write's error, or when the thread
   * dies meanwhile.
   */
  async write(path: string, segmentId: number, frozen: FrozenBuffer, fault: RefreshWorkerFault | null = null): Promise<SegmentInfo> {
    const info = await this.request((requestId) => ({ type: 'write', requestId, path, segmentId, frozen, fault }), frozenTransferList(frozen));
    return info!;
  }

  /**
   * Closes the thread's handle on the shard at `path` (after the writes already queued) and waits
   * for it; the thread keeps serving other shards. No-op when no thread runs (a dead or never
   * started thread holds no handle); a thread dying meanwhile drops its handles anyway.
   */
  async closePath(path: string): Promise<void> {
    if (this.worker === null) return;
    try {
      await this.request((requestId) => ({ type: 'closePath', requestId, path }), []);
    } catch (err) {
      // The thread died meanwhile: its handles went with it. An env close error is the caller's.
      if (!(err instanceof ThreadExitedError)) throw err;
    }
  }

  /** Starts the thread now if none runs (its module loading then overlaps indexing, not the first refresh). */
  warmUp(): void {
    if (this.worker === null) this.start();
  }

  /** Asks the thread to close every handle it holds and waits until it has exited (no-op without one). */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker !== null) {
      worker.ref();
      worker.postMessage({ type: 'stop' } satisfies RefreshWorkerRequest);
    }
    await this.exited;
  }

  private request(build: (requestId: number) => RefreshWorkerRequest, transfer: ArrayBuffer[]): Promise<SegmentInfo | null> {
    const worker = this.worker ?? this.start();
    const requestId = this.nextRequestId++;
    return new Promise<SegmentInfo | null>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      worker.ref();
      try {
        worker.postMessage(build(requestId), transfer);
      } catch (err) {
        this.settled(worker, requestId);
        reject(err as Error);
      }
    });
  }

  private start(): Worker {
    const data: RefreshWorkerData = { kind: REFRESH_WORKER_KIND };
    const worker = new Worker(workerEntry('refresh-worker'), { workerData: data });
    // An idle writer must not keep the process alive; requests and close() ref it while they wait.
    worker.unref();
    let failure: Error | null = null;
    worker.on('message', (message: RefreshWorkerResponse) => {
      const waiter = this.settled(worker, message.requestId);
      if (waiter === undefined) return;
      if (!message.ok) waiter.reject(deserializeError(message.error, 'segment writer thread'));
      else waiter.resolve(message.type === 'written' ? message.info : null);
    });
    worker.on('error', (err) => {
      failure = err;
    });
    this.exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        // Requests in flight can only be this thread's: a new one starts only after this point.
        const err = new ThreadExitedError(failure?.message ?? `segment writer thread exited with code ${code} during a refresh`);
        const waiters = [...this.pending.values()];
        this.pending.clear();
        for (const w of waiters) w.reject(err);
        resolve();
      });
    });
    this.worker = worker;
    return worker;
  }

  private settled(worker: Worker, requestId: number): Waiter | undefined {
    const waiter = this.pending.get(requestId);
    this.pending.delete(requestId);
    if (this.pending.size === 0) worker.unref();
    return waiter;
  }
}

/** The rejection of requests in flight when the segment-writer thread dies. */
class ThreadExitedError extends QuarryError {
  constructor(message: string) {
    super('exception', message);
  }
}

/** The source to write, with a test fault wired into it (see RefreshWorkerFault). */
function withFault(source: SegmentSource, fault: RefreshWorkerFault | null): SegmentSource {
  if (fault === null || fault === 'uncaught') return source;
  return new Proxy(source, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== 'invertedFields') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      // Reached after the stored fields were queued: the segment is half written.
      return () => {
        if (fault === 'throw') throw new QuarryError('exception', 'injected segment writer fault (test)');
        process.exit(70);
      };
    },
  });
}

/** The thread's loop: one request at a time, in arrival order, against its per-path handles. */
function serve(port: MessagePort): void {
  const storages = new Map<string, ShardStorage>();
  const storageOf = (path: string): ShardStorage => {
    let storage = storages.get(path);
    if (storage === undefined) {
      storage = openShardStorage(path);
      storages.set(path, storage);
    }
    return storage;
  };
  let queue = Promise.resolve();
  port.on('message', (request: RefreshWorkerRequest) => {
    queue = queue.then(async () => {
      if (request.type === 'stop') {
        const open = [...storages.values()];
        storages.clear();
        await Promise.allSettled(open.map((storage) => closeShardStorage(storage)));
        port.close();
        return;
      }
      if (request.type === 'closePath') {
        const storage = storages.get(request.path);
        storages.delete(request.path);
        let response: RefreshWorkerResponse;
        try {
          if (storage !== undefined) await closeShardStorage(storage);
          response = { type: 'pathClosed', requestId: request.requestId, ok: true };
        } catch (err) {
          response = { type: 'pathClosed', requestId: request.requestId, ok: false, error: serializeError(err) };
        }
        port.postMessage(response);
        return;
      }
      if (request.fault === 'uncaught') {
        setImmediate(() => {
          throw new Error('injected segment writer crash (test)');
        });
        return new Promise<void>(() => undefined);
      }
      let response: RefreshWorkerResponse;
      try {
        const info = await writeSegmentFrom(storageOf(request.path), request.segmentId, withFault(thawBuffer(request.frozen), request.fault));
        response = { type: 'written', requestId: request.requestId, ok: true, info };
      } catch (err) {
        response = { type: 'written', requestId: request.requestId, ok: false, error: serializeError(err) };
      }
      port.postMessage(response);
    });
  });
}

if (!isMainThread && parentPort !== null && (workerData as RefreshWorkerData | undefined)?.kind === REFRESH_WORKER_KIND) {
  serve(parentPort);
}
