import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport, type EventStore, type JSONRPCMessage } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import type { BridgeSession } from '../bridge/bridge-session.js';
import { MeshError, toHttpJsonRpcError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { SessionLimits, type SessionActivity } from './session-limits.js';

export interface McpSession {
  transport: WebStandardStreamableHTTPServerTransport;
  session: BridgeSession;
}

export interface McpSessionsOptions {
  bridge: Bridge;
  log?: Logger;
  /** Sessions idle longer than this are closed (clients that vanished without DELETE); default 30 min. */
  idleMs?: number;
  /** Cap of open sessions (default 1,000): a new one evicts the least recently used idle session, else 503. */
  maxSessions?: number;
  /** The clock of idle expiry (tests). */
  now?: () => number;
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
  private readonly limits: SessionLimits;

  constructor(private readonly options: McpSessionsOptions) {
    this.log = options.log ?? silentLogger;
    this.limits = new SessionLimits({ idleMs: options.idleMs, maxSessions: options.maxSessions, now: options.now });
    this.limits.startSweeping(
      () => this.activity(),
      (id) => this.expire(id, 'idle'),
    );
  }

  // The bridge session keeps the activity: when it last received a message, what it has in flight.
  private *activity(): Iterable<[string, SessionActivity]> {
    for (const [id, entry] of this.byId) yield [id, { lastActive: entry.session.lastActive, busy: entry.session.inflight.size }];
  }

  private expire(id: string, why: 'idle' | 'evicted'): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    this.log.debug(this.limits.closedMessage(id, why));
    this.drop(id);
    entry.transport.close().catch(() => undefined);
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
      const { status, body } = toHttpJsonRpcError(new MeshError('SESSION_NOT_FOUND', `Session not found: ${id} (it expired or the server restarted; initialize again)`));
      return Response.json(body, { status });
    }
    const room = this.limits.admit(this.byId.size, this.activity());
    if (room === 'full') return this.limits.fullResponse('this MCP server');
    if (room !== undefined) this.expire(room, 'evicted');
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

  async closeAll(): Promise<void> {
    this.limits.stop();
    const entries = [...this.byId.values()];
    this.byId.clear();
    for (const entry of entries) {
      entry.session.close();
      await entry.transport.close().catch(() => undefined);
    }
  }
}
