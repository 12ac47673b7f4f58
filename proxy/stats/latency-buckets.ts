// Latency histogram buckets on a log scale: bucket 0 holds calls up to 0.25 ms, bucket i holds
// (0.25·2^((i-1)/2), 0.25·2^(i/2)] ms, the last one everything above ~185 s. Each bucket spans a
// factor √2, so a percentile read from them is within about ±19% of the true value.

/** Number of latency buckets of one histogram. */
export const LATENCY_BUCKETS = 40;

const FIRST_UPPER_MS = 0.25;

/** The bucket a duration falls into. */
export function latencyBucket(ms: number): number {
  if (!(ms > FIRST_UPPER_MS)) return 0;
  const index = Math.ceil(2 * Math.log2(ms / FIRST_UPPER_MS));
  return index < LATENCY_BUCKETS ? index : LATENCY_BUCKETS - 1;
}

// A bucket is reported by its geometric middle, rounded to 0.01 ms.
/** The value that stands for a bucket. */
export function bucketValue(index: number): number {
  const ms = index === 0 ? FIRST_UPPER_MS / 2 : FIRST_UPPER_MS * 2 ** ((index - 0.5) / 2);
  return Math.round(ms * 100) / 100;
}

/**
 * The `q` quantile (0..1) of a histogram (counts from `offset`, LATENCY_BUCKETS of them), or null when it holds no call.
 * @example quantile(histogram, 0, 0.95)
 */
export function quantile(counts: ArrayLike<number>, offset: number, q: number): number | null {
  let total = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) total += counts[offset + i] ?? 0;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    seen += counts[offset + i] ?? 0;
    if (seen >= rank) return bucketValue(i);
  }
  return bucketValue(LATENCY_BUCKETS - 1);
}
