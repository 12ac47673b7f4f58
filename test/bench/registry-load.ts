/**
 * Synthetic registry load shared by the registry-scale and multi-proxy suites: registration bodies
 * of instances nobody serves (loopback URLs, small tool schemas), plain HTTP requests on a keep-alive
 * pool, a bounded (optionally paced) task runner, and a one-at-a-time sampler.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from 'undici';
import { LEASE_HEADER } from '../../src/contract/lease.js';
import { mean, percentile, round } from './stats.js';

export interface LatencyStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface SampledRequest extends LatencyStats {
  /** Size of the last answer body in bytes. */
  bytes: number;
}

/** What a synthetic instance looks like: which service names replicas spread over, how many tools each has. */
export interface SyntheticShape {
  services: number;
  toolsPerInstance: number;
}

export function stats(latencies: number[]): LatencyStats {
  return {
    count: latencies.length,
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    meanMs: round(mean(latencies)),
    maxMs: round(latencies.length > 0 ? latencies.reduce((a, b) => Math.max(a, b)) : Number.NaN),
  };
}

export function serviceName(i: number, services: number): string {
  return `svc-${String(i % services).padStart(4, '0')}`;
}

/** A registration body of a synthetic sidecar: loopback URL (never served), small tool schemas, replicas sharing their tools. */
export function registrationBody(i: number, shape: SyntheticShape): { id: string; body: string } {
  const name = serviceName(i, shape.services);
  const port = 20_000 + (i % 40_000);
  const id = `${name}.r${Math.floor(i / shape.services)}.127.0.0.1.${port}`;
  const tools = Array.from({ length: shape.toolsPerInstance }, (_, k) => ({
    name: `tool_${k}`,
    description: `Synthetic tool ${k} of ${name}: takes a text and an optional count.`,
    inputSchema: {
      type: 'object',
      properties: { text: { type: 'string', description: 'The input text.' }, count: { type: 'integer', minimum: 0, description: 'How many times.' } },
      required: ['text'],
    },
  }));
  const body = {
    id,
    name,
    url: `http://127.0.0.1:${port}/mcp`,
    host: '127.0.0.1',
    port,
    tags: ['bench', `group:${i % 7}`],
    tools,
    toolsHash: `h-${name}`,
    version: '0.0.1',
    kind: 'sidecar',
    state: 'ready',
  };
  return { id, body: JSON.stringify(body) };
}

/** The heartbeat body of synthetic instance i. */
export function heartbeatBody(i: number, shape: SyntheticShape): string {
  return `{"state":"ready","toolsHash":"h-${serviceName(i, shape.services)}"}`;
}

export interface HttpAnswer {
  status: number;
  text: string;
}

export async function send(pool: Pool, method: 'GET' | 'POST' | 'PUT', path: string, body?: string, lease?: string): Promise<HttpAnswer> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (lease !== undefined) headers[LEASE_HEADER] = lease;
  const response = await pool.request({ path, method, headers, body });
  return { status: response.statusCode, text: await response.body.text() };
}

/** Runs `count` tasks with at most `concurrency` in flight; task i may wait for its slot time first. Returns each task's latency. */
export async function runBounded(count: number, concurrency: number, task: (i: number) => Promise<void>, startAt?: (i: number) => number, stop?: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < count && !(stop?.() ?? false)) {
      const i = next++;
      const at = startAt?.(i);
      if (at !== undefined) {
        const wait = at - performance.now();
        if (wait > 1) await delay(wait);
      }
      const t0 = performance.now();
      try {
        await task(i);
        latencies.push(performance.now() - t0);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first worker's error, rethrown as it was caught
  if (failed !== undefined) throw failed;
  return latencies;
}

/**
 * A sequential sampler: calls `once`, one at a time with `gapMs` between an answer and the next
 * call, until `until()` says stop (at least `min` times unless `deadline` passes).
 */
export async function sample(once: () => Promise<number>, min: number, until: () => boolean, deadline: number, gapMs = 0): Promise<SampledRequest> {
  const latencies: number[] = [];
  let bytes = 0;
  while ((latencies.length < min || !until()) && performance.now() < deadline) {
    const t0 = performance.now();
    bytes = await once();
    latencies.push(performance.now() - t0);
    if (gapMs > 0) await delay(gapMs);
  }
  return { ...stats(latencies), bytes };
}
