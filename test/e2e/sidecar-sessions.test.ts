import t from 'tap';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fixture, pollJson } from '../helpers/processes.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// Many MCP sessions share one child through one sidecar; every answer must reach the session that asked.

type Content = { type: string; text: string }[];
const textOf = (result: unknown) => (result as { content: Content }).content.map((c) => c.text).join('\n');

t.test('50 concurrent sessions, 5 calls each, all in flight together: zero crossed answers', async (t) => {
  const sidecar = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')] });
  const SESSIONS = 50;
  const CALLS = 5;
  const clients = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => connectClient(t, sidecar.url, {}, `client-${i}`)));
  t.equal((await sidecar.health()).sessions, SESSIONS, 'one bridge session per client');
  const calls = clients.flatMap((client, i) =>
    Array.from({ length: CALLS }, (_, j) => {
      const expected = `client-${i}-call-${j}`;
      // Odd calls go through the child's sleep first, so answers come back out of order.
      const work = j % 2 === 1 ? client.callTool({ name: 'sleep', arguments: { ms: (i * 7 + j) % 40 } }) : Promise.resolve();
      return work.then(() => client.callTool({ name: 'echo', arguments: { text: expected } })).then((result) => ({ expected, got: textOf(result) }));
    }),
  );
  const results = await Promise.all(calls);
  const crossed = results.filter((r) => r.got !== r.expected);
  t.equal(results.length, SESSIONS * CALLS);
  t.same(crossed, [], 'every answer names its own caller');
  const health = await sidecar.health();
  t.equal(health.inflight, 0);
  t.equal(health.calls.failed, 0);
  t.ok(health.calls.forwarded >= SESSIONS * CALLS, `forwarded ${health.calls.forwarded}`);
});

t.test('a DELETEd session is gone: its id then gets 404', async (t) => {
  const sidecar = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')] });
  const transport = new StreamableHTTPClientTransport(new URL(sidecar.url));
  const client = new Client({ name: 'deleter', version: '1.0.0' });
  await client.connect(transport);
  t.teardown(() => client.close());
  const sessionId = transport.sessionId;
  t.type(sessionId, 'string');
  t.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'alive' } })), 'alive');
  t.equal((await sidecar.health()).sessions, 1);
  await transport.terminateSession();
  t.equal((await sidecar.health()).sessions, 0, 'the bridge session is closed');
  const response = await fetch(sidecar.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  t.equal(response.status, 404);
  const body = await response.json();
  t.match(body, { jsonrpc: '2.0', error: { message: new RegExp(`Session not found: ${sessionId}`) } });
});

t.test('cancellation from the client reaches the child as notifications/cancelled', async (t) => {
  const sidecar = await startSidecar(t, { name: 'hang', command: ['python3', fixture('hang_server.py')] });
  const client = await connectClient(t, sidecar.url);
  const controller = new AbortController();
  const call = client.callTool({ name: 'hang', arguments: {} }, { signal: controller.signal }).catch((e: unknown) => e);
  await pollJson(`${sidecar.base}/healthz`, (_, h) => h.inflight === 1);
  controller.abort('the user gave up');
  const error = await call;
  t.match(error, { message: /the user gave up/ }, 'the caller sees its own abort');
  const health = await pollJson(`${sidecar.base}/healthz`, (_, h) => h.inflight === 0);
  t.equal(health.calls.timeouts, 0, 'cancelled, not timed out');
  const ids = JSON.parse(textOf(await client.callTool({ name: 'cancelled_ids', arguments: {} })));
  t.equal(ids.length, 1, `the child got one notifications/cancelled (${JSON.stringify(ids)})`);
  t.type(ids[0], 'number');
  t.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'next' } })), 'next', 'the session goes on');
});
