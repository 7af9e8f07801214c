import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import {
  findForcedDeletesMerges,
  findForcedMerges,
  findMerges,
  MERGE_POLICY_DEFAULTS,
  resolveMergePolicyOptions,
  type MergeCandidateInfo,
} from './merge-policy.js';
import type { MergePolicyOptions } from './types.js';

const MB = 1024 * 1024;

/** A deterministic PRNG (mulberry32) so the simulation replays exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimResult {
  maxSegments: number;
  finalSegments: number;
  flushedBytes: number;
  mergedBytes: number;
  writeAmplification: number;
  merges: number;
}

/**
 * Simulates a long indexing run: each step flushes one segment (bytes ∝ docs), optionally deletes a
 * share of random docs, then applies every merge the policy returns at once (merged size = live bytes).
 */
function simulate(options: MergePolicyOptions, steps: number, seed: number, deleteRate: number, flushBytes: () => number): SimResult {
  const random = rng(seed);
  const bytesPerDoc = 1024;
  let segments: MergeCandidateInfo[] = [];
  let nextId = 1;
  let flushedBytes = 0;
  let mergedBytes = 0;
  let maxSegments = 0;
  let merges = 0;
  for (let step = 0; step < steps; step++) {
    const sizeBytes = flushBytes();
    const maxDoc = Math.max(1, Math.round(sizeBytes / bytesPerDoc));
    segments.push({ id: nextId++, sizeBytes: maxDoc * bytesPerDoc, maxDoc, delCount: 0 });
    flushedBytes += maxDoc * bytesPerDoc;
    if (deleteRate > 0) {
      // Updates: delete about `deleteRate` of a flush's docs, spread over existing segments by size.
      const toDelete = Math.round(maxDoc * deleteRate);
      for (let i = 0; i < toDelete; i++) {
        const seg = segments[Math.floor(random() * segments.length)];
        if (seg.delCount < seg.maxDoc - 1) seg.delCount++;
      }
    }
    for (const merge of findMerges(segments, options)) {
      const picked = segments.filter((s) => merge.includes(s.id));
      expect(picked.length).toBe(merge.length);
      const live = picked.reduce((sum, s) => sum + s.maxDoc - s.delCount, 0);
      const merged: MergeCandidateInfo = { id: nextId++, sizeBytes: live * bytesPerDoc, maxDoc: live, delCount: 0 };
      mergedBytes += merged.sizeBytes;
      merges++;
      segments = segments.filter((s) => !merge.includes(s.id));
      segments.push(merged);
    }
    maxSegments = Math.max(maxSegments, segments.length);
  }
  return {
    maxSegments,
    finalSegments: segments.length,
    flushedBytes,
    mergedBytes,
    writeAmplification: (flushedBytes + mergedBytes) / flushedBytes,
    merges,
  };
}

describe('findMerges (tiered policy)', () => {
  it('keeps the segment count around tiers × segmentsPerTier over a long run and reports write amplification', () => {
    // Goal: over 20,000 flushes of ~1 MB (about 20 GB indexed, 4 tiers up to the 5 GB cap), the
    // segment count stays bounded by a few tiers' worth, and each byte is rewritten a logarithmic
    // number of times. Method: pure simulation, merges applied the moment they are proposed.
    const random = rng(42);
    const result = simulate({ ...MERGE_POLICY_DEFAULTS }, 20_000, 1, 0, () => Math.round((0.5 + random()) * MB));
    // Tiers: 2 MB floor ×10 → 20 MB → 200 MB → 2 GB → capped at 5 GB; 10 per tier plus capped segments.
    expect(result.maxSegments).toBeLessThanOrEqual(60);
    expect(result.writeAmplification).toBeLessThan(8);
    expect(result.writeAmplification).toBeGreaterThan(2);
    console.log(`tiered policy, 20k flushes of ~1 MB, no deletes: ${JSON.stringify(result)}`);
  });

  it('reclaims deletes: with updates the deleted share stays near deletesPctAllowed', () => {
    // Goal: with 30% of each flush's docs deleting older docs, merges keep the share of deleted docs
    // bounded (around deletesPctAllowed, not growing without bound) and the segment count bounded.
    const random = rng(7);
    const options = { ...MERGE_POLICY_DEFAULTS, maxMergedSegmentBytes: 256 * MB };
    let segments: MergeCandidateInfo[] = [];
    let nextId = 1;
    let worstDeletedPct = 0;
    for (let step = 0; step < 5000; step++) {
      const maxDoc = 1000;
      segments.push({ id: nextId++, sizeBytes: maxDoc * 1024, maxDoc, delCount: 0 });
      for (let i = 0; i < 300; i++) {
        const seg = segments[Math.floor(random() * segments.length)];
        if (seg.delCount < seg.maxDoc - 1) seg.delCount++;
      }
      for (const merge of findMerges(segments, options)) {
        const picked = segments.filter((s) => merge.includes(s.id));
        const live = picked.reduce((sum, s) => sum + s.maxDoc - s.delCount, 0);
        segments = segments.filter((s) => !merge.includes(s.id));
        segments.push({ id: nextId++, sizeBytes: live * 1024, maxDoc: live, delCount: 0 });
      }
      const maxDocs = segments.reduce((sum, s) => sum + s.maxDoc, 0);
      const deleted = segments.reduce((sum, s) => sum + s.delCount, 0);
      if (step > 1000) worstDeletedPct = Math.max(worstDeletedPct, (100 * deleted) / maxDocs);
    }
    expect(worstDeletedPct).toBeLessThan(45);
    expect(segments.length).toBeLessThan(80);
    console.log(`tiered policy with 30% updates: worst deleted share ${worstDeletedPct.toFixed(1)}%, ${segments.length} segments at the end`);
  });

  it('proposes disjoint merges of idle segments within the size cap and maxMergeAtOnce', () => {
    // Goal: on arbitrary segment sets (some already merging), every proposed merge lists existing,
    // idle segments only, merges are disjoint, hold at most maxMergeAtOnce segments, and stay under
    // the size cap unless a lone segment is rewritten for its deletes.
    const segmentArb = fc.record({
      sizeBytes: fc.integer({ min: 1, max: 8 * 1024 * MB }),
      maxDoc: fc.integer({ min: 1, max: 1_000_000 }),
      delFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      merging: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(segmentArb, { maxLength: 80 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), (raw, perTier, atOnce) => {
        const segments: MergeCandidateInfo[] = raw.map((s, i) => ({
          id: i + 1,
          sizeBytes: s.sizeBytes,
          maxDoc: s.maxDoc,
          delCount: Math.floor(s.maxDoc * s.delFraction),
          merging: s.merging,
        }));
        const options = { ...MERGE_POLICY_DEFAULTS, segmentsPerTier: perTier, maxMergeAtOnce: atOnce };
        const merges = findMerges(segments, options);
        const seen = new Set<number>();
        for (const merge of merges) {
          expect(merge.length).toBeGreaterThan(0);
          expect(merge.length).toBeLessThanOrEqual(Math.min(atOnce, perTier));
          let liveBytes = 0;
          for (const id of merge) {
            const seg = segments.find((s) => s.id === id)!;
            expect(seg).toBeDefined();
            expect(seg.merging).toBe(false);
            expect(seen.has(id)).toBe(false);
            seen.add(id);
            liveBytes += seg.sizeBytes * (1 - seg.delCount / seg.maxDoc);
          }
          if (merge.length > 1) expect(liveBytes).toBeLessThanOrEqual(options.maxMergedSegmentBytes * (1 + 1e-9));
          else expect(segments.find((s) => s.id === merge[0])!.delCount).toBeGreaterThan(0);
        }
        // Same input, same output.
        expect(findMerges(segments, options)).toEqual(merges);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('proposes nothing for a small shard within budget', () => {
    // Goal: nine equal small segments without deletes are under one tier: no merge.
    const segments = Array.from({ length: 9 }, (_, i) => ({ id: i + 1, sizeBytes: MB, maxDoc: 1000, delCount: 0 }));
    expect(findMerges(segments, MERGE_POLICY_DEFAULTS)).toEqual([]);
    // The tenth... and a few more push it over: the smallest ones merge together.
    const more = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, sizeBytes: MB, maxDoc: 1000, delCount: 0 }));
    const merges = findMerges(more, MERGE_POLICY_DEFAULTS);
    expect(merges.length).toBe(1);
    expect(merges[0].length).toBe(10);
  });
});

describe('merge policy options', () => {
  it('rejects out-of-range settings with the value in the message', () => {
    // Goal: every bad setting is refused with illegal_argument_exception naming the setting and value.
    const bad: Array<[Partial<MergePolicyOptions>, string]> = [
      [{ segmentsPerTier: 1 }, 'segmentsPerTier'],
      [{ segmentsPerTier: 2.5 }, 'segmentsPerTier'],
      [{ maxMergeAtOnce: 0 }, 'maxMergeAtOnce'],
      [{ maxMergeAtOnce: Number.NaN }, 'maxMergeAtOnce'],
      [{ floorSegmentBytes: 0 }, 'floorSegmentBytes'],
      [{ floorSegmentBytes: 10 * 1024 * MB }, 'floorSegmentBytes'],
      [{ maxMergedSegmentBytes: 1000 }, 'maxMergedSegmentBytes'],
      [{ deletesPctAllowed: 2 }, 'deletesPctAllowed'],
      [{ deletesPctAllowed: 51 }, 'deletesPctAllowed'],
      [{ deletesPctAllowed: '20' as unknown as number }, 'deletesPctAllowed'],
    ];
    for (const [options, name] of bad) {
      let caught: unknown = null;
      try {
        resolveMergePolicyOptions(options);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(QuarryError);
      expect((caught as QuarryError).type).toBe('illegal_argument_exception');
      expect((caught as QuarryError).message).toContain(`[${name}]`);
      expect((caught as QuarryError).message).toContain(`got [${String(Object.values(options)[0])}]`);
    }
    expect(() => resolveMergePolicyOptions({ bogus: 1 } as never)).toThrow(/unknown merge policy setting \[bogus\]/);
    expect(() => findMerges([], { ...MERGE_POLICY_DEFAULTS, segmentsPerTier: 0 })).toThrow(QuarryError);
    expect(resolveMergePolicyOptions({ segmentsPerTier: 5 })).toEqual({ ...MERGE_POLICY_DEFAULTS, segmentsPerTier: 5 });
  });
});

describe('forced merges', () => {
  it('findForcedMerges shrinks the count to the target, smallest first, and rewrites a lone segment with deletes only for 1', () => {
    // Goal: the forced plan merges just enough of the smallest segments; a single clean segment is left alone.
    const segs = (sizes: number[], del = 0): MergeCandidateInfo[] => sizes.map((s, i) => ({ id: i + 1, sizeBytes: s, maxDoc: 100, delCount: del }));
    expect(findForcedMerges(segs([5, 1, 3, 2]), 2)).toEqual([[2, 4, 3]]);
    expect(findForcedMerges(segs([5, 1]), 2)).toEqual([]);
    expect(findForcedMerges(segs([5]), 1)).toEqual([]);
    expect(findForcedMerges(segs([5], 3), 1)).toEqual([[1]]);
    expect(findForcedMerges(segs([5], 3), 2)).toEqual([]);
    expect(() => findForcedMerges([], 0)).toThrow(/max_num_segments/);
    // Big counts go in passes of at most FORCE_MERGE_AT_ONCE_MAX.
    expect(findForcedMerges(segs(Array.from({ length: 100 }, (_, i) => i + 1)), 1)[0].length).toBe(30);
  });

  it('findForcedDeletesMerges groups every segment with deletes', () => {
    // Goal: only segments with deletes are rewritten, in groups of at most maxMergeAtOnce.
    const segments: MergeCandidateInfo[] = Array.from({ length: 25 }, (_, i) => ({ id: i + 1, sizeBytes: MB, maxDoc: 100, delCount: i % 2 }));
    const merges = findForcedDeletesMerges(segments, { ...MERGE_POLICY_DEFAULTS, maxMergeAtOnce: 5 });
    expect(merges.flat().sort((a, b) => a - b)).toEqual(segments.filter((s) => s.delCount > 0).map((s) => s.id));
    expect(Math.max(...merges.map((m) => m.length))).toBe(5);
  });
});
