import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardStorage } from './env.js';
import { SegmentBuilder } from './builder.js';
import { writeSegment } from './writer.js';
import { mergeSegments } from './merger.js';
import { deleteSegmentData, openSegmentReader, readSegmentInfo } from './reader.js';
import { docsArb, expectReaderMatches, tempStorage } from './format/model.test-helper.js';
import { fieldOrdinalKey, TAG, utf8 } from './format/keys.js';
import type { DocumentInput, SegmentInfo } from './types.js';

describe('mergeSegments', () => {
  let storage: ShardStorage;
  let cleanup: () => Promise<void>;
  let nextSegmentId = 1;
  beforeAll(() => ({ storage, cleanup } = tempStorage()));
  afterAll(async () => cleanup());

  it('equals the model of the merged live docs', async () => {
    // Goal: merging random segments with random live docs gives a segment that answers every reader call
    // like the model of the live docs concatenated in source order, with doc maps that say where each went.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(docsArb(25), fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }), fc.boolean()), { minLength: 1, maxLength: 4 }),
        async (segments) => {
          const sources: Array<{ info: SegmentInfo; liveDocs: Uint8Array | null }> = [];
          const expected: DocumentInput[] = [];
          const expectedMaps: number[][] = [];
          for (const [docs, liveFlags, allLive] of segments) {
            const builder = new SegmentBuilder();
            for (const doc of docs) builder.addDocument(doc);
            const { info } = await writeSegment(storage, nextSegmentId++, builder);
            let liveDocs: Uint8Array | null = null;
            if (!allLive) {
              liveDocs = new Uint8Array((docs.length + 7) >>> 3);
              docs.forEach((_, d) => {
                if (liveFlags[d]) liveDocs![d >>> 3] |= 1 << (d & 7);
              });
            }
            const map: number[] = [];
            docs.forEach((doc, d) => {
              if (allLive || liveFlags[d]) {
                map.push(expected.length);
                expected.push(doc);
              } else map.push(-1);
            });
            expectedMaps.push(map);
            sources.push({ info, liveDocs });
          }
          const mergedId = nextSegmentId++;
          const { info, docMaps } = await mergeSegments(storage, mergedId, sources);
          expect(info).toMatchObject({ id: mergedId, maxDoc: expected.length, source: 'merge' });
          expect(docMaps.map((m) => [...m])).toEqual(expectedMaps);
          expect(readSegmentInfo(storage, mergedId)).toEqual(info);
          expectReaderMatches(openSegmentReader(storage, info), expected);
          for (const { info: source } of sources) await deleteSegmentData(storage, source.id);
          await deleteSegmentData(storage, mergedId);
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it('fails with corrupt_index_exception when a source is corrupt', async () => {
    // Goal: a merge verifies what it reads: a flipped byte in a source's postings stops the merge with
    // corrupt_index_exception and leaves no meta for the new segment.
    const builder = new SegmentBuilder();
    for (let i = 0; i < 300; i++) {
      builder.addDocument({
        id: `d${i}`, seqNo: i, version: 1, primaryTerm: 1, source: new Uint8Array([i & 0xff]),
        inverted: [{ field: 'body', indexOptions: 'freqs', norms: true, terms: ['common', `t${i % 7}`], length: 2 }],
        docValues: [],
      });
    }
    const { info } = await writeSegment(storage, nextSegmentId++, builder);
    // 'common' is in every doc: its postings are not inline but the field's first 'F' value.
    const key = fieldOrdinalKey(info.id, TAG.postings, utf8('body'), 0);
    const value = Buffer.from(storage.data.getBinary(key)!);
    value[value.length - 3] ^= 0x40;
    await storage.data.put(key, value);
    const mergedId = nextSegmentId++;
    await expect(mergeSegments(storage, mergedId, [{ info, liveDocs: null }])).rejects.toMatchObject({ type: 'corrupt_index_exception' });
    expect(readSegmentInfo(storage, mergedId)).toBeNull();
  });
});
