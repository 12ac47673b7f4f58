import { EmptyResultSchema } from '@modelcontextprotocol/core';
import type { Upstream } from './upstream.js';

/** Someone subscribed to resources through the router (one MCP client session of the endpoint). */
export interface Subscriber {
  /** The instance said the resource changed; `uri` is the service's own uri. */
  updated(service: string, uri: string): void;
}

/** Where subscriptions go: the router's pooled sessions. */
export interface SubscriptionRoutes {
  /** A healthy replica of `service` and its pooled upstream; throws the router's MeshError when there is none. */
  place(service: string): { instanceId: string; upstream: Upstream };
  /** The pooled upstream of an instance, when it is still known. */
  upstreamOf(instanceId: string): Upstream | undefined;
  deadlineMs: number;
  /** A subscription could not be renewed or moved (it is retried when the service is next reached). */
  onError?: (message: string) => void;
}

interface Entry {
  service: string;
  uri: string;
  subscribers: Set<Subscriber>;
  /** The instance whose pooled session holds the upstream subscription. */
  instanceId: string | undefined;
  /** The upstream subscribe in flight or done; undefined when it has to be (re)sent. */
  ready: Promise<void> | undefined;
}

const keyOf = (service: string, uri: string) => `${service}\n${uri}`;

/**
 * Resource subscriptions of all client sessions, one upstream `resources/subscribe` per
 * (service, uri) however many sessions want it (ref-counted), on one replica's pooled session.
 * The instance's `notifications/resources/updated` go to every subscriber. A renewed upstream
 * session is subscribed again; an instance that left hands its subscriptions to another replica.
 */
export class ResourceSubscriptions {
  private readonly entries = new Map<string, Entry>();
  /** Upstream unsubscribes in flight, by key: a new subscribe to the same resource waits for its one to land first. */
  private readonly releasing = new Map<string, Promise<void>>();

  constructor(private readonly routes: SubscriptionRoutes) {}

  /**
   * Subscribes `subscriber` to a resource of `service` (its own uri); resolves once the instance accepted.
   * @throws MeshError (or the instance's McpError) when the service cannot be reached or refuses
   */
  async subscribe(service: string, uri: string, subscriber: Subscriber): Promise<void> {
    const key = keyOf(service, uri);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { service, uri, subscribers: new Set(), instanceId: undefined, ready: undefined };
      this.entries.set(key, entry);
    }
    entry.subscribers.add(subscriber);
    try {
      await (entry.ready ?? this.place(entry));
    } catch (error) {
      entry.subscribers.delete(subscriber);
      if (entry.subscribers.size === 0 && this.entries.get(key) === entry) this.entries.delete(key);
      throw error;
    }
  }

  /** Drops one subscriber; the last one out unsubscribes upstream (best effort: the instance may be gone). */
  async unsubscribe(service: string, uri: string, subscriber: Subscriber): Promise<void> {
    const key = keyOf(service, uri);
    const entry = this.entries.get(key);
    if (!entry || !entry.subscribers.delete(subscriber) || entry.subscribers.size > 0) return;
    await this.release(key, entry);
  }

  /** Drops every subscription of a subscriber (its session closed). */
  dropSubscriber(subscriber: Subscriber): void {
    for (const [key, entry] of this.entries) {
      if (!entry.subscribers.delete(subscriber) || entry.subscribers.size > 0) continue;
      void this.release(key, entry);
    }
  }

  /** An instance's `notifications/resources/updated`: told to the subscribers of that resource. */
  updated(instanceId: string, uri: string): void {
    for (const entry of this.entries.values()) {
      if (entry.instanceId !== instanceId || entry.uri !== uri) continue;
      for (const subscriber of entry.subscribers) subscriber.updated(entry.service, uri);
    }
  }

  /** The instance's pooled session is new (the instance restarted): what was subscribed there is subscribed again. */
  renewed(instanceId: string): void {
    for (const entry of this.entries.values()) {
      if (entry.instanceId !== instanceId) continue;
      const upstream = this.routes.upstreamOf(instanceId);
      if (!upstream) continue;
      this.track(entry, this.send(upstream, 'resources/subscribe', entry.uri)).catch((error: Error) => {
        this.routes.onError?.(`cannot renew the subscription to ${entry.service} "${entry.uri}": ${error.message}`);
      });
    }
  }

  /** An instance left: its subscriptions move to another healthy replica, now or when the service is next reached. */
  lost(instanceId: string): void {
    for (const entry of this.entries.values()) {
      if (entry.instanceId !== instanceId) continue;
      entry.instanceId = undefined;
      entry.ready = undefined;
    }
    this.retry();
  }

  /** Places subscriptions that have no instance (theirs left, or none was healthy); cheap when there are none. */
  retry(): void {
    if (this.entries.size === 0) return;
    for (const entry of this.entries.values()) {
      if (entry.ready || entry.subscribers.size === 0) continue;
      this.place(entry).catch((error: Error) => {
        this.routes.onError?.(`cannot move the subscription to ${entry.service} "${entry.uri}": ${error.message}`);
      });
    }
  }

  clear(): void {
    this.entries.clear();
    this.releasing.clear();
  }

  // One upstream subscribe on a healthy replica.
  private place(entry: Entry): Promise<void> {
    return this.track(
      entry,
      (async () => {
        // entry.ready is set before placing (which may open an upstream and retry() others); an
        // unsubscribe of the same resource still in flight lands first, or it would undo this subscribe.
        await this.releasing.get(keyOf(entry.service, entry.uri));
        const { instanceId, upstream } = this.routes.place(entry.service);
        await this.send(upstream, 'resources/subscribe', entry.uri);
        entry.instanceId = instanceId;
      })(),
    );
  }

  // The entry's subscribe in flight; a failure leaves the entry to be placed again by the next subscribe or retry.
  private track(entry: Entry, ready: Promise<void>): Promise<void> {
    entry.ready = ready;
    ready.catch(() => {
      if (entry.ready === ready) entry.ready = undefined;
    });
    return ready;
  }

  // The last subscriber left: the entry goes now, its upstream unsubscribe is tracked until it lands (never rejects).
  private release(key: string, entry: Entry): Promise<void> {
    this.entries.delete(key);
    // A subscribe placed after an earlier release already waited for it (see place), so this one follows too.
    const released = (async () => {
      await entry.ready?.catch(() => undefined);
      const upstream = entry.instanceId === undefined ? undefined : this.routes.upstreamOf(entry.instanceId);
      if (upstream) await this.send(upstream, 'resources/unsubscribe', entry.uri).catch(() => undefined);
    })();
    this.releasing.set(key, released);
    void released.finally(() => {
      if (this.releasing.get(key) === released) this.releasing.delete(key);
    });
    return released;
  }

  private async send(upstream: Upstream, method: 'resources/subscribe' | 'resources/unsubscribe', uri: string): Promise<void> {
    await upstream.request(method, { uri }, EmptyResultSchema, this.routes.deadlineMs);
  }
}
