/**
 * Hard limits and defaults in one place, each with why it exists. Relations between them are
 * asserted once at load (bottom of the file).
 */
import { assert } from './assert.js';

/** Elasticsearch's `http.max_content_length`: a request body over this gets 413. */
export const HTTP_MAX_CONTENT_LENGTH_BYTES = 100 * 1024 * 1024;
/** Elasticsearch rejects `_id`s over 512 bytes (UTF-8); ids are keys in every segment. */
export const DOC_ID_MAX_BYTES = 512;
/** Index names over 255 bytes are rejected (they become directory names). */
export const INDEX_NAME_MAX_BYTES = 255;
/**
 * Longest indexed term in UTF-8 bytes. Lucene allows 32766; our term dictionary is LMDB's keys, which
 * max out at 1978 bytes with the segment/field prefix, so terms stop at 1700 (lib/segments checks the
 * same number as SEGMENT_TERM_MAX_BYTES). A longer keyword value fails the document with a 400.
 */
export const TERM_MAX_BYTES = 1700;
/** `index.max_result_window`: from + size over this is rejected (deep paging needs search_after). */
export const MAX_RESULT_WINDOW = 10_000;
/** Default and max `number_of_shards` for one index. */
export const NUMBER_OF_SHARDS_DEFAULT = 1;
export const NUMBER_OF_SHARDS_MAX = 1024;
/** Default refresh interval; `-1` disables scheduled refresh. */
export const REFRESH_INTERVAL_MS_DEFAULT = 1000;
/** A shard with no search for this long skips scheduled refreshes (search-idle). */
export const SEARCH_IDLE_AFTER_MS_DEFAULT = 30_000;
/** Translog: `async` durability fsyncs at this interval. */
export const TRANSLOG_SYNC_INTERVAL_MS_DEFAULT = 5000;
/** Translog: a generation rolls to the next file past this size. */
export const TRANSLOG_GENERATION_THRESHOLD_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Translog: a flush is triggered when uncommitted translog exceeds this size (ES: 512 MB). */
export const TRANSLOG_FLUSH_THRESHOLD_BYTES_DEFAULT = 512 * 1024 * 1024;
/** The buffer is refreshed into a segment early when it holds this many bytes of source. */
export const INDEXING_BUFFER_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Buffer size at which translog replay starts a background refresh: a quarter of the run-time
 * limit, so the segment-writer thread writes while replay goes on and the refresh that ends
 * recovery has at most this much left (each refresh adds a segment, which merges later fold).
 */
export const RECOVERY_REFRESH_BYTES = 16 * 1024 * 1024;
/** Bulk requests: most items in one request (guards memory; ES has no hard cap but a body cap). */
export const BULK_ITEMS_MAX = 100_000;
/** Tombstones of deleted ids are kept this long for version checks (ES `index.gc_deletes`). */
export const GC_DELETES_MS = 60_000;
/** `_cluster/health?timeout` default. */
export const HEALTH_TIMEOUT_MS_DEFAULT = 30_000;

assert(DOC_ID_MAX_BYTES < TERM_MAX_BYTES, 'an _id must fit in one term');
assert(TRANSLOG_GENERATION_THRESHOLD_BYTES_DEFAULT <= TRANSLOG_FLUSH_THRESHOLD_BYTES_DEFAULT, 'roll before flush');
