import { performance } from 'node:perf_hooks';
import type { Driver } from './driver.js';
import { cpuMs, familyCpuMs, runQueueWaitMs } from './proc-info.js';
import { mean, percentile } from './stats.js';

export interface LatencyResult {
  calls: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface ThroughputResult {
  calls: number;
  concurrency: number;
  seconds: number;
  callsPerSec: number;
  /** process.hrtime.bigint() in microseconds at the start and end of the measured window (for CPU profiles). */
  windowUs: [number, number];
  /** CPU ms per call of the watched process during the window (robust when the machine is shared); NaN if none watched. */
  cpuMsPerCall: number;
  /** The same for every watched process plus their descendants (bridge + server; proxy + sidecar + server). */
  familyCpuMsPerCall: number;
  /** Own CPU ms per call of each watched process, in the order given (without descendants). */
  processCpuMsPerCall: number[];
  /** Share of the window (%) each watched process's main thread was runnable but waiting for a CPU: starvation on a shared machine. */
  processRunQueueWaitPct: number[];
  /** The same for this process, the load generator. */
  clientRunQueueWaitPct: number;
  /** CPU ms per call of this process, the load generator (whole process, so only meaningful for one driver at a time). */
  clientCpuMsPerCall: number;
}

/** One call at a time: `warmup` unmeasured calls, then `calls` timed ones, or as many as fit in `maxMs` (at least 100). */
export async function sequential(driver: Driver, warmup: number, calls: number, maxMs = Number.POSITIVE_INFINITY): Promise<LatencyResult> {
  for (let i = 0; i < warmup; i++) await driver.call();
  const latencies: number[] = [];
  const deadline = performance.now() + maxMs;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await driver.call();
    latencies.push(performance.now() - t0);
    if (t0 > deadline && i >= 99) break;
  }
  return {
    calls: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    meanMs: mean(latencies),
    maxMs: Math.max(...latencies),
  };
}

const sum = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0));

/**
 * `concurrency` workers each keep one call in flight until `maxMs` passed or `maxCalls` were
 * started, whichever comes first. The first error stops every worker and is rethrown.
 * `watch`: the path's processes (the first one is "the bridge" of the report); their CPU is read
 * from /proc before and after the window.
 */
export async function throughput(driver: Driver, concurrency: number, maxMs: number, maxCalls: number, watch: readonly number[] = []): Promise<ThroughputResult> {
  let started = 0;
  let completed = 0;
  let failed: unknown;
  const own0 = watch.map(cpuMs);
  const wait0 = watch.map(runQueueWaitMs);
  const clientWait0 = runQueueWaitMs(process.pid);
  const family0 = sum(watch.map(familyCpuMs));
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const w0 = process.hrtime.bigint();
  const deadline = t0 + maxMs;
  const worker = async () => {
    while (failed === undefined && started < maxCalls && performance.now() < deadline) {
      started++;
      try {
        await driver.call();
        completed++;
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const w1 = process.hrtime.bigint();
  const own1 = watch.map(cpuMs);
  const wait1 = watch.map(runQueueWaitMs);
  const clientWait1 = runQueueWaitMs(process.pid);
  const family1 = sum(watch.map(familyCpuMs));
  const client = process.cpuUsage(client0);
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first worker's error, rethrown as it was caught
  if (failed !== undefined) throw failed;
  return {
    calls: completed,
    concurrency,
    seconds,
    callsPerSec: completed / seconds,
    windowUs: [Number(w0 / 1000n), Number(w1 / 1000n)],
    cpuMsPerCall: completed > 0 && watch.length > 0 ? ((own1[0] ?? Number.NaN) - (own0[0] ?? Number.NaN)) / completed : Number.NaN,
    familyCpuMsPerCall: completed > 0 ? (family1 - family0) / completed : Number.NaN,
    clientRunQueueWaitPct: (100 * (clientWait1 - clientWait0)) / (seconds * 1000),
    processRunQueueWaitPct: wait1.map((w, i) => (100 * (w - (wait0[i] ?? Number.NaN))) / (seconds * 1000)),
    processCpuMsPerCall: own1.map((c, i) => (completed > 0 ? (c - (own0[i] ?? Number.NaN)) / completed : Number.NaN)),
    clientCpuMsPerCall: completed > 0 ? (client.user + client.system) / 1000 / completed : Number.NaN,
  };
}
