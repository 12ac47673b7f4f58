import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, RequestId } from '@modelcontextprotocol/server';
import { MeshError, toJsonRpcError } from '../errors.js';
import type { Bridge } from './bridge.js';
import type { ClientChannel, Reply } from './types.js';

/** One client's view of the shared child: what it has in flight and what it subscribed to. */
export class BridgeSession {
  /** Client request id → the child id it was forwarded under. */
  readonly inflight = new Map<RequestId, number>();
  readonly subscriptions = new Set<string>();
  lastActive = Date.now();
  private closed = false;

  constructor(
    private readonly bridge: Bridge,
    readonly id: string,
    readonly channel: ClientChannel,
  ) {}

  /** Default reply for requests that arrived without one: answer on the session's channel. */
  private readonly channelReply: Reply = { respond: (message) => this.channel.send(message) };

  /** Takes one message from the client. Requests are answered through `reply` when given. */
  receive(message: JSONRPCMessage, reply: Reply = this.channelReply): void {
    this.lastActive = Date.now();
    if ('method' in message) {
      if ('id' in message) this.request(message, reply);
      else this.notification(message);
    } else {
      this.bridge.answerChild(this, message);
    }
  }

  private request(request: JSONRPCRequest, reply: Reply): void {
    const params = request.params ?? {};
    switch (request.method) {
      case 'initialize': {
        try {
          reply.respond({ jsonrpc: '2.0', id: request.id, result: this.bridge.initializeResult(params.protocolVersion) });
        } catch (error) {
          reply.respond(toJsonRpcError(request.id, error));
        }
        return;
      }
      case 'resources/subscribe': {
        const uri = String(params.uri);
        const shared = this.bridge.subscribedElsewhere(uri, this);
        this.subscriptions.add(uri);
        if (shared) return reply.respond({ jsonrpc: '2.0', id: request.id, result: {} });
        break;
      }
      case 'logging/setLevel':
        this.bridge.clientLogLevel = String(params.level);
        break;
      case 'resources/unsubscribe': {
        const uri = String(params.uri);
        this.subscriptions.delete(uri);
        if (this.bridge.subscribedElsewhere(uri, this)) return reply.respond({ jsonrpc: '2.0', id: request.id, result: {} });
        break;
      }
    }
    this.bridge.forward(this, request, reply);
  }

  private notification(notification: JSONRPCNotification): void {
    switch (notification.method) {
      case 'notifications/initialized':
        return; // the bridge initialized the child itself
      case 'notifications/cancelled': {
        const requestId = notification.params?.requestId as RequestId;
        const childId = this.inflight.get(requestId);
        if (childId !== undefined) {
          const reason = String(notification.params?.reason ?? 'cancelled by the client');
          this.bridge.cancel(childId, reason, new MeshError('CALL_CANCELLED', `request ${String(requestId)} was cancelled: ${reason}`));
        }
        return;
      }
      default:
        this.bridge.passToChild(notification);
    }
  }

  /** Stops a forwarded request whose caller went away; nobody is answered. */
  cancelChild(childId: number, reason: string): void {
    this.bridge.cancel(childId, reason);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bridge.closeSession(this);
    for (const uri of this.subscriptions) {
      if (!this.bridge.subscribedElsewhere(uri, this)) this.bridge.request('resources/unsubscribe', { uri }).catch(() => undefined);
    }
  }
}
