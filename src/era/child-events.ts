import type { ServerResponse } from 'node:http';
import { SubscriptionsListenRequestParamsSchema } from '@modelcontextprotocol/core';
import type { JSONRPCRequest, ServerNotifier } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import type { Logger } from '../log.js';

/** Publishes the child's change notifications to the modern `subscriptions/listen` streams. Returns the way to stop. */
export function publishChildEvents(bridge: Bridge, notify: ServerNotifier): () => void {
  return bridge.watchChild((notification) => {
    switch (notification.method) {
      case 'notifications/tools/list_changed':
        return notify.toolsChanged();
      case 'notifications/prompts/list_changed':
        return notify.promptsChanged();
      case 'notifications/resources/list_changed':
        return notify.resourcesChanged();
      case 'notifications/resources/updated': {
        const uri = notification.params?.uri;
        if (typeof uri === 'string') notify.resourceUpdated(uri);
        return;
      }
    }
  });
}

/** Resource URIs one listen stream may have the child subscribed to. */
export const MAX_LISTENED_URIS = 256;

/**
 * A legacy child only sends `notifications/resources/updated` for URIs it was subscribed to: while a
 * listen stream asks for some URIs, the child is subscribed to them (once, whoever else wants them),
 * and unsubscribed when the last stream or session that wanted one goes away.
 */
export function subscribeChildForListen(bridge: Bridge, request: JSONRPCRequest, res: ServerResponse, log: Logger): void {
  const parsed = SubscriptionsListenRequestParamsSchema.safeParse(request.params);
  const asked = parsed.success ? [...new Set(parsed.data.notifications.resourceSubscriptions ?? [])] : [];
  if (asked.length === 0) return;
  // One stream cannot make the child subscribe without bound (a 4 MiB body holds ~100,000 URIs).
  const uris = asked.slice(0, MAX_LISTENED_URIS);
  if (asked.length > uris.length) log.warn(`a listen stream asked for ${asked.length} resource URIs; the child is subscribed to the first ${MAX_LISTENED_URIS} only`);
  for (const uri of uris) {
    const count = bridge.listenedUris.get(uri) ?? 0;
    if (count === 0 && !bridge.subscribedElsewhere(uri)) subscribe(bridge, 'resources/subscribe', uri, log);
    bridge.listenedUris.set(uri, count + 1);
  }
  res.once('close', () => {
    for (const uri of uris) {
      const count = (bridge.listenedUris.get(uri) ?? 1) - 1;
      if (count > 0) {
        bridge.listenedUris.set(uri, count);
        continue;
      }
      bridge.listenedUris.delete(uri);
      if (!bridge.subscribedElsewhere(uri)) subscribe(bridge, 'resources/unsubscribe', uri, log);
    }
  });
}

function subscribe(bridge: Bridge, method: string, uri: string, log: Logger): void {
  bridge.request(method, { uri }).catch((error: Error) => log.debug(`${method} ${uri} for a listen stream: ${error.message}`));
}
