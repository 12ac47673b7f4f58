import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { claimDigest } from '../../src/http/lease.js';
import { silentLogger } from '../../src/log.js';
import { createProxyApp } from '../../proxy/app.js';
import { MeshCore } from '../../proxy/core.js';
import { MeshEndpoint } from '../../proxy/mcp/endpoint.js';
import { createProxyMetrics } from '../../proxy/metrics.js';
import { Registry } from '../../proxy/registry/registry.js';
import { build, leased, mcpClient, registration, sseReader } from '../helpers/proxy-app.js';

// The proxy's ownership, lease, claim, body-depth and token rules in-process (app.request()).

t.test('instance hijack: another service under a live id or url is a 409 naming the owner; a beat speaks only for its own service', async (t) => {
  const { request, core } = await build(t);
  const first = await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  t.equal(first.status, 201);
  const sameId = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'evil', { url: 'http://127.0.0.1:5999/mcp', port: 5999 }) });
  t.equal(sameId.status, 409, 'another service under a live instance id');
  t.match(sameId.body, { error: { code: 'CONFLICT', message: /belongs to the live service "fs"/, owner: 'fs' } });
  const sameUrl = await request('/v1/instances', { method: 'POST', json: registration('evil-1', 'evil', { url: 'http://127.0.0.1:9/fs-1/mcp' }) });
  t.equal(sameUrl.status, 409, "another service at a live instance's url");
  t.match(sameUrl.body, { error: { code: 'CONFLICT', message: /is served by the live instance "fs-1" of service "fs"/ } });
  const beat = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { name: 'evil', state: 'crashloop' }, headers: leased(first.body.lease) });
  t.equal(beat.status, 409, 'a beat naming another service');
  t.equal(core.registry.service('fs')?.status, 'healthy', 'fs is still healthy and routable');
  t.same(core.registry.serviceNames(), ['fs'], 'no intruder was registered');
  t.equal((await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { name: 'fs' }, headers: leased(first.body.lease) })).status, 200, 'its own beat passes');
});

t.test('instance lease: a beat or a deregistration without the lease of the instance is refused; the lease is never shown', async (t) => {
  const { app, request, core, clock } = await build(t);
  const events = await app.request('/v1/events', { headers: { host: 'localhost:6001' } });
  const stream = sseReader(events);
  await stream.next(); // hello
  const first = await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  const lease: string = first.body.lease;
  const joined = await stream.next();

  const noLease = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { state: 'crashloop' } });
  t.equal(noLease.status, 409, 'a crashloop beat without a lease: 409');
  t.match(noLease.body.error, {
    code: 'CONFLICT',
    message: /heartbeat of instance "fs-1" refused: it carries no lease: send the lease its registration answered with, in the x-mesh-lease header; register again/,
  });
  const named = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { name: 'fs', state: 'crashloop' } });
  t.equal(named.status, 409, 'naming the right service is no credential');
  const wrong = 'A'.repeat(43);
  const wrongLease = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { state: 'crashloop' }, headers: leased(wrong) });
  t.equal(wrongLease.status, 409, 'a crashloop beat with a wrong lease: 409');
  t.match(wrongLease.body.error.message, /carries a lease that is not the current lease of instance "fs-1"/);
  const malformed = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { state: 'crashloop' }, headers: leased('not a lease!') });
  t.equal(malformed.status, 400, 'a malformed lease header: 400 naming the header');
  t.match(malformed.body.error.message, /invalid x-mesh-lease header/);
  for (const refused of [noLease, named, wrongLease, malformed]) t.notMatch(JSON.stringify(refused.body), lease, 'no refusal reveals the lease');
  t.equal(core.registry.service('fs')?.status, 'healthy', 'fs stays healthy and routable');
  t.same(
    core.registry.healthyInstances('fs').map((i) => i.id),
    ['fs-1'],
  );

  const noDelete = await request('/v1/instances/fs-1', { method: 'DELETE' });
  t.equal(noDelete.status, 409, 'DELETE without the lease: 409');
  t.match(noDelete.body.error.message, /deregistration of instance "fs-1" refused: it carries no lease/);
  t.equal((await request('/v1/instances/fs-1', { method: 'DELETE', headers: leased(wrong) })).status, 409, 'DELETE with a wrong lease: 409');
  t.equal(core.registry.stats().instances, 1, 'still registered');

  const own = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { state: 'crashloop' }, headers: leased(lease) });
  t.equal(own.status, 200, 'the holder of the lease may report crashloop');
  t.equal(own.body.status, 'crashloop');
  t.equal((await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { state: 'ready' }, headers: leased(lease) })).body.status, 'healthy');
  const status = await stream.next();

  // The lease appears in the registration's answer only.
  const mcp = mcpClient(app);
  await mcp.initialize();
  const shown = [
    (await request('/v1/services')).body,
    (await request('/v1/services/fs')).body,
    (await request('/metrics')).body,
    (await request('/healthz')).body,
    (await mcp.request('tools/call', { name: 'list_services', arguments: {} })).result,
    (await mcp.request('tools/call', { name: 'get_service_info', arguments: { service: 'fs' } })).result,
    (await mcp.request('tools/call', { name: 'get_service_status', arguments: { service: 'fs' } })).result,
    joined,
    status,
  ];
  for (const [i, body] of shown.entries()) t.notMatch(JSON.stringify(body), lease, `reply ${i} does not carry the lease`);
  t.notOk(/"lease"/.test(JSON.stringify(shown)), 'no reply has a lease field');

  // A re-registration of the live id without its lease: refused, whether or not it says crashloop or
  // carries a made-up claim (nothing at the instance's url shows that claim's digest).
  clock.now += 1_000;
  const again = await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  t.equal(again.status, 409, 'a re-registration of a live id without the lease or a claim: 409');
  t.match(again.body.error, { code: 'CONFLICT', message: /instance "fs-1" of service "fs" is live at .*; this registration carries neither its lease nor a claim/ });
  const crash = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { state: 'crashloop', claim: 'C'.repeat(43) }) });
  t.equal(crash.status, 409, 'nor may it set crashloop');
  t.match(crash.body.error.message, /may not set state "crashloop": only starting or ready/);
  const madeUp = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { claim: 'C'.repeat(43) }) });
  t.equal(madeUp.status, 409, 'a made-up claim is not confirmed');
  t.match(madeUp.body.error.message, /its claim was not confirmed: http:\/\/127\.0\.0\.1:9\/healthz: connection failed/);
  t.notOk('lease' in again.body || 'lease' in madeUp.body, 'no refusal carries a lease');
  t.equal((await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: {}, headers: leased(lease) })).body.status, 'healthy', "the holder's lease still beats");
  const back = await request('/v1/instances', { method: 'POST', json: registration('fs-1'), headers: leased(lease) });
  t.equal(back.status, 200, 'the holder registers again with its lease (same service, same url)');
  t.equal(back.body.lease, lease, 'and keeps it');
  const moved = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { url: 'http://127.0.0.1:5999/mcp', port: 5999 }) });
  t.equal(moved.status, 409, 'no one without the lease moves a live id to another url');
  t.equal(core.registry.instance('fs-1')?.url, 'http://127.0.0.1:9/fs-1/mcp');

  // The MCP heartbeat tool needs the lease; deregister_service is an operator action, named in the left event.
  const toolBeat = await mcp.request('tools/call', { name: 'heartbeat', arguments: { id: 'fs-1', lease: wrong } });
  t.match(
    toolBeat.result,
    { isError: true, content: [{ text: /CONFLICT: heartbeat of instance "fs-1" refused: it carries a lease that is not the current lease/ }] },
    'the heartbeat tool with a wrong lease is refused',
  );
  const toolNoLease = await mcp.request('tools/call', { name: 'heartbeat', arguments: { id: 'fs-1' } });
  t.match(toolNoLease.error?.message, /lease/, 'the heartbeat tool without a lease is refused, naming the field');
  const toolMalformed = await mcp.request('tools/call', { name: 'heartbeat', arguments: { id: 'fs-1', lease: 'not a lease!' } });
  t.match(toolMalformed.error?.message, /lease.*must be the lease POST \/v1\/instances answered with/, "the heartbeat tool checks the lease's form as REST does (LeaseSchema)");
  t.match((await mcp.request('tools/call', { name: 'heartbeat', arguments: { id: 'fs-1', lease: back.body.lease } })).result.structuredContent, { ok: true, id: 'fs-1' });
  await mcp.request('tools/call', { name: 'deregister_service', arguments: { id: 'fs-1' } });
  t.equal(core.registry.stats().instances, 0, 'deregister_service removes without a lease');
  let left = await stream.next();
  while (left.event !== 'left') left = await stream.next();
  t.match(left.data, { type: 'left', instance: 'fs-1', reason: 'deregistered', by: 'app-test' }, 'naming the operator');
  await stream.cancel();
});

t.test('a body nested deeper than the limit is a 400 naming it, on every JSON route', async (t) => {
  const { request } = await build(t);
  const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
  for (const [method, path] of [
    ['POST', '/v1/instances'],
    ['PUT', '/v1/instances/x/heartbeat'],
    ['POST', '/v1/services/fs/tools/a/call'],
  ]) {
    const answer = await request(path as string, { method, body: `{"arguments":{"a":${deep}}}` });
    t.equal(answer.status, 400, `${method} ${path}`);
    t.match(answer.body, { error: { code: 'BAD_REQUEST', message: /nested deeper than 64 levels/ } });
  }
});

t.test('with a token every route wants it: 401 with WWW-Authenticate: Bearer', async (t) => {
  const registry = await Registry.open({});
  const metrics = createProxyMetrics({ instancesByStatus: () => registry.countByStatus() });
  const core = new MeshCore({ registry, deadlineMs: 2_000 });
  const endpoint = new MeshEndpoint(core, silentLogger, '0.0.0-test');
  const app = createProxyApp({ core, endpoint, metrics, token: 'T' });
  t.teardown(async () => {
    await endpoint.close();
    await core.router.close();
    await registry.close();
  });
  for (const authorization of [undefined, 'Bearer wrong', 'Basic T']) {
    const response = await app.request('/v1/services', { headers: { host: '127.0.0.1', ...(authorization ? { authorization } : {}) } });
    t.equal(response.status, 401, `${authorization ?? 'no Authorization'}: 401`);
    t.match(response.headers.get('www-authenticate'), /^Bearer realm="mesh"/);
    t.match(await response.json(), { error: { code: 'UNAUTHORIZED', message: /^Unauthorized: / } });
  }
  const ok = await app.request('/v1/services', { headers: { host: '127.0.0.1', authorization: 'Bearer T' } });
  t.equal(ok.status, 200, 'the right token passes');
});

t.test("a live id changes hands without its lease only when the registered url's /healthz shows the claim's digest", async (t) => {
  const { app, request } = await build(t);
  // A stand-in instance endpoint: its /healthz shows the digest of whatever claim it holds now.
  let shown = claimDigest('A'.repeat(43));
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ state: 'ready', claimSha256: shown, secret: 'never echoed' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const at = { url: `http://127.0.0.1:${port}/mcp`, port };
  const first = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { ...at, claim: 'A'.repeat(43) }) });
  t.equal(first.status, 201, 'a new id needs no proof');

  const other = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { ...at, claim: 'B'.repeat(43) }) });
  t.equal(other.status, 409, 'a claim the instance does not show: 409');
  t.match(other.body.error.message, new RegExp(`its claim was not confirmed: http://127\\.0\\.0\\.1:${port}/healthz shows another claim`));
  t.notMatch(JSON.stringify(other.body), /never echoed/, 'the remote body is not echoed');
  t.equal((await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: {}, headers: leased(first.body.lease) })).status, 200, 'the lease is still current');

  // register_service has no claim: it cannot take a live id without its lease, and says so before contacting the url.
  const mcp = mcpClient(app);
  await mcp.initialize();
  const byUrl = await mcp.request('tools/call', { name: 'register_service', arguments: { name: 'fs', url: at.url, id: 'fs-1' } });
  t.match(
    byUrl.result,
    { isError: true, content: [{ text: /CONFLICT: instance "fs-1" of service "fs" is live at .*; this registration carries neither its lease nor a claim/ }] },
    'register_service over a live id: 409',
  );

  shown = claimDigest('B'.repeat(43)); // the instance restarted: a new process with a new claim
  const back = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { ...at, claim: 'B'.repeat(43), state: 'starting' }) });
  t.equal(back.status, 200, 'the restarted instance gets back in at once');
  t.not(back.body.lease, first.body.lease, 'with a new lease');
  t.equal((await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: {}, headers: leased(first.body.lease) })).status, 409, 'the old lease is dead');
});
