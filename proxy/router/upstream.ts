import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * One long-lived MCP session to one instance, opened on first use and reused for every call
 * (no initialize per call). A failed connect or a lost session is retried on the next call.
 */
export class Upstream {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  inflight = 0;

  constructor(readonly url: string, private readonly clientName: string) {}

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new Client({ name: this.clientName, version: '1.0.0' }, { capabilities: {} });
      client.onclose = () => {
        if (this.client === client) this.client = undefined;
      };
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(this.url)));
        this.client = client;
        return client;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** Calls a tool; resolves with the tool's own result (isError included), rejects on protocol/transport failure. */
  async callTool(name: string, args: Record<string, unknown>, deadlineMs: number, meta?: Record<string, unknown>): Promise<CallToolResult> {
    this.inflight++;
    try {
      const client = await this.connect();
      return (await client.request(
        { method: 'tools/call', params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } },
        CallToolResultSchema,
        { timeout: deadlineMs },
      )) as CallToolResult;
    } catch (error) {
      // A lost session (404 after a sidecar restart) or a dead socket: the next call reconnects.
      if (!(error instanceof McpError) || error.code === ErrorCode.ConnectionClosed) this.reset();
      throw error;
    } finally {
      this.inflight--;
    }
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
