import t from 'tap';
import { CallTimeout, LoopDetected, MeshClient, MeshError, ProxyUnreachable, ServiceNotFound, ServiceUnavailable, text, ToolError, ToolNotFound } from '../../src/client/index.js';
import { fixture, freePort, root } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// MeshClient against a real mesh: one proxy, real sidecars over real Python stdio servers.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];
const beat = ['--heartbeat', '1'];

t.test('MeshClient against a real proxy and sidecars', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const mesh = new MeshClient({ proxy: proxy.base, caller: 'client-test', timeoutMs: 20_000 });
  t.teardown(() => mesh.close());
  await Promise.all([
    startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')], proxy: proxy.base, extra: [...beat, '--tag', 'demo'] }),
    startSidecar(t, { name: 'fs', command: ['python3', `${root}examples/fs_server.py`], proxy: proxy.base, extra: beat }),
  ]);
  const [echoInfo] = await Promise.all([mesh.waitFor('echo', { timeout: 20_000 }), mesh.waitFor('fs', { timeout: 20_000 })]);
  t.equal(echoInfo.status, 'healthy', 'waitFor resolves with the healthy service');

  t.test('call returns the tool result', async (t) => {
    const result = await mesh.call('echo', 'echo', { text: 'hello mesh' });
    t.equal(text(result), 'hello mesh');
    t.notOk(result.isError);
    const chapter = await mesh.call('fs', 'read_text', { path: 'chapter1.txt' });
    t.match(text(chapter), /Lighthouse/);
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => mesh.call('echo', 'echo', { text: `n${i}` })));
    t.same(
      many.map((r) => text(r)),
      Array.from({ length: 20 }, (_, i) => `n${i}`),
      'concurrent calls get their own answers',
    );
  });

  t.test('services, service, tools, status', async (t) => {
    const all = await mesh.services();
    t.same(all.map((s) => s.name).sort(), ['echo', 'fs'], 'both services listed');
    const echo = all.find((s) => s.name === 'echo');
    t.match(echo, { status: 'healthy', instanceCount: 1, healthyCount: 1, tags: ['demo'] });
    t.ok((echo?.toolCount ?? 0) >= 2, 'tool count listed');
    t.match(echo?.instances[0], { status: 'healthy', url: /^http:\/\/127\.0\.0\.1:\d+\/mcp$/, lastHeartbeat: Number });
    t.same(
      (await mesh.services({ tag: 'demo' })).map((s) => s.name),
      ['echo'],
      'tag filter',
    );
    t.same(
      (await mesh.services({ status: 'unhealthy' })).map((s) => s.name),
      [],
      'status filter',
    );
    const fs = await mesh.service('fs');
    t.equal(fs.name, 'fs');
    t.ok(
      fs.tools.some((tool) => tool.name === 'read_text' && tool.inputSchema.type === 'object'),
      'service() carries the tools',
    );
    const tools = await mesh.tools('echo');
    t.ok(
      ['echo', 'sleep'].every((name) => tools.some((tool) => tool.name === name)),
      'tools() lists echo and sleep',
    );
    t.equal(await mesh.status('fs'), 'healthy');
  });

  t.test('unknown service and unknown tool', async (t) => {
    const call = await mesh.call('nope', 'x', {}).catch((e: unknown) => e);
    t.type(call, ServiceNotFound);
    t.type(call, MeshError, 'a MeshError too');
    t.match(call, { code: 'SERVICE_NOT_FOUND', service: 'nope', httpStatus: 404, context: { proxy: proxy.base, service: 'nope' }, message: /unknown service "nope"/ });
    await t.rejects(mesh.service('nope'), ServiceNotFound);
    await t.rejects(mesh.tools('nope'), ServiceNotFound);
    await t.rejects(mesh.status('nope'), ServiceNotFound);
    const tool = await mesh.call('fs', 'nope', {}).catch((e: unknown) => e);
    t.type(tool, ToolNotFound);
    t.match(tool, { code: 'TOOL_NOT_FOUND', service: 'fs', tool: 'nope', httpStatus: 404, message: /no tool "nope".*read_text/ });
  });

  t.test('a tool error throws ToolError carrying the tool content', async (t) => {
    const error = await mesh.call('fs', 'read_text', { path: 'no-such-file.txt' }).catch((e: unknown) => e);
    t.type(error, ToolError);
    const toolError = error as ToolError;
    t.equal(toolError.code, 'TOOL_ERROR');
    t.match(toolError.content, [{ type: 'text', text: /no-such-file/ }], 'the tool own content');
    t.equal(toolError.result.isError, true);
    t.match(toolError.message, /^fs\.read_text failed: .*no-such-file/);
    t.match(toolError.context, { service: 'fs', tool: 'read_text', proxy: proxy.base });
  });

  t.test('a call past its deadline throws CallTimeout; the service keeps working', async (t) => {
    const started = Date.now();
    const error = await mesh.call('echo', 'sleep', { ms: 60_000 }, { timeoutMs: 400 }).catch((e: unknown) => e);
    t.type(error, CallTimeout);
    t.match(error, { code: 'CALL_TIMEOUT', service: 'echo', tool: 'sleep', httpStatus: 504, message: /echo\.sleep did not answer within 400 ms/ });
    t.ok(Date.now() - started < 30_000, 'did not wait for the 60 s tool');
    const quick = new MeshClient({ proxy: proxy.base, timeoutMs: 300 });
    await t.rejects(quick.call('echo', 'sleep', { ms: 5_000 }), CallTimeout, 'the client-wide timeoutMs applies too');
    t.equal(text(await mesh.call('echo', 'echo', { text: 'still here' })), 'still here');
  });

  t.test('hops past the limit throw LoopDetected', async (t) => {
    const deep = new MeshClient({ proxy: proxy.base, caller: 'looper', hops: 100 });
    const error = await deep.call('echo', 'echo', { text: 'x' }).catch((e: unknown) => e);
    t.type(error, LoopDetected);
    t.match(error, { code: 'LOOP_DETECTED', httpStatus: 508, message: /hops/ });
  });

  t.test('waitFor a service that registers later, and one that never does', async (t) => {
    const waiting = mesh.waitFor('late', { timeout: 20_000 });
    await startSidecar(t, { name: 'late', command: ['python3', fixture('echo_server.py')], proxy: proxy.base, extra: beat });
    const late = await waiting;
    t.match(late, { name: 'late', status: 'healthy' });
    const started = Date.now();
    const error = await mesh.waitFor('ghost', { timeout: 500 }).catch((e: unknown) => e);
    t.type(error, ServiceUnavailable);
    t.match(error, { code: 'SERVICE_UNAVAILABLE', service: 'ghost', message: /"ghost" did not become healthy within 500 ms; last seen: not registered/ });
    t.ok(Date.now() - started < 15_000, 'bounded by its timeout, not waiting on');
    const wrongStatus = await mesh.waitFor('fs', { timeout: 300, status: 'crashloop' }).catch((e: unknown) => e);
    t.match(wrongStatus, { code: 'SERVICE_UNAVAILABLE', message: /last seen: status healthy \(1\/1 instances healthy\)/ });
  });

  t.test('a service with no healthy instance throws ServiceUnavailable', async (t) => {
    // A long restart backoff keeps the crashed child down long enough to be observed.
    await startSidecar(t, { name: 'fragile', command: ['python3', fixture('die_mid_call_server.py')], proxy: proxy.base, extra: [...beat, '--backoff', '4000-8000'] });
    await mesh.waitFor('fragile', { timeout: 20_000 });
    const died = await mesh.call('fragile', 'die', { code: 9 }).catch((e: unknown) => e);
    t.match(died, { name: 'MeshClientError', code: 'CHILD_EXITED', httpStatus: 502, service: 'fragile', tool: 'die' }, 'a crash mid-call: the proxy error, typed by its code');
    t.match((died as Error).message, /exited with code 9/);
    await mesh.waitFor('fragile', { timeout: 5_000, status: ['restarting', 'unhealthy'] });
    const down = await mesh.call('fragile', 'echo', { text: 'x' }).catch((e: unknown) => e);
    t.type(down, ServiceUnavailable);
    t.match(down, { code: 'SERVICE_UNAVAILABLE', service: 'fragile', httpStatus: 503, message: /no healthy instance/ });
    const back = await mesh.waitFor('fragile', { timeout: 20_000 });
    t.equal(back.status, 'healthy', 'healthy again after the restart');
    t.equal(text(await mesh.call('fragile', 'echo', { text: 'back' })), 'back');
  });

  t.test('close() cancels calls in flight and refuses new ones; await using disposes', async (t) => {
    const closing = new MeshClient({ proxy: proxy.base });
    const inflight = closing.call('echo', 'sleep', { ms: 3_000 }).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    await closing.close();
    t.match(await inflight, { code: 'CALL_CANCELLED', message: /closed/ });
    await t.rejects(closing.services(), { code: 'CALL_CANCELLED' });

    t.equal(typeof Symbol.asyncDispose, 'symbol', 'Node has Symbol.asyncDispose');
    let escaped: MeshClient | undefined;
    {
      await using scoped = new MeshClient({ proxy: proxy.base });
      t.equal(text(await scoped.call('echo', 'echo', { text: 'scoped' })), 'scoped');
      escaped = scoped;
    }
    await t.rejects(escaped.call('echo', 'echo', { text: 'x' }), { code: 'CALL_CANCELLED' }, 'disposed at the end of the block');
    const direct = new MeshClient({ proxy: proxy.base });
    await direct[Symbol.asyncDispose]();
    await t.rejects(direct.status('fs'), { code: 'CALL_CANCELLED' });
  });
});

t.test('no proxy running: ProxyUnreachable names the URL and how to start one', async (t) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const mesh = new MeshClient({ proxy: `${url}/` });
  t.equal(mesh.proxy, url, 'trailing slash dropped');
  const error = await mesh.call('fs', 'read_text', { path: 'x' }).catch((e: unknown) => e);
  t.type(error, ProxyUnreachable);
  t.match(error, { code: 'PROXY_UNREACHABLE', context: { proxy: url, service: 'fs', tool: 'read_text', systemCode: 'ECONNREFUSED' } });
  t.match((error as Error).message, new RegExp(`${url}.*ECONNREFUSED.*mesh-proxy.*npm start`));
  t.ok((error as Error).cause instanceof Error, 'cause is the fetch failure');
  await t.rejects(mesh.services(), ProxyUnreachable);
  const waited = await mesh.waitFor('fs', { timeout: 300 }).catch((e: unknown) => e);
  t.type(waited, ServiceUnavailable);
  t.match(waited, { message: /last seen: proxy unreachable at/, cause: ProxyUnreachable });
});

t.test('MESH_PROXY_URL is the default proxy', async (t) => {
  const saved = process.env.MESH_PROXY_URL;
  t.teardown(() => {
    if (saved === undefined) delete process.env.MESH_PROXY_URL;
    else process.env.MESH_PROXY_URL = saved;
  });
  process.env.MESH_PROXY_URL = 'http://127.0.0.1:1234';
  t.equal(new MeshClient().proxy, 'http://127.0.0.1:1234');
  delete process.env.MESH_PROXY_URL;
  t.equal(new MeshClient().proxy, 'http://127.0.0.1:6001');
});
