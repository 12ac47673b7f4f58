import {
  Server,
  InMemoryTransport,
  type Transport,
  type Implementation,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
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
 * An SDK `Server` (initialize, ping, tools/list, logging/setLevel, list_changed) linked in memory to
 * the bridge, with tools/call taken before it: the arguments are checked with the tool's zod schema
 * and the handler runs at once, without the SDK's per-call request and result re-validation.
 */
export async function connectNativeServer(options: NativeServerOptions): Promise<NativeServer> {
  const server = new Server(options.info, {
    capabilities: { tools: { listChanged: true }, logging: {} },
    ...(options.instructions ? { instructions: options.instructions } : {}),
  });
  server.setRequestHandler('tools/list', () => ({ tools: options.tools.list() }));
  const [bridgeSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);

  const running = new Map<RequestId, AbortController>();
  const front: Transport = {
    async start() {},
    async send(message) {
      if (!take(message)) await bridgeSide.send(message);
    },
    async close() {
      for (const controller of running.values()) controller.abort(new Error('the instance is stopping'));
      await bridgeSide.close();
    },
  };
  const deliver = (message: JSONRPCMessage) => front.onmessage?.(message);
  bridgeSide.onmessage = deliver;
  await bridgeSide.start();

  // True when the message was handled here: a tools/call, or the cancellation of one running here.
  function take(message: JSONRPCMessage): boolean {
    if (!('method' in message)) return false;
    if (message.method === 'tools/call' && 'id' in message) {
      void call(message);
      return true;
    }
    if (message.method === 'notifications/cancelled') {
      const controller = running.get(message.params?.requestId as RequestId);
      controller?.abort(new Error(String(message.params?.reason ?? 'cancelled by the caller')));
      return controller !== undefined;
    }
    return false;
  }

  async function call(request: JSONRPCRequest): Promise<void> {
    const { id } = request;
    const params = request.params ?? {};
    const name = params.name;
    const tool = typeof name === 'string' ? options.tools.get(name) : undefined;
    if (!tool) {
      const known = options.tools.list().map((t) => t.name).join(', ') || '(none)';
      deliver(toJsonRpcError(id, new MeshError('TOOL_NOT_FOUND', `unknown tool ${JSON.stringify(name)}; tools: ${known}`, { context: { tool: name } })));
      return;
    }
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const parsed = await tool.input.safeParseAsync(params.arguments ?? {});
      if (!parsed.success) {
        const text = `invalid arguments for tool "${tool.definition.name}": ${argumentProblems(parsed.error.issues)}`;
        deliver({ jsonrpc: '2.0', id, result: { isError: true, content: [{ type: 'text', text }] } });
        return;
      }
      const ctx = createToolContext({
        requestId: id,
        meta: params._meta,
        signal: controller.signal,
        client: options.client,
        sendProgress: (progress) => deliver({ jsonrpc: '2.0', method: 'notifications/progress', params: progress }),
        sendLog: (level, data) => server.sendLoggingMessage({ level, logger: options.info.name, data }),
      });
      const result = toToolResult(await tool.handler(parsed.data, ctx));
      if (!controller.signal.aborted) deliver({ jsonrpc: '2.0', id, result });
    } catch (error) {
      if (controller.signal.aborted) return; // the bridge already answered the caller
      // A loop refused further down stays LOOP_DETECTED all the way up (not a tool error), so the
      // first caller learns what happened, and the audit trail shows it at every hop.
      if (toMeshError(error).code === 'LOOP_DETECTED') deliver(toJsonRpcError(id, error));
      else deliver({ jsonrpc: '2.0', id, result: errorResult(error) });
    } finally {
      running.delete(id);
    }
  }

  return {
    transport: front,
    server,
    toolsChanged() {
      server.sendToolListChanged().catch(() => undefined);
    },
    async close() {
      await server.close().catch(() => undefined);
      await front.close();
    },
  };
}
