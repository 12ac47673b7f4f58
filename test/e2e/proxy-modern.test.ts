import t, { type Test } from 'tap';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { everythingServer, fixture, pollJson } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// A 2026-07-28 client (the v2 SDK Client, stateless: no initialize, no session) on the proxy's
// /mcp, beside a legacy client on the same URL: the same aggregation, its calls audited, and
// subscriptions/listen hearing list changes across all services.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];
const echo = ['python3', fixture('echo_server.py')];
const everything = ['node', everythingServer, 'stdio'];

async function connectModern(t: Test, url: string, name = 'modern-client', mode: 'auto' | { pin: '2026-07-28' } = { pin: '2026-07-28' }): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  t.teardown(() => client.close());
  return client;
}

const toolNames = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name);

t.test('a modern client and a legacy client on the same /mcp: discover, tools, audit, resources, prompts, listen', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  await startSidecar(t, { name: 'echo', command: echo, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await pollJson(`${proxy.base}/v1/services/echo`, (status, body) => status === 200 && body.status === 'healthy');

  const modern = await connectModern(t, `${proxy.base}/mcp`, 'modern-client', 'auto');
  const legacy = await connectClient(t, `${proxy.base}/mcp`, {}, 'legacy-client');
  t.equal(modern.getProtocolEra(), 'modern', 'auto negotiation picks 2026-07-28 on the proxy');
  t.equal(modern.getNegotiatedProtocolVersion(), '2026-07-28');
  t.equal(legacy.getProtocolEra(), 'legacy', 'the legacy client keeps its session');
  t.match(modern.getDiscoverResult(), { supportedVersions: ['2026-07-28'], capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } } });
  t.match(modern.getServerVersion(), { name: 'mesh-proxy' });

  const names = await toolNames(modern);
  for (const name of ['list_services', 'echo__echo']) t.ok(names.includes(name), `the modern client sees ${name}`);
  t.same(names, await toolNames(legacy), 'both eras see the same tools');

  const [modernAnswer, legacyAnswer] = await Promise.all([
    modern.callTool({ name: 'echo__echo', arguments: { text: 'from modern' } }),
    legacy.callTool({ name: 'echo__echo', arguments: { text: 'from legacy' } }),
  ]);
  t.match(modernAnswer.content, [{ type: 'text', text: /from modern/ }], 'a modern call is routed to the service');
  t.match(legacyAnswer.content, [{ type: 'text', text: /from legacy/ }], 'a legacy call at the same time too');
  const services = await modern.callTool({ name: 'list_services', arguments: {} });
  t.match(JSON.stringify(services.content), /echo/, "the mesh's own tools answer modern clients");
  const unknown = await modern.callTool({ name: 'echo__nope', arguments: {} }).catch((error: unknown) => error);
  t.match(unknown, { code: -32602 }, 'an unknown tool is a protocol error, as for legacy clients');

  const audit = (await proxy.api('/v1/audit?service=echo&limit=100')).body.entries as { caller: string; tool: string }[];
  t.ok(
    audit.some((entry) => entry.caller === 'modern-client' && entry.tool === 'echo'),
    'the modern call is audited under the client name of its envelope',
  );
  t.ok(
    audit.some((entry) => entry.caller === 'legacy-client' && entry.tool === 'echo'),
    'the legacy call as today',
  );

  // subscriptions/listen: a joining service is heard as tools (and resources, prompts) list_changed.
  const heard: string[] = [];
  let wake: () => void = () => undefined;
  for (const kind of ['tools', 'resources', 'prompts'] as const) {
    modern.setNotificationHandler(`notifications/${kind}/list_changed`, () => {
      heard.push(kind);
      wake();
    });
  }
  const subscription = await modern.listen({ toolsListChanged: true, resourcesListChanged: true, promptsListChanged: true });
  t.match(subscription.honoredFilter, { toolsListChanged: true, resourcesListChanged: true, promptsListChanged: true });
  const allHeard = new Promise<void>((resolve) => {
    wake = () => {
      if (['tools', 'resources', 'prompts'].every((kind) => heard.includes(kind))) resolve();
    };
  });
  await startSidecar(t, { name: 'everything', command: everything, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await allHeard;
  t.pass('tools, resources and prompts list_changed heard on the listen stream when a service joined');
  t.ok((await toolNames(modern)).includes('everything__echo'), 'the joined service is listed');

  const { resources } = await modern.listResources();
  const architecture = resources.find((r) => r.uri === 'mesh://everything/demo://resource/static/document/architecture.md');
  t.ok(architecture, 'resources are mesh:// uris');
  const read = await modern.readResource({ uri: architecture!.uri });
  t.match(read.contents, [{ uri: architecture!.uri, mimeType: 'text/markdown' }], 'a resource read through the proxy');
  const { resourceTemplates } = await modern.listResourceTemplates();
  t.ok(
    resourceTemplates.some((r) => r.uriTemplate.startsWith('mesh://everything/')),
    'templates too',
  );
  const prompt = await modern.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Lisbon' } });
  t.match(JSON.stringify(prompt.messages), /Lisbon/, 'a namespaced prompt');
  await t.rejects(modern.getPrompt({ name: 'ghost__greet' }), { code: -32602, message: /unknown service "ghost"/ });
  await subscription.close();
});

t.test('the modern path answers what the spec says: -32022 for an unknown revision, -32020 for a header that disagrees', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const envelope = (version: string) => ({
    'io.modelcontextprotocol/protocolVersion': version,
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  });
  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(`${proxy.base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });

  const unknown = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope('2099-01-01') } }, { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' });
  const unknownBody = await unknown.json();
  t.match(unknownBody, { id: 1, error: { code: -32022, data: { supported: ['2026-07-28'] } } }, 'an unknown revision: -32022 naming the supported one');

  const mismatch = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope('2026-07-28') } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' });
  t.equal(mismatch.status, 400);
  t.match(await mismatch.json(), { id: 2, error: { code: -32020 } }, 'Mcp-Method disagreeing with the body: HeaderMismatch');

  const listed = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope('2026-07-28') } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
  t.equal(listed.status, 200);
  const body = await listed.json();
  t.match(
    body,
    { id: 3, result: { resultType: 'complete', ttlMs: Number, cacheScope: String, _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mesh-proxy' } } } },
    'resultType, cache fields and serverInfo on a modern answer',
  );
  t.notOk(listed.headers.get('mcp-session-id'), 'no session');
});

t.test('a plain modern tools/call (the lean path) answers exactly as the SDK path does', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  await startSidecar(t, { name: 'echo', command: echo, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await pollJson(`${proxy.base}/v1/services/echo`, (status, body) => status === 200 && body.status === 'healthy');
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const call = async (id: number, name: string, extraMeta: Record<string, unknown> = {}) => {
    const response = await fetch(`${proxy.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { text: 'hi' }, _meta: { ...meta, ...extraMeta } } }),
    });
    const text = await response.text();
    // The SDK path answers a request with a progress token on an SSE stream when progress flows; read the last data line.
    const data = text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .at(-1);
    return JSON.parse(data ? data.slice(5) : text);
  };
  const lean = await call(1, 'echo__echo');
  const sdk = await call(2, 'echo__echo', { progressToken: 'p1' });
  t.match(lean, { jsonrpc: '2.0', id: 1, result: { resultType: 'complete', content: [{ type: 'text', text: /hi/ }] } });
  t.same({ ...lean.result }, { ...sdk.result }, 'the same result, resultType and serverInfo on both paths');
  const leanUnknown = await call(3, 'echo__nope');
  const sdkUnknown = await call(4, 'echo__nope', { progressToken: 'p2' });
  t.same(leanUnknown.error.code, sdkUnknown.error.code, 'an unknown tool: the same JSON-RPC error code on both paths');
  t.match(leanUnknown.error, { code: -32602, message: /unknown tool|no tool/ });
  const audit = (await proxy.api('/v1/audit?service=echo&limit=100')).body.entries as { caller: string; tool: string }[];
  t.equal(audit.filter((entry) => entry.caller === 'raw-modern' && entry.tool === 'echo').length, 2, 'both calls audited under the envelope client name');
});

t.test('50 clients mixing eras on the proxy at once: every answer goes to the call that asked', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  await startSidecar(t, { name: 'echo', command: echo, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await pollJson(`${proxy.base}/v1/services/echo`, (status, body) => status === 200 && body.status === 'healthy');
  const clients = await Promise.all(
    Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? connectModern(t, `${proxy.base}/mcp`, `modern-${i}`) : connectClient(t, `${proxy.base}/mcp`, {}, `legacy-${i}`))),
  );
  t.equal(clients.filter((client) => client.getProtocolEra() === 'modern').length, 25, '25 modern, 25 legacy');
  const crossed: string[] = [];
  await Promise.all(
    clients.map(async (client, i) => {
      for (let round = 0; round < 4; round++) {
        const wanted = `client ${i} round ${round}`;
        const answer = await client.callTool({ name: 'echo__echo', arguments: { text: wanted } });
        const got = (answer.content as { text: string }[])[0]?.text ?? '';
        if (!got.includes(wanted) || /client \d+ round \d+/.exec(got)?.[0] !== wanted) crossed.push(`${wanted} got ${got}`);
      }
    }),
  );
  t.same(crossed, [], 'zero crossed answers over 200 calls');
});
