import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardStorage } from './env.js';
import { SegmentBuilder } from './builder.js';
import { writeSegment } from './writer.js';
import { openSegmentReader, readSegmentInfo } from './reader.js';
import { docsArb, expectReaderMatches, tempStorage } from './format/model.test-helper.js';
import { FORMAT_VERSION, TAG, tagKey } from './format/keys.js';

describe('builder → writeSegment → reader', () => {
  let storage: ShardStorage;
  let cleanup: () => Promise<void>;
  let nextSegmentId = 1;
  beforeAll(() => ({ storage, cleanup } = tempStorage()));
  afterAll(async () => cleanup());

  it('gives back what was indexed, through the buffer view and the written segment', async () => {
    // Goal: for random documents (repeating terms, positions, several fields, doc values, unicode ids),
    // both builder.asReader() and the segment written to a real LMDB env answer every SegmentReader
    // call exactly like a naive in-memory model; deleted ordinals are written and reported.
    await fc.assert(
      fc.asyncProperty(docsArb(40), fc.array(fc.nat(), { maxLength: 5 }), async (docs, deletes) => {
        const builder = new SegmentBuilder();
        for (const doc of docs) builder.addDocument(doc);
        const deleted = [...new Set(deletes.filter((d) => d < docs.length))].sort((a, b) => a - b);
        for (const d of deleted) builder.deleteDoc(d);
        expect(builder.maxDoc).toBe(docs.length);
        expect(builder.numDocs).toBe(docs.length - deleted.length);
        expectReaderMatches(builder.asReader(), docs);

        const segmentId = nextSegmentId++;
        const { info, deletedOrdinals } = await writeSegment(storage, segmentId, builder);
        expect(deletedOrdinals).toEqual(deleted);
        expect(info).toMatchObject({ id: segmentId, maxDoc: docs.length, formatVersion: FORMAT_VERSION, source: 'refresh' });
        const seqNos = docs.map((d) => d.seqNo);
        expect(info.minSeqNo).toBe(docs.length ? Math.min(...seqNos) : -1);
        expect(info.maxSeqNo).toBe(docs.length ? Math.max(...seqNos) : -1);
        expect(info.sizeBytes).toBeGreaterThan(0);
        expect(readSegmentInfo(storage, segmentId)).toEqual(info);
        expectReaderMatches(openSegmentReader(storage, info), docs);
      }),
      { numRuns: 60, seed: 20240601 },
    );
  });

  it('rejects a document before changing anything', () => {
    // Goal: an invalid document (immense term, bad positions, duplicate field) throws illegal_argument_exception and leaves the buffer untouched.
    const builder = new SegmentBuilder();
    const base = { id: 'x', seqNo: 0, version: 1, primaryTerm: 1, source: new Uint8Array(), docValues: [] };
    builder.addDocument({ ...base, inverted: [{ field: 'f', indexOptions: 'positions', norms: true, terms: ['a'], length: 1 }] });
    const bad = [
      [{ field: 'f', indexOptions: 'positions', norms: true, terms: ['a', 'é'.repeat(2000)], length: 2 }],
      [{ field: 'f', indexOptions: 'positions', norms: true, terms: ['a', 'b'], positions: [3, 1], length: 2 }],
      [{ field: 'f', indexOptions: 'positions', norms: true, terms: ['a'], length: 1 }, { field: 'f', indexOptions: 'positions', norms: true, terms: ['b'], length: 1 }],
      [{ field: 'f', indexOptions: 'freqs', norms: true, terms: ['a'], length: 1 }],
      [{ field: '_id', indexOptions: 'docs', norms: false, terms: ['a'], length: 1 }],
      [{ field: 'a\0b', indexOptions: 'docs', norms: false, terms: ['a'], length: 1 }],
    ] as const;
    for (const inverted of bad) {
      expect(() => builder.addDocument({ ...base, id: 'y', inverted: inverted as never })).toThrow(expect.objectContaining({ type: 'illegal_argument_exception' }));
    }
    expect(builder.maxDoc).toBe(1);
    expect(builder.lookupId('y')).toBe(-1);
    expect(builder.asReader().termInfo('f', 'a')).toEqual({ docFreq: 1, totalTermFreq: 1 });
  });

  it('refuses to write over leftovers and treats a segment without meta as absent', async () => {
    // Goal: the meta key is what makes a segment exist: without it readSegmentInfo says null (an interrupted
    // write), and writing again under an id that still has keys is refused until the data is deleted.
    const builder = new SegmentBuilder();
    builder.addDocument({ id: 'a', seqNo: 0, version: 1, primaryTerm: 1, source: new Uint8Array([1]), inverted: [], docValues: [] });
    const segmentId = nextSegmentId++;
    await writeSegment(storage, segmentId, builder);
    await storage.data.remove(tagKey(segmentId, TAG.meta));
    expect(readSegmentInfo(storage, segmentId)).toBeNull();
    await expect(writeSegment(storage, segmentId, builder)).rejects.toMatchObject({ type: 'illegal_state_exception' });
  });

  it('yields to the event loop while writing a large buffer', async () => {
    // Goal: a refresh of many docs never holds the event loop for long: a timer keeps firing during the write
    // and the longest gap between its ticks stays bounded.
    const builder = new SegmentBuilder();
    const words = Array.from({ length: 5000 }, (_, i) => `w${i}`);
    for (let i = 0; i < 20_000; i++) {
      const terms = Array.from({ length: 30 }, (_, k) => words[(i * 7 + k * 131) % words.length]);
      builder.addDocument({
        id: `doc-${i}`,
        seqNo: i,
        version: 1,
        primaryTerm: 1,
        source: new Uint8Array(200).fill(i & 0xff),
        inverted: [{ field: 'body', indexOptions: 'positions', norms: true, terms, length: terms.length }],
        docValues: [{ field: 'n', type: 'numeric', values: [i] }],
      });
    }
    let last = performance.now();
    let maxGapMs = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      ticks++;
    }, 1);
    const started = performance.now();
    const { info } = await writeSegment(storage, nextSegmentId++, builder);
    const elapsedMs = performance.now() - started;
    clearInterval(timer);
    expect(info.maxDoc).toBe(20_000);
    expect(ticks).toBeGreaterThan(2);
    // The writer's slices are ~10 ms; leave room for GC pauses and a loaded CI machine.
    expect(maxGapMs).toBeLessThan(100);
    console.log(`write of 20k docs: ${elapsedMs.toFixed(0)} ms, longest event-loop gap ${maxGapMs.toFixed(1)} ms`);
  });
});
