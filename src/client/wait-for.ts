import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError } from '../errors.js';
import { MeshClientError, ProxyUnreachable, ServiceNotFound, ServiceUnavailable } from './errors.js';
import type { ServiceInfo, ServiceStatus } from './types.js';

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Give up after this many ms (default 30 000). */
  timeout?: number;
  /** The status (or any of the statuses) to wait for (default `healthy`). */
  status?: ServiceStatus | readonly ServiceStatus[];
  /** Time between two looks (default 100 ms). */
  interval?: number;
  signal?: AbortSignal;
}

/** What waitFor needs from the client: one look at a service, and where the proxy is. */
export interface WaitForSource {
  proxy: string;
  look(name: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<ServiceInfo>;
}

// Polling rather than the SSE event stream: bounded, stateless, and it also survives a proxy that
// is still starting (an unreachable proxy counts as "not yet").
/**
 * Polls a service until it reaches the wanted status; throws ServiceUnavailable naming the last
 * status seen when `timeout` passes first.
 * @example const fs = await waitForService(source, 'fs', { timeout: 10_000 })
 */
export async function waitForService(source: WaitForSource, name: string, options: WaitForOptions = {}): Promise<ServiceInfo> {
  const timeout = options.timeout ?? 30_000;
  const wanted: readonly ServiceStatus[] = typeof options.status === 'string' ? [options.status] : (options.status ?? ['healthy']);
  const interval = options.interval ?? 100;
  const end = Date.now() + timeout;
  let last = 'nothing yet';
  let lastError: unknown;
  for (;;) {
    const left = end - Date.now();
    try {
      // A look may overrun the deadline a little (250 ms at most) rather than be doomed to time out.
      const service = await source.look(name, Math.max(250, Math.min(left, 5_000)), options.signal);
      if (wanted.includes(service.status)) return service;
      last = `status ${service.status} (${service.healthyCount}/${service.instanceCount} instances healthy)`;
      lastError = undefined;
    } catch (error) {
      if (error instanceof ServiceNotFound) last = 'not registered';
      else if (error instanceof ProxyUnreachable) last = `proxy unreachable at ${source.proxy}`;
      else if (error instanceof MeshError && error.code === 'CALL_TIMEOUT') last = last === 'nothing yet' ? 'no answer from the proxy' : `${last}, then no answer from the proxy`;
      else throw error;
      lastError = error;
    }
    const wait = Math.min(interval, end - Date.now());
    if (wait <= 0) break;
    try {
      await sleep(wait, undefined, options.signal ? { signal: options.signal } : {});
    } catch (error) {
      throw new MeshClientError('CALL_CANCELLED', `waiting for service "${name}" was cancelled`, { cause: error, context: { proxy: source.proxy, service: name } });
    }
  }
  throw new ServiceUnavailable(`service "${name}" did not become ${wanted.join(' or ')} within ${timeout} ms; last seen: ${last}`, {
    cause: lastError,
    context: { proxy: source.proxy, service: name, lastSeen: last, timeoutMs: timeout },
  });
}
