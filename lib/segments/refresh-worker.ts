/**
 * The segment-writer thread: writes refreshed buffers into segments off the event loop.
 *
 * One long-lived worker per SegmentManager (`RefreshWorkerClient`, started at the first refresh,
 * reused, closed with the manager). The manager freezes the retired buffer
 * (`SegmentBuilder.freeze()`: plain typed arrays), transfers it here, and this thread thaws it into
 * a read-only SegmentSource and runs `writeSegmentFrom` against its own handle on the shard's LMDB
 * env (lmdb-js shares one native env between the threads of a process). The answer comes only once
 * every key is committed; the manager then resets its read transaction so it sees them.
 *
 * A thread that dies (uncaught exception, exit) fails the refresh in flight like a failed
 * writeSegment, and the next refresh starts a fresh thread.
 */
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { QuarryError } from '../common/errors.js';
import { frozenTransferList, thawBuffer, type FrozenBuffer, type SegmentSource } from './builder.js';
import { closeShardStorage, openShardStorage } from './env.js';
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
  path: string;
}

/** Messages to the thread. */
type RefreshWorkerRequest =
  | { type: 'write'; requestId: number; segmentId: number; frozen: FrozenBuffer; fault: RefreshWorkerFault | null }
  | { type: 'close' };

/** Messages from the thread. */
type RefreshWorkerResponse =
  | { type: 'written'; requestId: number; ok: true; info: SegmentInfo }
  | { type: 'written'; requestId: number; ok: false; error: SerializedError }
  | { type: 'closed' };

/** Main-thread handle of the segment-writer thread of one shard (see the module comment). */
export class RefreshWorkerClient {
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();
  private nextRequestId = 1;
  private readonly pending = new Map<number, { resolve: (info: SegmentInfo) => void; reject: (err: Error) => void }>();

  constructor(private readonly path: string) {}

  /**
   * Writes a frozen buffer as segment `segmentId` in the thread (starting one if needed). The
   * frozen arrays are transferred (unusable here afterwards). Resolves with the segment's info once
   * every key is committed; rejects with the write's error, or when the thread dies meanwhile.
   */
  write(segmentId: number, frozen: FrozenBuffer, fault: RefreshWorkerFault | null = null): Promise<SegmentInfo> {
    const worker = this.worker ?? this.start();
    const requestId = this.nextRequestId++;
    return new Promise<SegmentInfo>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      worker.ref();
      try {
        const request: RefreshWorkerRequest = { type: 'write', requestId, segmentId, frozen, fault };
        worker.postMessage(request, frozenTransferList(frozen));
      } catch (err) {
        this.settled(worker, requestId);
        reject(err as Error);
      }
    });
  }

  /** Starts the thread now if none runs (its module loading then overlaps indexing, not the first refresh). */
  warmUp(): void {
    if (this.worker === null) this.start();
  }

  /** Asks the thread to close its env handle and waits until it has exited (no-op without one). */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker !== null) {
      worker.ref();
      worker.postMessage({ type: 'close' } satisfies RefreshWorkerRequest);
    }
    await this.exited;
  }

  private start(): Worker {
    const data: RefreshWorkerData = { kind: REFRESH_WORKER_KIND, path: this.path };
    const worker = new Worker(workerEntry('refresh-worker'), { workerData: data });
    // An idle writer must not keep the process alive; write() and close() ref it while they wait.
    worker.unref();
    let failure: Error | null = null;
    worker.on('message', (message: RefreshWorkerResponse) => {
      if (message.type !== 'written') return;
      const waiter = this.settled(worker, message.requestId);
      if (waiter === undefined) return;
      if (message.ok) waiter.resolve(message.info);
      else waiter.reject(deserializeError(message.error, 'segment writer thread'));
    });
    worker.on('error', (err) => {
      failure = err;
    });
    this.exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        // Requests in flight can only be this thread's: a new one starts only after this point.
        const err = failure ?? new QuarryError('exception', `segment writer thread of [${this.path}] exited with code ${code} during a refresh`);
        const waiters = [...this.pending.values()];
        this.pending.clear();
        for (const w of waiters) w.reject(err);
        resolve();
      });
    });
    this.worker = worker;
    return worker;
  }

  private settled(worker: Worker, requestId: number) {
    const waiter = this.pending.get(requestId);
    this.pending.delete(requestId);
    if (this.pending.size === 0) worker.unref();
    return waiter;
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

async function serve(port: MessagePort, data: RefreshWorkerData): Promise<void> {
  const storage = openShardStorage(data.path);
  let queue = Promise.resolve();
  port.on('message', (request: RefreshWorkerRequest) => {
    queue = queue.then(async () => {
      if (request.type === 'close') {
        await closeShardStorage(storage);
        port.postMessage({ type: 'closed' } satisfies RefreshWorkerResponse);
        port.close();
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
        const info = await writeSegmentFrom(storage, request.segmentId, withFault(thawBuffer(request.frozen), request.fault));
        response = { type: 'written', requestId: request.requestId, ok: true, info };
      } catch (err) {
        response = { type: 'written', requestId: request.requestId, ok: false, error: serializeError(err) };
      }
      port.postMessage(response);
    });
  });
}

if (!isMainThread && parentPort !== null && (workerData as RefreshWorkerData | undefined)?.kind === REFRESH_WORKER_KIND) {
  void serve(parentPort, workerData as RefreshWorkerData);
}
