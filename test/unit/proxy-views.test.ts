import t, { type Test } from 'tap';
import { silentLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../proxy/proxy.js';
import type { ViewInput } from '../../src/contract/views.js';
import { ViewsSchema } from '../../src/contract/views.js';
import { connectClient } from '../helpers/sidecar.js';
import { postModern } from '../helpers/modern.js';
import { waitFor } from '../helpers/processes.js';
import { startRemoteMcp } from '../fixtures/remote-mcp.js';

// Named views in process: a real proxy on a free port, three in-process MCP servers registered by
// URL (prose and notes tagged "writing", code not), and the views' endpoints in both eras.

const views = (input: Record<string, ViewInput>) => ViewsSchema.parse(input);

async function mesh(t: Test): Promise<RunningProxy> {
  const proxy = await startProxy({
    host: '127.0.0.1',
    port: 0,
    heartbeatTimeoutMs: 120_000,
    version: '0.0.0-test',
    log: silentLogger,
    views: views({ writing: { tags: ['writing'], tools: { notes: ['echo'] } }, code: { services: ['code'] } }),
  });
  t.teardown(() => proxy.stop());
  for (const [name, tools, tags] of [
    ['prose', ['draft'], ['writing']],
    ['notes', ['jot'], ['writing']],
    ['code', ['lint'], []],
  ] as const) {
    const remote = await startRemoteMcp({ tools: [...tools] });
    t.teardown(() => remote.close());
    await proxy.core.registerByUrl({ name, url: remote.url, tags: [...tags] });
  }
  return proxy;
}

const names = (tools: { name: string }[]) => tools.map((tool) => tool.name).sort();

t.test('legacy sessions: each view lists and calls only its selection; outside is an error naming the view', async (t) => {
  const proxy = await mesh(t);
  const all = await connectClient(t, `${proxy.url}/mcp`);
  t.ok((await all.listTools()).tools.length >= 7 + 5, '/mcp shows the mesh tools and every service tool');

  const writing = await connectClient(t, `${proxy.url}/mcp/writing`);
  t.same(names((await writing.listTools()).tools), ['notes__echo', 'prose__draft', 'prose__echo'], 'by tag, with the allow list of notes');
  const echoed = await writing.callTool({ name: 'prose__echo', arguments: { text: 'hi' } });
  t.same(echoed.content, [{ type: 'text', text: 'hi' }], 'a tool of the view is routed');
  for (const name of ['code__lint', 'notes__jot', 'call_service']) {
    await t.rejects(writing.callTool({ name, arguments: {} }), { message: /not in view "writing" \(\/mcp\/writing\)/ }, `${name} is outside the view`);
  }
  await t.rejects(writing.readResource({ uri: 'mesh://code/file:///x' }), { message: /not in view "writing"/ }, 'a resource of another service');
  await t.rejects(writing.subscribeResource({ uri: 'mesh://code/file:///x' }), { message: /not in view "writing"/ }, 'nor a subscription to it');
  await t.rejects(writing.getPrompt({ name: 'code__review' }), { message: /prompt "code__review" is not in view "writing"/ }, 'a prompt of another service');
  await t.rejects(writing.complete({ ref: { type: 'ref/resource', uri: 'mesh://code/file:///{x}' }, argument: { name: 'x', value: '' } }), { message: /not in view "writing"/ }, 'nor a completion');
  t.same(names((await writing.listResources()).resources), [], 'resources: only those of the view (none here)');

  const code = await connectClient(t, `${proxy.url}/mcp/code`);
  t.same(names((await code.listTools()).tools), ['code__echo', 'code__lint'], 'by name');

  const discovery = await connectClient(t, `${proxy.url}/mcp/discovery`);
  t.same(names((await discovery.listTools()).tools), ['call_service', 'get_service_info', 'get_service_status', 'list_services'], 'the discovery view: the mesh tools a client finds others with');
  const called = await discovery.callTool({ name: 'call_service', arguments: { service: 'code', tool: 'lint', arguments: {} } });
  t.same(called.content, [{ type: 'text', text: 'lint' }], 'and calls them on demand');
  await t.rejects(discovery.callTool({ name: 'register_service', arguments: {} }), { message: /not in view "discovery"/ });
});

t.test('an unknown view is a 404 naming the known views', async (t) => {
  const proxy = await mesh(t);
  const answer = await fetch(`${proxy.url}/mcp/nope`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
  });
  t.equal(answer.status, 404);
  t.match(((await answer.json()) as { error: { message: string } }).error.message, /no view "nope".*known views: discovery, writing, code/);
  const modern = await postModern(`${proxy.url}/mcp/nope`, 'tools/list', {});
  t.equal(modern.status, 404, 'a 2026-07-28 request too');
  t.match(modern.body.error.message, /no view "nope"/);
});

t.test('2026-07-28 requests: tools/list and tools/call of a view (lean path included)', async (t) => {
  const proxy = await mesh(t);
  const listed = await postModern(`${proxy.url}/mcp/writing`, 'tools/list', {});
  t.same(names(listed.body.result.tools), ['notes__echo', 'prose__draft', 'prose__echo']);
  const inside = await postModern(`${proxy.url}/mcp/writing`, 'tools/call', { name: 'prose__draft', arguments: {} });
  t.same(inside.body.result.content, [{ type: 'text', text: 'draft' }], 'a plain call of the view is routed');
  const outside = await postModern(`${proxy.url}/mcp/writing`, 'tools/call', { name: 'code__lint', arguments: {} });
  t.match(outside.body.error, { code: -32602, message: /tool "code__lint" is not in view "writing"/ });
  const discovery = await postModern(`${proxy.url}/mcp/discovery`, 'tools/list', {});
  t.equal(discovery.body.result.tools.length, 4);
});

t.test('PUT /v1/views replaces the views: sessions hear list_changed, a removed view is gone', async (t) => {
  const proxy = await mesh(t);
  let heard = 0;
  const writing = await connectClient(t, `${proxy.url}/mcp/writing`, { listChanged: { tools: { onChanged: () => heard++ } } });
  t.equal((await writing.listTools()).tools.length, 3);
  const put = (body: unknown) => fetch(`${proxy.url}/v1/views`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const changed = await put({ views: { writing: { services: ['prose'], tools: { prose: ['draft'] } } } });
  t.equal(changed.status, 200);
  t.match(await changed.json(), {
    views: [
      { name: 'discovery', builtIn: true },
      { name: 'writing', path: '/mcp/writing' },
    ],
  });
  await waitFor(async () => heard > 0, 'the session hears tools/list_changed');
  t.same(names((await writing.listTools()).tools), ['prose__draft']);
  const gone = await postModern(`${proxy.url}/mcp/code`, 'tools/list', {});
  t.equal(gone.status, 404, 'a view left out stops serving');
  const bad = await put({ views: { discovery: { services: ['x'] } } });
  t.equal(bad.status, 400, 'the discovery name is reserved');
  t.match(await bad.text(), /built-in discovery view/);
  const empty = await put({ views: { x: {} } });
  t.equal(empty.status, 400, 'a view selects something');
});

t.test('a configured separator names the tools of every endpoint, and calls resolve with it', async (t) => {
  const proxy = await startProxy({ host: '127.0.0.1', port: 0, heartbeatTimeoutMs: 120_000, version: '0.0.0-test', log: silentLogger, separator: '-', views: views({ w: { services: ['svc'] } }) });
  t.teardown(() => proxy.stop());
  const remote = await startRemoteMcp({ tools: ['odd.name'] });
  t.teardown(() => remote.close());
  await proxy.core.registerByUrl({ name: 'svc', url: remote.url, tags: [] });
  const listed = await postModern(`${proxy.url}/mcp/w`, 'tools/list', {});
  const listedNames = names(listed.body.result.tools);
  t.equal(listedNames[0], 'svc-echo');
  t.match(listedNames[1], /^svc-odd_name_[0-9a-f]{8}$/, 'an odd tool name is cleaned and hashed');
  const called = await postModern(`${proxy.url}/mcp/w`, 'tools/call', { name: listedNames[1], arguments: {} });
  t.same(called.body.result.content, [{ type: 'text', text: 'odd.name' }], 'the hashed name routes to the tool');
  await t.rejects(startProxy({ host: '127.0.0.1', port: 0, heartbeatTimeoutMs: 1_000, version: 'x', log: silentLogger, separator: '::' }), { message: /separator "::"/ });
});
