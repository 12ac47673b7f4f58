import t from 'tap';
import { z } from 'zod';
import { MeshError } from '../../src/errors.js';
import { ToolError } from '../../src/client/errors.js';
import { argumentProblems, NativeTools, objectSchema } from '../../src/instance/native-tools.js';
import { resolveInstanceOptions } from '../../src/instance/instance-options.js';
import { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_MS } from '../../src/http/session-limits.js';
import { deadlineOf, hopsOf } from '../../src/instance/mesh-meta.js';
import { remainingMs } from '../../src/instance/tool-context.js';
import { errorResult, isCallToolResult, toToolResult } from '../../src/instance/tool-result.js';

t.test('toToolResult: string, object, array, scalars, CallToolResult, nothing', async (t) => {
  t.same(toToolResult('hi'), { content: [{ type: 'text', text: 'hi' }] });
  t.same(
    toToolResult({ score: 7, tags: ['a'] }),
    {
      content: [{ type: 'text', text: '{\n  "score": 7,\n  "tags": [\n    "a"\n  ]\n}' }],
      structuredContent: { score: 7, tags: ['a'] },
    },
    'a plain object: JSON text plus structuredContent',
  );
  t.same(toToolResult([1, 2]), { content: [{ type: 'text', text: '[\n  1,\n  2\n]' }] }, 'an array: text only (structuredContent must be an object)');
  t.same(toToolResult(42), { content: [{ type: 'text', text: '42' }] });
  t.same(toToolResult(false), { content: [{ type: 'text', text: 'false' }] });
  t.same(toToolResult(undefined), { content: [] });
  t.same(toToolResult(null), { content: [] });
  const full = { content: [{ type: 'text' as const, text: 'x' }], isError: true };
  t.equal(toToolResult(full), full, 'a CallToolResult passes unchanged');
  t.same(toToolResult(new Date(0)), { content: [{ type: 'text', text: '"1970-01-01T00:00:00.000Z"' }] }, 'a class instance: JSON text, no structuredContent');
  t.throws(() => toToolResult(() => 1), { code: 'INTERNAL', message: /no JSON form/ });
  t.throws(() => toToolResult(10n), TypeError, 'BigInt cannot be serialized (the runtime answers it as a tool error)');
});

t.test('isCallToolResult', async (t) => {
  t.ok(isCallToolResult({ content: [] }));
  t.ok(isCallToolResult({ content: [{ type: 'image', data: '', mimeType: 'image/png' }] }));
  t.notOk(isCallToolResult({ content: 'text' }));
  t.notOk(isCallToolResult({ content: [{ text: 'no type' }] }));
  t.notOk(isCallToolResult([{ type: 'text' }]));
});

t.test('errorResult keeps mesh codes and nested tool messages', async (t) => {
  t.same(errorResult(new Error('no chapter 9')), { isError: true, content: [{ type: 'text', text: 'no chapter 9' }] });
  t.same(errorResult(new MeshError('SERVICE_NOT_FOUND', 'unknown service "fs"')).content, [{ type: 'text', text: 'SERVICE_NOT_FOUND: unknown service "fs"' }]);
  const nested = new ToolError({ isError: true, content: [{ type: 'text', text: 'file not found' }] }, { context: { proxy: 'p', service: 'fs', tool: 'read_text' } });
  t.same(errorResult(nested).content, [{ type: 'text', text: 'fs.read_text failed: file not found' }]);
  t.same(errorResult('plain string').content, [{ type: 'text', text: 'plain string' }]);
});

t.test('NativeTools: JSON Schema, hash, names, schemas', async (t) => {
  const tools = new NativeTools();
  tools.add('measure', { description: 'Measures' }, { text: z.string().min(1).describe('the text'), limit: z.number().int().optional() }, () => 'x');
  const [listed] = tools.list();
  t.match(listed, {
    name: 'measure',
    description: 'Measures',
    inputSchema: { type: 'object', properties: { text: { type: 'string', minLength: 1, description: 'the text' }, limit: { type: 'integer' } }, required: ['text'] },
  });
  t.notOk('$schema' in (listed?.inputSchema ?? {}), 'no $schema key in the listed schema');
  const hash = tools.hash();
  t.match(hash, /^[0-9a-f]{16}$/);
  t.equal(tools.list(), tools.list(), 'the list is computed once');
  const again = new NativeTools();
  again.add('measure', { description: 'Measures' }, z.object({ text: z.string().min(1).describe('the text'), limit: z.number().int().optional() }), () => 'other handler');
  t.equal(again.hash(), hash, 'the same tools give the same hash (another process, a restart, a shape or an object)');
  tools.add('other', {}, z.object({}), () => 'y');
  t.not(tools.hash(), hash, 'adding a tool changes the hash');
  t.throws(() => tools.add('measure', {}, {}, () => 1), { code: 'BAD_REQUEST', message: /already registered/ });
  t.throws(() => tools.add('bad name', {}, {}, () => 1), { message: /invalid tool name "bad name"/ });
  t.throws(() => tools.add('x', {}, z.string(), () => 1), { message: /must be a z\.object.*got a zod string/ });
  t.throws(() => tools.add('y', {}, { a: 'not zod' }, () => 1), { message: /zod object schema or a shape/ });
  t.throws(() => tools.add('z', {}, {}, 'no handler'), { message: /handler must be a function/ });
  t.equal(
    objectSchema(
      'w',
      z.object({ a: z.string() }).refine(() => true),
    )._zod.def.type,
    'object',
    'a refined object is still an object',
  );
});

t.test('argumentProblems names each wrong field', async (t) => {
  const schema = z.object({ path: z.string(), max: z.number().max(10), deep: z.object({ n: z.number() }) });
  const parsed = schema.safeParse({ max: 11, deep: { n: 'x' } });
  t.notOk(parsed.success);
  const text = argumentProblems(parsed.error?.issues ?? []);
  t.match(text, /^path: expected string, received undefined; max: Too big: expected number to be <=10; deep\.n: expected number, received string$/);
});

t.test('hopsOf reads mesh/hops', async (t) => {
  t.equal(hopsOf(undefined), 0);
  t.equal(hopsOf({ 'mesh/hops': 3 }), 3);
  t.equal(hopsOf({ 'mesh/hops': '3' }), 0, 'not a number: 0');
  t.equal(hopsOf({ 'mesh/hops': -1 }), 0);
});

t.test('deadlineOf reads mesh/deadlineMs; remainingMs leaves a margin', async (t) => {
  t.equal(deadlineOf(undefined), undefined);
  t.equal(deadlineOf({ 'mesh/deadlineMs': 5000 }), 5000);
  t.equal(deadlineOf({ 'mesh/deadlineMs': 0 }), undefined);
  t.equal(deadlineOf({ 'mesh/deadlineMs': '5000' }), undefined);
  t.equal(remainingMs(5000, 1200), 3700, 'margin: 100 ms at most');
  t.equal(remainingMs(500, 100), 350, 'margin: 10% of a short deadline');
  t.equal(remainingMs(500, 499), 1, 'never below 1 ms');
});

t.test('resolveInstanceOptions: explicit options, then MESH_* variables, then defaults', async (t) => {
  const env = { MESH_SERVICE_NAME: 'envname', MESH_PROXY_URL: 'http://127.0.0.1:7000/', MESH_PORT: '5012', MESH_TAGS: 'a, b,,c', MESH_TOKEN: 'tok', MESH_HEARTBEAT: '2', MESH_DEADLINE: '5' };
  t.match(resolveInstanceOptions({}, env), {
    name: 'envname',
    proxyUrl: 'http://127.0.0.1:7000',
    register: true,
    port: 5012,
    tags: ['a', 'b', 'c'],
    token: 'tok',
    heartbeatMs: 2000,
    deadlineMs: 5000,
    host: '127.0.0.1',
  });
  t.match(
    resolveInstanceOptions({ name: 'cmc', port: 0, tags: [], proxy: 'http://127.0.0.1:6101', heartbeatMs: 100 }, env),
    {
      name: 'cmc',
      port: 0,
      tags: [],
      proxyUrl: 'http://127.0.0.1:6101',
      heartbeatMs: 100,
    },
    'explicit options win',
  );
  t.match(
    resolveInstanceOptions({ name: 'cmc' }, {}),
    {
      proxyUrl: 'http://127.0.0.1:6001',
      register: true,
      port: undefined,
      portRange: { from: 5000, to: 5099 },
      heartbeatMs: 30_000,
      deadlineMs: 60_000,
      version: '0.0.0',
      handleSignals: true,
    },
    'defaults',
  );
  t.match(resolveInstanceOptions({ name: 'cmc' }, { MESH_NO_PROXY: '1' }), { register: false, proxyUrl: 'http://127.0.0.1:6001' }, 'MESH_NO_PROXY=1: standalone (ctx.mesh still has a proxy URL)');
  t.match(resolveInstanceOptions({ name: 'cmc', proxy: false }, {}), { register: false });
  t.match(resolveInstanceOptions({ name: 'cmc', proxy: 'http://127.0.0.1:1' }, { MESH_NO_PROXY: '1' }), { register: true }, 'an explicit proxy beats MESH_NO_PROXY');
  t.throws(() => resolveInstanceOptions({}, {}), { code: 'BAD_REQUEST', message: /no service name.*MESH_SERVICE_NAME/ });
  t.throws(() => resolveInstanceOptions({ name: 'Bad Name' }, {}), { message: /invalid service name "Bad Name"/ });
  t.throws(() => resolveInstanceOptions({ name: 'x' }, { MESH_PORT: 'abc' }), { message: /MESH_PORT="abc": expected a port number/ });
  t.throws(() => resolveInstanceOptions({ name: 'x' }, { MESH_HEARTBEAT: '0' }), { message: /MESH_HEARTBEAT="0"/ });
  t.throws(() => resolveInstanceOptions({ name: 'x', tags: ['no spaces'] }, {}), { message: /invalid tag "no spaces"/ });
});

t.test('resolveInstanceOptions: session limits from options, then MESH_SESSION_IDLE_TIMEOUT and MESH_MAX_SESSIONS, then the session defaults', async (t) => {
  t.match(resolveInstanceOptions({ name: 'x' }, { MESH_SESSION_IDLE_TIMEOUT: '90', MESH_MAX_SESSIONS: '20', MESH_DRAIN_TIMEOUT: '3' }), {
    sessionIdleMs: 90_000,
    maxSessions: 20,
    drainTimeoutMs: 3000,
  });
  t.match(
    resolveInstanceOptions({ name: 'x', sessionIdleMs: 500, maxSessions: 2 }, { MESH_SESSION_IDLE_TIMEOUT: '90', MESH_MAX_SESSIONS: '20' }),
    { sessionIdleMs: 500, maxSessions: 2 },
    'explicit options win',
  );
  t.match(resolveInstanceOptions({ name: 'x' }, {}), { sessionIdleMs: DEFAULT_SESSION_IDLE_MS, maxSessions: DEFAULT_MAX_SESSIONS }, 'defaults');
  t.throws(() => resolveInstanceOptions({ name: 'x' }, { MESH_SESSION_IDLE_TIMEOUT: '0' }), { code: 'BAD_REQUEST', message: /MESH_SESSION_IDLE_TIMEOUT="0": expected a positive number of seconds/ });
  t.throws(() => resolveInstanceOptions({ name: 'x' }, { MESH_MAX_SESSIONS: '2.5' }), { code: 'BAD_REQUEST', message: /MESH_MAX_SESSIONS="2\.5": expected a whole number above 0/ });
});
