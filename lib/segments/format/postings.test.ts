import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_MORE_DOCS } from '../types.js';
import { BlockPostingsCursor, encodeTermPositions, encodeTermPostings, readLastDoc, readTermInfo } from './postings.js';
import { POSTINGS_BLOCK_SIZE } from './keys.js';

const origin = { segmentId: 9, field: 'body', term: 'foo' };

/** A random posting list with `count` docs: gaps, freqs, positions and norms. */
function makeList(count: number, seed: number) {
  let x = seed >>> 0 || 1;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const docs = new Int32Array(count);
  const freqs = new Int32Array(count);
  const positions: number[] = [];
  let doc = -1;
  for (let i = 0; i < count; i++) {
    doc += 1 + (rand(4) === 0 ? rand(300) : rand(3));
    docs[i] = doc;
    freqs[i] = 1 + (rand(5) === 0 ? rand(40) : 0);
    let p = 0;
    for (let k = 0; k < freqs[i]; k++) positions.push((p += rand(6)));
  }
  const norms = new Uint8Array(doc + 1);
  for (let d = 0; d <= doc; d++) norms[d] = 1 + rand(250);
  return { docs, freqs, positions: Int32Array.from(positions), count, norms };
}

function cursorOf(list: ReturnType<typeof makeList>, withPositions = true) {
  const termValue = encodeTermPostings(list);
  const positionsValue = encodeTermPositions(list);
  return new BlockPostingsCursor(termValue, true, withPositions ? () => positionsValue : null, origin);
}

describe('postings format', () => {
  it.each([1, 127, 128, 129, 1000])('next() returns every doc, freq and positions (docFreq %i)', (count) => {
    // Goal: a full scan through the block cursor gives back exactly the encoded docs, freqs and positions.
    const list = makeList(count, count * 31);
    const cursor = cursorOf(list);
    expect(cursor.cost).toBe(count);
    let p = 0;
    for (let i = 0; i < count; i++) {
      expect(cursor.next()).toBe(list.docs[i]);
      expect(cursor.freq()).toBe(list.freqs[i]);
      expect([...cursor.positions()]).toEqual([...list.positions.subarray(p, p + list.freqs[i])]);
      p += list.freqs[i];
    }
    expect(cursor.next()).toBe(NO_MORE_DOCS);
    expect(cursor.next()).toBe(NO_MORE_DOCS);
    expect(cursor.blockLastDoc()).toBe(NO_MORE_DOCS);
    const info = readTermInfo(encodeTermPostings(list), origin);
    expect(info).toEqual({ docFreq: count, totalTermFreq: list.freqs.reduce((a, b) => a + b, 0) });
    expect(readLastDoc(encodeTermPostings(list), origin)).toBe(list.docs[count - 1]);
  });

  it.each([1, 127, 128, 129, 1000])('advance/advanceShallow/block maxima follow the model across block boundaries (docFreq %i)', (count) => {
    // Goal: random interleavings of next, advance and advanceShallow agree with a naive model of the
    // blocks of 128 docs, including the block-max values (max freq, min norm) and the last doc of each block.
    const list = makeList(count, count * 7 + 1);
    const blocks: Array<{ first: number; last: number; lastDoc: number; maxFreq: number; minNorm: number }> = [];
    for (let first = 0; first < count; first += POSTINGS_BLOCK_SIZE) {
      const last = Math.min(count, first + POSTINGS_BLOCK_SIZE) - 1;
      let maxFreq = 0;
      let minNorm = 255;
      for (let i = first; i <= last; i++) {
        maxFreq = Math.max(maxFreq, list.freqs[i]);
        minNorm = Math.min(minNorm, list.norms[list.docs[i]]);
      }
      blocks.push({ first, last, lastDoc: list.docs[last], maxFreq, minNorm });
    }
    const maxDoc = list.docs[count - 1] + 2;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('next', 'advance', 'shallow', 'freq'), fc.integer({ min: 0, max: maxDoc + 5 })), { maxLength: 60 }),
        (ops) => {
          const cursor = cursorOf(list, false);
          let index = -1; // model: index of the current doc in list.docs (count = exhausted)
          let shallowBlock = 0;
          const docAt = (i: number) => (i < 0 ? -1 : i >= count ? NO_MORE_DOCS : list.docs[i]);
          for (const [op, target] of ops) {
            if (op === 'next') {
              index = Math.min(index + 1, count);
              expect(cursor.next()).toBe(docAt(index));
            } else if (op === 'advance') {
              if (target > docAt(index)) {
                while (index < count && docAt(index) < target) index++;
              }
              expect(cursor.advance(target)).toBe(docAt(index));
            } else if (op === 'shallow') {
              const currentBlock = index < 0 ? 0 : index >= count ? blocks.length : Math.floor(index / POSTINGS_BLOCK_SIZE);
              shallowBlock = Math.max(shallowBlock, currentBlock);
              while (shallowBlock < blocks.length && blocks[shallowBlock].lastDoc < target) shallowBlock++;
              expect(cursor.advanceShallow(target)).toBe(shallowBlock < blocks.length ? blocks[shallowBlock].lastDoc : NO_MORE_DOCS);
            } else if (index >= 0 && index < count) {
              expect(cursor.freq()).toBe(list.freqs[index]);
            }
            const currentBlock = index < 0 ? 0 : index >= count ? blocks.length : Math.floor(index / POSTINGS_BLOCK_SIZE);
            shallowBlock = Math.max(shallowBlock, currentBlock);
            expect(cursor.doc).toBe(docAt(index));
            const block = blocks[shallowBlock];
            expect(cursor.blockLastDoc()).toBe(block ? block.lastDoc : NO_MORE_DOCS);
            if (block) {
              expect(cursor.blockMaxFreq()).toBe(block.maxFreq);
              expect(cursor.blockMinNorm()).toBe(block.minNorm);
            }
          }
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  it('advance past the end after advanceShallow past the end is exhausted', () => {
    // Goal: a shallow skip beyond the last block followed by advance() beyond the last doc ends the cursor cleanly.
    for (const count of [1, 200]) {
      const list = makeList(count, 11);
      const last = list.docs[count - 1];
      const cursor = cursorOf(list);
      expect(cursor.advanceShallow(last + 10)).toBe(NO_MORE_DOCS);
      expect(cursor.advance(last + 10)).toBe(NO_MORE_DOCS);
      const again = cursorOf(list);
      expect(again.advanceShallow(last + 10)).toBe(NO_MORE_DOCS);
      expect(again.advance(last)).toBe(last);
      expect(again.blockLastDoc()).toBe(NO_MORE_DOCS);
      expect(again.next()).toBe(NO_MORE_DOCS);
    }
  });

  it('docs-only postings report freq 1 and no positions', () => {
    // Goal: a docs-only field stores no freqs, yet the cursor answers freq() = 1 and blockMaxFreq() = 1.
    const list = makeList(300, 5);
    const value = encodeTermPostings({ ...list, freqs: null, positions: null, norms: null });
    const cursor = new BlockPostingsCursor(value, false, null, origin);
    expect(readTermInfo(value, origin)).toEqual({ docFreq: 300, totalTermFreq: 300 });
    expect(cursor.advance(list.docs[200])).toBe(list.docs[200]);
    expect(cursor.freq()).toBe(1);
    expect(cursor.blockMaxFreq()).toBe(1);
    expect(cursor.blockMinNorm()).toBe(0);
    expect(cursor.positions().length).toBe(0);
  });

  it.each([1, 129, 1000])('every flipped byte is detected (docFreq %i)', (count) => {
    // Goal: flipping any single byte of a stored postings or positions value makes a full read throw
    // corrupt_index_exception (never a crash, a hang or silently different postings).
    const list = makeList(count, 3);
    const termValue = encodeTermPostings(list);
    const positionsValue = encodeTermPositions(list);
    const readAll = (t: Uint8Array, p: Uint8Array) => {
      const cursor = new BlockPostingsCursor(t, true, () => p, origin);
      while (cursor.next() !== NO_MORE_DOCS) {
        cursor.freq();
        cursor.positions();
      }
    };
    readAll(termValue, positionsValue);
    const step = Math.max(1, Math.floor(termValue.length / 300));
    for (const [which, value] of [['F', termValue], ['P', positionsValue]] as const) {
      for (let i = 0; i < value.length; i += which === 'F' ? step : Math.max(1, Math.floor(value.length / 300))) {
        const bad = Buffer.from(value);
        bad[i] ^= 1 << (i % 8);
        const error = (() => {
          try {
            if (which === 'F') readAll(bad, positionsValue);
            else readAll(termValue, bad);
            return null;
          } catch (e) {
            return e as { type?: string; message: string };
          }
        })();
        expect(error?.type, `flip at ${which}[${i}] gave ${error?.message}`).toBe('corrupt_index_exception');
        expect(error!.message).toContain('segment [9]');
        expect(error!.message).toContain(`${which}:body:foo`);
      }
    }
  });
});
