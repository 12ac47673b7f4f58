import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { InitializeResult, JSONRPCErrorResponse, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, JSONRPCResultResponse, Transport } from '@modelcontextprotocol/server';
import { fromJsonRpcError, MeshError, toJsonRpcError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { BridgeSession } from './bridge-session.js';
import { relatedChildId } from './related.js';
import { endChildCall, traceChildCall } from './child-call-trace.js';
import type { ClientChannel, Pending, Reply } from './types.js';

// A listing never asks its client anything: a child's keyless request belongs to a call, prompt or read in flight when there is one.
const MAY_ASK = new Set(['tools/call', 'prompts/get', 'resources/read']);

export interface BridgeOptions {
  /** Service name, for error messages. */
  name: string;
  /** Deadline of every forwarded request unless the caller gives one. */
  deadlineMs: number;
  now?: () => number;
  log?: Logger;
  /** Child notifications the owner wants to see (list_changed...), after routing. */
  onChildNotification?: (notification: JSONRPCNotification) => void;
}

export interface BridgeStats {
  sessions: number;
  inflight: number;
  forwarded: number;
  failed: number;
  timeouts: number;
}

type Upstream = Pick<Transport, 'send'>;

/**
 * Many client sessions over one child MCP server. Request ids and progress tokens are rewritten
 * to the bridge's own space on the way in and restored on the way out, so answers never cross
 * sessions. Server-initiated messages without an id to route by (log messages, sampling,
 * elicitation, roots) go to the session whose request is in flight (the latest one, when several are).
 */
export class Bridge {
  serverInit: InitializeResult | undefined;
  /** The last level a client set with logging/setLevel (one child, so the last one wins); replayed after a restart. */
  clientLogLevel: string | undefined;
  readonly sessions = new Map<string, BridgeSession>();
  /** URIs that modern `subscriptions/listen` streams want updates of, with how many streams want each. */
  readonly listenedUris = new Map<string, number>();
  private readonly childListeners = new Set<(notification: JSONRPCNotification) => void>();
  private upstream: Upstream | undefined;
  private unavailable: () => MeshError;
  private readonly pending = new Map<number, Pending>();
  /**
   * Requests the child sent to a client, by the child's id: to a legacy session, or to the reply of
   * one modern (stateless) request, which answers them through a later retry (MRTR).
   */
  private readonly childRequests = new Map<string | number, ChildRequestOwner>();
  private lastForwarded: Pending | undefined;
  private nextId = 1;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly sweeper: NodeJS.Timeout;
  private readonly counters = { forwarded: 0, failed: 0, timeouts: 0 };

  constructor(private readonly options: BridgeOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLogger;
    this.unavailable = () => new MeshError('SERVICE_UNAVAILABLE', `${options.name}: the server is not running`);
    this.sweeper = setInterval(() => this.expire(), 250);
    this.sweeper.unref();
  }

  get stats(): BridgeStats {
    return { sessions: this.sessions.size, inflight: this.pending.size, ...this.counters };
  }

  /** Routes a (started) child transport's messages through the bridge. */
  attach(transport: Transport): void {
    this.upstream = transport;
    transport.onmessage = (message) => this.fromChild(message);
  }

  /** The child is gone: every request in flight fails now with `error(pending)`; later ones fail with `unavailable()`. */
  detach(error: (pending: Pending) => MeshError, unavailable: () => MeshError): void {
    this.upstream = undefined;
    this.unavailable = unavailable;
    const failed = [...this.pending.values()];
    this.pending.clear();
    this.childRequests.clear();
    for (const p of failed) this.fail(p, error(p));
  }

  openSession(id: string, channel: ClientChannel): BridgeSession {
    const session = new BridgeSession(this, id, channel);
    this.sessions.set(id, session);
    return session;
  }

  /** The initialize result a client gets: the child's, at the protocol version the client asked for when we speak it. */
  initializeResult(requested: unknown): InitializeResult {
    if (!this.serverInit) throw this.unavailable();
    const protocolVersion = typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    return { ...this.serverInit, protocolVersion };
  }

  /** Sends a request of the bridge's own (initialize, tools/list...) and resolves with its result. */
  request<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>, deadlineMs?: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const message: JSONRPCRequest = { jsonrpc: '2.0', id: 0, method, ...(params ? { params } : {}) };
      this.forward(
        undefined,
        message,
        {
          respond: (answer) => ('error' in answer ? reject(fromJsonRpcError(answer)) : resolve(answer.result as T)),
        },
        deadlineMs,
      );
    });
  }

  /** Sends a notification of the bridge's own to the child; dropped while no child runs. */
  notify(method: string, params?: Record<string, unknown>): void {
    this.upstream?.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }).catch(() => undefined);
  }

  /**
   * Forwards a client's request to the child under a fresh id; the answer comes back through `reply`.
   * Without a session (a modern, stateless request), `reply.related` receives what belongs to the
   * request: its progress, log messages and the child's own requests. Returns the child id, or
   * undefined when no child runs (the reply was already answered).
   */
  forward(session: BridgeSession | undefined, request: JSONRPCRequest, reply: Reply, deadlineMs = this.options.deadlineMs): number | undefined {
    const upstream = this.upstream;
    if (!upstream) {
      this.counters.failed++;
      reply.respond(toJsonRpcError(request.id, this.unavailable()));
      return undefined;
    }
    const childId = this.nextId++;
    const params = request.params;
    const meta = params?._meta;
    const progressToken = meta?.progressToken;
    const out: JSONRPCRequest = { jsonrpc: '2.0', id: childId, method: request.method };
    if (params) {
      // The child sees our id as the progress token, so its progress notifications find their request.
      out.params = progressToken === undefined ? params : { ...params, _meta: { ...meta, progressToken: childId } };
    }
    const spans = traceChildCall(this.options.name, out);
    const pending: Pending = {
      childId,
      originalId: request.id,
      method: request.method,
      tool: request.method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined,
      progressToken,
      session,
      reply,
      deadline: this.now() + deadlineMs,
      deadlineMs,
      spans,
    };
    this.pending.set(childId, pending);
    if (session) session.inflight.set(request.id, childId);
    if ((session || reply.related) && MAY_ASK.has(request.method)) this.lastForwarded = pending;
    this.counters.forwarded++;
    upstream.send(out).catch((error) => {
      if (this.pending.delete(childId)) this.fail(pending, error);
    });
    return childId;
  }

  /** Restarts the deadline of a request in flight: `ms` from now (default: its own deadline). A modern call waiting for its client's input uses it. */
  extendDeadline(childId: number, ms?: number): void {
    const pending = this.pending.get(childId);
    if (pending) pending.deadline = this.now() + (ms ?? pending.deadlineMs);
  }

  /** Drops a request the client no longer wants, telling the child. Returns false when it was not in flight. */
  cancel(childId: number, reason: string, answer?: MeshError): boolean {
    const pending = this.pending.get(childId);
    if (!pending) return false;
    this.pending.delete(childId);
    if (!answer) endChildCall(pending.spans, reason);
    this.notify('notifications/cancelled', { requestId: childId, reason });
    if (answer) this.fail(pending, answer);
    else if (pending.session) this.sessions.get(pending.session.id)?.inflight.delete(pending.originalId);
    return true;
  }

  /**
   * The child's answer to `childId` could not be read (too large): that request fails with `error`,
   * or, when the id is unknown, the oldest request in flight (the likeliest owner). Returns the one failed.
   */
  failUnreadableAnswer(childId: number | string | undefined, error: (pending: Pending) => MeshError): Pending | undefined {
    const pending = (typeof childId === 'number' ? this.pending.get(childId) : undefined) ?? this.pending.values().next().value;
    if (pending) this.cancel(pending.childId, 'the answer was too large to read', error(pending));
    return pending;
  }

  /** A client answered a request the child had sent it (`owner`: the session or modern reply it was sent to). Returns false when that owner was not asked it. */
  answerChild(owner: ChildRequestOwner, message: JSONRPCResultResponse | JSONRPCErrorResponse): boolean {
    const key = message.id as string | number;
    if (this.childRequests.get(key) !== owner) {
      this.log.debug(`dropping answer to unknown server request ${String(key)}`);
      return false;
    }
    this.childRequests.delete(key);
    this.upstream?.send(message).catch(() => undefined);
    return true;
  }

  /** The child's requests still waiting on `owner` (a modern request given up) fail with `reason`. */
  releaseChildRequests(owner: ChildRequestOwner, reason: string): void {
    for (const [key, held] of this.childRequests) {
      if (held !== owner) continue;
      this.childRequests.delete(key);
      this.upstream?.send(toJsonRpcError(key, new MeshError('SERVICE_UNAVAILABLE', reason))).catch(() => undefined);
    }
  }

  /** Forwards a client's notification to the child. */
  passToChild(message: JSONRPCNotification): void {
    this.upstream?.send(message).catch(() => undefined);
  }

  /** Forgets a closed session: its requests are cancelled, the child's requests to it fail. */
  closeSession(session: BridgeSession): void {
    this.sessions.delete(session.id);
    for (const childId of session.inflight.values()) this.cancel(childId, 'client session closed');
    for (const [key, owner] of this.childRequests) {
      if (owner !== session) continue;
      this.childRequests.delete(key);
      this.upstream?.send(toJsonRpcError(key, new MeshError('SERVICE_UNAVAILABLE', 'the client session closed'))).catch(() => undefined);
    }
  }

  /** Also shows `listener` the child's notifications that reach `onChildNotification`; returns the way to stop. */
  watchChild(listener: (notification: JSONRPCNotification) => void): () => void {
    this.childListeners.add(listener);
    return () => this.childListeners.delete(listener);
  }

  /** True when another open session than `except` (or a modern listen stream) is subscribed to `uri`. */
  subscribedElsewhere(uri: string, except?: BridgeSession): boolean {
    if (this.listenedUris.has(uri)) return true;
    for (const session of this.sessions.values()) if (session !== except && session.subscriptions.has(uri)) return true;
    return false;
  }

  /** All URIs some session is subscribed to (replayed to a restarted child). */
  subscribedUris(): Set<string> {
    const uris = new Set<string>();
    for (const session of this.sessions.values()) for (const uri of session.subscriptions) uris.add(uri);
    for (const uri of this.listenedUris.keys()) uris.add(uri);
    return uris;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private fromChild(message: JSONRPCMessage): void {
    if ('method' in message) {
      if ('id' in message) this.routeChildRequest(message);
      else this.routeChildNotification(message);
      return;
    }
    const pending = this.pending.get(message.id as number);
    if (!pending) return; // late answer to a cancelled or timed-out request
    this.pending.delete(pending.childId);
    if (pending.session) this.sessions.get(pending.session.id)?.inflight.delete(pending.originalId);
    if ('error' in message) this.counters.failed++;
    message.id = pending.originalId;
    endChildCall(pending.spans, 'error' in message ? message.error : undefined);
    pending.reply.respond(message);
  }

  /** The latest client request still in flight that may ask (else the latest of any): the best owner for a message that names none. */
  private currentPending(): Pending | undefined {
    const last = this.lastForwarded;
    if (last && this.pending.get(last.childId) === last) return last;
    let found: Pending | undefined;
    let asking: Pending | undefined;
    for (const p of this.pending.values()) {
      if (!p.session && !p.reply.related) continue;
      found = p;
      if (MAY_ASK.has(p.method)) asking = p;
    }
    this.lastForwarded = asking;
    return asking ?? found;
  }

  private routeChildRequest(request: JSONRPCRequest): void {
    if (request.method === 'ping') {
      this.upstream?.send({ jsonrpc: '2.0', id: request.id, result: {} }).catch(() => undefined);
      return;
    }
    const related = relatedChildId(request);
    const owner = (related === undefined ? undefined : this.pending.get(related)) ?? this.currentPending();
    if (owner && !owner.session && owner.reply.related) {
      // A modern request: the child's request goes back to its client inside an InputRequiredResult.
      this.childRequests.set(request.id, owner.reply);
      owner.reply.related(request);
      return;
    }
    const session = (owner?.session && this.sessions.get(owner.session.id)) || lastOf(this.sessions);
    if (!session) {
      const error = new MeshError('SERVICE_UNAVAILABLE', `no MCP client is connected to answer ${request.method}`);
      this.upstream?.send(toJsonRpcError(request.id, error)).catch(() => undefined);
      return;
    }
    this.childRequests.set(request.id, session);
    if (owner?.session === session) deliverRelated(owner, session, request);
    else session.channel.send(request);
  }

  private routeChildNotification(notification: JSONRPCNotification): void {
    const params = notification.params;
    switch (notification.method) {
      case 'notifications/progress': {
        const pending = this.pending.get(params?.progressToken as number);
        if (!pending || pending.progressToken === undefined) return;
        // Progress proves the call is alive; it never shortens a deadline extended for a held MRTR call.
        pending.deadline = Math.max(pending.deadline, this.now() + pending.deadlineMs);
        const out = { ...notification, params: { ...params, progressToken: pending.progressToken } };
        const session = pending.session && this.sessions.get(pending.session.id);
        if (session) deliverRelated(pending, session, out);
        else if (!pending.session) pending.reply.related?.(out);
        return;
      }
      case 'notifications/message': {
        const owner = this.currentPending();
        const session = owner?.session && this.sessions.get(owner.session.id);
        if (owner && session) deliverRelated(owner, session, notification);
        else if (owner && !owner.session && owner.reply.related) owner.reply.related(notification);
        else this.broadcast(notification);
        return;
      }
      case 'notifications/cancelled': {
        const key = params?.requestId as string | number;
        const owner = this.childRequests.get(key);
        this.childRequests.delete(key);
        // A modern client holds no channel for it: its retry's answer is dropped as unknown.
        if (owner instanceof BridgeSession) owner.channel.send(notification);
        return;
      }
      case 'notifications/resources/updated': {
        for (const session of this.sessions.values()) if (session.subscriptions.has(params?.uri as string)) session.channel.send(notification);
        break;
      }
      default:
        this.broadcast(notification);
    }
    this.options.onChildNotification?.(notification);
    for (const listener of this.childListeners) listener(notification);
  }

  private broadcast(message: JSONRPCNotification): void {
    for (const session of this.sessions.values()) session.channel.send(message);
  }

  private fail(pending: Pending, error: unknown): void {
    this.counters.failed++;
    endChildCall(pending.spans, error);
    if (pending.session) this.sessions.get(pending.session.id)?.inflight.delete(pending.originalId);
    pending.reply.respond(toJsonRpcError(pending.originalId, error));
  }

  private expire(): void {
    const now = this.now();
    for (const pending of this.pending.values()) {
      if (pending.deadline > now) continue;
      this.counters.timeouts++;
      const what = pending.tool ? `tool "${pending.tool}"` : pending.method;
      this.cancel(
        pending.childId,
        `deadline of ${pending.deadlineMs} ms exceeded`,
        new MeshError('CALL_TIMEOUT', `${this.options.name}: ${what} did not answer within ${pending.deadlineMs} ms (cancelled)`, {
          context: { service: this.options.name, method: pending.method, tool: pending.tool, deadlineMs: pending.deadlineMs },
        }),
      );
    }
  }
}

/** Who a request of the child was sent to: a legacy session, or the reply of one modern request. */
export type ChildRequestOwner = BridgeSession | Reply;

function deliverRelated(owner: Pending, session: BridgeSession, message: JSONRPCMessage): void {
  if (owner.reply.related) owner.reply.related(message);
  else session.channel.send(message, owner.originalId);
}

function lastOf<V>(map: Map<string, V>): V | undefined {
  let last: V | undefined;
  for (const value of map.values()) last = value;
  return last;
}
