import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import { closeShardStorage, openShardStorage } from './env.js';
import {
  allLiveDocs,
  countDeleted,
  decodeLiveDocs,
  encodeLiveDocs,
  isLive,
  listStoredLiveDocs,
  LiveDocsEditor,
  liveDocsKey,
  liveDocsWithDeleted,
  readLiveDocs,
  writeLiveDocs,
} from './live-docs.js';

describe('live docs bitmaps', () => {
  it('agree with a set of deleted docs, and the stored record round-trips', () => {
    // Goal: for random maxDoc and deletes, isLive/countDeleted match a Set model and the encoded
    // record decodes to the same bitmap and count.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }).chain((maxDoc) => fc.tuple(fc.constant(maxDoc), fc.uniqueArray(fc.nat(maxDoc - 1)))), ([maxDoc, deleted]) => {
        const bits = liveDocsWithDeleted(maxDoc, deleted);
        const set = new Set(deleted);
        if (deleted.length === 0) expect(bits).toBeNull();
        for (let d = 0; d < maxDoc; d++) expect(isLive(bits, d)).toBe(!set.has(d));
        expect(countDeleted(bits, maxDoc)).toBe(set.size);
        if (bits !== null) {
          const decoded = decodeLiveDocs(encodeLiveDocs(bits, maxDoc, set.size), 3, 4, maxDoc);
          expect(decoded.delCount).toBe(set.size);
          expect([...decoded.liveDocs]).toEqual([...bits]);
        }
      }),
      { numRuns: 200, seed: 3 },
    );
    // Padding bits past maxDoc stay clear, so popcounts need no masking.
    expect([...allLiveDocs(10)]).toEqual([0xff, 0x03]);
  });

  it('detects any flipped byte as corrupt_index_exception', () => {
    // Goal: a bit flip anywhere in the stored record (header, bitmap or checksum) is caught by the CRC.
    const maxDoc = 50;
    const record = encodeLiveDocs(liveDocsWithDeleted(maxDoc, [1, 7, 49])!, maxDoc, 3);
    for (let i = 0; i < record.length; i++) {
      const bad = Buffer.from(record);
      bad[i] ^= 0x10;
      let caught: unknown = null;
      try {
        decodeLiveDocs(bad, 9, 2, maxDoc);
      } catch (err) {
        caught = err;
      }
      expect((caught as QuarryError).type).toBe('corrupt_index_exception');
      expect((caught as QuarryError).message).toContain('segment [9] generation [2]');
    }
    expect(() => decodeLiveDocs(record, 9, 2, 51)).toThrow(/maxDoc 50 does not match/);
  });

  it('the editor copies on write and never changes the published base', () => {
    // Goal: deletes through LiveDocsEditor leave the base bitmap untouched (snapshot isolation).
    const base = liveDocsWithDeleted(20, [3])!;
    const before = Buffer.from(base);
    const editor = new LiveDocsEditor(base, 20, 1);
    expect(editor.delete(3)).toBe(false);
    expect(editor.changed).toBe(false);
    expect(editor.result()).toBe(base);
    expect(editor.delete(4)).toBe(true);
    expect(editor.delete(4)).toBe(false);
    expect(editor.delCount).toBe(2);
    expect(Buffer.from(base).equals(before)).toBe(true);
    expect(isLive(editor.result(), 4)).toBe(false);
    const fromNull = new LiveDocsEditor(null, 9, 0);
    fromNull.delete(8);
    expect(countDeleted(fromNull.result(), 9)).toBe(1);
  });

  it('is written to and read from a real LMDB env under 0x02 segId gen', async () => {
    // Goal: generations are separate keys, listed in key order, and verified when read.
    const dir = mkdtempSync(join(tmpdir(), 'quarry-livedocs-'));
    const storage = openShardStorage(dir);
    try {
      await writeLiveDocs(storage, 2, 1, liveDocsWithDeleted(10, [0])!, 10, 1);
      await writeLiveDocs(storage, 2, 2, liveDocsWithDeleted(10, [0, 9])!, 10, 2);
      await writeLiveDocs(storage, 1, 5, liveDocsWithDeleted(3, [2])!, 3, 1);
      expect(listStoredLiveDocs(storage)).toEqual([
        { segmentId: 1, generation: 5 },
        { segmentId: 2, generation: 1 },
        { segmentId: 2, generation: 2 },
      ]);
      expect(readLiveDocs(storage, 2, 2, 10).delCount).toBe(2);
      expect(() => readLiveDocs(storage, 2, 3, 10)).toThrow(/missing/);
      // Corrupt the stored bytes behind the reader's back.
      const bad = Buffer.from(storage.data.getBinary(liveDocsKey(2, 1))!);
      bad[10] ^= 1;
      await storage.data.put(liveDocsKey(2, 1), bad);
      expect(() => readLiveDocs(storage, 2, 1, 10)).toThrow(QuarryError);
    } finally {
      await closeShardStorage(storage);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
