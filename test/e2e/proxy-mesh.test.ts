import { writeFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import t from 'tap';
import { everythingServer, fixture, freePort, pollJson, root, spawnNode } from '../helpers/processes.js';
import { startProxy, tempDir } from '../helpers/proxy.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// A real mesh: one proxy, real sidecars (Python example, server-everything, a fault fixture).
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];

async function waitService(base: string, name: string, accept: (service: any) => boolean) {
  return pollJson(`${base}/v1/services/${name}`, (status, body) => status === 200 && accept(body));
}

t.test('discovery, routed calls, MCP endpoint, bad input', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const proxyArg = { proxy: proxy.base, extra: ['--heartbeat', '1'] };
  await startSidecar(t, { name: 'fs', command: ['python3', `${root}examples/fs_server.py`], ...proxyArg });
  await startSidecar(t, { name: 'everything', command: ['node', everythingServer, 'stdio'], ...proxyArg });
  await startSidecar(t, { name: 'fragile', command: ['python3', fixture('die_mid_call_server.py')], ...proxyArg });
  for (const name of ['fs', 'everything', 'fragile']) await waitService(proxy.base, name, (s) => s.status === 'healthy');

  const listed = await proxy.api('/v1/services');
  t.same(listed.body.services.map((s: any) => s.name).sort(), ['everything', 'fragile', 'fs']);
  const tools = await proxy.api('/v1/services/fs/tools');
  t.ok(
    tools.body.tools.some((tool: any) => tool.name === 'read_text' && tool.inputSchema.type === 'object'),
    'tools carry their schemas',
  );

  const called = await proxy.api('/v1/services/fs/tools/read_text/call', { method: 'POST', body: JSON.stringify({ arguments: { path: 'chapter1.txt' } }) });
  t.equal(called.status, 200);
  t.match(called.body.content[0].text, /Lighthouse/);

  const client = await connectClient(t, `${proxy.base}/mcp`);
  const { tools: endpointTools } = await client.listTools();
  const names = endpointTools.map((tool) => tool.name);
  for (const name of [
    'list_services',
    'get_service_info',
    'get_service_status',
    'call_service',
    'register_service',
    'deregister_service',
    'heartbeat',
    'fs__read_text',
    'everything__echo',
    'fragile__echo',
  ]) {
    t.ok(names.includes(name), `endpoint lists ${name}`);
  }
  t.ok(
    names.every((name) => /^[A-Za-z0-9_-]{1,64}$/.test(name)),
    'every name fits the MCP tool-name pattern',
  );
  const echoed = await client.callTool({ name: 'everything__echo', arguments: { message: 'namespaced' } });
  t.match(echoed.content, [{ text: /namespaced/ }]);
  const viaCallService = await client.callTool({ name: 'call_service', arguments: { service: 'fs', tool: 'search_text', arguments: { query: 'ledger' } } });
  t.match(JSON.stringify(viaCallService.content), /ledger/i);

  // A child dying mid-call: the caller gets a clear error, the service recovers.
  const died = await client.callTool({ name: 'fragile__die', arguments: { code: 9 } });
  t.equal(died.isError, true, 'a crash mid-call is a tool error');
  t.match((died.content as any)[0].text, /exited with code 9/);

  // Bad input: every one answered clearly, the proxy keeps running.
  const cases: [string, RequestInit, number, RegExp][] = [
    ['/v1/instances', { method: 'POST', body: '{not json' }, 400, /malformed JSON/],
    [
      '/v1/instances',
      {
        method: 'POST',
        body: JSON.stringify({
          id: 'x',
          name: 'x',
          url: 'http://127.0.0.1:1/mcp',
          host: '127.0.0.1',
          port: 1,
          tags: [],
          tools: [],
          toolsHash: 'h',
          version: '1',
          kind: 'sidecar',
          command: 'rm -rf /',
        }),
      },
      400,
      /command/,
    ],
    [
      '/v1/instances',
      {
        method: 'POST',
        body: JSON.stringify({ id: 'x', name: 'Bad Name!', url: 'http://127.0.0.1:1/mcp', host: '127.0.0.1', port: 1, tags: [], tools: [], toolsHash: 'h', version: '1', kind: 'sidecar' }),
      },
      400,
      /name/,
    ],
    [
      '/v1/instances',
      {
        method: 'POST',
        body: JSON.stringify({ id: 'x', name: 'x', url: 'http://127.0.0.1:1/mcp', host: '127.0.0.1', port: 'eighty', tags: [], tools: [], toolsHash: 'h', version: '1', kind: 'sidecar' }),
      },
      400,
      /port/,
    ],
    [
      '/v1/instances',
      {
        method: 'POST',
        body: JSON.stringify({ id: 'x', name: 'x', url: 'http://attacker.example/mcp', host: 'attacker.example', port: 80, tags: [], tools: [], toolsHash: 'h', version: '1', kind: 'sidecar' }),
      },
      400,
      /url|host|loopback/i,
    ],
    ['/v1/instances/nope/heartbeat', { method: 'PUT', body: '{}' }, 404, /register again/],
    ['/v1/services/nope', {}, 404, /unknown service "nope"/],
    ['/v1/services/fs/tools/nope/call', { method: 'POST', body: '{}' }, 404, /no tool "nope"/],
    ['/v1/services/fs/tools/read_text/call', { method: 'POST', body: JSON.stringify({ arguments: 'wrong' }) }, 400, /arguments/],
    ['/v1/instances', { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }) }, 413, /exceeds/],
  ];
  for (const [path, init, status, pattern] of cases) {
    const answer = await proxy.api(path, init);
    t.equal(answer.status, status, `${init.method ?? 'GET'} ${path} → ${status}`);
    const message = answer.body?.error?.message ?? String(answer.body);
    t.match(message, pattern, `the error names the problem: ${message.slice(0, 160)}`);
  }
  const foreignHost = await proxy.api('/v1/services', { headers: { origin: 'http://evil.example' } });
  t.equal(foreignHost.status, 403, 'foreign Origin refused');
  const after = await proxy.api('/v1/services');
  t.equal(after.body.services.length, 3, 'nothing lost after bad input');
});

t.test('replicas share the load; a SIGKILLed sidecar goes unhealthy, then is removed', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const a = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')], proxy: proxy.base, extra: ['--heartbeat', '1'] });
  const b = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')], proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await waitService(proxy.base, 'echo', (s) => s.healthyCount === 2);
  for (let i = 0; i < 20; i++) {
    const answer = await proxy.api('/v1/services/echo/tools/echo/call', { method: 'POST', body: JSON.stringify({ arguments: { text: `r${i}` } }) });
    t.equal(answer.body.content?.[0]?.text, `r${i}`);
  }
  const [ha, hb] = [await a.health(), await b.health()];
  t.ok(ha.calls.forwarded >= 5 && hb.calls.forwarded >= 5, `both replicas served calls (${ha.calls.forwarded}, ${hb.calls.forwarded})`);

  await b.stop('SIGKILL');
  const degraded = await waitService(proxy.base, 'echo', (s) => s.instances.some((i: any) => i.status === 'unhealthy'));
  t.equal(degraded.healthyCount, 1, 'the killed replica is unhealthy, the other still serves');
  const routed = await proxy.api('/v1/services/echo/tools/echo/call', { method: 'POST', body: JSON.stringify({ arguments: { text: 'still' } }) });
  t.equal(routed.body.content?.[0]?.text, 'still', 'calls go to the healthy replica');
  await waitService(proxy.base, 'echo', (s) => s.instanceCount === 1);
  t.pass('the silent replica was removed');

  await a.stop('SIGTERM');
  await pollJson(`${proxy.base}/v1/services`, (_, body) => body.services.length === 0);
  t.pass('a clean sidecar exit deregisters at once');
});

t.test('kill -9 and restart of the proxy keeps the registry; a corrupt file is moved aside', async (t) => {
  const first = await startProxy(t, { extra: fast });
  const sidecar = await startSidecar(t, { name: 'fs', command: ['python3', `${root}examples/fs_server.py`], proxy: first.base, extra: ['--heartbeat', '1'] });
  await waitService(first.base, 'fs', (s) => s.status === 'healthy');
  await pollJson(`${first.base}/healthz`, (_, body) => body.registry.instances === 1 && body.registry.fileWrites > 0 && body.registry.writePending === false); // the coalesced write landed
  await first.stop('SIGKILL');

  const second = await startProxy(t, { registryFile: first.registryFile, port: first.port, extra: fast });
  const listed = await second.api('/v1/services');
  t.equal(listed.body.services[0]?.name, 'fs', 'services still listed right after the restart');
  const called = await second.api('/v1/services/fs/tools/list_files/call', { method: 'POST', body: '{}' });
  t.equal(called.status, 200, 'calls work after the restart');
  t.ok((await sidecar.health()).state === 'ready');
  await second.stop('SIGKILL');

  writeFileSync(first.registryFile, 'this is not a database');
  const third = await startProxy(t, { registryFile: first.registryFile, port: first.port, extra: fast });
  t.match(third.stderr(), /corrupt|unreadable/i, 'the proxy says the file was bad');
  const moved = readdirSync(dirname(first.registryFile)).filter((f) => f.startsWith(`${basename(first.registryFile)}.corrupt-`));
  t.equal(moved.length, 1, 'the bad file was moved aside');
  await waitService(third.base, 'fs', (s) => s.status === 'healthy');
  t.pass('the sidecar re-registered on its next heartbeat');
});

t.test('a second proxy on the same port or registry file exits at once, saying why', async (t) => {
  const first = await startProxy(t);
  const samePort = spawnNode('proxy/cli.js', ['--port', String(first.port), '--mcp-port', '0', '--registry', join(tempDir(t), 'other.sqlite')]);
  t.teardown(() => samePort.stop());
  await samePort.proc;
  t.equal(samePort.proc.exitCode, 2, 'same port: exit code 2');
  t.match(samePort.stderr(), new RegExp(`${first.port}.*(in use|EADDRINUSE)`), `names the port: ${samePort.stderr().trim()}`);

  const sameFile = spawnNode('proxy/cli.js', ['--port', String(await freePort()), '--mcp-port', '0', '--registry', first.registryFile]);
  t.teardown(() => sameFile.stop());
  await sameFile.proc;
  t.equal(sameFile.proc.exitCode, 2, 'same registry file: exit code 2');
  t.match(sameFile.stderr(), /lock|in use|another/i, `names the lock: ${sameFile.stderr().trim()}`);
  t.equal((await first.api('/healthz')).status, 200, 'the first proxy is unaffected');
});
