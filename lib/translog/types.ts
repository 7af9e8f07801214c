/**
 * The translog's public contract (implemented in `translog.ts`). The translog is the write-ahead log
 * of one shard copy: every operation is appended here before it is acknowledged, and replayed on
 * recovery above the last commit point's max seq_no.
 */

/** One operation as recorded. `source` is the document's JSON bytes exactly as the client sent them. */
export interface TranslogOp {
  type: 'index' | 'delete' | 'noop';
  /** Document `_id` (empty string for noop). */
  id: string;
  seqNo: number;
  primaryTerm: number;
  version: number;
  /** UTF-8 JSON bytes of `_source` (index ops only). */
  source?: Uint8Array;
  routing?: string;
  /** Why a noop was recorded (noops fill seq_no gaps). */
  reason?: string;
}

/** Translog options; every field has a default (see `TRANSLOG_DEFAULTS`). */
export interface TranslogOptions {
  /** `request`: fsync before each acknowledgement (default); `async`: fsync every `syncIntervalMs`. */
  durability: 'request' | 'async';
  /** Interval of background fsyncs with `async` durability, in ms (default 5000). */
  syncIntervalMs: number;
  /** Roll to a new generation file when the current one exceeds this size (default 64 MB). */
  generationThresholdBytes: number;
  /** The translog's identity, recorded in the checkpoint and in commit points (a new one is made when absent). */
  translogUuid?: string;
}

/** Where an op was written: enough to read it back. */
export interface TranslogLocation {
  generation: number;
  offset: number;
  sizeBytes: number;
}

/** What `stats()` reports (for `_stats` and the admin page). */
export interface TranslogStats {
  operations: number;
  sizeBytes: number;
  uncommittedOperations: number;
  uncommittedSizeBytes: number;
  generation: number;
  minGeneration: number;
  lastSyncedSeqNo: number;
  earliestLastModifiedAgeMs: number;
}
