// Goal: the checksum and the routing hash agree with their reference implementations' published vectors.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32c } from './crc32c.js';
import { routingHash, routingNumShards, shardForRouting } from './murmur3.js';
import { ByteReader, ByteWriter } from './varint.js';
import { QuarryError, errors } from './errors.js';

describe('crc32c', () => {
  it('matches the standard check value and RFC 3720 vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(crc32c(inc)).toBe(0x46dd794e);
  });

  it('is the same computed in one piece or continued over any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, cut) => {
        const at = bytes.length === 0 ? 0 : cut % bytes.length;
        expect(crc32c(bytes, at, bytes.length, crc32c(bytes, 0, at))).toBe(crc32c(bytes));
      }),
    );
  });
});

describe('routing', () => {
  it('hashes like Elasticsearch Murmur3HashFunction (its unit-test vectors)', () => {
    expect(routingHash('hell')).toBe(0x5a0cb7c3 | 0);
    expect(routingHash('hello')).toBe(0xd7c31989 | 0);
    expect(routingHash('hello w')).toBe(0x22ab2984 | 0);
  });

  it('uses Elasticsearch 7+ routing shard counts', () => {
    expect(routingNumShards(1)).toBe(1024);
    expect(routingNumShards(2)).toBe(1024);
    expect(routingNumShards(3)).toBe(768);
    expect(routingNumShards(5)).toBe(640);
    expect(routingNumShards(1024)).toBe(2048);
  });

  it('always lands in range and spreads ids over shards', () => {
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 10_000; i++) counts[shardForRouting(`doc-${i}`, 5)]++;
    for (const c of counts) expect(c).toBeGreaterThan(1500);
    fc.assert(fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (id, n) => {
      const s = shardForRouting(id, n);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(n);
    }));
  });
});

describe('varint', () => {
  it('round-trips any safe integer', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeNat()), (values) => {
        const w = new ByteWriter(4);
        for (const v of values) w.varint(v);
        const r = new ByteReader(w.finish());
        for (const v of values) expect(r.varint()).toBe(v);
      }),
    );
  });
});

describe('errors', () => {
  it('renders Elasticsearch error JSON with root_cause and status', () => {
    const body = errors.indexNotFound('nope').toResponse();
    expect(body.status).toBe(404);
    expect(body.error.type).toBe('index_not_found_exception');
    expect(body.error.reason).toBe('no such index [nope]');
    expect((body.error.root_cause as unknown[])[0]).toMatchObject({ type: 'index_not_found_exception', index: 'nope' });
    expect(new QuarryError('version_conflict_engine_exception', 'x').status).toBe(409);
  });
});
