/**
 * The tiered merge policy: a pure function from segment metadata to the merges worth doing.
 *
 * Summary: merges segments of roughly equal size together, at most `maxMergeAtOnce` at a time, so
 * that the shard holds about `segmentsPerTier` segments per size tier, and reclaims deleted docs.
 * It is Lucene's TieredMergePolicy (8.x/9.x), ported to TypeScript without behaviour changes
 * worth mentioning except the two listed under "Differences".
 *
 * Algorithm, in plain words:
 *  1. Every segment's size is pro-rated by its live docs: `sizeBytes × (1 − delCount / maxDoc)`, so
 *     a segment full of deletes looks small and is picked sooner. Segments are sorted largest first.
 *  2. Segments already merging are set aside (they will produce one segment of their own).
 *     Segments larger than half of `maxMergedSegmentBytes` are "too big" and set aside too, unless
 *     both they and the whole shard hold more deletes than `deletesPctAllowed`.
 *  3. A budget of allowed segments is computed tier by tier: the first tier holds `segmentsPerTier`
 *     segments of the smallest size (never less than `floorSegmentBytes`); each next tier holds
 *     segments `min(maxMergeAtOnce, segmentsPerTier)` times bigger, until the bytes run out.
 *  4. While the eligible segments exceed the budget (or their deletes exceed `deletesPctAllowed`
 *     of all docs), it scores every window of up to `maxMergeAtOnce` consecutive segments (in size
 *     order) whose total stays under `maxMergedSegmentBytes` and picks the lowest score:
 *     `skew × totalBytes^0.05 × (liveBytes / rawBytes)²`, where skew is largest ÷ total (floored
 *     sizes). Low skew means balanced merges (no N² re-merging of one big segment), the small
 *     exponent gently prefers smaller merges, and the squared ratio strongly prefers merges that
 *     reclaim deletes. A window that hit the size cap is "packed" with smaller segments and scored
 *     as if perfectly balanced, since its result will never be merged again.
 *
 * Surprising interactions:
 *  - Segments under `floorSegmentBytes` are all treated as that size, so many tiny refresh segments
 *    are merged together aggressively; raising the floor means more (cheap) merges of small segments.
 *  - A segment near `maxMergedSegmentBytes` is only merged again for its deletes, and only once its
 *    own deletes exceed `deletesPctAllowed`: with a low value, big segments are rewritten often
 *    (write amplification); with a high one, disk and search time go to deleted docs.
 *  - Only one merge that hits the size cap is returned per call, so a burst of deletes does not
 *    start several multi-gigabyte merges at once.
 *  - The result depends on which segments are already merging: callers must pass `merging: true`
 *    for them, or the same segments would be proposed twice.
 *
 * Differences from Lucene: sizes are LMDB bytes as estimated by the segment writer (there are no
 * files); and a merge that hits the size cap while another such merge runs is skipped (Lucene's
 * `maxMergeIsRunning` check uses the merging bytes the same way).
 */
import { QuarryError } from '../common/errors.js';
import { assert } from '../common/assert.js';
import type { MergePolicyOptions } from './types.js';

/** What the merge policy needs to know of one segment. */
export interface MergeCandidateInfo {
  id: number;
  /** Bytes the segment occupies (deleted docs included). */
  sizeBytes: number;
  /** Docs ever written to the segment (deleted included). */
  maxDoc: number;
  /** Deleted docs. */
  delCount: number;
  /** True while the segment is part of a running merge: it is not proposed again. */
  merging?: boolean;
}

const MB = 1024 * 1024;

/**
 * The defaults, Elasticsearch's: segmentsPerTier 10, maxMergeAtOnce 10, floorSegmentBytes 2 MB,
 * maxMergedSegmentBytes 5 GB, deletesPctAllowed 20.
 */
export const MERGE_POLICY_DEFAULTS: Readonly<MergePolicyOptions> = Object.freeze({
  segmentsPerTier: 10,
  maxMergeAtOnce: 10,
  floorSegmentBytes: 2 * MB,
  maxMergedSegmentBytes: 5 * 1024 * MB,
  deletesPctAllowed: 20,
});

/**
 * The settings' ranges (inclusive). segmentsPerTier: segments allowed per tier before merging, [2, 1000].
 * maxMergeAtOnce: most segments one natural merge combines, [2, 1000]. floorSegmentBytes: smaller
 * segments count as this size, [1 byte, maxMergedSegmentBytes]. maxMergedSegmentBytes: largest
 * segment a natural merge produces, [1 MB, 1 TB]. deletesPctAllowed: share of deleted docs tolerated
 * before big segments are merged for deletes, [5, 50] (Lucene's range: lower rewrites too much).
 */
export const MERGE_POLICY_LIMITS = Object.freeze({
  segmentsPerTierMin: 2,
  segmentsPerTierMax: 1000,
  maxMergeAtOnceMin: 2,
  maxMergeAtOnceMax: 1000,
  maxMergedSegmentBytesMin: 1 * MB,
  maxMergedSegmentBytesMax: 1024 * 1024 * MB,
  deletesPctAllowedMin: 5,
  deletesPctAllowedMax: 50,
});

/** Most segments one forced merge combines at once (Lucene's maxMergeAtOnceExplicit). */
export const FORCE_MERGE_AT_ONCE_MAX = 30;

/** Fills in defaults and rejects out-of-range values with an `illegal_argument_exception` naming the value. */
export function resolveMergePolicyOptions(options: Partial<MergePolicyOptions> = {}): MergePolicyOptions {
  const resolved: MergePolicyOptions = { ...MERGE_POLICY_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!(key in MERGE_POLICY_DEFAULTS)) {
      throw new QuarryError('illegal_argument_exception', `unknown merge policy setting [${key}]`);
    }
    (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  const L = MERGE_POLICY_LIMITS;
  checkRange('segmentsPerTier', resolved.segmentsPerTier, L.segmentsPerTierMin, L.segmentsPerTierMax, true);
  checkRange('maxMergeAtOnce', resolved.maxMergeAtOnce, L.maxMergeAtOnceMin, L.maxMergeAtOnceMax, true);
  checkRange('maxMergedSegmentBytes', resolved.maxMergedSegmentBytes, L.maxMergedSegmentBytesMin, L.maxMergedSegmentBytesMax, true);
  checkRange('floorSegmentBytes', resolved.floorSegmentBytes, 1, resolved.maxMergedSegmentBytes, true);
  checkRange('deletesPctAllowed', resolved.deletesPctAllowed, L.deletesPctAllowedMin, L.deletesPctAllowedMax, false);
  return resolved;
}

function checkRange(name: string, value: unknown, min: number, max: number, integer: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new QuarryError(
      'illegal_argument_exception',
      `merge policy setting [${name}] must be ${integer ? 'an integer ' : ''}in [${min}, ${max}], got [${String(value)}]`,
    );
  }
}

/** A segment with its pro-rated size, as the algorithm sees it. */
interface Sized {
  id: number;
  /** sizeBytes × live ratio. */
  liveBytes: number;
  rawBytes: number;
  maxDoc: number;
  delCount: number;
}

function toSized(s: MergeCandidateInfo): Sized {
  assert(s.maxDoc >= 0 && s.delCount >= 0 && s.delCount <= s.maxDoc, `bad segment counts for ${s.id}`);
  const delRatio = s.maxDoc === 0 ? 0 : s.delCount / s.maxDoc;
  return { id: s.id, liveBytes: s.sizeBytes * (1 - delRatio), rawBytes: s.sizeBytes, maxDoc: s.maxDoc, delCount: s.delCount };
}

/** Largest first; ties by id so the result is deterministic. */
function bySizeDesc(a: Sized, b: Sized): number {
  return b.liveBytes - a.liveBytes || a.id - b.id;
}

/**
 * The natural merges worth starting now, as lists of segment ids (disjoint, none of them already
 * merging). Pure: same input, same output. See the module comment for the algorithm.
 */
export function findMerges(segments: MergeCandidateInfo[], options: MergePolicyOptions): number[][] {
  const opts = resolveMergePolicyOptions(options);
  const sorted = segments.map(toSized).sort(bySizeDesc);
  const mergingIds = new Set(segments.filter((s) => s.merging).map((s) => s.id));

  let totalIndexBytes = 0;
  let minSegmentBytes = Number.POSITIVE_INFINITY;
  let totalDelDocs = 0;
  let totalMaxDoc = 0;
  let mergingBytes = 0;
  let eligible: Sized[] = [];
  for (const seg of sorted) {
    if (mergingIds.has(seg.id)) {
      mergingBytes += seg.liveBytes;
      // Its deletes are being reclaimed already: count only its live docs.
      totalMaxDoc += seg.maxDoc - seg.delCount;
    } else {
      totalDelDocs += seg.delCount;
      totalMaxDoc += seg.maxDoc;
      eligible.push(seg);
    }
    minSegmentBytes = Math.min(minSegmentBytes, seg.liveBytes);
    totalIndexBytes += seg.liveBytes;
  }
  if (eligible.length === 0) return [];
  const totalDelPct = totalMaxDoc === 0 ? 0 : (100 * totalDelDocs) / totalMaxDoc;
  let allowedDelCount = Math.floor((opts.deletesPctAllowed * totalMaxDoc) / 100);

  // Grace too-big segments out of the segment budget unless deletes call for rewriting them.
  eligible = eligible.filter((seg) => {
    const segDelPct = seg.maxDoc === 0 ? 0 : (100 * seg.delCount) / seg.maxDoc;
    if (seg.liveBytes > opts.maxMergedSegmentBytes / 2 && (totalDelPct <= opts.deletesPctAllowed || segDelPct <= opts.deletesPctAllowed)) {
      totalIndexBytes -= seg.liveBytes;
      allowedDelCount -= seg.delCount;
      return false;
    }
    return true;
  });
  allowedDelCount = Math.max(0, allowedDelCount);

  const mergeFactor = Math.min(opts.maxMergeAtOnce, opts.segmentsPerTier);
  let levelSizeBytes = Math.max(minSegmentBytes, opts.floorSegmentBytes);
  let bytesLeft = totalIndexBytes;
  let allowedSegCount = 0;
  // Bounded: levelSize grows by mergeFactor ≥ 2 per tier until it reaches maxMergedSegmentBytes.
  for (;;) {
    const segCountLevel = bytesLeft / levelSizeBytes;
    if (segCountLevel < opts.segmentsPerTier || levelSizeBytes >= opts.maxMergedSegmentBytes) {
      allowedSegCount += Math.ceil(segCountLevel);
      break;
    }
    allowedSegCount += opts.segmentsPerTier;
    bytesLeft -= opts.segmentsPerTier * levelSizeBytes;
    levelSizeBytes = Math.min(opts.maxMergedSegmentBytes, levelSizeBytes * mergeFactor);
  }
  // Below the floor the budget could drop under one tier; a tier is always allowed.
  allowedSegCount = Math.max(allowedSegCount, opts.segmentsPerTier);

  return selectMerges(eligible, opts, mergeFactor, allowedSegCount, allowedDelCount, mergingBytes >= opts.maxMergedSegmentBytes, true);
}

/** The scoring loop shared by natural and forced-deletes merges (Lucene's doFindMerges). */
function selectMerges(
  sortedEligible: Sized[],
  opts: MergePolicyOptions,
  mergeFactor: number,
  allowedSegCount: number,
  allowedDelCount: number,
  maxMergeIsRunning: boolean,
  natural: boolean,
): number[][] {
  const merges: number[][] = [];
  let remaining = sortedEligible.slice();
  let haveOneLargeMerge = false;
  // Bounded: every iteration removes at least one segment from `remaining` or returns.
  while (remaining.length > 0) {
    const remainingDelCount = remaining.reduce((sum, s) => sum + s.delCount, 0);
    if (natural && remaining.length <= allowedSegCount && remainingDelCount <= allowedDelCount) break;

    let best: Sized[] | null = null;
    let bestScore = Number.POSITIVE_INFINITY;
    let bestTooLarge = false;
    for (let start = 0; start < remaining.length; start++) {
      let totalAfterMergeBytes = 0;
      let bytesThisMerge = 0;
      let hitTooLarge = false;
      const candidate: Sized[] = [];
      for (let i = start; i < remaining.length && candidate.length < mergeFactor && bytesThisMerge < opts.maxMergedSegmentBytes; i++) {
        const seg = remaining[i];
        if (totalAfterMergeBytes + seg.liveBytes > opts.maxMergedSegmentBytes) {
          hitTooLarge = true;
          if (candidate.length === 0) {
            // A segment that cannot merge with anything may still merge alone to drop its deletes.
            candidate.push(seg);
            bytesThisMerge += seg.liveBytes;
          }
          // Keep going: smaller segments further on may still fit ("packing").
          continue;
        }
        candidate.push(seg);
        bytesThisMerge += seg.liveBytes;
        totalAfterMergeBytes += seg.liveBytes;
      }
      assert(candidate.length > 0, 'empty merge candidate');
      // A singleton merge without deletes would rewrite a segment for nothing.
      if (candidate.length === 1 && candidate[0].delCount === 0) continue;
      // Past this point windows only get smaller and would not beat the best one.
      if (best !== null && !hitTooLarge && candidate.length < mergeFactor) break;
      const score = mergeScore(candidate, hitTooLarge, opts, mergeFactor);
      if (score < bestScore && (!hitTooLarge || !maxMergeIsRunning)) {
        best = candidate;
        bestScore = score;
        bestTooLarge = hitTooLarge;
      }
    }
    if (best === null) break;
    // Only one merge at the size cap per call: a burst of deletes must not start several big merges.
    if (!haveOneLargeMerge || !bestTooLarge || !natural) {
      haveOneLargeMerge ||= bestTooLarge;
      merges.push(best.map((s) => s.id));
    }
    const picked = new Set(best);
    remaining = remaining.filter((s) => !picked.has(s));
  }
  return merges;
}

/** Lower is better: balanced, small, and reclaiming deletes (see the module comment). */
function mergeScore(candidate: Sized[], hitTooLarge: boolean, opts: MergePolicyOptions, mergeFactor: number): number {
  let totalBeforeMergeBytes = 0;
  let totalAfterMergeBytes = 0;
  let totalAfterMergeBytesFloored = 0;
  for (const seg of candidate) {
    totalAfterMergeBytes += seg.liveBytes;
    totalAfterMergeBytesFloored += Math.max(opts.floorSegmentBytes, seg.liveBytes);
    totalBeforeMergeBytes += seg.rawBytes;
  }
  // A capped merge never cascades, so its skew cannot cause N² rewriting: call it perfect.
  const skew = hitTooLarge ? 1 / mergeFactor : Math.max(opts.floorSegmentBytes, candidate[0].liveBytes) / totalAfterMergeBytesFloored;
  let score = skew;
  score *= Math.pow(Math.max(totalAfterMergeBytes, 1), 0.05);
  const nonDelRatio = totalBeforeMergeBytes === 0 ? 1 : totalAfterMergeBytes / totalBeforeMergeBytes;
  score *= nonDelRatio * nonDelRatio;
  return score;
}

/**
 * Merges for `_forcemerge?max_num_segments=N`: the smallest segments, at most FORCE_MERGE_AT_ONCE_MAX
 * per merge, so that the count shrinks towards N; when N segments or fewer remain, a lone segment
 * with deletes is rewritten only for N = 1 (Lucene does the same). Ignores the size cap, as an
 * explicit request. Returns one round; the caller runs it and asks again until it returns nothing.
 */
export function findForcedMerges(segments: MergeCandidateInfo[], maxNumSegments: number): number[][] {
  if (!Number.isInteger(maxNumSegments) || maxNumSegments < 1) {
    throw new QuarryError('illegal_argument_exception', `max_num_segments must be an integer ≥ 1, got [${String(maxNumSegments)}]`);
  }
  const idle = segments.filter((s) => !s.merging);
  const total = segments.length;
  if (total <= maxNumSegments) {
    if (maxNumSegments === 1 && total === 1 && idle.length === 1 && idle[0].delCount > 0) return [[idle[0].id]];
    return [];
  }
  const smallestFirst = idle.map(toSized).sort((a, b) => a.liveBytes - b.liveBytes || a.id - b.id);
  // Merging k segments into one removes k − 1; never merge more than needed to reach the target.
  const needed = total - maxNumSegments + 1;
  const take = Math.min(needed, FORCE_MERGE_AT_ONCE_MAX, smallestFirst.length);
  if (take < 2) return [];
  return [smallestFirst.slice(0, take).map((s) => s.id)];
}

/**
 * Merges for `_forcemerge?only_expunge_deletes=true`: every idle segment with deletes, in groups of
 * at most `maxMergeAtOnce` that stay under `maxMergedSegmentBytes` (a lone big one merges alone).
 */
export function findForcedDeletesMerges(segments: MergeCandidateInfo[], options: MergePolicyOptions): number[][] {
  const opts = resolveMergePolicyOptions(options);
  const withDeletes = segments.filter((s) => !s.merging && s.delCount > 0).map(toSized).sort(bySizeDesc);
  const merges: number[][] = [];
  let group: number[] = [];
  let groupBytes = 0;
  for (const seg of withDeletes) {
    if (group.length > 0 && (group.length >= opts.maxMergeAtOnce || groupBytes + seg.liveBytes > opts.maxMergedSegmentBytes)) {
      merges.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(seg.id);
    groupBytes += seg.liveBytes;
  }
  if (group.length > 0) merges.push(group);
  return merges;
}
