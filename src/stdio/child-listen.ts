import { SUBSCRIPTION_ID_META_KEY, type JSONRPCMessage, type JSONRPCNotification, type JSONRPCResponse, type ServerCapabilities } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';

export interface ChildListenOptions {
  capabilities: ServerCapabilities;
  /** Writes to the child. */
  send(message: JSONRPCMessage): Promise<void>;
  /** The `_meta` envelope of a request to the child. */
  envelope(): Record<string, unknown>;
  log: Logger;
}

/**
 * The one `subscriptions/listen` stream a modern child keeps open for the bridge: the list changes
 * the child can announce, and updates of the URIs the bridge's sessions subscribed to. A change of
 * URIs replaces the stream (a stream's filter is fixed). Its events reach the bridge as the
 * unsolicited legacy notifications.
 */
export class ChildListen {
  private readonly uris = new Set<string>();
  private id: string | undefined;
  private due = false;
  private seq = 0;

  constructor(private readonly options: ChildListenOptions) {}

  // The SDK's serveStdio routes change notifications only to streams opened after its instance is
  // pinned by a first request: after initialize, the stream opens once the child answered one.
  /** The bridge initialized the child: open the stream after the child's next answer. */
  openSoon(): void {
    this.due = true;
  }

  /** The child answered a request: the time to open a stream that is due. */
  answered(): void {
    if (!this.due) return;
    this.due = false;
    this.open().catch((error: Error) => this.options.log.warn(`cannot open subscriptions/listen: ${error.message}`));
  }

  /** resources/subscribe (true) or unsubscribe (false) of `uri`: the stream is opened again with the new filter. */
  subscribe(uri: string, on: boolean): Promise<void> {
    if (on) this.uris.add(uri);
    else this.uris.delete(uri);
    this.due = false;
    return this.open();
  }

  /** True (and handled) when `answer` ends the stream. */
  ownAnswer(answer: JSONRPCResponse): boolean {
    if (answer.id === undefined || answer.id !== this.id) return false;
    this.id = undefined;
    if ('error' in answer) this.options.log.warn(`the child refused subscriptions/listen: ${answer.error.message}`);
    return true;
  }

  /** A child notification as the bridge gets it: a stream event loses its subscription id; the acknowledgement is none (undefined). */
  unwrap(notification: JSONRPCNotification): JSONRPCNotification | undefined {
    if (notification.method === 'notifications/subscriptions/acknowledged') return undefined;
    const meta = notification.params?._meta;
    if (meta?.[SUBSCRIPTION_ID_META_KEY] === undefined) return notification;
    const { [SUBSCRIPTION_ID_META_KEY]: _id, ...rest } = meta;
    const { _meta: _dropped, ...params } = notification.params ?? {};
    return { ...notification, params: Object.keys(rest).length > 0 ? { ...params, _meta: rest } : params };
  }

  /** The child is gone: its stream with it. */
  close(): void {
    this.id = undefined;
  }

  private async open(): Promise<void> {
    const caps = this.options.capabilities;
    const filter: Record<string, unknown> = {};
    if (caps.tools?.listChanged) filter.toolsListChanged = true;
    if (caps.prompts?.listChanged) filter.promptsListChanged = true;
    if (caps.resources?.listChanged) filter.resourcesListChanged = true;
    if (caps.resources?.subscribe && this.uris.size > 0) filter.resourceSubscriptions = [...this.uris];
    const previous = this.id;
    this.id = undefined;
    if (previous !== undefined) await this.options.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: previous, reason: 'subscriptions changed' } });
    if (Object.keys(filter).length === 0) return;
    const id = `mesh-listen-${++this.seq}`;
    this.id = id;
    await this.options.send({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: this.options.envelope(), notifications: filter } });
  }
}
