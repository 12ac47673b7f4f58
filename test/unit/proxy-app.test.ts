import t from 'tap';
import { build, leased, MAX_BODY, mcpClient, registration, sseReader } from '../helpers/proxy-app.js';

// The proxy's HTTP surface in-process (app.request(), no sockets): a real registry in memory with
// a hand-driven clock, a real core, endpoint and metrics. Health tests move the clock, never sleep.

t.test('register, heartbeat, deregister: 201/200/404/204, idempotent per id', async (t) => {
  const { request, registry } = await build(t);
  const created = await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  t.equal(created.status, 201, 'a new instance is created');
  t.match(created.body.instance, { id: 'fs-1', name: 'fs', status: 'healthy', toolCount: 1 });
  const lease: string = created.body.lease;
  t.match(lease, /^[A-Za-z0-9_-]{43}$/, 'the answer carries a lease: 256 random bits, base64url');
  const again = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { version: '1.0.1' }), headers: leased(lease) });
  t.equal(again.status, 200, 'registering the same id again updates it');
  t.equal(again.body.instance.version, '1.0.1');
  t.equal(again.body.lease, lease, 'a re-registration carrying its lease keeps it');
  t.equal(registry.stats().instances, 1, 'still one instance');

  const beat = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { inflight: 1, calls: 3 }, headers: leased(lease) });
  t.equal(beat.status, 200);
  t.same(beat.body, { ok: true, status: 'healthy' });
  const emptyBeat = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', headers: leased(lease) });
  t.equal(emptyBeat.status, 200, 'an empty heartbeat body is fine');
  const unknownBeat = await request('/v1/instances/ghost/heartbeat', { method: 'PUT', json: {} });
  t.equal(unknownBeat.status, 404);
  t.match(unknownBeat.body.error, { code: 'INSTANCE_NOT_FOUND', message: /no instance "ghost": register again/ });
  const badBeat = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { inflight: -1 }, headers: leased(lease) });
  t.equal(badBeat.status, 400);
  t.match(badBeat.body.error.message, /inflight/);

  const removed = await request('/v1/instances/fs-1', { method: 'DELETE', headers: leased(lease) });
  t.equal(removed.status, 204);
  t.equal(removed.body, '', 'no body');
  const removedAgain = await request('/v1/instances/fs-1', { method: 'DELETE' });
  t.equal(removedAgain.status, 404);
  t.match(removedAgain.body.error.message, /no instance "fs-1"/);
  t.equal(registry.stats().instances, 0);
});

t.test('hostile registration fields, malformed JSON, wrong types, oversized bodies', async (t) => {
  const { request, registry } = await build(t);
  for (const field of ['command', 'args', 'env', 'exec']) {
    const answer = await request('/v1/instances', { method: 'POST', json: { ...registration('evil'), [field]: field === 'args' ? ['-c', 'rm -rf /'] : 'sh' } });
    t.equal(answer.status, 400, `${field} refused`);
    t.equal(answer.body.error.code, 'BAD_REQUEST');
    t.match(answer.body.error.message, new RegExp(`\\b${field}\\b`), `the error names "${field}"`);
    t.match(answer.body.error.message, /metadata only/);
  }
  const malformed = await request('/v1/instances', { method: 'POST', body: '{"id": "x",' });
  t.equal(malformed.status, 400);
  t.match(malformed.body.error.message, /malformed JSON/);

  const wrongTypes: [string, Record<string, unknown>, RegExp][] = [
    ['port as text', { port: 'eighty' }, /port/],
    ['tags not an array', { tags: 'python' }, /tags/],
    ['tools not an array', { tools: { name: 'x' } }, /tools/],
    ['tool without a schema', { tools: [{ name: 'x' }] }, /inputSchema/],
    ['bad service name', { name: 'Bad Name!' }, /name/],
    ['remote url', { url: 'http://attacker.example/mcp' }, /url.*loopback|loopback/],
    ['url with a non-http scheme', { url: 'file:///etc/passwd' }, /scheme/],
    ['unknown kind', { kind: 'daemon' }, /kind/],
  ];
  for (const [what, change, pattern] of wrongTypes) {
    const answer = await request('/v1/instances', { method: 'POST', json: { ...registration('typed'), ...change } });
    t.equal(answer.status, 400, `${what} → 400`);
    t.match(answer.body.error.message, pattern, `${what}: ${answer.body.error.message.slice(0, 120)}`);
  }
  const missing = await request('/v1/instances', { method: 'POST', json: { id: 'only-id' } });
  t.equal(missing.status, 400);
  t.match(missing.body.error.message, /name/, 'missing required fields are named');

  const big = await request('/v1/instances', { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY + 1) }) });
  t.equal(big.status, 413);
  t.match(big.body.error, { code: 'PAYLOAD_TOO_LARGE', message: /exceeds 65536 bytes/ });
  t.equal(registry.stats().instances, 0, 'nothing was registered by bad input');
  const after = await request('/v1/instances', { method: 'POST', json: registration('fine') });
  t.equal(after.status, 201, 'the app still works after bad input');
});

t.test('foreign Host or Origin is refused (DNS rebinding)', async (t) => {
  const { request } = await build(t);
  const host = await request('/v1/services', { headers: { host: 'evil.example:6001' } });
  t.equal(host.status, 403);
  t.match(host.body.error.message, /Host "evil\.example:6001" is not allowed/);
  const origin = await request('/v1/services', { headers: { origin: 'http://evil.example' } });
  t.equal(origin.status, 403);
  t.match(origin.body.error.message, /Origin "http:\/\/evil\.example" is not allowed/);
  const mcp = await request('/mcp', { method: 'POST', headers: { origin: 'http://evil.example' }, json: { jsonrpc: '2.0', id: 1, method: 'ping' } });
  t.equal(mcp.status, 403, 'the MCP endpoint is guarded too');
  const local = await request('/v1/services', { headers: { origin: 'http://localhost:3000' } });
  t.equal(local.status, 200, 'a loopback Origin passes');
});

t.test('listing services: filters, one service, unknown names', async (t) => {
  const { request, clock } = await build(t);
  await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { tags: ['python', 'files'] }) });
  const mem = await request('/v1/instances', { method: 'POST', json: registration('mem-1', 'memory', { tags: ['node'] }) });
  clock.now += 60_000;
  t.equal((await request('/v1/instances/mem-1/heartbeat', { method: 'PUT', json: {}, headers: leased(mem.body.lease) })).status, 200);
  clock.now += 30_000; // fs: 90 s silent (3 missed beats) → unhealthy; memory: 30 s → healthy

  const all = await request('/v1/services');
  t.same(
    all.body.services.map((s: any) => [s.name, s.status]),
    [
      ['fs', 'unhealthy'],
      ['memory', 'healthy'],
    ],
  );
  const healthy = await request('/v1/services?status=healthy');
  t.same(
    healthy.body.services.map((s: any) => s.name),
    ['memory'],
  );
  const unhealthy = await request('/v1/services?status=unhealthy');
  t.same(
    unhealthy.body.services.map((s: any) => s.name),
    ['fs'],
  );
  const tagged = await request('/v1/services?tag=files');
  t.same(
    tagged.body.services.map((s: any) => s.name),
    ['fs'],
  );
  const both = await request('/v1/services?status=healthy&tag=files');
  t.same(both.body.services, [], 'filters combine');

  const one = await request('/v1/services/fs');
  t.equal(one.status, 200);
  t.match(one.body, { name: 'fs', status: 'unhealthy', instanceCount: 1, tools: [{ name: 'read_text', inputSchema: { type: 'object' } }] });
  const tools = await request('/v1/services/memory/tools');
  t.equal(tools.body.tools[0].name, 'read_text');
  const unknown = await request('/v1/services/nope');
  t.equal(unknown.status, 404);
  t.match(unknown.body.error, { code: 'SERVICE_NOT_FOUND', message: /unknown service "nope"; known services: fs, memory/ });
  const unknownTools = await request('/v1/services/nope/tools');
  t.equal(unknownTools.status, 404);
  const call = await request('/v1/services/nope/tools/x/call', { method: 'POST', json: {} });
  t.equal(call.status, 404);
  t.match(call.body.error.message, /unknown service "nope"/);
  const noTool = await request('/v1/services/memory/tools/nope/call', { method: 'POST', json: {} });
  t.equal(noTool.status, 404);
  t.match(noTool.body.error.message, /no tool "nope"; its tools: read_text/);
  const badArgs = await request('/v1/services/memory/tools/read_text/call', { method: 'POST', json: { arguments: 'wrong' } });
  t.equal(badArgs.status, 400);
  t.match(badArgs.body.error.message, /arguments/);
  const unhealthyCall = await request('/v1/services/fs/tools/read_text/call', { method: 'POST', json: { arguments: { path: 'x' } } });
  t.equal(unhealthyCall.status, 503);
  t.match(unhealthyCall.body.error, { code: 'SERVICE_UNAVAILABLE', message: /service "fs" has no healthy instance \(fs-1 unhealthy\)/ });
  const noRoute = await request('/v2/nothing');
  t.equal(noRoute.status, 404);
  t.match(noRoute.body.error.message, /the API is under \/v1/);
});

t.test('calls naming services that do not exist leave no per-service state behind (hostile input)', async (t) => {
  const { request } = await build(t);
  const fs = await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  const GHOSTS = 300;
  const statuses = new Set<number>();
  for (let i = 0; i < GHOSTS; i++) statuses.add((await request(`/v1/services/ghost-${i}/tools/x/call`, { method: 'POST', json: {} })).status);
  t.same([...statuses], [404], `${GHOSTS} calls to unknown services: each SERVICE_NOT_FOUND`);
  t.equal((await request('/v1/services/fs/tools/nope/call', { method: 'POST', json: {} })).status, 404, 'a call to a live service is counted even when it fails');

  const services = await request('/v1/services');
  t.same(
    services.body.services.map((s: any) => [s.name, s.calls]),
    [['fs', 1]],
    'only the live service, with its one call',
  );
  // A ghost that registers now starts from zero: the earlier calls naming it were not kept anywhere.
  await request('/v1/instances', { method: 'POST', json: registration('ghost-7-1', 'ghost-7') });
  t.equal((await request('/v1/services/ghost-7')).body.calls, 0, 'calls made while a name was unknown were not counted');
  const metrics = await request('/metrics');
  t.notMatch(metrics.body, /ghost-/, 'no metrics series per unknown name');
  t.match(metrics.body, new RegExp(`mesh_calls_total\\{service="\\(unknown\\)",outcome="error"\\} ${GHOSTS}`), 'they are counted under one (unknown) label');

  // The count lives as long as the service: the last replica leaving drops it.
  t.equal((await request('/v1/instances/fs-1', { method: 'DELETE', headers: leased(fs.body.lease) })).status, 204);
  await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  t.equal((await request('/v1/services/fs')).body.calls, 0, 'a service that left and came back starts again');
});

t.test('health follows the injected clock: unhealthy after 3 missed beats, removed after the timeout', async (t) => {
  const { request, clock, registry } = await build(t);
  const { lease } = (await request('/v1/instances', { method: 'POST', json: registration('fs-1') })).body;
  clock.now += 89_999;
  t.equal((await request('/v1/services/fs')).body.status, 'healthy', 'just under 3 intervals: still healthy');
  clock.now += 1;
  t.equal((await request('/v1/services/fs')).body.status, 'unhealthy', '3 missed beats: unhealthy');
  const revived = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: {}, headers: leased(lease) });
  t.equal(revived.body.status, 'healthy', 'a beat brings it back');
  clock.now += 119_999;
  t.same(registry.sweep().removed, [], 'not removed before the timeout');
  clock.now += 1;
  t.match(registry.sweep().removed, [{ instance: 'fs-1', reason: 'expired' }]);
  t.equal((await request('/v1/services/fs')).status, 404, 'removed after the timeout');
  const beat = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: {}, headers: leased(lease) });
  t.equal(beat.status, 404, 'its next heartbeat is told to register again');
});

t.test('/healthz and /metrics', async (t) => {
  const { request, clock } = await build(t);
  await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  const fs2 = await request('/v1/instances', { method: 'POST', json: registration('fs-2') });
  clock.now += 90_000;
  await request('/v1/instances/fs-2/heartbeat', { method: 'PUT', json: {}, headers: leased(fs2.body.lease) });
  const health = await request('/healthz');
  t.equal(health.status, 200);
  t.match(health.body, { status: 'ok', services: 1, registry: { instances: 2, services: 1 } });
  const metrics = await request('/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.headers.get('content-type'), /text\/plain/);
  t.match(metrics.body, /# TYPE mesh_instances gauge/);
  t.match(metrics.body, /mesh_instances\{status="healthy"\} 1/);
  t.match(metrics.body, /mesh_instances\{status="unhealthy"\} 1/);
  t.match(metrics.body, /# TYPE mesh_calls_total counter/);
});

t.test('/v1/events streams joins, status changes and leaves', async (t) => {
  const { app, request, clock, registry } = await build(t);
  const response = await app.request('/v1/events', { headers: { host: 'localhost:6001' } });
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /text\/event-stream/);
  const stream = sseReader(response);
  t.match(await stream.next(), { event: 'hello', data: { services: 0 } });
  const { lease } = (await request('/v1/instances', { method: 'POST', json: registration('fs-1') })).body;
  t.match(await stream.next(), { event: 'joined', data: { type: 'joined', service: 'fs', instance: 'fs-1', url: 'http://127.0.0.1:9/fs-1/mcp' } });
  clock.now += 90_000;
  registry.sweep();
  t.match(await stream.next(), { event: 'status', data: { instance: 'fs-1', previous: 'healthy', status: 'unhealthy' } });
  await request('/v1/instances/fs-1', { method: 'DELETE', headers: leased(lease) });
  t.match(await stream.next(), { event: 'left', data: { type: 'left', service: 'fs', instance: 'fs-1', reason: 'deregistered' } });
  await stream.cancel();
});

t.test('the MCP endpoint in-process: initialize, the seven mesh tools, routed errors', async (t) => {
  const { app, request } = await build(t);
  await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { tags: ['python'] }) });
  const mcp = mcpClient(app);
  const init = await mcp.initialize();
  t.equal(init.status, 200);
  t.ok(mcp.session, 'a session id was issued');
  t.match(init.message.result, {
    serverInfo: { name: 'mesh-proxy', version: '0.0.0-test' },
    capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } },
  });

  const { result: listed } = await mcp.request('tools/list');
  const byName = new Map<string, any>(listed.tools.map((tool: any) => [tool.name, tool]));
  for (const name of ['list_services', 'get_service_info', 'get_service_status', 'call_service', 'register_service', 'deregister_service', 'heartbeat']) {
    const tool = byName.get(name);
    t.ok(tool, `lists ${name}`);
    t.ok(tool?.description?.length > 30, `${name} has a real description`);
    t.equal(tool?.inputSchema?.type, 'object', `${name} has an object input schema`);
  }
  t.same(byName.get('call_service').inputSchema.required, ['service', 'tool']);
  t.ok(byName.get('call_service').inputSchema.properties.arguments, "call_service takes the tool's arguments");
  t.match(byName.get('fs__read_text'), { description: '[fs] Read a text file', inputSchema: { required: ['path'] } }, "the healthy service's tool is namespaced");

  const services = await mcp.request('tools/call', { name: 'list_services', arguments: {} });
  t.match(services.result.structuredContent, { services: [{ name: 'fs', status: 'healthy', toolCount: 1, tags: ['python'] }] });
  t.match(JSON.parse(services.result.content[0].text), { services: [{ name: 'fs' }] }, 'the text content is the same JSON');
  const filtered = await mcp.request('tools/call', { name: 'list_services', arguments: { status: 'unhealthy' } });
  t.same(filtered.result.structuredContent.services, []);
  const info = await mcp.request('tools/call', { name: 'get_service_info', arguments: { service: 'fs' } });
  t.match(info.result.structuredContent, { name: 'fs', instances: [{ id: 'fs-1', url: 'http://127.0.0.1:9/fs-1/mcp' }], tools: [{ name: 'read_text' }] });
  const status = await mcp.request('tools/call', { name: 'get_service_status', arguments: { service: 'fs' } });
  t.match(status.result.structuredContent, { name: 'fs', status: 'healthy', instances: [{ id: 'fs-1', status: 'healthy' }] });

  const unknown = await mcp.request('tools/call', { name: 'call_service', arguments: { service: 'nope', tool: 'x' } });
  t.equal(unknown.error?.code, -32602, 'an unknown service is invalid params');
  t.match(unknown.error?.message, /unknown service "nope"; known services: fs/);
  t.match(unknown.error?.data, { code: 'SERVICE_NOT_FOUND', service: 'nope' });
  const unknownInfo = await mcp.request('tools/call', { name: 'get_service_info', arguments: { service: 'nope' } });
  t.equal(unknownInfo.error?.code, -32602);
  const badArgs = await mcp.request('tools/call', { name: 'call_service', arguments: { tool: 'x' } });
  t.match(badArgs.error?.message, /invalid arguments for call_service: service/);
  const noTool = await mcp.request('tools/call', { name: 'nothing_here', arguments: {} });
  t.equal(noTool.error?.code, -32602);
  t.match(noTool.error?.message, /unknown tool "nothing_here"/);
  const unreachable = await mcp.request('tools/call', { name: 'fs__read_text', arguments: { path: 'a' } });
  t.equal(unreachable.result?.isError, true, 'an instance that cannot be reached is a tool error the model can read');
  t.match(unreachable.result?.content[0].text, /SERVICE_UNAVAILABLE/);

  const stale = await app.request('/mcp', {
    method: 'POST',
    headers: { host: 'localhost', 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'gone' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  t.equal(stale.status, 404, 'an unknown session is told to initialize again');
  t.match(await stale.text(), /initialize again/);
});

t.test('resources and prompts in-process: empty mesh, unknown targets, unreachable services', async (t) => {
  const { app, request } = await build(t);
  const mcp = mcpClient(app);
  await mcp.initialize();
  t.same((await mcp.request('resources/list')).result, { resources: [] });
  t.same((await mcp.request('resources/templates/list')).result, { resourceTemplates: [] });
  t.same((await mcp.request('prompts/list')).result, { prompts: [] });

  const notMesh = await mcp.request('resources/read', { uri: 'file:///etc/passwd' });
  t.equal(notMesh.error?.code, -32602);
  t.match(notMesh.error?.message, /unknown resource "file:\/\/\/etc\/passwd": resources of the mesh are named mesh:\/\/<service>\//);
  const noService = await mcp.request('resources/read', { uri: 'mesh://nope/demo://x' });
  t.equal(noService.error?.code, -32602);
  t.match(noService.error?.message, /unknown service "nope"/);
  const noPrompt = await mcp.request('prompts/get', { name: 'plain' });
  t.equal(noPrompt.error?.code, -32602);
  t.match(noPrompt.error?.message, /unknown prompt "plain": prompts of the mesh are named service__prompt/);
  const noPromptService = await mcp.request('prompts/get', { name: 'nope__greet' });
  t.match(noPromptService.error?.message, /unknown service "nope"/);

  // A registered instance nothing answers for: left out of the lists, reads fail clearly.
  await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  t.same((await mcp.request('resources/list')).result, { resources: [] }, 'a service that cannot be listed is left out, the list still answers');
  const unreachable = await mcp.request('resources/read', { uri: 'mesh://fs/file:///a.txt' });
  t.equal(unreachable.error?.code, -32000);
  t.match(unreachable.error?.message, /fs resource "file:\/\/\/a\.txt"/);
  t.match(unreachable.error?.data, { code: 'SERVICE_UNAVAILABLE', service: 'fs' });
});

t.test('a large service list is sent a slice at a time, as the same JSON as a small one', async (t) => {
  const { request, registry, core } = await build(t);
  // 450 services: three slices of SERVICES_PAGE (200), the last one partial; every third tagged "odd".
  for (let i = 0; i < 450; i++) registry.register(registration(`svc-${i}`, `svc-${String(i).padStart(3, '0')}`, { tags: i % 3 === 0 ? ['odd'] : ['even'] }));
  const all = await request('/v1/services');
  t.equal(all.status, 200);
  t.match(all.headers.get('content-type'), /application\/json/);
  t.same(all.body, JSON.parse(JSON.stringify({ services: core.services() })), 'the same services, in order, as the whole list built at once');
  t.equal(all.body.services.length, 450);
  const odd = await request('/v1/services?tag=odd');
  t.same(
    odd.body.services.map((s: { name: string }) => s.name),
    core.services({ tag: 'odd' }).map((s) => s.name),
    'filters apply to every slice',
  );
  t.equal(odd.body.services.length, 150);
  const none = await request('/v1/services?tag=nobody');
  t.same(none.body, { services: [] }, 'slices that list nothing still make valid JSON');
});
