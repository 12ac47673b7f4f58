import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolResultSchema, ErrorCode, GetPromptResultSchema, McpError, PromptListChangedNotificationSchema, ReadResourceResultSchema,
  ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema,
  type CallToolResult, type ClientCapabilities, type GetPromptResult, type ReadResourceResult, type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';

/** What changed on an instance: one of its lists, or its session (a new session may serve other lists). */
export type UpstreamChange = 'tools' | 'resources' | 'prompts' | 'session';

type Meta = Record<string, unknown> | undefined;

/** How an upstream's SDK client is set up beyond the pooled default (a relay session's client declares what its client declared). */
export interface UpstreamSetup {
  /** Client capabilities sent in initialize (default none). */
  capabilities?: ClientCapabilities;
  /** Called with each new SDK client before it connects (to add request and notification handlers). */
  configure?: (client: Client) => void;
}

/** How long closing may wait for the instance to confirm a DELETE of the session. */
const TERMINATE_MS = 2_000;

/** Per-request SDK options a relayed request adds (onprogress, signal); plain requests pass none. */
export type UpstreamRequestOptions = Pick<RequestOptions, 'onprogress' | 'resetTimeoutOnProgress' | 'signal'>;

/**
 * One long-lived MCP session to one instance, opened on first use and reused for every request
 * (no initialize per call). A failed connect or a lost session is retried on the next request.
 * The instance's list_changed notifications (and a new session) are reported to `onChange`.
 */
export class Upstream {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private sessions = 0;
  /** close() was called: a connect still in flight ends its session instead of keeping it. */
  private closed = false;
  inflight = 0;

  constructor(
    readonly url: string,
    private readonly clientName: string,
    private readonly onChange: (change: UpstreamChange) => void = () => undefined,
    private readonly setup: UpstreamSetup = {},
  ) {}

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.closed) return Promise.reject(new McpError(ErrorCode.ConnectionClosed, `the session to ${this.url} was closed`));
    this.connecting ??= (async () => {
      const client = new Client({ name: this.clientName, version: '1.0.0' }, { capabilities: this.setup.capabilities ?? {} });
      client.onclose = () => {
        if (this.client === client) this.client = undefined;
      };
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.onChange('tools'));
      client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.onChange('resources'));
      client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.onChange('prompts'));
      this.setup.configure?.(client);
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(this.url)));
        if (this.closed) {
          await endSession(client, true);
          throw new McpError(ErrorCode.ConnectionClosed, `the session to ${this.url} was closed`);
        }
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
  async request<S extends AnySchema>(method: string, params: Record<string, unknown>, schema: S, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<SchemaOutput<S>> {
    this.inflight++;
    try {
      const client = await this.connect();
      const sdkOptions = options ? { ...options, timeout: deadlineMs } : { timeout: deadlineMs };
      return (await client.request({ method, params: meta ? { ...params, _meta: meta } : params }, schema, sdkOptions));
    } catch (error) {
      // A lost session (404 after a sidecar restart) or a dead socket: the next request reconnects.
      if (!(error instanceof McpError) || error.code === ErrorCode.ConnectionClosed) this.reset();
      throw error;
    } finally {
      this.inflight--;
    }
  }

  /** Calls a tool; resolves with the tool's own result (isError included), rejects on protocol/transport failure. */
  callTool(name: string, args: Record<string, unknown>, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<CallToolResult> {
    return this.request('tools/call', { name, arguments: args }, CallToolResultSchema, deadlineMs, meta, options) as Promise<CallToolResult>;
  }

  readResource(uri: string, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<ReadResourceResult> {
    return this.request('resources/read', { uri }, ReadResourceResultSchema, deadlineMs, meta, options) as Promise<ReadResourceResult>;
  }

  getPrompt(name: string, args: Record<string, string> | undefined, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<GetPromptResult> {
    return this.request('prompts/get', args ? { name, arguments: args } : { name }, GetPromptResultSchema, deadlineMs, meta, options) as Promise<GetPromptResult>;
  }

  reset(): void {
    const client = this.client;
    this.client = undefined;
    client?.close().catch(() => undefined);
  }

  /** Closes for good; with `terminate`, the session is first DELETEd so the instance frees it now. */
  close(terminate = false): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    return client ? endSession(client, terminate) : Promise.resolve();
  }
}

// A DELETE that does not come back within TERMINATE_MS is abandoned: closing never hangs on an instance.
async function endSession(client: Client, terminate: boolean): Promise<void> {
  const transport = client.transport as StreamableHTTPClientTransport | undefined;
  if (terminate && transport?.sessionId) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, TERMINATE_MS)));
    await Promise.race([transport.terminateSession().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
  }
  await client.close();
}
