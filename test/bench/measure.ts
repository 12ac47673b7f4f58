import { performance } from 'node:perf_hooks';
import type { Driver } from './driver.js';
import { cpuMs, familyCpuMs } from './proc-info.js';
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
  /** The same for the watched process plus its descendants (bridge + server). */
  familyCpuMsPerCall: number;
  /** CPU ms per call of this process, the load generator (whole process, so only meaningful for one driver at a time). */
  clientCpuMsPerCall: number;
}

/** One call at a time: `warmup` unmeasured calls, then `calls` timed ones. */
export async function sequential(driver: Driver, warmup: number, calls: number): Promise<LatencyResult> {
  for (let i = 0; i < warmup; i++) await driver.call();
  const latencies = new Array<number>(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await driver.call();
    latencies[i] = performance.now() - t0;
  }
  return {
    calls,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    meanMs: mean(latencies),
    maxMs: Math.max(...latencies),
  };
}

/**
 * `concurrency` workers each keep one call in flight until `maxMs` passed or `maxCalls` were
 * started, whichever comes first. The first error stops every worker and is rethrown.
 */
export async function throughput(driver: Driver, concurrency: number, maxMs: number, maxCalls: number, watchPid?: number): Promise<ThroughputResult> {
  let started = 0;
  let completed = 0;
  let failed: unknown;
  const cpu0 = watchPid === undefined ? Number.NaN : cpuMs(watchPid);
  const family0 = watchPid === undefined ? Number.NaN : familyCpuMs(watchPid);
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
  const cpu1 = watchPid === undefined ? Number.NaN : cpuMs(watchPid);
  const family1 = watchPid === undefined ? Number.NaN : familyCpuMs(watchPid);
  const client = process.cpuUsage(client0);
  if (failed !== undefined) throw failed;
  return {
    calls: completed,
    concurrency,
    seconds,
    callsPerSec: completed / seconds,
    windowUs: [Number(w0 / 1000n), Number(w1 / 1000n)],
    cpuMsPerCall: completed > 0 ? (cpu1 - cpu0) / completed : Number.NaN,
    familyCpuMsPerCall: completed > 0 ? (family1 - family0) / completed : Number.NaN,
    clientCpuMsPerCall: completed > 0 ? (client.user + client.system) / 1000 / completed : Number.NaN,
  };
}
