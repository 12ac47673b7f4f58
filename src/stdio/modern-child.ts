import {
  isInputRequiredResult,
  LATEST_PROTOCOL_VERSION,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
  type ClientCapabilities,
  type DiscoverResult,
  type Implementation,
  type InitializeResult,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  type RequestId,
} from '@modelcontextprotocol/server';
import { MeshError, toJsonRpcError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { markRelated } from '../bridge/related.js';
import { ChildListen } from './child-listen.js';
import { modernEnvelope } from './era-probe.js';

/** Ids of the server→client requests the sidecar makes from a child's inputRequests. */
const INPUT_ID_PREFIX = 'mesh-input-';

export interface ModernChildOptions {
  discover: DiscoverResult;
  /** Who the sidecar is, and what its clients can do, until the bridge's initialize says it. */
  clientInfo: Implementation;
  capabilities: ClientCapabilities;
  /** Writes to the child. */
  send(message: JSONRPCMessage): Promise<void>;
  /** Hands a message to the bridge as if the child had sent it. */
  deliver(message: JSONRPCMessage): void;
  /** Input rounds (InputRequiredResult answers) one legacy request may take (default 8). */
  maxInputRounds?: number;
  log?: Logger;
}

/** A legacy request of the bridge in flight at the modern child, across its input rounds. */
interface Call {
  originalId: RequestId;
  request: JSONRPCRequest;
  /** The id of the attempt in flight (the original, then each retry's own). */
  currentId: RequestId;
  rounds: number;
  requestState: string | undefined;
  responses: Record<string, unknown>;
  /** inputRequests keys still waiting for the bridge's answer. */
  waiting: Set<string>;
}

/**
 * Makes a 2026-07-28 child look like a legacy one to the bridge: initialize is answered from the
 * child's DiscoverResult, the log level and the client's identity ride on each request's `_meta`,
 * resources/subscribe becomes the filter of a `subscriptions/listen`, and an InputRequiredResult
 * becomes the legacy server→client requests, answered and retried until the call completes.
 * A request that already carries a modern envelope (a 2026-07-28 client) passes untouched, both ways.
 */
export class ModernChild {
  private clientInfo: Implementation;
  private capabilities: ClientCapabilities;
  private logLevel: string | undefined;
  private readonly listen: ChildListen;
  private seq = 0;
  /** Translated requests in flight, by the id the child knows. */
  private readonly calls = new Map<RequestId, Call>();
  private readonly byOriginal = new Map<RequestId, Call>();
  /** The sidecar's own server→client requests (from inputRequests), by their id. */
  private readonly inputs = new Map<string, { call: Call; key: string }>();
  private readonly log: Logger;

  constructor(private readonly options: ModernChildOptions) {
    this.clientInfo = options.clientInfo;
    this.capabilities = options.capabilities;
    this.log = options.log ?? silentLogger;
    this.listen = new ChildListen({ capabilities: options.discover.capabilities, send: (message) => options.send(message), envelope: () => this.envelope(undefined), log: this.log });
  }

  /** A message from the bridge on its way to the child. */
  async fromBridge(message: JSONRPCMessage): Promise<void> {
    if ('method' in message) {
      if ('id' in message) return this.request(message);
      return this.notification(message);
    }
    const input = this.inputs.get(String(message.id));
    // An answer to a question of a call given up meanwhile: the child never asked it, so it never sees it.
    if (!input) return String(message.id).startsWith(INPUT_ID_PREFIX) ? undefined : this.options.send(message);
    this.inputs.delete(String(message.id));
    const { call, key } = input;
    if (!this.byOriginal.has(call.originalId)) return; // cancelled meanwhile
    if ('error' in message) return this.finish(call, { jsonrpc: '2.0', id: call.originalId, error: message.error });
    call.responses[key] = message.result;
    call.waiting.delete(key);
    if (call.waiting.size === 0) this.retry(call);
  }

  /** A message from the child on its way to the bridge. */
  fromChild(message: JSONRPCMessage): void {
    if ('method' in message) {
      if ('id' in message) return this.options.deliver(message);
      const notification = this.listen.unwrap(message);
      if (notification) this.options.deliver(notification);
      return;
    }
    if (this.listen.ownAnswer(message)) return;
    const call = this.calls.get(message.id as RequestId);
    if (!call) return this.options.deliver(message); // a native (modern client's) request: untouched
    this.calls.delete(call.currentId);
    if ('result' in message && isInputRequiredResult(message.result)) return this.inputRound(call, message.result);
    this.finish(call, message);
    this.listen.answered();
  }

  /** The child is gone: nothing of it is waited for any more. */
  close(): void {
    this.calls.clear();
    this.byOriginal.clear();
    this.inputs.clear();
    this.listen.close();
  }

  private async request(request: JSONRPCRequest): Promise<void> {
    const params = request.params ?? {};
    switch (request.method) {
      case 'initialize': {
        if (params.clientInfo) this.clientInfo = params.clientInfo as Implementation;
        if (params.capabilities) this.capabilities = params.capabilities;
        return this.answer(request.id, this.initializeResult(params.protocolVersion));
      }
      case 'ping':
        return this.answer(request.id, {});
      case 'logging/setLevel':
        // 2026-07-28 has no session level: each request carries its own.
        this.logLevel = typeof params.level === 'string' ? params.level : undefined;
        return this.answer(request.id, {});
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        if (typeof params.uri !== 'string') break;
        this.answer(request.id, {});
        return this.listen.subscribe(params.uri, request.method === 'resources/subscribe');
      }
    }
    const meta = params._meta;
    if (meta?.[PROTOCOL_VERSION_META_KEY] !== undefined) return this.options.send(request); // spoken natively
    const out: JSONRPCRequest = { ...request, params: { ...params, _meta: this.envelope(meta) } };
    const call: Call = { originalId: request.id, request: out, currentId: request.id, rounds: 0, requestState: undefined, responses: {}, waiting: new Set() };
    this.calls.set(request.id, call);
    this.byOriginal.set(request.id, call);
    return this.options.send(out);
  }

  private async notification(notification: JSONRPCNotification): Promise<void> {
    switch (notification.method) {
      case 'notifications/initialized':
        this.listen.openSoon();
        return;
      case 'notifications/roots/list_changed':
        return; // roots travel with each request (MRTR) in 2026-07-28
      case 'notifications/cancelled': {
        const call = this.byOriginal.get(notification.params?.requestId as RequestId);
        if (!call) break;
        this.drop(call);
        return this.options.send({ ...notification, params: { ...notification.params, requestId: call.currentId } });
      }
    }
    return this.options.send(notification);
  }

  private inputRound(call: Call, result: { inputRequests?: Record<string, { method: string; params?: unknown }>; requestState?: string }): void {
    const max = this.options.maxInputRounds ?? 8;
    if (++call.rounds > max) {
      const error = new MeshError('INTERNAL', `the server still asked for input after ${max} rounds of ${call.request.method}; giving up`, {
        context: { method: call.request.method, rounds: max },
      });
      return this.finish(call, toJsonRpcError(call.originalId, error));
    }
    call.requestState = result.requestState;
    call.responses = {};
    const asked = Object.entries(result.inputRequests ?? {});
    if (asked.length === 0) return this.retry(call);
    for (const [key, input] of asked) {
      const id = `${INPUT_ID_PREFIX}${++this.seq}`;
      call.waiting.add(key);
      this.inputs.set(id, { call, key });
      const request: JSONRPCRequest = { jsonrpc: '2.0', id, method: input.method, ...(input.params === undefined ? {} : { params: input.params as Record<string, unknown> }) };
      // The bridge's id of the call is its owner: the question goes to that call's client, not the latest one.
      this.options.deliver(typeof call.originalId === 'number' ? markRelated(request, call.originalId) : request);
    }
  }

  // The retry is a new request (its own id), carrying the answers and the child's state (MRTR); a
  // child gone meanwhile fails the call (never an unhandled rejection: that would end the sidecar).
  private retry(call: Call): void {
    this.sendRetry(call).catch((error: unknown) => this.finish(call, toJsonRpcError(call.originalId, error)));
  }

  private async sendRetry(call: Call): Promise<void> {
    const id = `mesh-retry-${++this.seq}`;
    const { inputResponses: _old, requestState: _state, ...params } = call.request.params ?? {};
    const out: JSONRPCRequest = {
      jsonrpc: '2.0',
      id,
      method: call.request.method,
      params: { ...params, inputResponses: call.responses, ...(call.requestState === undefined ? {} : { requestState: call.requestState }) },
    };
    call.currentId = id;
    this.calls.set(id, call);
    await this.options.send(out);
  }

  private finish(call: Call, message: JSONRPCResultResponse | JSONRPCErrorResponse): void {
    this.drop(call);
    if ('result' in message) {
      // A legacy client asked: the modern-only stamp goes (everything else of the result stays).
      const { resultType: _type, ...result } = message.result as Record<string, unknown>;
      this.options.deliver({ jsonrpc: '2.0', id: call.originalId, result });
      return;
    }
    this.options.deliver({ ...message, id: call.originalId });
  }

  private drop(call: Call): void {
    this.calls.delete(call.currentId);
    this.byOriginal.delete(call.originalId);
    for (const [id, input] of this.inputs) if (input.call === call) this.inputs.delete(id);
  }

  private envelope(meta: Record<string, unknown> | undefined): Record<string, unknown> {
    return {
      ...meta,
      ...modernEnvelope(this.clientInfo, this.capabilities),
      ...(this.logLevel === undefined || meta?.[LOG_LEVEL_META_KEY] !== undefined ? {} : { [LOG_LEVEL_META_KEY]: this.logLevel }),
    };
  }

  private initializeResult(requested: unknown): InitializeResult {
    const discover = this.options.discover;
    const protocolVersion = typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    const serverInfo = discover._meta?.[SERVER_INFO_META_KEY] ?? { name: 'unnamed', version: '0.0.0' };
    return {
      protocolVersion,
      capabilities: discover.capabilities,
      serverInfo,
      ...(discover.instructions === undefined ? {} : { instructions: discover.instructions }),
    };
  }

  private answer(id: RequestId, result: Record<string, unknown>): void {
    this.options.deliver({ jsonrpc: '2.0', id, result });
  }
}
