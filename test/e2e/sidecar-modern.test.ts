import t from 'tap';
import { fixture, waitFor } from '../helpers/processes.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';
import { connectModern, envelope, MODERN, postModern } from '../helpers/modern.js';

// 2026-07-28 clients and legacy clients on one sidecar, in front of an unmodified legacy stdio child.
const sidecar = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')] });

t.test('a modern client negotiates 2026-07-28 and sees the child through server/discover', async (t) => {
  const client = await connectModern(t, sidecar.url);
  t.equal(client.getProtocolEra(), 'modern');
  t.equal(client.getNegotiatedProtocolVersion(), MODERN);
  t.same(client.getServerVersion(), { name: 'echo', version: '1.0.0' }, "serverInfo is the child's");
  t.match(client.getServerCapabilities(), { tools: { listChanged: true } }, "capabilities are the child's");
  const { tools } = await client.listTools();
  t.ok(tools.some((tool) => tool.name === 'echo'));
  const result = await client.callTool({ name: 'echo', arguments: { text: 'modern hello' } });
  t.same(result.content, [{ type: 'text', text: 'modern hello' }]);
});

t.test('results carry resultType, serverInfo in _meta, and cache hints on lists', async (t) => {
  const list = await postModern(sidecar.url, 'tools/list', {});
  t.equal(list.status, 200);
  t.equal(list.body.result.resultType, 'complete');
  t.type(list.body.result.ttlMs, 'number', 'ttlMs on a list result');
  t.type(list.body.result.cacheScope, 'string', 'cacheScope on a list result');
  t.same(list.body.result._meta['io.modelcontextprotocol/serverInfo'], { name: 'echo', version: '1.0.0' });
  const call = await postModern(sidecar.url, 'tools/call', { name: 'echo', arguments: { text: 'lean' } }, {}, 'c1');
  t.equal(call.status, 200);
  t.equal(call.body.id, 'c1');
  t.equal(call.body.result.resultType, 'complete');
  t.same(call.body.result.content, [{ type: 'text', text: 'lean' }]);
  t.same(call.body.result._meta['io.modelcontextprotocol/serverInfo'], { name: 'echo', version: '1.0.0' });
  const discover = await postModern(sidecar.url, 'server/discover', {});
  t.equal(discover.body.result.resultType, 'complete');
  t.ok(discover.body.result.supportedVersions.includes(MODERN));
});

t.test('the right errors: unknown version, header mismatch, bad envelope, unknown tool', async (t) => {
  const unknown = await postModern(sidecar.url, 'tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } }, { 'mcp-protocol-version': '2099-01-01' });
  t.equal(unknown.status, 400);
  t.equal(unknown.body.error.code, -32022);
  t.same(unknown.body.error.data.requested, '2099-01-01');
  t.ok(unknown.body.error.data.supported.includes(MODERN), 'names the revision served, as server/discover does');
  const unknownCall = await postModern(
    sidecar.url,
    'tools/call',
    { name: 'echo', arguments: { text: 'x' }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
    { 'mcp-protocol-version': '2099-01-01' },
  );
  t.equal(unknownCall.body.error?.code, -32022, 'a tools/call at an unknown version never takes the lean path');
  const mismatch = await postModern(sidecar.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { 'mcp-method': 'tools/list' });
  t.equal(mismatch.status, 400);
  t.equal(mismatch.body.error.code, -32020, 'HeaderMismatch');
  const wrongName = await postModern(sidecar.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { 'mcp-name': 'sleep' });
  t.equal(wrongName.status, 400);
  t.equal(wrongName.body.error.code, -32020, 'Mcp-Name disagreeing with params.name');
  const badEnvelope = await postModern(sidecar.url, 'tools/list', { _meta: { 'io.modelcontextprotocol/clientInfo': 5 } });
  t.equal(badEnvelope.status, 400);
  t.equal(badEnvelope.body.error.code, -32602);
  const noTool = await postModern(sidecar.url, 'tools/call', { name: 'nope', arguments: {} });
  t.ok(noTool.body.error || noTool.body.result?.isError, 'an unknown tool is an error');
  const notFound = await postModern(sidecar.url, 'prompts/list', {});
  t.equal(notFound.body.error.code, -32601, 'a method the child has no capability for');
});

t.test('50 clients, legacy and modern at once on the same URL: zero crossed answers', async (t) => {
  const legacy = await Promise.all(Array.from({ length: 25 }, (_, i) => connectClient(t, sidecar.url, {}, `legacy-${i}`)));
  const modern = await Promise.all(Array.from({ length: 25 }, (_, i) => connectModern(t, sidecar.url, {}, `modern-${i}`)));
  t.ok(
    legacy.every((client) => client.getProtocolEra() === 'legacy'),
    '25 legacy sessions',
  );
  t.ok(
    modern.every((client) => client.getProtocolEra() === 'modern'),
    '25 modern clients',
  );
  const clients = [...legacy, ...modern];
  let crossed = 0;
  await Promise.all(
    clients.flatMap((client, c) =>
      Array.from({ length: 8 }, async (_, i) => {
        const text = `client ${c} call ${i}`;
        const args = i % 4 === 0 ? { name: 'sleep', arguments: { ms: 5 } } : { name: 'echo', arguments: { text } };
        const result = await client.callTool(args);
        const got = (result.content as { text: string }[])[0]?.text;
        if (got !== (args.name === 'sleep' ? 'slept 5' : text)) crossed++;
      }),
    ),
  );
  t.equal(crossed, 0, '400 calls, 50 clients of both eras');
});

t.test('a raw modern notification POST is accepted (202) and a legacy initialize still works', async (t) => {
  const response = await fetch(sidecar.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x', _meta: envelope() } }),
  });
  t.equal(response.status, 202);
  const legacy = await connectClient(t, sidecar.url);
  t.equal(legacy.getProtocolEra(), 'legacy');
});

t.test("progress and log messages ride the request's own response stream; logs only when the request asked for a level", async (t) => {
  const progress = await postModern(sidecar.url, 'tools/call', { name: 'progress', arguments: { steps: 3 }, _meta: { progressToken: 'p-1' } });
  t.equal(progress.type, 'text/event-stream');
  const ticks = progress.messages.filter((m) => m.method === 'notifications/progress');
  t.same(
    ticks.map((m) => [m.params.progressToken, m.params.progress]),
    [
      ['p-1', 1],
      ['p-1', 2],
      ['p-1', 3],
    ],
    "the caller's own token",
  );
  t.same(progress.body.result.content, [{ type: 'text', text: 'done 3 steps' }]);
  t.equal(progress.body.result.resultType, 'complete');

  const asked = await postModern(sidecar.url, 'tools/call', { name: 'log', arguments: { text: 'hear me' }, _meta: { 'io.modelcontextprotocol/logLevel': 'info' } });
  const logs = asked.messages.filter((m) => m.method === 'notifications/message');
  t.equal(logs.length, 1, 'one log message on the stream');
  t.match(logs[0]?.params, { level: 'info', data: 'hear me', logger: 'echo' });
  t.same(asked.body.result.content, [{ type: 'text', text: 'logged' }]);

  const above = await postModern(sidecar.url, 'tools/call', { name: 'log', arguments: { text: 'too low' }, _meta: { 'io.modelcontextprotocol/logLevel': 'error' } });
  t.equal(above.messages.filter((m) => m.method === 'notifications/message').length, 0, 'an info message is below the asked level error');

  const silent = await postModern(sidecar.url, 'tools/call', { name: 'log', arguments: { text: 'nobody asked' } });
  t.equal(silent.type, 'application/json', 'no level asked: a plain JSON answer');
  t.equal(silent.messages.filter((m) => m.method === 'notifications/message').length, 0);
  t.same(silent.body.result.content, [{ type: 'text', text: 'logged' }]);
});

t.test("a modern listen stream hears the child's tools/list_changed", async (t) => {
  const client = await connectModern(t, sidecar.url);
  let changed = 0;
  client.setNotificationHandler('notifications/tools/list_changed', () => void changed++);
  const subscription = await client.listen({ toolsListChanged: true });
  t.same(subscription.honoredFilter, { toolsListChanged: true });
  const legacy = await connectClient(t, sidecar.url);
  await legacy.callTool({ name: 'add_tool', arguments: { name: 'late_tool' } });
  await waitFor(() => changed > 0, 'notifications/tools/list_changed on the listen stream');
  t.ok(changed >= 1);
  const { tools } = await client.listTools();
  t.ok(
    tools.some((tool) => tool.name === 'late_tool'),
    'the new tool is listed to the modern client',
  );
});

t.test("closing a modern request's response is its cancellation: the child's call is dropped", async (t) => {
  for (const meta of [{}, { 'io.modelcontextprotocol/logLevel': 'debug' }]) {
    const path = Object.keys(meta).length === 0 ? 'lean path' : 'SDK path';
    const abort = new AbortController();
    const call = fetch(sidecar.url, {
      method: 'POST',
      signal: abort.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'sleep' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 20_000 }, _meta: envelope(meta) } }),
    }).catch(() => 'aborted');
    await waitFor(async () => (await sidecar.health()).inflight === 1, `${path}: the call reached the child`);
    abort.abort();
    t.equal(await call, 'aborted');
    await waitFor(async () => (await sidecar.health()).inflight === 0, `${path}: the call is dropped`);
    t.pass(`${path}: cancelled`);
  }
});

t.test('an open listen stream does not hold up a stop: it is not a call in flight', async (t) => {
  const own = await startSidecar(t, { name: 'echo2', command: ['python3', fixture('echo_server.py')] });
  const client = await connectModern(t, own.url);
  await client.listen({ toolsListChanged: true });
  await own.stop();
  t.match(own.stderr(), /state stopped/);
  t.notMatch(own.stderr(), /draining \d+ request/, 'nothing was waited for');
});
