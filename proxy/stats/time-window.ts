import { LATENCY_BUCKETS, latencyBucket } from './latency-buckets.js';

/** Width of one time bucket (10 s). */
export const BUCKET_MS = 10_000;

// One time bucket's counters, side by side in one typed array: calls, errors, then the histogram.
const CALLS = 0;
const ERRORS = 1;
const HISTOGRAM = 2;
const STRIDE = HISTOGRAM + LATENCY_BUCKETS;

/** Calls, errors and latency histogram summed over some buckets. */
export interface WindowSum {
  calls: number;
  errors: number;
  /** LATENCY_BUCKETS counts. */
  histogram: Uint32Array;
}

/**
 * Counters of the last `slots` time buckets of BUCKET_MS in a fixed ring (a bucket is reused, and
 * zeroed, once its time is past), so memory is constant whatever the traffic: `slots` × 42 × 4
 * bytes. No timers: a bucket's time is checked on every write and read.
 */
export class TimeWindow {
  private readonly counts: Uint32Array;
  /** The bucket number (time / BUCKET_MS) each slot holds; -1 when never used. */
  private readonly stamps: Float64Array;

  constructor(readonly slots: number) {
    this.counts = new Uint32Array(slots * STRIDE);
    this.stamps = new Float64Array(slots).fill(-1);
  }

  /** Bytes held by the counters (constant). */
  get bytes(): number {
    return this.counts.byteLength + this.stamps.byteLength;
  }

  /** Counts one call that ended at `now`. */
  record(now: number, durationMs: number, error: boolean): void {
    const slot = this.slotFor(Math.floor(now / BUCKET_MS));
    if (slot < 0) return;
    const base = slot * STRIDE;
    const counts = this.counts;
    counts[base + CALLS]!++;
    if (error) counts[base + ERRORS]!++;
    counts[base + HISTOGRAM + latencyBucket(durationMs)]!++;
  }

  /** Sums the last `buckets` buckets up to the one holding `now` (the current one included). */
  sum(now: number, buckets: number): WindowSum {
    const sum: WindowSum = { calls: 0, errors: 0, histogram: new Uint32Array(LATENCY_BUCKETS) };
    const current = Math.floor(now / BUCKET_MS);
    for (let number = current - Math.min(buckets, this.slots) + 1; number <= current; number++) this.addBucket(number, sum);
    return sum;
  }

  /** One bucket by number (time / BUCKET_MS); zeros when it is not held. */
  bucket(number: number): WindowSum {
    const sum: WindowSum = { calls: 0, errors: 0, histogram: new Uint32Array(LATENCY_BUCKETS) };
    this.addBucket(number, sum);
    return sum;
  }

  private addBucket(number: number, sum: WindowSum): void {
    const slot = number % this.slots;
    if (number < 0 || this.stamps[slot] !== number) return;
    const base = slot * STRIDE;
    sum.calls += this.counts[base + CALLS]!;
    sum.errors += this.counts[base + ERRORS]!;
    for (let i = 0; i < LATENCY_BUCKETS; i++) sum.histogram[i]! += this.counts[base + HISTOGRAM + i]!;
  }

  // The slot of a bucket number, zeroed first when it last held an older bucket; -1 when it holds a newer one (a clock step back).
  private slotFor(number: number): number {
    const slot = number % this.slots;
    const stamp = this.stamps[slot]!;
    if (stamp > number) return -1;
    if (stamp !== number) {
      this.counts.fill(0, slot * STRIDE, (slot + 1) * STRIDE);
      this.stamps[slot] = number;
    }
    return slot;
  }
}
