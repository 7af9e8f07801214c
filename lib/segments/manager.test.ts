import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import { SegmentBuilder } from './builder.js';
import { closeShardStorage, KEY_SPACE, openShardStorage, type ShardStorage } from './env.js';
import { storedBlockKey, tagKey, TAG } from './format/keys.js';
import { isLive, listStoredLiveDocs } from './live-docs.js';
import { commitKey, decodeCommitPoint, encodeCommitPoint, SegmentManager, type SegmentManagerOptions } from './manager.js';
import { isMergeAborted } from './merger.js';
import { listStoredSegmentIds } from './reader.js';
import { NO_MORE_DOCS, type DocumentInput, type SegmentSnapshot } from './types.js';

const FIELD = 'body';
const VOCABULARY = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta'];
/** Merge settings that make the tiny test segments merge often. */
const EAGER_MERGES = { segmentsPerTier: 2, maxMergeAtOnce: 2, floorSegmentBytes: 1 };

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'quarry-manager-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An analysed document built by hand: one positions field tokenized by non-word characters. */
function makeDoc(id: string, text: string, seqNo: number): DocumentInput {
  const terms = text.toLowerCase().split(/\W+/).filter((t) => t.length > 0);
  return {
    id,
    seqNo,
    version: 1,
    primaryTerm: 1,
    source: Buffer.from(JSON.stringify({ text })),
    inverted: [{ field: FIELD, indexOptions: 'positions', norms: true, terms, length: terms.length }],
    docValues: [],
  };
}

/**
 * The indexing side of a shard engine, reduced to what the manager needs: a buffer (builder) that
 * deletes its own older copy of an id, the ids to delete from older segments, and a naive model of
 * the live documents (id → text) at each point.
 */
class Indexer {
  builder = new SegmentBuilder();
  deletedIds = new Set<string>();
  /** Every acknowledged op applied (what the next refresh will show). */
  latest = new Map<string, string>();
  /** What the last refresh published. */
  visible = new Map<string, string>();
  /** What the last commit made durable. */
  committed = new Map<string, string>();
  committedUserData: Record<string, string | number> | null = null;
  seqNo = 0;

  constructor(public manager: SegmentManager) {}

  index(id: string, text: string): void {
    const previous = this.builder.lookupId(id);
    if (previous >= 0) this.builder.deleteDoc(previous);
    this.builder.addDocument(makeDoc(id, text, this.seqNo++));
    this.deletedIds.add(id);
    this.latest.set(id, text);
  }

  delete(id: string): void {
    const previous = this.builder.lookupId(id);
    if (previous >= 0) this.builder.deleteDoc(previous);
    this.deletedIds.add(id);
    this.latest.delete(id);
  }

  async refresh(): Promise<void> {
    const builder = this.builder;
    const ids = this.deletedIds;
    this.builder = new SegmentBuilder();
    this.deletedIds = new Set();
    await this.manager.refresh(builder, ids);
    this.visible = new Map(this.latest);
  }

  async commit(userData: Record<string, string | number>): Promise<void> {
    await this.manager.commit(userData);
    this.committed = new Map(this.visible);
    this.committedUserData = userData;
  }

  /** Simulates losing everything not committed: what a restart without translog replay sees. */
  async reopen(dir: string, options: SegmentManagerOptions): Promise<void> {
    await this.manager.close();
    this.manager = await SegmentManager.open(dir, options);
    this.builder = new SegmentBuilder();
    this.deletedIds = new Set();
    this.latest = new Map(this.committed);
    this.visible = new Map(this.committed);
  }
}

/** Every live doc of a snapshot (id → text), checking ids are unique and numDocs is right. */
function liveDocsOf(snapshot: SegmentSnapshot): Map<string, string> {
  const out = new Map<string, string>();
  for (const seg of snapshot.segments) {
    let live = 0;
    for (let doc = 0; doc < seg.reader.maxDoc; doc++) {
      if (!isLive(seg.liveDocs, doc)) continue;
      live++;
      const id = seg.reader.meta(doc).id;
      expect(out.has(id), `id ${id} live twice`).toBe(false);
      out.set(id, (JSON.parse(Buffer.from(seg.reader.source(doc)).toString('utf8')) as { text: string }).text);
    }
    expect(seg.numDocs).toBe(live);
  }
  return out;
}

/** Ids of live docs whose postings hold `term`, read through the postings cursors. */
function idsWithTerm(snapshot: SegmentSnapshot, term: string): string[] {
  const ids: string[] = [];
  for (const seg of snapshot.segments) {
    const cursor = seg.reader.postings(FIELD, term);
    if (cursor === null) continue;
    for (let doc = cursor.next(); doc !== NO_MORE_DOCS; doc = cursor.next()) if (isLive(seg.liveDocs, doc)) ids.push(seg.reader.meta(doc).id);
  }
  return ids.sort();
}

function expectSnapshotEquals(manager: SegmentManager, model: Map<string, string>): void {
  const snapshot = manager.acquireSnapshot();
  try {
    expect(Object.fromEntries([...liveDocsOf(snapshot)].sort())).toEqual(Object.fromEntries([...model].sort()));
    for (const term of VOCABULARY.slice(0, 3)) {
      const expected = [...model].filter(([, text]) => text.split(/\W+/).includes(term)).map(([id]) => id).sort();
      expect(idsWithTerm(snapshot, term)).toEqual(expected);
    }
    expect(manager.stats().docCount).toBe(model.size);
  } finally {
    snapshot.release();
  }
}

/** A second handle on the shard's env, for checking what is stored; reads see the latest commit. */
function rawView(dir: string): { storage: ShardStorage; segmentIds: () => number[]; liveDocs: () => string[]; close: () => Promise<void> } {
  const storage = openShardStorage(dir);
  return {
    storage,
    segmentIds: () => {
      storage.root.resetReadTxn();
      return listStoredSegmentIds(storage);
    },
    liveDocs: () => {
      storage.root.resetReadTxn();
      return listStoredLiveDocs(storage).map((l) => `${l.segmentId}:${l.generation}`);
    },
    close: () => closeShardStorage(storage),
  };
}

async function pollUntil(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Op =
  | { t: 'index'; id: number; words: string[] }
  | { t: 'delete'; id: number }
  | { t: 'refresh' }
  | { t: 'commit' }
  | { t: 'waitMerges' }
  | { t: 'forceMerge'; n: number }
  | { t: 'expunge' }
  | { t: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ t: fc.constant('index' as const), id: fc.nat(14), words: fc.array(fc.constantFrom(...VOCABULARY), { minLength: 1, maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('delete' as const), id: fc.nat(14) }) },
  { weight: 5, arbitrary: fc.constant({ t: 'refresh' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'waitMerges' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('forceMerge' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'expunge' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
);

// In-thread refreshes get most runs; the segment-writer thread (a thread start per open under tsx) fewer.
describe.each([
  { refreshInWorker: false, numRuns: 40 },
  { refreshInWorker: true, numRuns: 10 },
])('SegmentManager against a model (refreshInWorker: $refreshInWorker)', ({ refreshInWorker, numRuns }) => {
  it('publishes exactly the model after every step and restores the last commit on reopen', async () => {
    // Goal: over random sequences of index/update/delete, refresh, natural merges (eager settings so
    // they run all the time, concurrently with the next steps), forced merges, commits and
    // close+reopen, the latest snapshot's live docs (ids, sources, postings of a few terms) always
    // equal a naive model; after reopen the state is the model as of the last commit, with its
    // userData; and at the end no segment or live-docs generation outlives what the last commit lists.
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 80, size: "max" }), async (ops) => {
        const dir = tempDir();
        const options: SegmentManagerOptions = { mergeInWorker: false, refreshInWorker, mergePolicy: EAGER_MERGES };
        const ix = new Indexer(await SegmentManager.open(dir, options));
        try {
          let step = 0;
          for (const op of ops) {
            step++;
            switch (op.t) {
              case 'index':
                ix.index(`doc-${op.id}`, op.words.join(' '));
                break;
              case 'delete':
                ix.delete(`doc-${op.id}`);
                break;
              case 'refresh':
                await ix.refresh();
                break;
              case 'commit':
                await ix.commit({ step, maxSeqNo: ix.seqNo - 1 });
                break;
              case 'waitMerges':
                await ix.manager.waitForMerges();
                break;
              case 'forceMerge':
                await ix.manager.forceMerge(op.n);
                expect(ix.manager.stats().count).toBeLessThanOrEqual(op.n);
                break;
              case 'expunge':
                await ix.manager.forceMerge(1, true);
                break;
              case 'reopen':
                await ix.reopen(dir, options);
                expect(ix.manager.lastCommit?.userData ?? null).toEqual(ix.committedUserData);
                break;
            }
            expectSnapshotEquals(ix.manager, ix.visible);
          }
          // Settle, commit, close: what is stored must be exactly what the commit lists.
          await ix.refresh();
          await ix.manager.waitForMerges();
          await ix.commit({ step: 'final' });
          const committed = ix.manager.lastCommit!;
          await ix.manager.close();
          const raw = rawView(dir);
          try {
            expect(raw.segmentIds()).toEqual(committed.segments.map((s) => s.info.id).sort((a, b) => a - b));
            expect(raw.liveDocs().sort()).toEqual(
              committed.segments
                .filter((s) => s.liveDocsGeneration > 0)
                .map((s) => `${s.info.id}:${s.liveDocsGeneration}`)
                .sort(),
            );
          } finally {
            await raw.close();
          }
          ix.manager = await SegmentManager.open(dir, options);
          expectSnapshotEquals(ix.manager, ix.committed);
        } finally {
          await ix.manager.close();
        }
      }),
      { numRuns, seed: 20260101, endOnFailure: true },
    );
  });
});

describe.each([false, true])('SegmentManager snapshots (refreshInWorker: %s)', (refreshInWorker) => {
  it('a snapshot keeps its view across refresh and merge; merged-away data lives until release, then is deleted', async () => {
    // Goal: a snapshot taken before a delete and a merge still sees its docs (sources and postings
    // readable from LMDB) after a later commit; the merged-away segments are deleted once the snapshot
    // is released and no commit lists them; a commit protects them even when no snapshot does.
    const dir = tempDir();
    const ix = new Indexer(await SegmentManager.open(dir, { mergeInWorker: false, refreshInWorker }));
    const raw = rawView(dir);
    try {
      ix.index('a', 'alpha beta');
      ix.index('b', 'beta');
      await ix.refresh();
      ix.index('c', 'gamma alpha');
      await ix.refresh();
      await ix.commit({ gen: 1 });
      const oldIds = raw.segmentIds();
      expect(oldIds.length).toBe(2);

      const before = ix.manager.acquireSnapshot();
      ix.delete('a');
      ix.index('d', 'delta');
      await ix.refresh();
      await ix.manager.forceMerge(1);
      expect(ix.manager.stats().count).toBe(1);
      expectSnapshotEquals(ix.manager, new Map([['b', 'beta'], ['c', 'gamma alpha'], ['d', 'delta']]));

      // The old snapshot: unchanged, even after a commit that no longer lists its segments.
      await ix.commit({ gen: 2 });
      expect(ix.manager.describeSegments().every((s) => s.committed && s.searchable)).toBe(true);
      expect(Object.fromEntries(liveDocsOf(before))).toEqual({ a: 'alpha beta', b: 'beta', c: 'gamma alpha' });
      expect(idsWithTerm(before, 'alpha')).toEqual(['a', 'c']);
      expect(raw.segmentIds()).toEqual(expect.arrayContaining(oldIds));

      before.release();
      expect(() => before.release()).toThrow(/released twice/);
      await pollUntil(() => !raw.segmentIds().some((id) => oldIds.includes(id)), 10_000, 'merged-away segments to be deleted');

      // Without a snapshot, the last commit protects merged-away segments until the next commit.
      ix.index('e', 'eps');
      await ix.refresh();
      await ix.commit({ gen: 3 });
      const committedIds = raw.segmentIds();
      await ix.manager.forceMerge(1);
      expect(ix.manager.describeSegments().filter((s) => !s.searchable).map((s) => s.info.id).sort()).toEqual(committedIds);
      expect(raw.segmentIds()).toEqual(expect.arrayContaining(committedIds));
      await ix.commit({ gen: 4 });
      await pollUntil(() => !raw.segmentIds().some((id) => committedIds.includes(id)), 10_000, 'segments of the previous commit to be deleted');
      expect(raw.segmentIds().length).toBe(1);
    } finally {
      await raw.close();
      await ix.manager.close();
    }
  });

  it('an empty refresh publishes nothing; deletes alone publish a new live-docs generation', async () => {
    // Goal: refresh without docs or deletes keeps the snapshot version; a delete-only refresh bumps it
    // and the old snapshot keeps the old bitmap (copy on write).
    const dir = tempDir();
    const ix = new Indexer(await SegmentManager.open(dir, { mergeInWorker: false, refreshInWorker }));
    try {
      ix.index('x', 'alpha');
      ix.index('y', 'beta');
      await ix.refresh();
      const s1 = ix.manager.acquireSnapshot();
      await ix.refresh();
      const s2 = ix.manager.acquireSnapshot();
      expect(s2.version).toBe(s1.version);
      ix.delete('x');
      await ix.refresh();
      const s3 = ix.manager.acquireSnapshot();
      expect(s3.version).toBeGreaterThan(s1.version);
      expect(s3.segments[0].liveDocsGeneration).toBe(1);
      expect(s3.segments[0].numDocs).toBe(1);
      expect(s1.segments[0].liveDocs).toBeNull();
      expect(Object.keys(Object.fromEntries(liveDocsOf(s1)))).toEqual(['x', 'y']);
      // Deleting the last doc drops the segment from the list (once the merge that its 50% deletes
      // triggered, which carries the new delete, is done).
      ix.delete('y');
      await ix.refresh();
      await ix.manager.waitForMerges();
      expect(ix.manager.stats().count).toBe(0);
      for (const s of [s1, s2, s3]) s.release();
    } finally {
      await ix.manager.close();
    }
  });
});

describe.each([false, true])('SegmentManager durability (refreshInWorker: %s)', (refreshInWorker) => {
  it('reopening after a refresh that was never committed drops the uncommitted segment and live docs', async () => {
    // Goal: close without commit = what a restart sees; uncommitted segments and bitmaps are deleted at open.
    const dir = tempDir();
    const ix = new Indexer(await SegmentManager.open(dir, { mergeInWorker: false, refreshInWorker }));
    ix.index('a', 'alpha');
    ix.index('b', 'beta');
    await ix.refresh();
    await ix.commit({ maxSeqNo: 1 });
    ix.index('c', 'gamma');
    ix.delete('a');
    await ix.refresh();
    await ix.manager.close();
    let raw = rawView(dir);
    expect(raw.segmentIds().length).toBe(2);
    expect(raw.liveDocs().length).toBe(1);
    await raw.close();

    const reopened = await SegmentManager.open(dir, { mergeInWorker: false, refreshInWorker });
    try {
      expect(reopened.lastCommit?.userData).toEqual({ maxSeqNo: 1 });
      expectSnapshotEquals(reopened, new Map([['a', 'alpha'], ['b', 'beta']]));
      raw = rawView(dir);
      // Leftover segment data is deleted in the background after open.
      const expectedIds = JSON.stringify(reopened.lastCommit!.segments.map((s) => s.info.id));
      await pollUntil(() => JSON.stringify(raw.segmentIds()) === expectedIds, 10_000, 'leftover segments to be deleted');
      expect(raw.liveDocs()).toEqual([]);
      await raw.close();
      // New segment ids never reuse the dropped one's.
      const ix2 = new Indexer(reopened);
      ix2.index('z', 'zeta');
      await ix2.refresh();
      const ids = reopened.describeSegments().map((s) => s.info.id);
      expect(Math.max(...ids)).toBeGreaterThan(2);
    } finally {
      await reopened.close();
    }
  });

  it('survives kill -9 of a process after an uncommitted refresh, and in the middle of writing a segment', async () => {
    // Goal: a real child process commits, refreshes more (uncommitted), starts writing a big segment
    // and is SIGKILLed at some point of that write; the shard opens with exactly the committed docs
    // and nothing else stored.
    const dir = tempDir();
    const managerUrl = new URL('./manager.ts', import.meta.url).href;
    const builderUrl = new URL('./builder.ts', import.meta.url).href;
    const script = `
      import { SegmentManager } from ${JSON.stringify(managerUrl)};
      import { SegmentBuilder } from ${JSON.stringify(builderUrl)};
      const doc = (id, text, seqNo) => { const terms = text.split(' '); return { id, seqNo, version: 1, primaryTerm: 1,
        source: Buffer.from(JSON.stringify({ text })), inverted: [{ field: 'body', indexOptions: 'positions', norms: true, terms, length: terms.length }], docValues: [] }; };
      const m = await SegmentManager.open(${JSON.stringify(dir)}, { mergeInWorker: false, refreshInWorker: ${refreshInWorker} });
      let b = new SegmentBuilder();
      b.addDocument(doc('a', 'alpha', 0)); b.addDocument(doc('b', 'beta', 1));
      await m.refresh(b, []);
      await m.commit({ maxSeqNo: 1 });
      b = new SegmentBuilder();
      b.addDocument(doc('c', 'gamma', 2));
      await m.refresh(b, ['a']);
      b = new SegmentBuilder();
      for (let i = 0; i < 30000; i++) b.addDocument(doc('big-' + i, 'alpha beta gamma delta ' + i, 3 + i));
      process.stdout.write('WRITING\\n');
      await m.refresh(b, []);
      process.stdout.write('DONE\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await pollUntil(() => out.includes('WRITING'), 30_000, 'the child to start writing');
    // Let the write get going (pollUntil with a deadline, not a fixed sleep: any point of the write is fine).
    const killAt = Date.now() + 30;
    await pollUntil(() => Date.now() >= killAt || out.includes('DONE'), 5_000, 'a moment into the write');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const raw = rawView(dir);
    const leftovers = raw.segmentIds().length;
    await raw.close();
    const reopened = await SegmentManager.open(dir, { mergeInWorker: false, refreshInWorker });
    try {
      expect(reopened.lastCommit?.userData).toEqual({ maxSeqNo: 1 });
      expectSnapshotEquals(reopened, new Map([['a', 'alpha'], ['b', 'beta']]));
      const after = rawView(dir);
      // Leftover segment data is deleted in the background after open.
      const expectedIds = JSON.stringify(reopened.lastCommit!.segments.map((s) => s.info.id));
      await pollUntil(() => JSON.stringify(after.segmentIds()) === expectedIds, 10_000, 'leftover segments to be deleted');
      expect(after.liveDocs()).toEqual([]);
      await after.close();
      console.log(`kill -9 during segment write: ${leftovers} segment(s) stored at the kill, ${out.includes('DONE') ? 'after' : 'during'} the big write`);
    } finally {
      await reopened.close();
    }
  });

  it('commit records are checksummed and round-trip', () => {
    // Goal: the commit record decodes to what was encoded, and a flipped byte is corrupt_index_exception.
    const point = {
      generation: 3,
      segments: [{ info: { id: 4, maxDoc: 10, sizeBytes: 100, formatVersion: 1, minSeqNo: 0, maxSeqNo: 9, createdAtMs: 1, source: 'refresh' as const }, liveDocsGeneration: 2, delCount: 1 }],
      userData: { maxSeqNo: 9, translogUuid: 'u' },
    };
    const encoded = encodeCommitPoint(point, 5);
    expect(decodeCommitPoint(encoded, 3)).toEqual({ point, nextSegmentId: 5 });
    expect(commitKey(3)[0]).toBe(KEY_SPACE.commit);
    for (const i of [0, 10, encoded.length - 1]) {
      const bad = Buffer.from(encoded);
      bad[i] ^= 4;
      expect(() => decodeCommitPoint(bad, 3)).toThrow(expect.objectContaining({ type: 'corrupt_index_exception' }));
    }
  });
});

describe('SegmentManager merges', () => {
  it('merges in a real worker thread while refreshes and searches continue', async () => {
    // Goal: with eager merge settings and merges in worker threads, 40 refreshes with updates and
    // deletes run while merges happen in the background; deletes that hit a merge's sources while it
    // runs are carried into the merged segment; the final state equals the model. Also measures how
    // long the event loop stalls while a forced merge of 20k docs runs in the worker.
    const dir = tempDir();
    const ix = new Indexer(await SegmentManager.open(dir, { mergeInWorker: true, mergePolicy: EAGER_MERGES, maxConcurrentMerges: 2 }));
    try {
      let seen = 0;
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 50; i++) ix.index(`doc-${(round * 37 + i * 13) % 500}`, `${VOCABULARY[(round + i) % 6]} ${VOCABULARY[i % 6]} r${round}`);
        for (let i = 0; i < 5; i++) ix.delete(`doc-${(round * 11 + i * 7) % 500}`);
        await ix.refresh();
        seen = Math.max(seen, ix.manager.stats().currentMerges);
        expectSnapshotEquals(ix.manager, ix.visible);
      }
      await ix.manager.waitForMerges();
      expectSnapshotEquals(ix.manager, ix.visible);
      const stats = ix.manager.stats();
      expect(stats.mergeTotal).toBeGreaterThan(0);
      expect(stats.mergeFailedTotal).toBe(0);
      expect(seen).toBeGreaterThan(0);

      for (let i = 0; i < 20_000; i++) ix.index(`bulk-${i}`, `${VOCABULARY[i % 6]} ${VOCABULARY[(i * 7) % 6]} bulk`);
      await ix.refresh();
      await ix.manager.waitForMerges();
      // Event-loop stalls, measured as the longest gap between 1 ms ticks.
      let maxGapMs = 0;
      let lastTickMs = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        maxGapMs = Math.max(maxGapMs, now - lastTickMs);
        lastTickMs = now;
      }, 1);
      const started = performance.now();
      const merging = ix.manager.forceMerge(1);
      // Deletes and a refresh while the forced merge runs: they must be carried into its result.
      ix.delete('bulk-5');
      ix.index('bulk-6', 'zeta updated');
      await ix.refresh();
      await merging;
      const mergeMs = performance.now() - started;
      clearInterval(ticker);
      expectSnapshotEquals(ix.manager, ix.visible);
      console.log(
        `worker merge of ~20.5k docs: ${mergeMs.toFixed(0)} ms, longest event-loop gap ${maxGapMs.toFixed(1)} ms (includes the concurrent refresh and GC); stats ${JSON.stringify(ix.manager.stats())}`,
      );
      await ix.commit({ done: 1 });
    } finally {
      await ix.manager.close();
    }
    const reopened = await SegmentManager.open(dir, { mergeInWorker: false });
    try {
      expectSnapshotEquals(reopened, ix.visible);
    } finally {
      await reopened.close();
    }
  });

  it('close aborts a running merge: its partial segment is deleted and the shard reopens as committed', async () => {
    // Goal: closing a shard (index deleted, node stopping) does not wait for a long merge to finish:
    // the merge stops at its next yield point, is not counted as failed, its keys are removed, and
    // the segments it was merging are still there after reopen.
    const dir = tempDir();
    const ix = new Indexer(await SegmentManager.open(dir, { mergeInWorker: true }));
    const raw = rawView(dir);
    let committedIds: number[] = [];
    let mergeError: unknown = null;
    try {
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 5_000; i++) ix.index(`r${round}-${i}`, `${VOCABULARY[i % 6]} ${VOCABULARY[(i * 7) % 6]} round ${round}`);
        await ix.refresh();
      }
      await ix.commit({ n: 1 });
      committedIds = raw.segmentIds();
      expect(committedIds.length).toBe(4);
      const merging = ix.manager.forceMerge(1).then(
        () => null,
        (err: unknown) => err,
      );
      await pollUntil(() => ix.manager.stats().currentMerges > 0, 10_000, 'the forced merge to start');
      await ix.manager.close();
      mergeError = await merging;
      expect(isMergeAborted(mergeError)).toBe(true);
      expect(ix.manager.stats().mergeFailedTotal).toBe(0);
      expect(raw.segmentIds()).toEqual(committedIds);
    } finally {
      await raw.close();
    }
    const reopened = await SegmentManager.open(dir, { mergeInWorker: false });
    try {
      expectSnapshotEquals(reopened, ix.committed);
      expect(reopened.stats().count).toBe(4);
    } finally {
      await reopened.close();
    }
  });

  it('a corrupt segment fails its merge without crashing; opening a shard with a corrupt committed segment fails clearly', async () => {
    // Goal: a stored block with a flipped byte makes the merge fail with corrupt_index_exception,
    // counted in stats; the manager keeps serving and indexing; the bad segment is not retried; and
    // a corrupt commit-listed segment makes open throw corrupt_index_exception naming the segment.
    const dir = tempDir();
    const ix = new Indexer(await SegmentManager.open(dir, { mergeInWorker: true }));
    const raw = rawView(dir);
    let badId = -1;
    try {
      for (let i = 0; i < 40; i++) ix.index(`a${i}`, `alpha ${'x'.repeat(i)}`);
      await ix.refresh();
      ix.index('b', 'beta');
      await ix.refresh();
      await ix.commit({ n: 1 });
      badId = raw.segmentIds()[0];
      raw.storage.root.resetReadTxn();
      const block = Buffer.from(raw.storage.sources.getBinary(storedBlockKey(badId, 0))!);
      block[Math.floor(block.length / 2)] ^= 0x20;
      await raw.storage.sources.put(storedBlockKey(badId, 0), block);

      const error = await ix.manager.forceMerge(1).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(QuarryError);
      expect((error as QuarryError).type).toBe('corrupt_index_exception');
      const stats = ix.manager.stats();
      expect(stats.mergeFailedTotal).toBe(1);
      expect(stats.lastMergeError).toContain(`${badId}`);
      expect(stats.count).toBe(2);
      ix.index('c', 'gamma');
      await ix.refresh();
      expect(ix.manager.stats().count).toBe(3);
      await ix.manager.waitForMerges();
      expect(ix.manager.stats().mergeFailedTotal).toBe(1);
    } finally {
      await ix.manager.close();
    }
    // Now break a committed segment's metadata: open must refuse with a clear error.
    await raw.storage.data.put(tagKey(badId, TAG.meta), Buffer.from('garbage'));
    await raw.close();
    const failure = await SegmentManager.open(dir).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(QuarryError);
    expect((failure as QuarryError).type).toBe('corrupt_index_exception');
    expect((failure as QuarryError).message).toMatch(new RegExp(`cannot open shard at \\[.*\\]: segment \\[${badId}\\] of commit generation \\[1\\]`));
  });

  it('close waits for a running merge and later calls fail with engine_closed_exception', async () => {
    // Goal: closing during a worker merge neither crashes nor leaves the env in use; the merge's
    // output (never committed) is gone after reopen.
    const dir = tempDir();
    const ix = new Indexer(await SegmentManager.open(dir, { mergeInWorker: true }));
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 2000; i++) ix.index(`d${s}-${i}`, `alpha beta ${i}`);
      await ix.refresh();
    }
    await ix.commit({ n: 1 });
    const merge = ix.manager.forceMerge(1).catch((err: unknown) => err);
    await ix.manager.close();
    await merge;
    await expect(ix.manager.refresh(new SegmentBuilder(), [])).rejects.toMatchObject({ type: 'engine_closed_exception' });
    expect(() => ix.manager.acquireSnapshot()).toThrow(QuarryError);
    const reopened = await SegmentManager.open(dir, { mergeInWorker: false });
    try {
      expect(reopened.stats().count).toBe(3);
      expect(reopened.stats().docCount).toBe(6000);
    } finally {
      await reopened.close();
    }
  });
});
