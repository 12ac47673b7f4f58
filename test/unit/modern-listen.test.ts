import t from 'tap';
import type { Client, McpSubscription, SubscriptionFilter } from '@modelcontextprotocol/client';
import { ModernListen } from '../../proxy/router/modern-listen.js';

// A client whose listen() answers when the test says so, recording which streams are open.
function slowClient() {
  const open = new Set<SubscriptionFilter>();
  const pending: (() => void)[] = [];
  const client = {
    getServerCapabilities: () => ({ resources: { subscribe: true } }),
    listen: (filter: SubscriptionFilter) =>
      new Promise<McpSubscription>((resolve) => {
        pending.push(() => {
          open.add(filter);
          resolve({ closed: new Promise(() => undefined), close: async () => void open.delete(filter) } as unknown as McpSubscription);
        });
      }),
  } as unknown as Client;
  return { client, open, pending };
}

t.test('two watches at once leave one stream open, with both URIs', async (t) => {
  const { client, open, pending } = slowClient();
  const listen = new ModernListen(() => undefined);
  const first = listen.watch(client, 'a://1', true);
  const second = listen.watch(client, 'b://2', true);
  // Answer each listen as it is asked (the second open waits for the first) until both watches are done.
  let done = false;
  const both = Promise.all([first, second]).finally(() => (done = true));
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    pending.shift()?.();
  }
  await both;
  t.equal(open.size, 1, 'one stream open at the instance');
  t.same([...open][0]?.resourceSubscriptions, ['a://1', 'b://2'], 'carrying both URIs');
  listen.close();
});
