import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../test/helpers/index.js';
import { SegmentBuilder } from './builder.js';
import { closeShardStorage, openShardStorage, type ShardStorage } from './env.js';
import { docsArb, expectReaderMatches } from './format/model.test-helper.js';
import { segmentPrefix, TAG, tagKey } from './format/keys.js';
import { decodeMeta } from './format/meta.js';
import { isLive } from './live-docs.js';
import { SegmentManager } from './manager.js';
import { listStoredSegmentIds } from './reader.js';
import { RefreshWorkerClient } from './refresh-worker.js';
import type { DocumentInput } from './types.js';
import { writeSegment } from './writer.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'quarry-refresh-worker-'));
  dirs.push(dir);
  return dir;
}

/** Every key and value of one segment in both databases (hex), the meta's creation time zeroed. */
function dumpSegment(storage: ShardStorage, segmentId: number): Record<string, string> {
  storage.root.resetReadTxn();
  const out: Record<string, string> = {};
  const range = { start: segmentPrefix(segmentId), end: segmentPrefix(segmentId + 1) };
  const metaKey = tagKey(segmentId, TAG.meta).toString('hex');
  for (const [name, db] of [
    ['data', storage.data],
    ['sources', storage.sources],
  ] as const) {
    for (const { key, value } of db.getRange(range)) {
      const k = `${name}:${(key as Buffer).toString('hex')}`;
      if (name === 'data' && (key as Buffer).toString('hex') === metaKey) {
        out[k] = JSON.stringify({ ...decodeMeta(value as Buffer, segmentId), createdAtMs: 0 });
      } else {
        out[k] = (value as Buffer).toString('hex');
      }
    }
  }
  return out;
}

/** docsArb plus, sometimes, docs whose id, routing and terms hold lone surrogates and empty sources. */
const buffersArb = fc.tuple(docsArb(40), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 })).map(([docs, odd, deletes]) => {
  const all: DocumentInput[] = docs.slice();
  if (odd) {
    all.push({
      id: 'lone-\ud800-x',
      routing: '\udc00',
      seqNo: docs.length,
      version: 1,
      primaryTerm: 1,
      source: new Uint8Array(0),
      inverted: [{ field: 'title', indexOptions: 'positions', norms: true, terms: ['\ud83d', 'a\udfff'], length: 2 }],
      docValues: [{ field: 'k', type: 'keyword', values: ['\ud800k'] }],
    });
  }
  return { docs: all, deletes };
});

describe('segment-writer thread', () => {
  let inThread: ShardStorage;
  let inWorker: ShardStorage;
  let client: RefreshWorkerClient;
  let workerDir: string;
  beforeAll(() => {
    inThread = openShardStorage(tempDir());
    workerDir = tempDir();
    inWorker = openShardStorage(workerDir);
    client = new RefreshWorkerClient();
  });
  afterAll(async () => {
    await client.close();
    await closeShardStorage(inThread);
    await closeShardStorage(inWorker);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes exactly the segment writeSegment writes on this thread, and leaves the builder intact', async () => {
    // Goal: for random buffers (all field kinds, doc values, routings, deletes, unicode and lone
    // surrogates in ids/routings/terms, empty sources), freeze → worker thread → writeSegmentFrom
    // stores byte-for-byte the same keys and values as writeSegment from the builder (only the
    // meta's creation time differs), and the frozen builder still reads exactly like before.
    let segmentId = 1;
    await fc.assert(
      fc.asyncProperty(buffersArb, async ({ docs, deletes }) => {
        const builder = new SegmentBuilder();
        for (const doc of docs) builder.addDocument(doc);
        for (const d of new Set(deletes.filter((x) => x < docs.length))) builder.deleteDoc(d);
        if (builder.maxDoc === 0) return;
        const id = segmentId++;
        const frozen = id % 2 === 0 ? builder.freeze() : await builder.freezeInSlices(0);
        const workerInfo = await client.write(workerDir, id, frozen);
        const { info } = await writeSegment(inThread, id, builder);
        expect({ ...workerInfo, createdAtMs: 0 }).toEqual({ ...info, createdAtMs: 0 });
        const expected = dumpSegment(inThread, id);
        expect(Object.keys(expected).length).toBeGreaterThan(2);
        expect(dumpSegment(inWorker, id)).toEqual(expected);
        if (!docs.some((d) => d.id.includes('\ud800'))) expectReaderMatches(builder.asReader(), docs);
        expect(() => builder.addDocument(docs[0])).toThrow(/frozen/);
      }),
      { numRuns: 40, seed: 20261125 },
    );
  });
});

describe('SegmentManager with refreshInWorker', () => {
  it('a failing or dying writer thread fails that refresh cleanly; the buffer stays readable and the next refresh succeeds', async () => {
    // Goal: an error in the worker's write, the thread exiting mid-write and an uncaught exception
    // in the thread each reject the refresh (nothing published, counters unchanged), the builder
    // still answers reads, a retry of the same buffer succeeds (in a fresh thread after a death),
    // and after commit + reopen storage holds exactly what the commit lists (no half-written leftovers).
    const dir = tempDir();
    let manager = await SegmentManager.open(dir, { mergeInWorker: false, refreshInWorker: true });
    const make = (id: string, seqNo: number): DocumentInput => ({
      id,
      seqNo,
      version: 1,
      primaryTerm: 1,
      source: Buffer.from(JSON.stringify({ id })),
      inverted: [{ field: 'body', indexOptions: 'positions', norms: true, terms: ['alpha', id], length: 2 }],
      docValues: [],
    });
    try {
      let seqNo = 0;
      const visible: string[] = [];
      for (const fault of ['throw', 'exit', 'uncaught'] as const) {
        const builder = new SegmentBuilder();
        const ids = Array.from({ length: 300 }, (_, i) => `${fault}-${i}`);
        const docs = ids.map((id) => make(id, seqNo++));
        for (const doc of docs) builder.addDocument(doc);
        const before = manager.stats();
        manager.injectRefreshFaultForTests(fault);
        const error = await manager.refresh(builder, []).then(
          () => null,
          (err: unknown) => err as Error,
        );
        expect(error, fault).toBeInstanceOf(Error);
        expect(error!.message).toMatch(fault === 'exit' ? /exited with code 70/ : /injected segment writer/);
        expect(manager.stats().refreshTotal).toBe(before.refreshTotal);
        expect(manager.stats().docCount).toBe(visible.length);
        expectReaderMatches(builder.asReader(), docs);

        await manager.refresh(builder, []);
        visible.push(...ids);
        expect(manager.stats().docCount).toBe(visible.length);
        const snapshot = manager.acquireSnapshot();
        try {
          const newest = snapshot.segments[snapshot.segments.length - 1].reader;
          expect(newest.maxDoc).toBe(300);
          expect(Buffer.from(newest.source(7)).toString()).toBe(JSON.stringify({ id: ids[7] }));
          expect(newest.lookupId(ids[299])).toBe(299);
        } finally {
          snapshot.release();
        }
      }
      await manager.commit({ n: 1 });
      const committed = manager.lastCommit!.segments.map((s) => s.info.id);
      await manager.close();
      manager = await SegmentManager.open(dir, { mergeInWorker: false, refreshInWorker: true });
      expect(manager.stats().docCount).toBe(visible.length);
      const raw = openShardStorage(dir);
      try {
        // Leftovers of the failed writes are deleted in the background after open.
        await pollUntil(
          () => {
            raw.root.resetReadTxn();
            return JSON.stringify(listStoredSegmentIds(raw)) === JSON.stringify(committed);
          },
          { description: `stored segments to be exactly the committed ${JSON.stringify(committed)}` },
        );
      } finally {
        await closeShardStorage(raw);
      }
    } finally {
      await manager.close();
    }
  });
});

describe('SegmentManagers sharing one segment-writer thread', () => {
  const make = (id: string, seqNo: number): DocumentInput => ({
    id,
    seqNo,
    version: 1,
    primaryTerm: 1,
    source: Buffer.from(JSON.stringify({ id })),
    inverted: [{ field: 'body', indexOptions: 'positions', norms: true, terms: ['alpha', id], length: 2 }],
    docValues: [],
  });
  const bufferOf = (ids: string[]): SegmentBuilder => {
    const builder = new SegmentBuilder();
    ids.forEach((id, i) => builder.addDocument(make(id, i)));
    return builder;
  };
  /** Every live doc id of the manager's current snapshot (checked through lookupId and the source). */
  const liveIds = (manager: SegmentManager): string[] => {
    const snapshot = manager.acquireSnapshot();
    try {
      const out: string[] = [];
      for (const { reader, liveDocs } of snapshot.segments) {
        for (let doc = 0; doc < reader.maxDoc; doc++) {
          if (!isLive(liveDocs, doc)) continue;
          const { id } = JSON.parse(Buffer.from(reader.source(doc)).toString()) as { id: string };
          expect(reader.lookupId(id)).toBe(doc);
          out.push(id);
        }
      }
      return out.sort();
    } finally {
      snapshot.release();
    }
  };
  const idsOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  it('interleaved refreshes of two shards, one closed while the other keeps refreshing, reopen both', async () => {
    // Goal: one client serves two shards (two LMDB envs): concurrent refreshes of both land in the
    // right shard; closing one shard closes its handle in the thread without stopping it (the other
    // shard's refreshes still succeed, in the same thread); after reopening, each shard holds
    // exactly its committed docs.
    const writer = new RefreshWorkerClient();
    const [dirA, dirB] = [tempDir(), tempDir()];
    const options = { mergeInWorker: false, refreshInWorker: true, refreshWriter: writer };
    let a = await SegmentManager.open(dirA, options);
    let b = await SegmentManager.open(dirB, options);
    try {
      const expectedA: string[] = [];
      const expectedB: string[] = [];
      for (let round = 0; round < 4; round++) {
        const idsA = idsOf(`a${round}`, 50 + round * 70);
        const idsB = idsOf(`b${round}`, 120 - round * 20);
        await Promise.all([a.refresh(bufferOf(idsA), []), b.refresh(bufferOf(idsB), [])]);
        expectedA.push(...idsA);
        expectedB.push(...idsB);
      }
      // Deletes by id go through the manager, written on this thread, next to the thread's segments.
      await Promise.all([a.refresh(bufferOf(['a-late']), ['a0-1']), b.refresh(bufferOf(['b-late']), ['b1-2'])]);
      expectedA.splice(expectedA.indexOf('a0-1'), 1, 'a-late');
      expectedB.splice(expectedB.indexOf('b1-2'), 1, 'b-late');
      expect(liveIds(a)).toEqual(expectedA.slice().sort());
      expect(liveIds(b)).toEqual(expectedB.slice().sort());
      await a.commit({ n: 1 });
      await a.close();

      // The thread lives on for shard B.
      for (let round = 4; round < 7; round++) {
        const idsB = idsOf(`b${round}`, 80);
        await b.refresh(bufferOf(idsB), []);
        expectedB.push(...idsB);
      }
      expect(liveIds(b)).toEqual(expectedB.slice().sort());
      await b.commit({ n: 1 });
      await b.close();

      // Reopened with the same (still running) thread: A writes again through a fresh handle.
      a = await SegmentManager.open(dirA, options);
      b = await SegmentManager.open(dirB, options);
      expect(liveIds(a)).toEqual(expectedA.slice().sort());
      expect(liveIds(b)).toEqual(expectedB.slice().sort());
      await a.refresh(bufferOf(['a-after-reopen']), []);
      expect(liveIds(a)).toEqual([...expectedA, 'a-after-reopen'].sort());
    } finally {
      await a.close();
      await b.close();
      await writer.close();
    }
  });

  it('a crash of the shared thread fails the in-flight refreshes of both shards; the next ones succeed', async () => {
    // Goal: with requests of two shards queued in one thread, the thread dying on shard A's write
    // rejects both refreshes (nothing published in either shard), a fresh thread serves the retries
    // of both, and after commit + reopen each shard holds exactly what it committed (the half-written
    // segments are deleted). The thread is not started yet when both refreshes are posted (its module
    // loading takes far longer than freezing 200 docs), so both requests are queued before A's crash.
    const writer = new RefreshWorkerClient();
    const [dirA, dirB] = [tempDir(), tempDir()];
    const options = { mergeInWorker: false, refreshInWorker: true, refreshWriter: writer };
    let a = await SegmentManager.open(dirA, options);
    let b = await SegmentManager.open(dirB, options);
    try {
      const idsA = idsOf('a', 200);
      const idsB = idsOf('b', 200);
      const [bufferA, bufferB] = [bufferOf(idsA), bufferOf(idsB)];
      a.injectRefreshFaultForTests('uncaught');
      const outcomes = await Promise.allSettled([a.refresh(bufferA, []), b.refresh(bufferB, [])]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(/injected segment writer crash/);
      }
      expect(a.stats().docCount).toBe(0);
      expect(b.stats().docCount).toBe(0);

      await Promise.all([a.refresh(bufferA, []), b.refresh(bufferB, [])]);
      expect(liveIds(a)).toEqual(idsA.slice().sort());
      expect(liveIds(b)).toEqual(idsB.slice().sort());
      await Promise.all([a.commit({ n: 1 }), b.commit({ n: 1 })]);
      const committed = [a, b].map((m) => JSON.stringify(m.lastCommit!.segments.map((s) => s.info.id)));
      await Promise.all([a.close(), b.close()]);

      a = await SegmentManager.open(dirA, options);
      b = await SegmentManager.open(dirB, options);
      expect(liveIds(a)).toEqual(idsA.slice().sort());
      expect(liveIds(b)).toEqual(idsB.slice().sort());
      for (const [i, dir] of [dirA, dirB].entries()) {
        const raw = openShardStorage(dir);
        try {
          await pollUntil(
            () => {
              raw.root.resetReadTxn();
              return JSON.stringify(listStoredSegmentIds(raw)) === committed[i];
            },
            { description: `stored segments of shard ${i} to be exactly the committed ${committed[i]}` },
          );
        } finally {
          await closeShardStorage(raw);
        }
      }
    } finally {
      await a.close();
      await b.close();
      await writer.close();
    }
  });
});
