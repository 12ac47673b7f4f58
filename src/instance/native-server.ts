import {
  InMemoryTransport,
  ProtocolError,
  Server,
  type CallToolRequest,
  type CallToolResult,
  type Implementation,
  type RequestId,
  type ServerContext,
  type Transport,
} from '@modelcontextprotocol/server';
import { MeshError, toJsonRpcError, toMeshError } from '../errors.js';
import { argumentProblems, type NativeTools } from './native-tools.js';
import { createToolContext, type CallFacts } from './tool-context.js';
import { errorResult, toToolResult } from './tool-result.js';

export interface NativeServerOptions {
  info: Implementation;
  instructions?: string | undefined;
  tools: NativeTools;
  client: CallFacts['client'];
}

/** The in-process MCP server of a native instance, seen by the bridge as if it were a child. */
export interface NativeServer {
  /** Give this to `Bridge.attach()`. */
  transport: Transport;
  server: Server;
  /** Tells connected clients the tool list changed. */
  toolsChanged(): void;
  close(): Promise<void>;
}

/**
 * An SDK `Server` (initialize, ping, tools/list, tools/call, logging/setLevel, list_changed) linked
 * in memory to the bridge. The SDK's dispatcher is the only one: tools/call is its handler (the
 * arguments checked with the tool's zod schema), cancellation and stopping abort the handler's
 * signal. Plain calls reach it through the front door's lean path and the bridge, as a sidecar's
 * reach its child.
 */
export async function connectNativeServer(options: NativeServerOptions): Promise<NativeServer> {
  const server = new Server(options.info, {
    capabilities: { tools: { listChanged: true }, logging: {} },
    ...(options.instructions ? { instructions: options.instructions } : {}),
  });
  server.setRequestHandler('tools/list', () => ({ tools: options.tools.list() }));
  server.setRequestHandler('tools/call', (request, ctx) => callTool(options, server, request, ctx));
  const [bridgeSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await bridgeSide.start();
  return {
    transport: bridgeSide,
    server,
    toolsChanged() {
      server.sendToolListChanged().catch(() => undefined);
    },
    async close() {
      await server.close().catch(() => undefined);
      await bridgeSide.close();
    },
  };
}

// One tools/call: a tool's own failure is a result with isError; an unknown tool or a loop refused
// further down is a JSON-RPC error with the mesh code in its data.
async function callTool(options: NativeServerOptions, server: Server, request: CallToolRequest, ctx: ServerContext): Promise<CallToolResult> {
  const { id, signal } = ctx.mcpReq;
  const params = request.params;
  const tool = options.tools.get(params.name);
  if (!tool) {
    const known =
      options.tools
        .list()
        .map((t) => t.name)
        .join(', ') || '(none)';
    throw protocolError(id, new MeshError('TOOL_NOT_FOUND', `unknown tool ${JSON.stringify(params.name)}; tools: ${known}`, { context: { tool: params.name } }));
  }
  try {
    const parsed = await tool.input.safeParseAsync(params.arguments ?? {});
    if (!parsed.success) {
      const text = `invalid arguments for tool "${tool.definition.name}": ${argumentProblems(parsed.error.issues)}`;
      return { isError: true, content: [{ type: 'text', text }] };
    }
    const toolCtx = createToolContext({
      requestId: id,
      meta: params._meta,
      signal,
      client: options.client,
      sendProgress: (progress) => void ctx.mcpReq.notify({ method: 'notifications/progress', params: progress }).catch(() => undefined),
      sendLog: (level, data) => server.sendLoggingMessage({ level, logger: options.info.name, data }),
    });
    return toToolResult(await tool.handler(parsed.data, toolCtx));
  } catch (error) {
    // A loop refused further down stays LOOP_DETECTED all the way up (not a tool error), so the
    // first caller learns what happened, and the audit trail shows it at every hop.
    if (toMeshError(error).code === 'LOOP_DETECTED') throw protocolError(id, error);
    return errorResult(error);
  }
}

// The SDK answers a thrown error with its numeric code, message and data: those of toJsonRpcError.
function protocolError(id: RequestId, error: unknown): ProtocolError {
  const { code, message, data } = toJsonRpcError(id, error).error;
  return new ProtocolError(code, message, data);
}
