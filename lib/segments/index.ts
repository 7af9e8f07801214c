/**
 * The public surface of lib/segments: what the shard engine and search import. Internals (the
 * format modules, write sessions, the merge worker's messages) stay behind this barrel.
 */
export * from './types.js';
export { KEY_SPACE, openShardStorage, closeShardStorage, type ShardStorage, type ShardStorageOptions } from './env.js';
export { SegmentBuilder, ID_FIELD } from './builder.js';
export { writeSegment } from './writer.js';
export { openSegmentReader, readSegmentInfo, listStoredSegmentIds, deleteSegmentData, BufferSegmentReader } from './reader.js';
export { mergeSegments } from './merger.js';
export { RefreshWorkerClient } from './refresh-worker.js';
export {
  findMerges,
  findForcedMerges,
  findForcedDeletesMerges,
  resolveMergePolicyOptions,
  MERGE_POLICY_DEFAULTS,
  MERGE_POLICY_LIMITS,
  FORCE_MERGE_AT_ONCE_MAX,
  type MergeCandidateInfo,
} from './merge-policy.js';
export { isLive, countDeleted, liveDocsByteLength } from './live-docs.js';
export {
  SegmentManager,
  MERGE_CONCURRENCY_MAX,
  FREEZE_SLICE_MS,
  COMMIT_FORMAT_VERSION,
  type SegmentManagerOptions,
  type SegmentLogger,
} from './manager.js';
