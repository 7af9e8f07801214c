import { describe, expect, it } from 'vitest';
import { byte4ToInt, intToByte4, NORM_DECODE_TABLE, NORM_EXACT_VALUES, decodeNorms, encodeNorms } from './norms.js';

describe('norms (Lucene SmallFloat)', () => {
  it('matches Lucene on known values', () => {
    // Goal: the encoding is exactly Lucene's SmallFloat.intToByte4/byte4ToInt, which BM25 needs to score like Elasticsearch.
    expect(NORM_EXACT_VALUES).toBe(24);
    for (let i = 0; i < 40; i++) expect(intToByte4(i)).toBe(i); // exact up to 24 + 16 (subnormal and first shift)
    expect(intToByte4(40)).toBe(40);
    expect(byte4ToInt(41)).toBe(42);
    expect(intToByte4(42)).toBe(41);
    expect(intToByte4(43)).toBe(41);
    expect(intToByte4(0x7fffffff)).toBe(255);
    expect(byte4ToInt(255)).toBe(24 + (0xf << 27) - 0); // 24 + int4ToLong(231) = 24 + 15 * 2^27
    expect(NORM_DECODE_TABLE[100]).toBe(byte4ToInt(100));
  });

  it('is monotonic and round-trips every byte', () => {
    // Goal: the smallest norm byte is the shortest field (block-max relies on it) and decode∘encode is the identity on bytes.
    let prev = -1;
    for (let b = 0; b < 256; b++) {
      const length = byte4ToInt(b);
      expect(length).toBeGreaterThan(prev);
      expect(intToByte4(length)).toBe(b);
      prev = length;
    }
    for (let length = 0; length < 100_000; length += 7) {
      expect(byte4ToInt(intToByte4(length))).toBeLessThanOrEqual(length);
      expect(intToByte4(length + 7)).toBeGreaterThanOrEqual(intToByte4(length));
    }
  });

  it('detects a flipped byte in a stored norms value', () => {
    // Goal: a norms value with one flipped byte raises corrupt_index_exception rather than returning wrong lengths.
    const norms = Uint8Array.from([1, 2, 3, 200, 0]);
    const value = encodeNorms(norms);
    expect(decodeNorms(value, 5, 1, 'N:body', 'body')).toEqual(norms);
    for (let i = 0; i < value.length; i++) {
      const bad = Buffer.from(value);
      bad[i] ^= 0x10;
      expect(() => decodeNorms(bad, 5, 1, 'N:body', 'body')).toThrow(expect.objectContaining({ type: 'corrupt_index_exception' }));
    }
  });
});
