/**
 * The merge worker: the entry point of the worker thread that runs one merge off the event loop.
 * It opens the shard's LMDB environment itself (lmdb-js shares one native environment between the
 * threads of a process, so this is cheap and sees every committed write), runs `mergeSegments`,
 * closes its handle (waiting for its writes to be flushed, off the main thread) and posts the
 * result. The manager treats a merge as finished only when the thread has exited, so closing the
 * shard never races the worker's own close.
 */
import { parentPort, workerData, isMainThread } from 'node:worker_threads';
import { QuarryError, type ErrorType } from '../common/errors.js';
import { openShardStorage, closeShardStorage } from './env.js';
import { mergeSegments } from './merger.js';
import type { SegmentInfo } from './types.js';

/** Marks workerData meant for this module (guards against loading it by accident elsewhere). */
export const MERGE_WORKER_KIND = 'quarry-segment-merge';

/** What the manager sends: one merge. */
export interface MergeWorkerRequest {
  kind: typeof MERGE_WORKER_KIND;
  path: string;
  newSegmentId: number;
  sources: Array<{ info: SegmentInfo; liveDocs: Uint8Array | null }>;
  /** Shared with the manager: non-zero asks the merge to stop (mergeSegments' abortFlag). */
  abortFlag: Int32Array;
}

/** An error crossing the thread boundary: QuarryErrors keep their type and extra fields. */
export interface SerializedError {
  type: ErrorType | null;
  message: string;
  extra: Record<string, unknown>;
  stack?: string;
}

/** What the worker answers. */
export type MergeWorkerResponse = { ok: true; info: SegmentInfo; docMaps: Int32Array[] } | { ok: false; error: SerializedError };

/** Turns any thrown value into a structured-cloneable error description. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof QuarryError) return { type: err.type, message: err.message, extra: err.extra, stack: err.stack };
  if (err instanceof Error) return { type: null, message: err.message, extra: {}, stack: err.stack };
  return { type: null, message: String(err), extra: {} };
}

/** The inverse of serializeError on the manager's side (QuarryError when it was one, Error otherwise). */
export function deserializeError(error: SerializedError, thread = 'merge worker'): Error {
  const out = error.type === null ? new Error(error.message) : new QuarryError(error.type, error.message, error.extra);
  if (error.stack) out.stack = `${out.stack ?? ''}\n    --- in ${thread} ---\n${error.stack}`;
  return out;
}

async function runMerge(request: MergeWorkerRequest): Promise<MergeWorkerResponse> {
  const storage = openShardStorage(request.path);
  try {
    const { info, docMaps } = await mergeSegments(storage, request.newSegmentId, request.sources, request.abortFlag);
    return { ok: true, info, docMaps };
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  } finally {
    await closeShardStorage(storage);
  }
}

if (!isMainThread && parentPort !== null && (workerData as MergeWorkerRequest | undefined)?.kind === MERGE_WORKER_KIND) {
  const port = parentPort;
  runMerge(workerData as MergeWorkerRequest).then(
    (response) => {
      // Doc maps are transferred, not copied: they can be millions of entries.
      const transfer = response.ok ? [...new Set(response.docMaps.map((m) => m.buffer as ArrayBuffer))] : [];
      port.postMessage(response, transfer);
    },
    (err: unknown) => port.postMessage({ ok: false, error: serializeError(err) } satisfies MergeWorkerResponse),
  );
}
