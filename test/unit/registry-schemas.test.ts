import t, { type Test } from 'tap';
import { MeshError } from '../../src/errors.js';
import { Registry } from '../../proxy/registry/registry.js';
import { HeartbeatSchema, InstanceIdSchema, ServiceNameSchema, ToolSchema } from '../../src/contract/index.js';
import { RegistrationSchema, registrationSchema } from '../../proxy/registry/schemas.js';
import { parseInstanceNetworks } from '../../proxy/registry/instance-networks.js';
import { formatZodError } from '../../src/contract/zod-message.js';
import { isLoopbackHost } from '../../proxy/registry/loopback.js';

// A valid registration body; tests spread changes over it.
function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'fs-1',
    name: 'fs',
    url: 'http://127.0.0.1:5001/mcp',
    host: '127.0.0.1',
    port: 5001,
    pid: 4242,
    tags: ['python'],
    tools: [{ name: 'read_text', description: 'Read a text', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }],
    toolsHash: 'h1',
    version: '1.0.0',
    kind: 'sidecar',
    ...overrides,
  };
}

// The one-line message for a body the schema refuses (fails the test if it is accepted).
function refusal(t: Test, value: unknown, schema: typeof RegistrationSchema = RegistrationSchema): string {
  const result = schema.safeParse(value);
  t.notOk(result.success, 'refused');
  return result.success ? '' : formatZodError(result.error);
}

t.test('a valid registration passes and defaults tags', async (t) => {
  const { tags: _tags, ...withoutTags } = body();
  const parsed = RegistrationSchema.parse(withoutTags);
  t.same(parsed.tags, []);
  t.equal(parsed.tools[0]?.name, 'read_text');
  t.ok(RegistrationSchema.safeParse(body({ state: 'starting', resources: 3, prompts: [{ name: 'p' }] })).success);
  t.ok(RegistrationSchema.safeParse(body({ kind: 'native', url: 'https://localhost:5002/mcp', host: 'localhost' })).success);
  t.ok(RegistrationSchema.safeParse(body({ url: 'http://[::1]:5001/mcp', host: '::1' })).success);
});

t.test('fields that would make the proxy run something are refused, by name', async (t) => {
  for (const field of ['command', 'args', 'env', 'exec', 'script', 'cwd', 'shell']) {
    const message = refusal(t, body({ [field]: field === 'args' ? ['-c', 'rm -rf /'] : 'sh -c "rm -rf /"' }));
    t.match(message, new RegExp(`^${field}: field not allowed`), `${field} named`);
    t.match(message, /never something for the proxy to run/);
  }
  const several = refusal(t, body({ command: 'x', env: { A: '1' } }));
  t.match(several, /command: field not allowed/);
  t.match(several, /env: field not allowed/);
});

t.test('bad names and ids are refused', async (t) => {
  for (const name of ['Bad', 'with space', '-lead', '', 'a'.repeat(64), 'fs/x', 'ümlaut']) {
    t.match(refusal(t, body({ name })), /^name: must be 1-63 characters/, `name ${JSON.stringify(name)}`);
  }
  t.ok(ServiceNameSchema.safeParse('a'.repeat(63)).success, '63 characters is fine');
  t.ok(ServiceNameSchema.safeParse('story_engine-2').success);
  t.match(refusal(t, body({ id: '../etc' })), /^id: must be/);
  t.notOk(InstanceIdSchema.safeParse('x'.repeat(129)).success);
  t.ok(InstanceIdSchema.safeParse('fs-1:5001.a_b').success);
});

t.test('bad urls are refused; remote hosts only when the proxy allows them', async (t) => {
  t.match(refusal(t, body({ url: 'file:///etc/passwd' })), /^url: scheme "file:" not allowed/);
  t.match(refusal(t, body({ url: 'ftp://127.0.0.1/x' })), /^url: scheme "ftp:" not allowed/);
  t.match(refusal(t, body({ url: 'not a url' })), /^url: not a valid URL/);
  t.match(refusal(t, body({ url: 'http://user:pw@127.0.0.1:5001/mcp' })), /^url: credentials/);
  t.match(refusal(t, body({ url: 'http://10.0.0.5:5001/mcp' })), /^url: host "10.0.0.5" is not loopback/);
  t.match(refusal(t, body({ host: 'example.com' })), /^host: host "example.com" is not loopback/);
  const remote = registrationSchema({ allowInstances: parseInstanceNetworks(['10.0.0.0/8']) });
  t.ok(remote.safeParse(body({ url: 'http://10.0.0.5:5001/mcp', host: '10.0.0.5' })).success, 'allowed inside --allow-instances');
  t.match(refusal(t, body({ url: 'file:///x' }), remote), /scheme "file:"/, 'scheme still checked');
  t.match(refusal(t, body({ port: 0 })), /^port: /);
  t.match(refusal(t, body({ port: 70000 })), /^port: /);
  t.match(refusal(t, body({ port: '5001' })), /^port: expected number, received string/);
});

t.test('loopback detection', async (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', 'a.localhost', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(host), host);
  for (const host of ['10.0.0.1', '0.0.0.0', '::', 'example.com', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.evil.com']) t.notOk(isLoopbackHost(host), host);
});

t.test('tools: shape, sizes and counts', async (t) => {
  const tool = (i: number) => ({ name: `t${i}`, inputSchema: { type: 'object' } });
  const tools = [tool(0), tool(1), tool(2), { name: 'bad', inputSchema: 'string' }];
  t.match(refusal(t, body({ tools })), /^tools\.3\.inputSchema: expected object, received string/);
  t.match(refusal(t, body({ tools: [{ name: 'x', inputSchema: { type: 'array' } }] })), /^tools\.0\.inputSchema\.type: /);
  t.match(refusal(t, body({ tools: [{ name: '', inputSchema: { type: 'object' } }] })), /^tools\.0\.name: /);
  t.match(refusal(t, body({ tools: [{ name: 'x'.repeat(129), inputSchema: { type: 'object' } }] })), /^tools\.0\.name: /);
  t.match(refusal(t, body({ tools: [{ name: 'x', description: 'd'.repeat(8 * 1024 + 1), inputSchema: { type: 'object' } }] })), /^tools\.0\.description: longer than 8 KiB/);
  const huge = { type: 'object', properties: { a: { type: 'string', description: 'x'.repeat(64 * 1024) } } };
  t.match(refusal(t, body({ tools: [{ name: 'x', inputSchema: huge }] })), /^tools\.0\.inputSchema: larger than 64 KiB/);
  t.match(refusal(t, body({ tools: Array.from({ length: 1001 }, (_, i) => tool(i)) })), /^tools: Too big: expected array to have <=1000 items/);
  t.ok(RegistrationSchema.safeParse(body({ tools: Array.from({ length: 1000 }, (_, i) => tool(i)) })).success, '1000 tools is fine');
  t.match(refusal(t, body({ tools: [tool(1), tool(1)] })), /^tools\.1\.name: duplicate tool name "t1"/);
  const rich = { name: 'x', title: 'X', inputSchema: { type: 'object' }, outputSchema: { type: 'object' }, annotations: { readOnlyHint: true }, _meta: { a: 1 }, icons: [] };
  t.ok(ToolSchema.safeParse(rich).success, 'newer MCP tool fields pass through');
});

t.test('tags are capped and shaped', async (t) => {
  t.match(refusal(t, body({ tags: Array.from({ length: 33 }, (_, i) => `t${i}`) })), /^tags: Too big/);
  t.match(refusal(t, body({ tags: ['ok', 'not ok'] })), /^tags\.1: must be 1-64 characters/);
});

t.test('heartbeats are strict too', async (t) => {
  t.ok(HeartbeatSchema.safeParse({}).success);
  t.ok(HeartbeatSchema.safeParse({ state: 'ready', toolsHash: 'h', inflight: 2, calls: 10 }).success);
  const result = HeartbeatSchema.safeParse({ state: 'dead', command: 'x' });
  t.notOk(result.success);
  if (!result.success) {
    const message = formatZodError(result.error);
    t.match(message, /state: /);
    t.match(message, /command: /);
  }
});

t.test('register() throws a BAD_REQUEST MeshError naming the field', async (t) => {
  const registry = await Registry.open({ sweepIntervalMs: 0 });
  t.teardown(() => registry.close());
  let caught: unknown;
  try {
    registry.register(body({ command: 'python3', args: ['x.py'] }));
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof MeshError, 'a MeshError');
  const mesh = caught as MeshError;
  t.equal(mesh.code, 'BAD_REQUEST');
  t.match(mesh.message, /^invalid registration: command: field not allowed.*; args: field not allowed/);
  t.match(mesh.context, { problems: [{ path: 'command' }, { path: 'args' }] });
  t.throws(() => registry.register('nope'), /invalid registration: \(body\): expected object, received string/);
  t.equal(registry.stats().instances, 0, 'nothing was registered');
  registry.register(body());
  t.throws(() => registry.heartbeat('fs-1', { exec: 'x' }, undefined), /invalid heartbeat: exec: field not allowed|invalid heartbeat: exec: /);
});
