/**
 * Document routing exactly as Elasticsearch does it: murmur3_x86_32 (seed 0) over the routing
 * string's UTF-16LE bytes, then floorMod over the index's routing shards, divided by the routing
 * factor. The same `_id` lands on the same shard number as in Elasticsearch.
 */

/** murmur3_x86_32 of `bytes` with `seed`, as a signed 32-bit int (Java's int). */
export function murmur3x86_32(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h1 = seed | 0;
  const len = bytes.length;
  const roundedEnd = len & ~3;
  for (let i = 0; i < roundedEnd; i += 4) {
    let k1 = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  let k1 = 0;
  switch (len & 3) {
    case 3:
      k1 = bytes[roundedEnd + 2] << 16;
    // falls through
    case 2:
      k1 |= bytes[roundedEnd + 1] << 8;
    // falls through
    case 1:
      k1 |= bytes[roundedEnd];
      k1 = Math.imul(k1, c1);
      k1 = (k1 << 15) | (k1 >>> 17);
      k1 = Math.imul(k1, c2);
      h1 ^= k1;
  }
  h1 ^= len;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 | 0;
}

/** Elasticsearch's Murmur3HashFunction.hash(String): murmur3 over the UTF-16LE code units. */
export function routingHash(routing: string): number {
  const bytes = new Uint8Array(routing.length * 2);
  for (let i = 0; i < routing.length; i++) {
    const c = routing.charCodeAt(i);
    bytes[i * 2] = c & 0xff;
    bytes[i * 2 + 1] = c >>> 8;
  }
  return murmur3x86_32(bytes, 0);
}

/** Elasticsearch's default routing shard count for a new index (7.0+): numShards·2^k ≤ 1024. */
export function routingNumShards(numberOfShards: number): number {
  const log2NumShards = 32 - Math.clz32(numberOfShards - 1);
  const numSplits = Math.max(1, 10 - log2NumShards);
  return numberOfShards * 2 ** numSplits;
}

/** The shard number a routing value (the `_id` unless `routing` is given) goes to. */
export function shardForRouting(routing: string, numberOfShards: number): number {
  const routingShards = routingNumShards(numberOfShards);
  const factor = routingShards / numberOfShards;
  const hash = routingHash(routing);
  const mod = ((hash % routingShards) + routingShards) % routingShards;
  return Math.floor(mod / factor);
}
