import { Agent } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema, ErrorCode, GetPromptResultSchema, McpError, PromptListChangedNotificationSchema, ReadResourceResultSchema,
  ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema,
  type CallToolResult, type GetPromptResult, type JSONRPCMessage, type ReadResourceResult, type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { safeParse, type AnySchema, type SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { postJsonRpc, postJsonRpcAnswer, SessionLostError, type SessionTarget } from './json-post.js';

/** What changed on an instance: one of its lists, or its session (a new session may serve other lists). */
export type UpstreamChange = 'tools' | 'resources' | 'prompts' | 'session';

type Meta = Record<string, unknown> | undefined;

/**
 * One long-lived MCP session to one instance, opened on first use and reused for every request
 * (no initialize per call). A failed connect or a lost session is retried on the next request.
 * The instance's list_changed notifications (and a new session) are reported to `onChange`.
 *
 * The SDK client opens the session and receives the instance's notifications on its GET stream;
 * requests themselves are plain JSON POSTs on that session over keep-alive sockets (`json-post.ts`),
 * which costs the proxy a fraction of the SDK transport's per-request work.
 */
export class Upstream {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private sessions = 0;
  private nextId = 0;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
  private readonly endpoint: URL;
  inflight = 0;

  constructor(
    readonly url: string,
    private readonly clientName: string,
    private readonly onChange: (change: UpstreamChange) => void = () => undefined,
  ) {
    this.endpoint = new URL(url);
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new Client({ name: this.clientName, version: '1.0.0' }, { capabilities: {} });
      client.onclose = () => {
        if (this.client === client) this.client = undefined;
      };
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.onChange('tools'));
      client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.onChange('resources'));
      client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.onChange('prompts'));
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(this.url)));
        this.client = client;
        // A renewed session (the instance restarted) may serve other lists; the first one is news to no one.
        if (this.sessions++ > 0) this.onChange('session');
        return client;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** The instance's capabilities from its initialize answer (connects if needed). */
  async capabilities(): Promise<ServerCapabilities> {
    return (await this.connect()).getServerCapabilities() ?? {};
  }

  /**
   * Sends one request on the pooled session; resolves with the instance's result, rejects on a
   * protocol error, a timeout or a transport failure (after which the next request reconnects).
   * A session the instance no longer knows (it restarted) is reopened and the request sent once more.
   */
  async request<S extends AnySchema>(method: string, params: Record<string, unknown>, schema: S | undefined, deadlineMs: number, meta?: Meta): Promise<SchemaOutput<S>> {
    this.inflight++;
    const body = meta ? { ...params, _meta: meta } : params;
    try {
      let result: unknown;
      try {
        result = await this.post(await this.connect(), method, body, deadlineMs);
      } catch (error) {
        if (!(error instanceof SessionLostError)) throw error;
        this.reset();
        result = await this.post(await this.connect(), method, body, deadlineMs);
      }
      return (schema ? checked(schema, method, result) : result) as SchemaOutput<S>;
    } catch (error) {
      // A dead socket or a session lost twice: the next request reconnects.
      if (!(error instanceof McpError) || error.code === ErrorCode.ConnectionClosed) this.reset();
      throw error;
    } finally {
      this.inflight--;
    }
  }

  private post(client: Client, method: string, params: Record<string, unknown>, deadlineMs: number): Promise<unknown> {
    const transport = client.transport as StreamableHTTPClientTransport | undefined;
    if (!transport?.sessionId) throw new McpError(ErrorCode.ConnectionClosed, `no session with ${this.url}`);
    const target: SessionTarget = { url: this.endpoint, sessionId: transport.sessionId, protocolVersion: transport.protocolVersion, agent: this.agent };
    return postJsonRpc(target, `p${++this.nextId}`, method, params, deadlineMs, (message) => this.unasked(target, message));
  }

  // A request the instance sent while answering (sampling, roots) that this shared session cannot serve.
  private unasked(target: SessionTarget, message: JSONRPCMessage): void {
    if (!('method' in message) || !('id' in message)) return;
    const refusal = { code: ErrorCode.MethodNotFound, message: `the mesh-proxy's shared session does not serve ${message.method}` };
    postJsonRpcAnswer(target, { jsonrpc: '2.0', id: message.id, error: refusal });
  }

  /**
   * Calls a tool; resolves with the tool's own result (isError included), rejects on protocol/transport failure.
   * The result is passed on as the instance gave it (checked for its content list, not re-validated).
   */
  async callTool(name: string, args: Record<string, unknown>, deadlineMs: number, meta?: Meta): Promise<CallToolResult> {
    const result = (await this.request('tools/call', { name, arguments: args }, undefined, deadlineMs, meta)) as CallToolResult;
    return Array.isArray(result.content) ? result : checked(CallToolResultSchema, 'tools/call', result);
  }

  readResource(uri: string, deadlineMs: number, meta?: Meta): Promise<ReadResourceResult> {
    return this.request('resources/read', { uri }, ReadResourceResultSchema, deadlineMs, meta) as Promise<ReadResourceResult>;
  }

  getPrompt(name: string, args: Record<string, string> | undefined, deadlineMs: number, meta?: Meta): Promise<GetPromptResult> {
    return this.request('prompts/get', args ? { name, arguments: args } : { name }, GetPromptResultSchema, deadlineMs, meta) as Promise<GetPromptResult>;
  }

  reset(): void {
    const client = this.client;
    this.client = undefined;
    client?.close().catch(() => undefined);
  }

  close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.agent.destroy();
    return client?.close() ?? Promise.resolve();
  }
}

// The instance's result in the shape the protocol says, or a protocol error naming what is wrong.
function checked<S extends AnySchema>(schema: S, method: string, result: unknown): SchemaOutput<S> {
  const parsed = safeParse(schema, result);
  if (parsed.success) return parsed.data;
  throw new McpError(ErrorCode.InternalError, `the instance's ${method} result is malformed: ${(parsed.error as Error).message}`);
}
