import t, { type Test } from 'tap';
import { AuditAnswerSchema } from '../../src/contract/audit.js';
import { RecentEventsAnswerSchema } from '../../src/contract/events.js';
import { SeriesAnswerSchema } from '../../src/contract/load.js';
import { ServiceDetailSchema, ServicesAnswerSchema } from '../../src/contract/services.js';
import { build, leased, mcpClient, registration, sseReader, START } from '../helpers/proxy-app.js';

// Load figures, the series, audit filters and the events history over the /v1 API, in-process.
// Instances registered at port 9 refuse connections: a routed call to them fails at once, which
// is a real routed call through the router, the audit and the load figures.

async function meshWithTwoServices(t: Test) {
  const built = await build(t);
  const { request } = built;
  const one = await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  await request('/v1/instances', { method: 'POST', json: registration('mem-1', 'memory') });
  const call = (service: string, tool: string, args: Record<string, unknown>, headers: Record<string, string> = {}) =>
    request(`/v1/services/${service}/tools/${tool}/call`, { method: 'POST', json: { arguments: args }, headers });
  return { ...built, lease: one.body.lease as string, call };
}

t.test('load figures on /v1/services, /v1/services/:name and the mesh tools, per instance and per service', async (t) => {
  const { app, request, call, lease } = await meshWithTwoServices(t);
  const failed = await call('fs', 'read_text', { path: 'a.txt' }, { 'x-mesh-caller': 'app', 'x-mesh-hops': '2' });
  t.equal(failed.status, 503, 'the instance refuses connections');
  await call('fs', 'nope', {}, { 'x-mesh-caller': 'app' });
  await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { restarts: 2 }, headers: leased(lease) });

  const listed = ServicesAnswerSchema.parse((await request('/v1/services')).body);
  const fs = listed.services.find((s) => s.name === 'fs')!;
  t.match(
    fs.load,
    { inFlight: 0, calls1m: 1, calls5m: 1, errorRate: 1, restarts: 2, lastError: { code: 'SERVICE_UNAVAILABLE', message: /fs/ } },
    'the unknown tool (the caller’s mistake) is not counted',
  );
  t.type(fs.load?.p50Ms, 'number');
  t.match(fs.instances[0], { id: 'fs-1', restarts: 2, load: { calls5m: 1, errorRate: 1, restarts: 2 } });
  t.match(listed.services.find((s) => s.name === 'memory')?.load, { calls5m: 0, p50Ms: null, p95Ms: null, errorRate: 0 }, 'no calls: zeros and null latency');
  const detail = ServiceDetailSchema.parse((await request('/v1/services/fs')).body);
  t.match(detail.instances[0]?.load, { calls5m: 1 });

  const mcp = mcpClient(app);
  await mcp.initialize();
  const status = await mcp.request('tools/call', { name: 'get_service_status', arguments: { service: 'fs' } });
  t.match(status.result?.structuredContent, { name: 'fs', load: { calls5m: 1, restarts: 2 }, instances: [{ id: 'fs-1', load: { calls5m: 1, errorRate: 1 } }] });
  const services = await mcp.request('tools/call', { name: 'list_services', arguments: {} });
  t.match(services.result?.structuredContent.services, [{ name: 'fs', load: { calls5m: 1 }, instances: [{ load: { inFlight: 0 } }] }, { name: 'memory' }]);
});

t.test('GET /v1/services/:name/series: 10-second buckets over the asked minutes; bad input named', async (t) => {
  const { request, call } = await meshWithTwoServices(t);
  await call('fs', 'read_text', { path: 'a.txt' });
  const series = SeriesAnswerSchema.parse((await request('/v1/services/fs/series?minutes=2')).body);
  t.equal(series.service, 'fs');
  t.equal(series.bucketMs, 10_000);
  t.equal(series.points.length, 12);
  t.match(series.points.at(-1), { calls: 1, errors: 1 }, 'the newest bucket holds the call');
  t.ok(
    series.points.slice(0, -1).every((p) => p.calls === 0 && p.p50Ms === null),
    'older buckets are empty',
  );
  t.equal((await request('/v1/services/fs/series')).body.points.length, 90, 'default 15 minutes');
  const unknown = await request('/v1/services/ghost/series');
  t.equal(unknown.status, 404);
  t.match(unknown.body.error, { code: 'SERVICE_NOT_FOUND', message: /unknown service "ghost"; known services: fs, memory/ });
  const bad = await request('/v1/services/fs/series?minutes=60');
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /minutes/);
});

t.test('GET /v1/audit: sizes, hops, filters (service, tool, caller, outcome, errors, since, limit); bad input named', async (t) => {
  const { request, call, registry } = await meshWithTwoServices(t);
  await call('fs', 'read_text', { path: 'a.txt' }, { 'x-mesh-caller': 'app', 'x-mesh-hops': '2' });
  await call('memory', 'read_text', { path: 'b' }, { 'x-mesh-caller': 'cron' });
  registry.audit({ service: 'fs', tool: 'read_text', caller: 'app', durationMs: 2, outcome: 'ok', request: { path: 'é' }, response: { content: [] }, traceId: 'abc' });
  registry.audit({ service: 'fs', tool: 'search', caller: 'app', durationMs: 2, outcome: 'tool_error', response: { isError: true } });
  const all = AuditAnswerSchema.parse((await request('/v1/audit')).body).entries;
  t.equal(all.length, 4);
  t.match(all[0], { tool: 'search', outcome: 'tool_error', responseBytes: Buffer.byteLength('{"isError":true}') }, 'newest first');
  t.match(all[1], { requestBytes: Buffer.byteLength('{"path":"é"}'), responseBytes: Buffer.byteLength('{"content":[]}'), traceId: 'abc' }, 'sizes of the JSON, in bytes');
  t.match(all[3], { service: 'fs', caller: 'app', hops: 2, outcome: 'error', requestBytes: Buffer.byteLength('{"path":"a.txt"}') }, 'a routed call: its arguments measured, its hop count kept');
  t.equal(all[3]?.responseBytes, undefined, 'a failed call has no result');

  const pick = async (query: string) => AuditAnswerSchema.parse((await request(`/v1/audit?${query}`)).body).entries.map((e) => `${e.service}/${e.tool}/${e.outcome}`);
  t.same(await pick('service=memory'), ['memory/read_text/error']);
  t.same(await pick('tool=search'), ['fs/search/tool_error']);
  t.same(await pick('caller=cron'), ['memory/read_text/error']);
  t.same(await pick('outcome=ok'), ['fs/read_text/ok']);
  t.same(await pick('errors=1&service=fs'), ['fs/search/tool_error', 'fs/read_text/error'], 'errors: error, timeout and tool_error');
  t.same(await pick('since=10m&limit=1'), ['fs/search/tool_error']);
  t.same(await pick(`since=${START + 1}`), [], 'ms since epoch: the registry clock stands at START');
  t.same(await pick(`since=${START}`), ['fs/search/tool_error', 'fs/read_text/ok', 'memory/read_text/error', 'fs/read_text/error']);

  for (const [query, named] of [
    ['since=yesterday', /since.*"yesterday" is neither a time in ms since epoch nor a duration like 30s, 10m/],
    ['outcome=broken', /outcome/],
    ['errors=maybe', /errors/],
    ['limit=0', /limit/],
  ] as const) {
    const bad = await request(`/v1/audit?${query}`);
    t.equal(bad.status, 400, query);
    t.match(bad.body.error.message, named, `${query}: the message names the problem`);
  }
});

t.test('GET /v1/events/recent keeps the registry events; /v1/events?calls=1 streams each call with its id', async (t) => {
  const { app, request, call, lease } = await meshWithTwoServices(t);
  await request('/v1/instances/fs-1', { method: 'DELETE', headers: leased(lease) });
  const recent = RecentEventsAnswerSchema.parse((await request('/v1/events/recent')).body).events;
  t.same(
    recent.map((e) => `${e.type} ${e.instance}`),
    ['left fs-1', 'joined mem-1', 'joined fs-1'],
    'newest first',
  );
  t.same(
    RecentEventsAnswerSchema.parse((await request('/v1/events/recent?service=memory&limit=5')).body).events.map((e) => e.type),
    ['joined'],
  );
  const bad = await request('/v1/events/recent?limit=5000');
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /limit/);

  // In-process nothing holds the event loop while the audit batch waits on its (unref'd) timer: this does.
  const keepAlive = setInterval(() => undefined, 1_000);
  t.teardown(() => clearInterval(keepAlive));
  const response = await app.request('/v1/events?calls=1', { headers: { host: '127.0.0.1:6001' } });
  const events = sseReader(response);
  t.match(await events.next(), { event: 'hello' });
  await call('memory', 'read_text', { path: 'x' }, { 'x-mesh-caller': 'watcher' });
  const seen = await events.next();
  t.match(seen, { event: 'call', data: { service: 'memory', tool: 'read_text', caller: 'watcher', outcome: 'error', requestBytes: 12 } });
  t.type(seen.data.id, 'number', 'the row id: call events are sent once their batch is stored');
  const storedAnswer = await request('/v1/audit?limit=1');
  t.equal(storedAnswer.status, 200, JSON.stringify(storedAnswer.body));
  const stored = storedAnswer.body.entries[0];
  t.equal(stored.id, seen.data.id, 'the same id as the stored row');
  await events.cancel();

  const plain = await app.request('/v1/events', { headers: { host: '127.0.0.1:6001' } });
  const quiet = sseReader(plain);
  t.match(await quiet.next(), { event: 'hello' });
  await call('memory', 'read_text', { path: 'y' });
  await request('/v1/instances', { method: 'POST', json: registration('mem-2', 'memory', { url: 'http://127.0.0.1:9/mem-2/mcp' }) });
  t.match(await quiet.next(), { event: 'joined', data: { instance: 'mem-2' } }, 'without calls=1 no call event comes first');
  await quiet.cancel();
});
