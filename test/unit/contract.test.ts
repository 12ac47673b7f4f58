import t, { type Test } from 'tap';
import type { z } from 'zod';
import { MeshClient } from '../../src/client/index.js';
import {
  AuditAnswerSchema,
  ErrorAnswerSchema,
  HeartbeatAnswerSchema,
  HelloEventSchema,
  RegistrationAnswerSchema,
  RegistrationSchema,
  RegistryEventSchema,
  ServiceDetailSchema,
  ServicesAnswerSchema,
  ToolsAnswerSchema,
  buildRegistrationSchema,
  formatZodError,
} from '../../src/contract/index.js';
import { build, leased, registration, sseReader } from '../helpers/proxy-app.js';

// The wire contract (src/contract/) against the proxy's real answers (in-process, app.request()):
// every answer parses, and parsing keeps every field the proxy sent (no field is outside the contract).

// Parses `body` with `schema` and checks nothing was dropped or changed on the way.
function fits<S extends z.ZodType>(t: Test, schema: S, body: unknown, what: string): z.output<S> {
  const result = schema.safeParse(body);
  t.ok(result.success, `${what} fits the contract${result.success ? '' : `: ${formatZodError(result.error)}`}`);
  if (result.success) t.same(result.data, body, `${what}: every field the proxy sent is in the contract`);
  return result.data as z.output<S>;
}

t.test('every /v1 answer of the proxy fits the contract', async (t) => {
  const { request, registry } = await build(t);
  const created = await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { resources: 2, prompts: [{ name: 'p' }], state: 'ready' }) });
  t.equal(created.status, 201);
  const answer = fits(t, RegistrationAnswerSchema, created.body, 'POST /v1/instances');
  const lease = answer.lease;
  await request('/v1/instances', { method: 'POST', json: registration('fs-2', 'fs', { tags: ['python', 'b'] }) });

  const beat = await request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: { inflight: 1, calls: 3 }, headers: leased(lease) });
  fits(t, HeartbeatAnswerSchema, beat.body, 'PUT /v1/instances/:id/heartbeat');

  const services = await request('/v1/services');
  const listed = fits(t, ServicesAnswerSchema, services.body, 'GET /v1/services');
  t.equal(listed.services[0]?.instances.length, 2);
  t.ok(listed.services[0]?.instances[0]?.circuit, 'the breaker is part of the answer');
  fits(t, ServicesAnswerSchema, (await request('/v1/services?status=healthy&tag=b')).body, 'GET /v1/services?status=&tag=');
  fits(t, ServiceDetailSchema, (await request('/v1/services/fs')).body, 'GET /v1/services/:name');
  fits(t, ToolsAnswerSchema, (await request('/v1/services/fs/tools')).body, 'GET /v1/services/:name/tools');

  registry.audit({ service: 'fs', instance: 'fs-1', tool: 'read_text', caller: 'app', durationMs: 3, outcome: 'ok', requestBytes: 10, responseBytes: 20 });
  registry.audit({ service: 'fs', tool: 'nope', durationMs: 1, outcome: 'error', errorCode: 'TOOL_NOT_FOUND' });
  const audit = fits(t, AuditAnswerSchema, (await request('/v1/audit?limit=10')).body, 'GET /v1/audit');
  t.equal(audit.entries.length, 2, 'both calls are in the trail');

  for (const [path, status] of [
    ['/v1/services/nope', 404],
    ['/v1/instances/ghost/heartbeat', 404],
    ['/nope', 404],
  ] as const) {
    const failed = await request(path, path.endsWith('heartbeat') ? { method: 'PUT', json: {} } : {});
    t.equal(failed.status, status);
    fits(t, ErrorAnswerSchema, failed.body, `${path}'s error`);
  }
});

t.test('GET /v1/events: the hello and the registry events fit the contract', async (t) => {
  const { app, request } = await build(t);
  const response = await app.request('/v1/events', { headers: { host: '127.0.0.1:6001' } });
  const stream = sseReader(response);
  t.teardown(() => stream.cancel());
  const hello = await stream.next();
  t.equal(hello.event, 'hello');
  fits(t, HelloEventSchema, hello.data, 'the hello event');
  const created = await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  await request('/v1/instances', { method: 'POST', json: registration('fs-1', 'fs', { toolsHash: 'h2', tools: [] }), headers: leased(created.body.lease) });
  await request('/v1/instances/fs-1', { method: 'DELETE', headers: leased(created.body.lease) });
  const seen = new Set<string>();
  while (!seen.has('left')) {
    const event = await stream.next();
    const parsed = fits(t, RegistryEventSchema, event.data, `the ${event.event} event`);
    t.equal(parsed.type, event.event, 'the payload names its event');
    seen.add(event.event);
  }
  t.ok(seen.has('joined') && seen.has('tools'), `joined, tools and left seen: ${[...seen].join(', ')}`);
});

t.test('a malformed registration is refused with a message naming the field', async (t) => {
  const body = registration('fs-1');
  const refused = (value: unknown) => {
    const result = RegistrationSchema.safeParse(value);
    t.notOk(result.success, 'refused');
    return result.success ? '' : formatZodError(result.error);
  };
  t.ok(RegistrationSchema.safeParse(body).success, "the helper's body is a registration");
  t.match(refused({ ...body, port: 'x' }), /^port: expected number, received string/);
  t.match(refused({ ...body, name: 'Bad Name' }), /^name: must be 1-63 characters/);
  t.match(refused({ ...body, tools: [{ name: 'x', inputSchema: { type: 'array' } }] }), /^tools\.0\.inputSchema\.type: /);
  t.match(refused({ ...body, command: 'rm -rf /' }), /^command: field not allowed/);
  const { toolsHash: _omitted, ...withoutHash } = body;
  t.match(refused(withoutHash), /^toolsHash: /);
  t.ok(RegistrationSchema.safeParse({ ...body, url: 'http://10.0.0.5:5001/mcp', host: '10.0.0.5' }).success, 'the contract itself takes any host');
  const loopbackOnly = buildRegistrationSchema((host) => (host === '127.0.0.1' ? undefined : `host "${host}" is not loopback`));
  const remote = loopbackOnly.safeParse({ ...body, host: '10.0.0.5' });
  t.notOk(remote.success);
  if (!remote.success) t.match(formatZodError(remote.error), /^host: host "10.0.0.5" is not loopback/, 'a host policy names the field too');

  const { request } = await build(t);
  const answer = await request('/v1/instances', { method: 'POST', json: { ...body, port: 'x' } });
  t.equal(answer.status, 400);
  t.match(answer.body, { error: { code: 'BAD_REQUEST', message: /^invalid registration: port: expected number, received string/ } }, "the proxy answers with the contract's message");
});

// A fetch that answers every request with this JSON.
const answering =
  (body: unknown): typeof fetch =>
  async () =>
    new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });

t.test("MeshClient parses the proxy's answers with the contract", async (t) => {
  const { request } = await build(t);
  await request('/v1/instances', { method: 'POST', json: registration('fs-1') });
  const real = (await request('/v1/services/fs')).body;
  const proxy = 'http://127.0.0.1:1';
  const good = new MeshClient({ proxy, fetch: answering(real) });
  t.match(await good.service('fs'), { name: 'fs', status: 'healthy', instances: [{ id: 'fs-1', circuit: { state: 'closed' } }] }, 'a real answer passes');

  const bad = new MeshClient({ proxy, fetch: answering({ ...real, status: 'sleeping' }) });
  await t.rejects(bad.service('fs'), { code: 'INTERNAL', message: /answered GET \/v1\/services\/fs with a body that is not the mesh API's answer: status: / });
  const badList = new MeshClient({ proxy, fetch: answering({ services: [{ ...real, instances: [{ id: 'fs-1' }] }] }) });
  await t.rejects(badList.services(), { code: 'INTERNAL', message: /services\.0\.instances\.0\.name: / }, 'the message names the field');
  const badTools = new MeshClient({ proxy, fetch: answering({ tools: [{ name: 'x' }] }) });
  await t.rejects(badTools.tools('fs'), { code: 'INTERNAL', message: /tools\.0\.inputSchema: / });
});
