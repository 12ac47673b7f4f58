import type { LoggingLevel, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { MeshClient } from '../client/mesh-client.js';

/** What a native tool handler gets besides its arguments. */
export interface ToolContext {
  /**
   * Calls other services through the mesh-proxy, as this instance (`x-mesh-caller`) and one hop
   * further than the request being handled, so a call loop is stopped by the proxy's hop limit.
   * Calls in flight are cancelled when this request is.
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
  client: { caller: string; proxy: string; token: string | undefined; timeoutMs?: number | undefined };
  sendProgress(params: { progressToken: string | number; progress: number; total?: number; message?: string }): void;
  sendLog(level: LoggingLevel, data: unknown): Promise<void>;
}

/** Reads the hop count the proxy forwarded in `_meta['mesh/hops']` (0 when absent or not a count). */
export function hopsOf(meta: Record<string, unknown> | undefined): number {
  const hops = meta?.['mesh/hops'];
  return typeof hops === 'number' && Number.isInteger(hops) && hops >= 0 ? hops : 0;
}

/** The context of one call; `mesh` is built on first use, so handlers that never call out pay nothing. */
export function createToolContext(facts: CallFacts): ToolContext {
  const caller = facts.meta?.['mesh/caller'];
  const hops = hopsOf(facts.meta);
  const token = facts.meta?.progressToken as string | number | undefined;
  let mesh: MeshClient | undefined;
  return {
    get mesh() {
      if (!mesh) {
        const client = new MeshClient({ ...facts.client, hops });
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
