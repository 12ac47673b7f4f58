import type { Client, McpSubscription, SubscriptionFilter } from '@modelcontextprotocol/client';

/** Longest wait between two attempts to listen again after the stream dropped. */
const MAX_RETRY_MS = 10_000;

/**
 * The one `subscriptions/listen` stream the proxy keeps to a 2026-07-28 instance: the list changes
 * it advertises, and updates of the resources the proxy's clients subscribed to (a 2026-07-28
 * instance has no resources/subscribe: a new filter is a new stream, opened before the old one is
 * closed). Notifications reach the SDK client's handlers. A stream that drops (the instance
 * restarted) is opened again with backoff, and `renewed` is called once it is back.
 */
export class ModernListen {
  private readonly watched = new Set<string>();
  private current: McpSubscription | undefined;
  private client: Client | undefined;
  private retryMs = 250;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The open in progress (opens are serialised). */
  private opening: Promise<void> = Promise.resolve();

  constructor(private readonly renewed: () => void) {}

  /**
   * Opens (or re-opens, with the current filter) the stream on `client`. Opens run one after the
   * other: two at once would both replace the same stream and leave one of theirs open for good.
   */
  open(client: Client): Promise<void> {
    const next = this.opening.then(() => this.openNow(client));
    this.opening = next.catch(() => undefined);
    return next;
  }

  private async openNow(client: Client): Promise<void> {
    this.client = client;
    const filter = filterFor(client, this.watched);
    const previous = this.current;
    this.current = undefined;
    if (filter && !this.closed) {
      const subscription = await client.listen(filter);
      // Closed while the instance was acknowledging: nobody will close this stream but us.
      if (this.closed) {
        await subscription.close().catch(() => undefined);
      } else {
        this.current = subscription;
        void subscription.closed.then((how) => {
          if (how === 'remote' && this.current === subscription) this.lost(client);
        });
      }
    }
    await previous?.close().catch(() => undefined);
  }

  /** Opens the stream on `client` now, or keeps trying with backoff until it opens. */
  start(client: Client): void {
    this.open(client).catch(() => this.lost(client));
  }

  /** Starts or stops watching `uri` (its resources/updated notifications). */
  async watch(client: Client, uri: string, on: boolean): Promise<void> {
    if (on === this.watched.has(uri)) return;
    if (on) this.watched.add(uri);
    else this.watched.delete(uri);
    await this.open(client);
  }

  // Listens again after a delay, doubling up to MAX_RETRY_MS, while the client is still the upstream's.
  private lost(client: Client): void {
    if (this.closed || this.client !== client) return;
    this.timer = setTimeout(() => {
      this.open(client).then(
        () => {
          this.retryMs = 250;
          this.renewed();
        },
        () => {
          this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
          this.lost(client);
        },
      );
    }, this.retryMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.current?.close().catch(() => undefined);
    this.current = undefined;
  }
}

// What the instance can deliver of what the proxy wants: its advertised list changes, and the watched resources when it supports subscribing.
function filterFor(client: Client, watched: ReadonlySet<string>): SubscriptionFilter | undefined {
  const capabilities = client.getServerCapabilities() ?? {};
  const filter: SubscriptionFilter = {
    ...(capabilities.tools?.listChanged && { toolsListChanged: true }),
    ...(capabilities.resources?.listChanged && { resourcesListChanged: true }),
    ...(capabilities.prompts?.listChanged && { promptsListChanged: true }),
    ...(capabilities.resources?.subscribe && watched.size > 0 && { resourceSubscriptions: [...watched] }),
  };
  return Object.keys(filter).length > 0 ? filter : undefined;
}
