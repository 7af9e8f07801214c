/** A seeded pseudo-random generator for randomized tests, so a failing seed replays the same choices. */

/** Seeded random numbers (mulberry32: tiny, fast, good enough for test choices). */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An independent generator derived from this one (for concurrent writers). */
  fork(): SeededRandom {
    return new SeededRandom(Math.floor(this.next() * 2 ** 32));
  }
}

/** The seed of a randomized test: `QUARRY_SEED` when set (to replay a failure), else a fresh one. */
export function testSeed(): number {
  const fromEnv = process.env.QUARRY_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isInteger(seed)) throw new Error(`QUARRY_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
    return seed >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32);
}
