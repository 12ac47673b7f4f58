import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema, ErrorCode, GetPromptResultSchema, McpError, PromptListChangedNotificationSchema, ReadResourceResultSchema,
  ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema,
  type CallToolResult, type GetPromptResult, type ReadResourceResult, type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';

/** What changed on an instance: one of its lists, or its session (a new session may serve other lists). */
export type UpstreamChange = 'tools' | 'resources' | 'prompts' | 'session';

type Meta = Record<string, unknown> | undefined;

/**
 * One long-lived MCP session to one instance, opened on first use and reused for every request
 * (no initialize per call). A failed connect or a lost session is retried on the next request.
 * The instance's list_changed notifications (and a new session) are reported to `onChange`.
 */
export class Upstream {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private sessions = 0;
  inflight = 0;

  constructor(
    readonly url: string,
    private readonly clientName: string,
    private readonly onChange: (change: UpstreamChange) => void = () => undefined,
  ) {}

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
   */
  async request<S extends AnySchema>(method: string, params: Record<string, unknown>, schema: S, deadlineMs: number, meta?: Meta): Promise<SchemaOutput<S>> {
    this.inflight++;
    try {
      const client = await this.connect();
      return (await client.request({ method, params: meta ? { ...params, _meta: meta } : params }, schema, { timeout: deadlineMs }));
    } catch (error) {
      // A lost session (404 after a sidecar restart) or a dead socket: the next request reconnects.
      if (!(error instanceof McpError) || error.code === ErrorCode.ConnectionClosed) this.reset();
      throw error;
    } finally {
      this.inflight--;
    }
  }

  /** Calls a tool; resolves with the tool's own result (isError included), rejects on protocol/transport failure. */
  callTool(name: string, args: Record<string, unknown>, deadlineMs: number, meta?: Meta): Promise<CallToolResult> {
    return this.request('tools/call', { name, arguments: args }, CallToolResultSchema, deadlineMs, meta) as Promise<CallToolResult>;
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
    return client?.close() ?? Promise.resolve();
  }
}
