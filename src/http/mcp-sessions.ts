import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Bridge } from '../bridge/bridge.js';
import type { BridgeSession } from '../bridge/bridge-session.js';
import { silentLogger, type Logger } from '../log.js';

export interface McpSession {
  transport: WebStandardStreamableHTTPServerTransport;
  session: BridgeSession;
}

export interface McpSessionsOptions {
  bridge: Bridge;
  log?: Logger;
  /** Sessions idle longer than this are closed (clients that vanished without DELETE). */
  idleMs?: number;
  /** Optional resumability store (SSE event ids and Last-Event-ID replay). */
  eventStore?: () => EventStore | undefined;
}

/**
 * The MCP sessions of one endpoint: each is an SDK Streamable HTTP server transport (it owns
 * session ids, SSE streams, protocol-version and Accept checks) wired to a bridge session.
 */
export class McpSessions {
  readonly byId = new Map<string, McpSession>();
  private readonly log: Logger;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: McpSessionsOptions) {
    this.log = options.log ?? silentLogger;
    const idleMs = options.idleMs ?? 30 * 60_000;
    this.sweeper = setInterval(() => this.closeIdle(idleMs), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  get(id: string | undefined): McpSession | undefined {
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Handles any /mcp request that the hot path did not take. */
  async handle(request: Request, parsedBody: unknown): Promise<Response> {
    const id = request.headers.get('mcp-session-id') ?? undefined;
    const existing = this.get(id);
    if (existing) return existing.transport.handleRequest(request, parsedBody === undefined ? undefined : { parsedBody });
    if (id !== undefined) {
      return Response.json(
        { jsonrpc: '2.0', id: null, error: { code: -32001, message: `Session not found: ${id} (it expired or the server restarted; initialize again)` } },
        { status: 404 },
      );
    }
    return this.create().handleRequest(request, parsedBody === undefined ? undefined : { parsedBody });
  }

  private create(): WebStandardStreamableHTTPServerTransport {
    let entry: McpSession | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      eventStore: this.options.eventStore?.(),
      onsessionclosed: (id) => this.drop(id),
    });
    const channel = {
      send: (message: JSONRPCMessage, relatedTo?: string | number) => {
        transport
          .send(message, relatedTo === undefined ? undefined : { relatedRequestId: relatedTo })
          .catch((error: Error) => this.log.debug(`session ${transport.sessionId}: cannot deliver: ${error.message}`));
      },
    };
    transport.onmessage = (message) => {
      if (!entry) {
        const id = transport.sessionId;
        if (!id) return; // the transport rejects non-initialize first messages itself
        entry = { transport, session: this.options.bridge.openSession(id, channel) };
        this.byId.set(id, entry);
      }
      entry.session.receive(message);
    };
    transport.onclose = () => {
      if (transport.sessionId) this.drop(transport.sessionId);
    };
    return transport;
  }

  private drop(id: string): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    this.byId.delete(id);
    entry.session.close();
  }

  private closeIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const [id, entry] of this.byId) {
      if (entry.session.lastActive < cutoff && entry.session.inflight.size === 0) {
        this.log.info(`closing idle session ${id}`);
        this.drop(id);
        entry.transport.close().catch(() => undefined);
      }
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const entries = [...this.byId.values()];
    this.byId.clear();
    for (const entry of entries) {
      entry.session.close();
      await entry.transport.close().catch(() => undefined);
    }
  }
}
