import type { CallToolResult, GetPromptResult, ReadResourceResult, Server, ServerContext, Tool } from '@modelcontextprotocol/server';
import type { Relay } from '../router/relay.js';
import type { Catalog } from './catalog.js';
import { toRpcError } from './rpc-error.js';
import type { InputMethod, MrtrRelay } from './mrtr-relay.js';
import { InputRequired, type InputRetry } from '../router/modern-hop.js';
import { carrierFrom, metaWithHeaderTrace, type HeaderLookup, type TraceCarrier } from '../../src/tracing/trace-context.js';

/** What the mesh endpoint serves, the same for both eras (MeshEndpoint implements it). */
export interface MeshSurface {
  /** The advertised tools: the mesh tools and every healthy service's tools as `service__tool`. */
  listTools(): Tool[];
  /** The resources/prompts catalog (`mesh://` resources, `service__prompt` prompts). */
  catalog(): Promise<Catalog>;
  /** @throws InputRequired when the instance asked for the client's input (MRTR) */
  answerToolCall(name: string, args: Record<string, unknown>, caller: string, relay?: Relay, meta?: unknown, retry?: InputRetry): Promise<CallToolResult>;
  /** Relays MRTR between clients and instances (signs the proxy's requestState). */
  readonly mrtr: MrtrRelay;
  /** @throws InputRequired when the instance asked for the client's input (MRTR) */
  readResource(uri: string, caller: string, relay?: Relay, retry?: InputRetry, trace?: TraceCarrier): Promise<ReadResourceResult>;
  /** @throws InputRequired when the instance asked for the client's input (MRTR) */
  getPrompt(name: string, args: Record<string, string> | undefined, caller: string, relay?: Relay, retry?: InputRetry, trace?: TraceCarrier): Promise<GetPromptResult>;
}

/** How one era runs a request: who the caller is, and what its requests relay while they run. */
export interface EraHooks {
  /** The calling client's name, as the audit records it. */
  callerOf(ctx: ServerContext): string;
  /** Runs one request with what it needs relayed (its progress token, its cancellation, a session's relay target). */
  relayed<T>(ctx: ServerContext, meta: { progressToken?: string | number } | undefined, handle: (relay: Relay) => Promise<T>): Promise<T>;
}

/** The capabilities both eras advertise; the legacy one adds logging and resource subscriptions. */
export const MESH_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { listChanged: true },
  prompts: { listChanged: true },
  completions: {},
} as const;

/**
 * Installs the aggregating handlers (tools, resources, prompts) on one SDK Server. The legacy
 * endpoint installs them on each session's Server, the modern one on each per-request Server.
 */
export function installMeshHandlers(server: Server, surface: MeshSurface, hooks: EraHooks): void {
  server.setRequestHandler('tools/list', () => ({ tools: surface.listTools() }));
  server.setRequestHandler('tools/call', (request, ctx) =>
    hooks.relayed(ctx, request.params._meta, async (relay) => {
      const { name } = request.params;
      const retry = surface.mrtr.retryOf(ctx, 'tools/call', name);
      // A mesh failure becomes its JSON-RPC error here (readResource and getPrompt throw theirs already).
      const meta = metaWithHeaderTrace(request.params._meta, headerOf(ctx));
      const answer = () => surface.answerToolCall(name, request.params.arguments ?? {}, hooks.callerOf(ctx), relay, meta, retry);
      return relayInput(surface, 'tools/call', name, () => answer().catch((error: unknown) => Promise.reject(error instanceof InputRequired ? error : toRpcError(error))));
    }),
  );
  server.setRequestHandler('resources/list', async () => ({ resources: (await surface.catalog()).resources }));
  server.setRequestHandler('resources/templates/list', async () => ({ resourceTemplates: (await surface.catalog()).templates }));
  server.setRequestHandler('resources/read', (request, ctx) =>
    hooks.relayed(ctx, request.params._meta, (relay) => {
      const { uri } = request.params;
      const retry = surface.mrtr.retryOf(ctx, 'resources/read', uri);
      const trace = carrierFrom(request.params._meta, headerOf(ctx));
      return relayInput(surface, 'resources/read', uri, () => surface.readResource(uri, hooks.callerOf(ctx), relay, retry, trace));
    }),
  );
  server.setRequestHandler('prompts/list', async () => ({ prompts: (await surface.catalog()).prompts }));
  server.setRequestHandler('prompts/get', (request, ctx) =>
    hooks.relayed(ctx, request.params._meta, (relay) => {
      const { name } = request.params;
      const retry = surface.mrtr.retryOf(ctx, 'prompts/get', name);
      const trace = carrierFrom(request.params._meta, headerOf(ctx));
      return relayInput(surface, 'prompts/get', name, () => surface.getPrompt(name, request.params.arguments, hooks.callerOf(ctx), relay, retry, trace));
    }),
  );
}

// The request's HTTP headers, where its trace context may come from when its _meta has none.
const headerOf =
  (ctx: ServerContext): HeaderLookup =>
  (header) =>
    ctx.http?.req?.headers.get(header);

// An instance's request for input goes to a modern client as is; on a legacy session the SDK's shim asks the client and calls again.
async function relayInput<T>(surface: MeshSurface, method: InputMethod, target: string, answer: () => Promise<T>) {
  try {
    return await answer();
  } catch (error) {
    if (error instanceof InputRequired) return surface.mrtr.result(method, target, error);
    throw error;
  }
}
