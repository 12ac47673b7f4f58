import t from 'tap';
import { z } from 'zod';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createInstance } from '../../src/instance/create-instance.js';
import { MeshError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { waitUntil } from '../../src/stdio/process-group.js';

// A native instance in this process (standalone, port 0) and a real MCP SDK client over HTTP.
t.test('a standalone native instance over MCP Streamable HTTP', async (t) => {
  let aborted = 0;
  let lastCtx: { caller: string; hops: number } | undefined;
  const instance = createInstance({ name: 'native-test', description: 'test instance', version: '2.0.0', port: 0, proxy: false, handleSignals: false, deadlineMs: 400, log: silentLogger })
    .tool('add', 'Adds two numbers', { a: z.number(), b: z.number() }, ({ a, b }, ctx) => {
      lastCtx = { caller: ctx.caller, hops: ctx.hops };
      return String(a + b);
    })
    .tool('stats', z.object({ text: z.string().min(1) }), ({ text }) => ({ length: text.length, words: text.split(/\s+/).length }))
    .tool('fail', {}, () => {
      throw new Error('the handler gave up');
    })
    .tool('mesh_fail', {}, () => {
      throw new MeshError('SERVICE_NOT_FOUND', 'unknown service "nope"');
    })
    .tool(
      'slow',
      {},
      (_args, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted++;
            resolve('too late');
          });
        }),
    )
    .tool('steps', { n: z.number().int().min(1).max(10) }, async ({ n }, ctx) => {
      for (let i = 1; i <= n; i++) await ctx.progress(i, n, `step ${i}`);
      await ctx.log('info', { done: n });
      return `${n} steps`;
    });
  t.equal(instance.state, 'created');
  const { url, port } = await instance.start();
  t.teardown(() => instance.stop());
  t.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${port}/mcp$`));
  t.equal(instance.state, 'ready');

  const health = await (await fetch(url.replace('/mcp', '/healthz'))).json();
  t.match(health, { name: 'native-test', kind: 'native', state: 'ready', tools: 6, toolsHash: /^[0-9a-f]{16}$/, pid: process.pid, proxy: undefined });

  const client = new Client({ name: 'unit', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  t.teardown(() => client.close());
  t.match(client.getServerVersion(), { name: 'native-test', version: '2.0.0' });
  t.equal(client.getInstructions(), 'test instance', 'the description is the server instructions');

  t.test('tools/list carries the zod schemas as JSON Schema', async (t) => {
    const { tools } = await client.listTools();
    t.same(
      tools.map((tool) => tool.name),
      ['add', 'stats', 'fail', 'mesh_fail', 'slow', 'steps'],
    );
    t.match(tools[0], { description: 'Adds two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } });
  });

  t.test('calls: text, structured, ctx outside the mesh', async (t) => {
    t.same((await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).content, [{ type: 'text', text: '5' }]);
    t.same(lastCtx, { caller: 'client', hops: 0 }, 'a direct call: caller "client", 0 hops');
    const stats = await client.callTool({ name: 'stats', arguments: { text: 'two words' } });
    t.same(stats.structuredContent, { length: 9, words: 2 });
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => client.callTool({ name: 'add', arguments: { a: i, b: 1 } })));
    t.same(
      many.map((r) => (r.content as { text: string }[])[0]?.text),
      Array.from({ length: 30 }, (_, i) => String(i + 1)),
      'concurrent calls get their own answers',
    );
  });

  t.test('invalid arguments: an isError result naming each field', async (t) => {
    const result = await client.callTool({ name: 'add', arguments: { a: 'x' } });
    t.equal(result.isError, true);
    t.match(result.content, [{ type: 'text', text: 'invalid arguments for tool "add": a: expected number, received string; b: expected number, received undefined' }]);
  });

  t.test('a throwing handler: an isError result with its message; a MeshError keeps its code', async (t) => {
    t.match(await client.callTool({ name: 'fail', arguments: {} }), { isError: true, content: [{ type: 'text', text: 'the handler gave up' }] });
    t.match(await client.callTool({ name: 'mesh_fail', arguments: {} }), { isError: true, content: [{ type: 'text', text: 'SERVICE_NOT_FOUND: unknown service "nope"' }] });
  });

  t.test('an unknown tool is a protocol error listing the tools', async (t) => {
    await t.rejects(client.callTool({ name: 'nope', arguments: {} }), { message: /unknown tool "nope"; tools: add, stats/ });
  });

  t.test('the deadline aborts the handler signal and answers CALL_TIMEOUT', async (t) => {
    const started = Date.now();
    await t.rejects(client.callTool({ name: 'slow', arguments: {} }), { message: /native-test: tool "slow" did not answer within 400 ms/ });
    t.ok(Date.now() - started < 3_000, 'answered near the deadline');
    t.equal(aborted, 1, 'the handler saw its signal abort');
  });

  t.test('a cancelled request aborts the handler signal', async (t) => {
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: {} }, { signal: controller.signal });
    // Abort only once the handler runs, so the cancellation is what reaches it.
    t.ok(await waitUntil(() => instance.health().inflight === 1, 10_000), 'the handler is running');
    controller.abort('changed my mind');
    await t.rejects(call);
    t.ok(await waitUntil(() => aborted === 2, 10_000), 'the handler saw its signal abort');
  });

  t.test('progress and log messages reach the caller', async (t) => {
    const progress: unknown[] = [];
    const logs: unknown[] = [];
    client.setNotificationHandler('notifications/message', (n) => void logs.push(n.params));
    const result = await client.callTool({ name: 'steps', arguments: { n: 3 } }, { onprogress: (p) => void progress.push(p) });
    t.same(result.content, [{ type: 'text', text: '3 steps' }]);
    t.same(
      progress,
      [1, 2, 3].map((i) => ({ progress: i, total: 3, message: `step ${i}` })),
    );
    t.match(logs, [{ level: 'info', logger: 'native-test', data: { done: 3 } }]);
  });

  t.test('a tool added while running is listed (list_changed)', async (t) => {
    const before = instance.health().toolsHash;
    instance.tool('late', {}, () => 'here');
    t.not(instance.health().toolsHash, before);
    t.ok((await client.listTools()).tools.some((tool) => tool.name === 'late'));
    t.same((await client.callTool({ name: 'late', arguments: {} })).content, [{ type: 'text', text: 'here' }]);
  });

  t.test('stop closes the endpoint', async (t) => {
    await instance.stop();
    t.equal(instance.state, 'stopped');
    await t.rejects(fetch(url.replace('/mcp', '/healthz')));
    await t.rejects(instance.start(), { message: /already called/ });
  });
});

t.test('start fails cleanly on a port in use', async (t) => {
  const first = createInstance({ name: 'a', port: 0, proxy: false, handleSignals: false, log: silentLogger });
  const { port } = await first.start();
  t.teardown(() => first.stop());
  const second = createInstance({ name: 'b', port, proxy: false, handleSignals: false, log: silentLogger });
  await t.rejects(second.start(), { code: 'PORT_IN_USE', message: new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`) });
  t.equal(second.state, 'stopped');
});

t.test('stop() during start() waits for it and leaves nothing listening', async (t) => {
  const instance = createInstance({ name: 'racy', port: 0, proxy: false, handleSignals: false, log: silentLogger });
  const starting = instance.start();
  const stopping = instance.stop();
  const { url } = await starting;
  await stopping;
  t.equal(instance.state, 'stopped');
  await t.rejects(fetch(url.replace('/mcp', '/healthz')), 'the endpoint is closed');
});

// MESH_MAX_SESSIONS reaches the instance's sessions: at a cap of 1 a second session evicts the first (idle) one.
t.test("MESH_MAX_SESSIONS caps the instance's MCP sessions", async (t) => {
  const instance = createInstance({ name: 'capped', port: 0, proxy: false, handleSignals: false, log: silentLogger, env: { MESH_MAX_SESSIONS: '1' } });
  const { url } = await instance.start();
  t.teardown(() => instance.stop());
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const initialize = async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'unit', version: '1' } } };
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    await response.text();
    t.equal(response.status, 200, 'initialize');
    return response.headers.get('mcp-session-id') ?? '';
  };
  const ping = async (session: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    await response.text();
    return response.status;
  };
  const first = await initialize();
  t.equal(await ping(first), 200, 'the first session answers');
  const second = await initialize();
  t.equal(await ping(second), 200, 'the second session answers');
  t.equal(await ping(first), 404, 'the first session was evicted by the second (cap 1)');
});
