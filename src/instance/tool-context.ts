import type { LoggingLevel, RequestId } from '@modelcontextprotocol/server';
import { MeshClient, type CallOptions, type MeshClientOptions } from '../client/mesh-client.js';
import { deadlineOf, hopsOf } from './mesh-meta.js';
import { carrierFrom } from '../tracing/trace-context.js';

/** What a native tool handler gets besides its arguments. */
export interface ToolContext {
  /**
   * Calls other services through the mesh-proxy, as this instance (`x-mesh-caller`) and one hop
   * further than the request being handled, so a call loop is stopped by the proxy's hop limit.
   * Each call's deadline is what is left of this request's (the proxy passes it in
   * `_meta['mesh/deadlineMs']`; else the instance's deadline). Calls in flight are cancelled
   * when this request is.
   */
  readonly mesh: MeshClient;
  /** Who called: the `mesh/caller` the proxy forwarded (a service name, an app), else `client`. */
  readonly caller: string;
  /** Mesh hops this request has taken so far (0 when called directly, not through the proxy). */
  readonly hops: number;
  /** Aborted when the caller cancels or the call's deadline passes. */
  readonly signal: AbortSignal;
  /** The JSON-RPC id of this request as the instance received it. */
  readonly requestId: RequestId;
  /** Reports progress to the caller (dropped when the caller asked for none). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Sends an MCP log message to the caller (subject to the level it set). */
  log(level: LoggingLevel, data: unknown): Promise<void>;
}

/** What the runtime knows about one incoming tools/call. */
export interface CallFacts {
  requestId: RequestId;
  meta: Record<string, unknown> | undefined;
  signal: AbortSignal;
  /** The MeshClient settings of this instance: its name as caller, the proxy, the token. */
  client: { caller: string; proxyUrl: string[]; ca: string[] | undefined; token: string | undefined; timeoutMs?: number | undefined };
  sendProgress(params: { progressToken: string | number; progress: number; total?: number; message?: string }): void;
  sendLog(level: LoggingLevel, data: unknown): Promise<void>;
}

/**
 * How long a nested call may take: what is left of the call being handled (the proxy's deadline
 * for it, or the instance's own), less a small margin so the nested answer, even a timeout, arrives
 * while the outer caller still waits. Never below 1 ms.
 * @example remainingMs(5_000, 1_200) // 3_700
 */
export function remainingMs(limitMs: number, elapsedMs: number): number {
  const margin = Math.min(100, limitMs * 0.1);
  return Math.max(1, Math.floor(limitMs - elapsedMs - margin));
}

// ctx.mesh: each call gets the time left of the request being handled, unless it asks for less.
class NestedMeshClient extends MeshClient {
  constructor(
    options: MeshClientOptions,
    private readonly left: () => number,
  ) {
    super(options);
  }

  override call(service: string, tool: string, args: Record<string, unknown> = {}, options: CallOptions = {}) {
    const left = this.left();
    return super.call(service, tool, args, { ...options, timeoutMs: Math.min(options.timeoutMs ?? left, left) });
  }
}

/** The context of one call; `mesh` is built on first use, so handlers that never call out pay nothing. */
export function createToolContext(facts: CallFacts): ToolContext {
  const caller = facts.meta?.['mesh/caller'];
  const hops = hopsOf(facts.meta);
  const token = facts.meta?.progressToken as string | number | undefined;
  const started = performance.now();
  const limitMs = Math.min(deadlineOf(facts.meta) ?? Infinity, facts.client.timeoutMs ?? 60_000);
  let mesh: MeshClient | undefined;
  return {
    get mesh() {
      if (!mesh) {
        // Nested calls continue this request's trace (the context the instance received it with).
        const client = new NestedMeshClient({ ...facts.client, hops, trace: carrierFrom(facts.meta) }, () => remainingMs(limitMs, performance.now() - started));
        mesh = client;
        // The caller gave up: the calls this request started on its behalf stop too.
        if (facts.signal.aborted) void client.close();
        else facts.signal.addEventListener('abort', () => void client.close(), { once: true });
      }
      return mesh;
    },
    caller: typeof caller === 'string' && caller !== '' ? caller : 'client',
    hops,
    signal: facts.signal,
    requestId: facts.requestId,
    async progress(progress, total, message) {
      if (token === undefined || facts.signal.aborted) return;
      facts.sendProgress({ progressToken: token, progress, ...(total === undefined ? {} : { total }), ...(message === undefined ? {} : { message }) });
    },
    log: (level, data) => facts.sendLog(level, data),
  };
}
