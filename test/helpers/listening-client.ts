import type { Test } from 'tap';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { isEventStream } from './media-type.js';

/**
 * An SDK client whose standalone SSE stream (GET /mcp) is open when this resolves. Notifications
 * that belong to no request (list_changed...) only reach a client on that stream, and the SDK
 * opens it in the background after connect; waiting for its response avoids a race, not a sleep.
 */
export async function connectListeningClient(t: Test, url: string, options: ConstructorParameters<typeof Client>[1] = {}): Promise<Client> {
  let opened!: () => void;
  const streamOpen = new Promise<void>((resolve) => (opened = resolve));
  const fetchWatchingGet: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if ((init?.method ?? 'GET') === 'GET' && response.ok && isEventStream(response.headers.get('content-type'))) opened();
    return response;
  };
  const client = new Client({ name: 'listening-client', version: '1.0.0' }, options);
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: fetchWatchingGet }));
  t.teardown(() => client.close());
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([streamOpen, new Promise((_, reject) => (guard = setTimeout(() => reject(new Error('the client never opened its GET SSE stream')), 10_000)))]).finally(() => clearTimeout(guard));
  return client;
}
