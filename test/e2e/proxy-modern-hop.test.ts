import t from 'tap';
import type { Test } from 'tap';
import { freePort, pollJson, spawnNode, waitFor, type Spawned } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient } from '../helpers/sidecar.js';
import { sseMessages } from '../helpers/modern.js';
import { mediaTypeOf } from '../../src/http/media-type.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

// The proxy→instance hop to an instance that serves MCP 2026-07-28 only (test/fixtures/modern-echo.ts,
// legacy refused): probed once, then stateless requests; restarting the instance loses nothing.
const CLAIM = 'modern-echo-claim-kept-across-a-restart-in-place-0123456789';
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '10'];

function startModernEcho(t: Test, proxyUrl: string, port: number): Spawned {
  const spawned = spawnNode('test/fixtures/modern-echo.js', [], {
    MESH_SERVICE_NAME: 'modern',
    MESH_PROXY_URL: proxyUrl,
    MESH_PORT: String(port),
    MODERN_ECHO_NO_DEREGISTER: '1',
    MODERN_ECHO_CLAIM: CLAIM,
  });
  t.teardown(() => spawned.stop());
  return spawned;
}

const text = (result: { content?: unknown }) => (result.content as { type: string; text: string }[])[0]?.text ?? '';

t.test('a modern-only instance is spoken to statelessly; restarting it loses nothing', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const port = await freePort();
  const first = startModernEcho(t, proxy.base, port);
  await pollJson(`${proxy.base}/v1/services/modern`, (status, body) => status === 200 && body.status === 'healthy').catch((error: Error) => {
    throw new Error(`${error.message}\nfixture stderr: ${first.stderr()}`);
  });
  const client = await connectClient(t, `${proxy.base}/mcp`, {}, 'legacy-client');

  t.match(await client.callTool({ name: 'modern__echo', arguments: { text: 'one' } }), { content: [{ type: 'text', text: 'echo: one' }] }, 'a legacy client reaches the modern instance');
  t.notOk('resultType' in (await client.callTool({ name: 'modern__echo', arguments: { text: 'two' } })), "the instance's resultType is consumed by the proxy");
  const seen = JSON.parse(text(await client.callTool({ name: 'modern__seen', arguments: {} }))) as string[];
  t.equal(seen.filter((method) => method === 'server/discover').length, 1, 'the instance was probed once');
  t.same(
    seen.filter((method) => !method.includes('/')),
    [],
    'every request to it was a 2026-07-28 one (Mcp-Method set): no initialize, no session',
  );
  t.ok(seen.includes('tools/call'), 'tools/call went stateless');

  // Restart in place (same port, same instance id; the registry never noticed).
  await first.stop();
  const second = startModernEcho(t, proxy.base, port);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST' }).catch(() => undefined)) !== undefined, 'the restarted instance listens', 20_000).catch((error: Error) => {
    throw new Error(`${error.message}\nfixture stderr: ${second.stderr()}`);
  });
  t.match(
    await client.callTool({ name: 'modern__echo', arguments: { text: 'after restart' } }),
    { content: [{ type: 'text', text: 'echo: after restart' }] },
    'the first call after the restart succeeds',
  );
  const seenAfter = text(await client.callTool({ name: 'modern__seen', arguments: {} }));
  const after = JSON.parse(seenAfter) as string[];
  t.notOk(after.includes('server/discover'), 'no new probe: the cached verdict holds');
  t.same(
    after.filter((method) => !method.includes('/') && !method.startsWith('POST without')),
    [],
    'no initialize, no session re-opened',
  );
  t.equal(after.filter((method) => method === 'tools/call').length, 2, 'each call reached the restarted instance once (no session-lost retry)');
  const audit = (await proxy.api('/v1/audit?service=modern&limit=100')).body.entries as { outcome: string }[];
  t.ok(
    audit.every((entry) => entry.outcome === 'ok'),
    'every call through the restart ended ok',
  );
});

t.test('register_service lists a modern-only server, which then serves calls statelessly', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const port = await freePort();
  const spawned = spawnNode('test/fixtures/modern-echo.js', [], { MESH_SERVICE_NAME: 'byurl', MESH_PORT: String(port) });
  t.teardown(() => spawned.stop());
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 'the server listens', 20_000);
  const client = await connectClient(t, `${proxy.base}/mcp`, {}, 'registrar');
  const registered = await client.callTool({ name: 'register_service', arguments: { name: 'byurl', url: `http://127.0.0.1:${port}/mcp` } });
  t.notOk(registered.isError, `registered: ${text(registered)}`);
  t.match(JSON.parse(text(registered)), { name: 'byurl', tools: 6 }, 'its six tools listed over 2026-07-28');
  t.match(await client.callTool({ name: 'byurl__echo', arguments: { text: 'by url' } }), { content: [{ type: 'text', text: 'echo: by url' }] });

  // Its list change comes on the proxy's subscriptions/listen stream to it, and reaches a modern client's listen stream on the proxy.
  const modern = new Client({ name: 'listener', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await modern.connect(new StreamableHTTPClientTransport(new URL(`${proxy.base}/mcp`)));
  t.teardown(() => modern.close());
  let heard = 0;
  modern.setNotificationHandler('notifications/tools/list_changed', () => void heard++);
  await modern.listen({ toolsListChanged: true });
  await client.callTool({ name: 'byurl__grow', arguments: {} });
  await waitFor(async () => heard > 0 && (await modern.listTools()).tools.some((tool) => tool.name === 'byurl__extra'), 'byurl__extra listed after a list_changed', 20_000);
  t.pass("the instance's list change reached a modern client of the proxy");
});

t.test("a legacy client's resources/subscribe on a modern instance's resource: its updates come on the proxy's listen stream to it", async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  startModernEcho(t, proxy.base, await freePort());
  await pollJson(`${proxy.base}/v1/services/modern`, (status, body) => status === 200 && body.status === 'healthy');
  const client = await connectClient(t, `${proxy.base}/mcp`, {}, 'subscriber');
  const uri = 'mesh://modern/counter://value';
  const updates: string[] = [];
  client.setNotificationHandler('notifications/resources/updated', (notification) => void updates.push(notification.params.uri));
  t.same(await client.subscribeResource({ uri }), {}, 'subscribed through the proxy');
  await client.callTool({ name: 'modern__bump', arguments: {} });
  await waitFor(() => updates.length > 0, 'a resources/updated notification', 20_000);
  t.same(updates, [uri], 'the update names the resource by its mesh:// uri');
  t.match((await client.readResource({ uri })).contents, [{ text: '1' }]);
  await client.unsubscribeResource({ uri });
  await client.callTool({ name: 'modern__bump', arguments: {} });
  t.match((await client.readResource({ uri })).contents, [{ text: '2' }], 'bumped again after unsubscribing');
});

t.test("a modern request's own log level: the instance's log lines for it come back on its stream, named by service", async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  startModernEcho(t, proxy.base, await freePort());
  await pollJson(`${proxy.base}/v1/services/modern`, (status, body) => status === 200 && body.status === 'healthy');
  const call = async (logLevel?: string) => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
      ...(logLevel && { 'io.modelcontextprotocol/logLevel': logLevel }),
    };
    const response = await fetch(`${proxy.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'modern__chatty' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'modern__chatty', arguments: {}, _meta: meta } }),
    });
    const body = await response.text();
    const messages = mediaTypeOf(response.headers.get('content-type')) === 'text/event-stream' ? sseMessages(body) : [JSON.parse(body)];
    return { logs: messages.filter((m) => m.method === 'notifications/message').map((m) => m.params), answer: messages.find((m) => m.id === 1) };
  };
  const asked = await call('info');
  t.same(
    asked.logs.map((p: { level: string; logger: string; data: unknown }) => [p.level, p.logger, p.data]),
    [['info', 'modern/chat', 'chatty says hello']],
    'the info line, named by service; not the debug one',
  );
  t.match(asked.answer, { result: { resultType: 'complete', content: [{ text: 'said it' }] } });
  const silent = await call();
  t.same(silent.logs, [], 'no level asked: no log lines');
  t.match(silent.answer, { result: { content: [{ text: 'said it' }] } });
});

t.test("a self-registered instance's list_changed reaches the proxy's listen streams although its registered lists did not change", async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const spawned = spawnNode('test/fixtures/modern-echo.js', [], { MESH_SERVICE_NAME: 'self', MESH_PROXY_URL: proxy.base, MESH_PORT: String(await freePort()) });
  t.teardown(() => spawned.stop());
  await pollJson(`${proxy.base}/v1/services/self`, (status, body) => status === 200 && body.status === 'healthy');
  const modern = new Client({ name: 'listener', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await modern.connect(new StreamableHTTPClientTransport(new URL(`${proxy.base}/mcp`)));
  t.teardown(() => modern.close());
  t.ok(
    (await modern.listPrompts()).prompts.some((prompt) => prompt.name === 'self__greet'),
    'its prompts are listed',
  );
  const heard = { tools: 0, prompts: 0 };
  modern.setNotificationHandler('notifications/tools/list_changed', () => void heard.tools++);
  modern.setNotificationHandler('notifications/prompts/list_changed', () => void heard.prompts++);
  await modern.listen({ toolsListChanged: true, promptsListChanged: true });
  // Its registration names the same six tools before and after `grow` and its prompts stay the same:
  // only the instance's own announcement (on the proxy's listen stream to it, opened after the first call) says so.
  await waitFor(
    async () => {
      await modern.callTool({ name: 'self__grow', arguments: {} });
      return heard.tools > 0 && heard.prompts > 0;
    },
    'tools and prompts list_changed heard on the listen stream',
    20_000,
  );
  t.pass("the instance's announcements reached a modern client of the proxy");
});
