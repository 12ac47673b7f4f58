import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcCodeFor, MeshError, toMeshError, type MeshErrorCode } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { MeshCore } from '../core.js';
import { callMeshTool, meshToolNames, meshTools } from './mesh-tools.js';
import { namespacedName, ToolNameIndex } from './namespacing.js';

const PROTOCOL_ERRORS = new Set<MeshErrorCode>(['TOOL_NOT_FOUND', 'SERVICE_NOT_FOUND', 'BAD_REQUEST', 'LOOP_DETECTED']);

interface Session {
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
}

/**
 * The mesh's one MCP endpoint: the seven mesh tools plus every healthy service's tools as
 * `service__tool`. Each client session is an SDK Server on an SDK Streamable HTTP transport;
 * sessions hear `notifications/tools/list_changed` whenever the set of tools changes.
 */
export class MeshEndpoint {
  private readonly sessions = new Map<string, Session>();
  private index = new ToolNameIndex([]);
  private tools: Tool[] = meshTools;
  private listChangedTimer: NodeJS.Timeout | undefined;

  constructor(private readonly core: MeshCore, private readonly log: Logger, private readonly version: string) {
    this.rebuild();
    core.onToolsetChange(() => this.toolsetChanged());
  }

  /** Recomputes the advertised tools from the healthy services. */
  private rebuild(): void {
    const refs: { service: string; tool: string }[] = [];
    const tools: Tool[] = [...meshTools];
    for (const { name, tools: serviceTools } of this.core.routableTools()) {
      for (const tool of serviceTools) {
        refs.push({ service: name, tool: tool.name });
        tools.push({ ...tool, name: namespacedName(name, tool.name), description: `[${name}] ${tool.description ?? tool.name}` });
      }
    }
    this.index = new ToolNameIndex(refs);
    this.tools = tools;
  }

  private toolsetChanged(): void {
    // Coalesce bursts (a manifest starting eleven services) into one notification.
    if (this.listChangedTimer) return;
    this.listChangedTimer = setTimeout(() => {
      this.listChangedTimer = undefined;
      const before = JSON.stringify(this.tools.map((t) => t.name));
      this.rebuild();
      if (JSON.stringify(this.tools.map((t) => t.name)) === before) return;
      for (const { server } of this.sessions.values()) server.sendToolListChanged().catch(() => undefined);
    }, 50);
    this.listChangedTimer.unref();
  }

  /** Calls an endpoint tool by its advertised name. */
  async callTool(name: string, args: Record<string, unknown>, caller: string, hops = 0): Promise<CallToolResult> {
    if (meshToolNames.has(name)) return callMeshTool(this.core, name, args, caller, hops);
    const ref = this.index.resolve(name);
    if (!ref) throw new MeshError('TOOL_NOT_FOUND', `unknown tool "${name}": mesh tools are ${[...meshToolNames].join(', ')}; service tools are named service__tool (see tools/list)`);
    return this.core.router.call(ref.service, ref.tool, args, { caller, hops });
  }

  private createServer(): Server {
    const server = new Server({ name: 'mesh-proxy', version: this.version }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.tools }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const caller = server.getClientVersion()?.name ?? 'mcp-client';
      try {
        return await this.callTool(request.params.name, request.params.arguments ?? {}, caller);
      } catch (error) {
        const mesh = toMeshError(error);
        // Asking for something that does not exist is a protocol error; a call that failed on its
        // way (timeout, crash, nothing healthy) is a tool error the model can read and act on.
        if (!PROTOCOL_ERRORS.has(mesh.code)) return { isError: true, content: [{ type: 'text', text: `${mesh.code}: ${mesh.message}` }] };
        throw Object.assign(new Error(mesh.message), { code: jsonRpcCodeFor(mesh.code), data: { code: mesh.code, ...mesh.context } });
      }
    });
    return server;
  }

  /** Handles any request to /mcp. */
  async handle(request: Request, parsedBody?: unknown): Promise<Response> {
    const id = request.headers.get('mcp-session-id');
    const options = parsedBody === undefined ? undefined : { parsedBody };
    if (id) {
      const session = this.sessions.get(id);
      if (session) return session.transport.handleRequest(request, options);
      return Response.json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: `Session not found: ${id} (expired or the proxy restarted; initialize again)` } }, { status: 404 });
    }
    const server = this.createServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sid) => {
        this.sessions.set(sid, { server, transport });
      },
      onsessionclosed: (sid) => {
        this.sessions.delete(sid);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport.handleRequest(request, options);
  }

  async close(): Promise<void> {
    if (this.listChangedTimer) clearTimeout(this.listChangedTimer);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(({ server }) => server.close().catch(() => undefined)));
    this.log.debug('mesh endpoint closed');
  }
}
