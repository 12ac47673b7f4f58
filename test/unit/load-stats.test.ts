import t from 'tap';
import { LoadSchema, SeriesAnswerSchema } from '../../src/contract/load.js';
import { bucketValue, LATENCY_BUCKETS, latencyBucket, quantile } from '../../proxy/stats/latency-buckets.js';
import { LoadStats } from '../../proxy/stats/load-stats.js';
import { BUCKET_MS, TimeWindow } from '../../proxy/stats/time-window.js';

// A bucket boundary, so "the current bucket" is exact in every test.
const START = 1_700_000_000_000 - (1_700_000_000_000 % BUCKET_MS);

function clocked() {
  const clock = { now: START };
  const stats = new LoadStats({ now: () => clock.now, isService: (name) => name !== 'typo', isInstance: (id) => id !== 'gone' });
  return { clock, stats };
}

const ok = (durationMs: number, instance = 'fs-1') => ({ service: 'fs', instance, durationMs, outcome: 'ok' as const });

t.test('latency buckets: log scale, each value lands in the bucket that reports it within a factor √2', async (t) => {
  t.equal(latencyBucket(0), 0);
  t.equal(latencyBucket(0.25), 0);
  t.equal(latencyBucket(1e9), LATENCY_BUCKETS - 1, 'anything huge lands in the last bucket');
  for (const ms of [0.3, 1, 3.7, 12, 80, 250, 1_000, 9_999, 60_000]) {
    const reported = bucketValue(latencyBucket(ms));
    t.ok(reported / ms < 1.42 && ms / reported < 1.42, `${ms} ms reported as ${reported} ms`);
  }
  const counts = new Array<number>(LATENCY_BUCKETS).fill(0);
  t.equal(quantile(counts, 0, 0.5), null, 'no call: no percentile');
  counts[latencyBucket(1)] = 90;
  counts[latencyBucket(100)] = 10;
  t.equal(quantile(counts, 0, 0.5), bucketValue(latencyBucket(1)));
  t.equal(quantile(counts, 0, 0.95), bucketValue(latencyBucket(100)), 'p95 of 90 fast and 10 slow calls is slow');
});

t.test('an instance and its service: calls, percentiles, error rate, last error, in flight', async (t) => {
  const { clock, stats } = clocked();
  for (let i = 0; i < 19; i++) stats.record(ok(2));
  stats.record({ service: 'fs', instance: 'fs-1', durationMs: 5_000, outcome: 'timeout', errorCode: 'CALL_TIMEOUT', errorMessage: 'fs.slow timed out after 5000 ms' });
  stats.record({ service: 'fs', instance: 'fs-2', durationMs: 1, outcome: 'tool_error' });
  stats.record({ service: 'fs', instance: undefined, durationMs: 1, outcome: 'error', errorCode: 'TOOL_NOT_FOUND', errorMessage: 'no tool', fault: 'caller' });
  // An instance refusing bad arguments is the caller's doing too (the breakers' judgement, classifyFailure).
  stats.record({ service: 'fs', instance: 'fs-1', durationMs: 1, outcome: 'error', errorCode: 'TOOL_ERROR', errorMessage: 'bad arguments', fault: 'caller' });
  stats.begin('fs', 'fs-1');
  stats.begin('fs', 'fs-1');
  stats.end('fs', 'fs-1');
  clock.now += 1_234;
  const one = stats.instanceLoad('fs-1', 3);
  t.same(LoadSchema.parse(one), one, 'the wire shape');
  t.match(one, { inFlight: 1, calls1m: 20, calls5m: 20, errorRate: 0.05, restarts: 3, lastError: { at: START, message: 'fs.slow timed out after 5000 ms', code: 'CALL_TIMEOUT' } });
  t.equal(one.p50Ms, bucketValue(latencyBucket(2)));
  t.equal(one.p95Ms, bucketValue(latencyBucket(2)), 'one slow call in 20 is the 100th percentile, not the 95th');
  const two = stats.instanceLoad('fs-2');
  t.match(two, { calls5m: 1, errorRate: 0, inFlight: 0 }, "a tool's own error result is an answer, not an error");
  t.equal(two.lastError, undefined);
  t.match(stats.serviceLoad('fs', 4), { inFlight: 1, calls5m: 21, restarts: 4, lastError: { code: 'CALL_TIMEOUT' } }, 'the unknown tool (the caller’s mistake) is not counted');
  t.same(stats.instanceLoad('nobody'), { inFlight: 0, calls1m: 0, calls5m: 0, p50Ms: null, p95Ms: null, errorRate: 0, restarts: 0 }, 'no figures yet: zeros');
  stats.record({ service: 'typo', instance: undefined, durationMs: 1, outcome: 'error', errorCode: 'SERVICE_UNAVAILABLE' });
  t.equal(stats.size().services, 1, 'a name that is no service gets no figures');
  stats.record({ service: 'fs', instance: 'gone', durationMs: 1, outcome: 'ok' });
  t.equal(stats.size().instances, 2, 'a call that ended after its instance left creates no figures');
});

t.test('buckets roll over with the clock: 1 minute, 5 minutes, then nothing', async (t) => {
  const { clock, stats } = clocked();
  stats.record(ok(1));
  clock.now += 50_000;
  t.match(stats.instanceLoad('fs-1'), { calls1m: 1, calls5m: 1 }, '50 s later: within the minute');
  clock.now += 20_000;
  t.match(stats.instanceLoad('fs-1'), { calls1m: 0, calls5m: 1 }, '70 s later: out of the minute, within five');
  stats.record(ok(1));
  clock.now += 240_000;
  t.match(stats.instanceLoad('fs-1'), { calls1m: 0, calls5m: 1 }, 'the first call has left the 5 minutes, the second has not');
  clock.now += 60_000;
  t.match(stats.instanceLoad('fs-1'), { calls1m: 0, calls5m: 0, p50Ms: null, errorRate: 0 }, 'ten minutes on, all gone');
  // A slot reused after a full turn of the ring starts from zero.
  const fresh = clocked();
  fresh.stats.record(ok(1));
  fresh.clock.now = START + 30 * BUCKET_MS;
  fresh.stats.record(ok(1));
  t.match(fresh.stats.instanceLoad('fs-1'), { calls1m: 1, calls5m: 1 }, 'a reused slot was zeroed');
});

t.test('series: 10-second buckets, oldest first, empty ones as zeros', async (t) => {
  const { clock, stats } = clocked();
  stats.record(ok(4));
  stats.record({ service: 'fs', instance: 'fs-1', durationMs: 40, outcome: 'error', errorCode: 'SERVICE_UNAVAILABLE' });
  clock.now += 2 * BUCKET_MS + 5;
  stats.record(ok(8));
  const series = SeriesAnswerSchema.parse(stats.series('fs', 1));
  t.equal(series.bucketMs, 10_000);
  t.equal(series.points.length, 6, 'one minute = 6 buckets');
  const last = series.points.at(-1)!;
  t.equal(last.at, START + 2 * BUCKET_MS, 'the newest bucket is the current one');
  t.match(last, { calls: 1, errors: 0, p50Ms: bucketValue(latencyBucket(8)) });
  t.match(series.points.at(-2), { calls: 0, errors: 0, p50Ms: null, p95Ms: null }, 'an empty bucket');
  t.match(series.points.at(-3), { calls: 2, errors: 1, p95Ms: bucketValue(latencyBucket(40)) });
  t.ok(
    series.points.every((point, i) => i === 0 || point.at - series.points[i - 1]!.at === BUCKET_MS),
    'consecutive',
  );
  t.equal(stats.series('fs', 15).points.length, 90);
  t.equal(
    stats.series('unknown', 15).points.every((p) => p.calls === 0),
    true,
    'a service without figures: zeros',
  );
});

t.test('memory is bounded: constant per instance whatever the traffic, and freed when it leaves', async (t) => {
  const { clock, stats } = clocked();
  stats.record(ok(1));
  const before = stats.size();
  for (let i = 0; i < 100_000; i++) {
    clock.now += 37;
    stats.record(ok(i % 5_000));
  }
  t.same(stats.size(), before, '100,000 calls over an hour: the same counters');
  t.equal(new TimeWindow(30).bytes, 30 * 42 * 4 + 30 * 8, 'an instance: 30 buckets of 42 counters and their stamps');
  stats.forgetInstance('fs-1');
  stats.forgetService('fs');
  t.same(stats.size(), { instances: 0, services: 0, bytes: 0 });
  stats.end('fs', 'fs-1');
  t.equal(stats.instanceLoad('fs-1').inFlight, 0, 'an end after the instance left does not go negative');
});
