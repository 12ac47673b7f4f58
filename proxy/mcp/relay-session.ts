import { CreateMessageResultSchema, CreateMessageResultWithToolsSchema, ElicitResultSchema, ListRootsResultSchema, LoggingLevelSchema } from '@modelcontextprotocol/core';
import {
  ProtocolError,
  ProtocolErrorCode,
  type Server,
  type ClientCapabilities,
  type LoggingLevel,
  type LoggingMessageNotification,
  type Result,
  type ServerNotification,
  type ServerRequest,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Relay, RelayTarget } from '../router/relay.js';

export type Extra = ServerContext;

const SEVERITY = new Map(LoggingLevelSchema.options.map((level, index) => [level, index]));

/** True when an upstream may ask this client something while serving it (it declared sampling, elicitation or roots). */
export function declaresServerRequests(capabilities: ClientCapabilities | undefined): boolean {
  return capabilities !== undefined && (capabilities.sampling !== undefined || capabilities.elicitation !== undefined || capabilities.roots !== undefined);
}

/**
 * The relay side of one client session of the endpoint, for sessions that need their own upstream
 * sessions: what the client declared (declared again upstream), the log level it set, and its
 * requests in flight. What its upstream sessions send comes back here and goes out on the stream
 * of the client's latest request in flight (so it arrives before that request's answer), or on the
 * session's standalone stream when none is in flight.
 */
export class RelaySession implements RelayTarget {
  /** The level the client set with logging/setLevel; log lines below it are dropped here. */
  level: LoggingLevel | undefined;
  readonly capabilities: ClientCapabilities;
  private readonly inflight: Extra[] = [];

  constructor(
    readonly id: string,
    private readonly server: Server,
    declared: ClientCapabilities | undefined,
  ) {
    const { sampling, elicitation, roots } = declared ?? {};
    this.capabilities = { ...(sampling && { sampling }), ...(elicitation && { elicitation }), ...(roots && { roots }) };
  }

  /** Runs one of the client's requests, so what upstreams send meanwhile rides its stream. */
  async run<T>(extra: Extra, handle: () => Promise<T>): Promise<T> {
    this.inflight.push(extra);
    try {
      return await handle();
    } finally {
      this.inflight.splice(this.inflight.lastIndexOf(extra), 1);
    }
  }

  // Log lines name their service: `logger` becomes "service" or "service/logger".
  onLog(service: string, params: LoggingMessageNotification['params']): void {
    if (this.level !== undefined && (SEVERITY.get(params.level) ?? 0) < (SEVERITY.get(this.level) ?? 0)) return;
    const notification: ServerNotification = {
      method: 'notifications/message',
      params: { ...params, logger: params.logger ? `${service}/${params.logger}` : service },
    };
    const call = this.inflight.at(-1);
    (call ? call.mcpReq.notify(notification) : this.server.notification(notification)).catch(() => undefined);
  }

  onRequest(_service: string, request: ServerRequest, signal: AbortSignal): Promise<Result> {
    const schema = resultSchemaOf(request);
    if (!schema) return Promise.reject(new ProtocolError(ProtocolErrorCode.MethodNotFound, `the mesh does not relay ${request.method} to its clients`));
    const message = { method: request.method, params: request.params } as ServerRequest;
    const call = this.inflight.at(-1);
    return call ? call.mcpReq.send(message, schema, { signal }) : this.server.request(message, schema, { signal });
  }
}

// The same result schemas the SDK's own Server.createMessage/elicitInput/listRoots use.
function resultSchemaOf(request: ServerRequest) {
  switch (request.method) {
    case 'sampling/createMessage':
      return request.params.tools || request.params.toolChoice ? CreateMessageResultWithToolsSchema : CreateMessageResultSchema;
    case 'elicitation/create':
      return ElicitResultSchema;
    case 'roots/list':
      return ListRootsResultSchema;
    default:
      return undefined;
  }
}

/**
 * What one client request needs relayed. For a plain request (no progress token, a session that
 * asked for nothing) that is only its cancellation, which the router's lean path carries too.
 */
export function relayFor(target: RelaySession | undefined, extra: Extra, meta: { progressToken?: string | number } | undefined): Relay {
  const token = meta?.progressToken;
  const relay: Relay = { signal: extra.mcpReq.signal };
  if (target) relay.session = target;
  if (token !== undefined) {
    // The client's own token, exactly as it sent it; the upstream hop used one of its own.
    relay.onProgress = (progress) => {
      extra.mcpReq.notify({ method: 'notifications/progress', params: { ...progress, progressToken: token } }).catch(() => undefined);
    };
  }
  return relay;
}
