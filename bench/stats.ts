/**
 * Pure statistics for benchmark figures: rates and latency percentiles. No I/O, so scenarios and
 * their tests share one definition of "p99".
 */

/**
 * The `p`-th percentile (0 < p ≤ 100) of `values` by the nearest-rank method: the smallest value
 * such that at least p% of the values are ≤ it. Nearest-rank never invents a value that was not
 * measured, which matters for latency tails. Returns NaN for an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile p must be in (0, 100], got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

/** Latency summary of one series, for the later query scenarios. */
export interface LatencySummaryMs {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Summarizes latencies in milliseconds (NaN fields for an empty list). */
export function summarizeLatenciesMs(latenciesMs: readonly number[]): LatencySummaryMs {
  const count = latenciesMs.length;
  const meanMs = count === 0 ? Number.NaN : latenciesMs.reduce((sum, v) => sum + v, 0) / count;
  return {
    count,
    meanMs,
    p50Ms: percentile(latenciesMs, 50),
    p90Ms: percentile(latenciesMs, 90),
    p99Ms: percentile(latenciesMs, 99),
    maxMs: count === 0 ? Number.NaN : Math.max(...latenciesMs),
  };
}

/** Items per second over `elapsedMs`; NaN when no time elapsed (a rate we cannot claim). */
export function ratePerSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : Number.NaN;
}
