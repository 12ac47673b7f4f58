import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { MeshError, toHttpJsonRpcError } from '../errors.js';
import { waitUntil } from '../stdio/process-group.js';

/** Default grace for calls in flight when a server stops (`--drain-timeout`). */
export const DEFAULT_DRAIN_MS = 15_000;

/**
 * Header of a draining server's 503: the request was refused before it was served, so a proxy may
 * send it to another replica (a plain 503 from an unknown server says no such thing).
 */
export const DRAINING_HEADER = 'mesh-draining';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Responses already taken off the in-flight count. */
const released = new WeakSet<ServerResponse>();

/** What a drain did: calls that finished within the grace, and calls still running when it ran out. */
export interface DrainResult {
  finished: number;
  cut: number;
}

/**
 * Graceful stop of HTTP servers, as Envoy and nginx do it: stop listening, answer new requests with
 * 503 (the server is shutting down), let requests in flight finish up to a grace period, then close
 * every connection. Long-lived GET streams (SSE) are not waited for.
 * @example const drain = new Drain('mesh-proxy'); createServer(drain.wrap(listener)); … await drain.drain([server], 15_000)
 */
export class Drain {
  private inflight = 0;
  private draining = false;

  constructor(private readonly who: string) {}

  get active(): number {
    return this.inflight;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Counts the requests `listener` serves; once draining, refuses new ones with 503. */
  wrap(listener: Listener): Listener {
    return (req, res) => {
      if (this.draining) {
        const refusal = new MeshError('SERVICE_UNAVAILABLE', `${this.who} is shutting down; retry on another instance or after it restarted`, { context: { draining: true } });
        const { status, body } = toHttpJsonRpcError(refusal);
        res.writeHead(status, { 'content-type': 'application/json', connection: 'close', 'retry-after': '1', [DRAINING_HEADER]: '1' });
        res.end(JSON.stringify(body));
        return;
      }
      if (req.method !== 'GET') {
        this.inflight++;
        res.once('close', () => this.release(res));
      }
      listener(req, res);
    };
  }

  /** A POST that turned out to be a long-lived stream (a 2026-07-28 subscriptions/listen) is not waited for, like a GET stream. */
  release(res: ServerResponse): void {
    if (released.has(res)) return;
    released.add(res);
    this.inflight--;
  }

  /**
   * Stops accepting, waits up to `graceMs` for requests in flight, then cuts every connection left.
   * Resolves once the servers are closed.
   */
  async drain(servers: Server[], graceMs: number): Promise<DrainResult> {
    this.draining = true;
    const before = this.inflight;
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const server of servers) server.closeIdleConnections();
    await waitUntil(() => this.inflight === 0, graceMs, 10);
    const cut = this.inflight;
    for (const server of servers) server.closeAllConnections();
    await Promise.all(closed);
    return { finished: Math.max(0, before - cut), cut };
  }
}
