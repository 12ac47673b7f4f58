import t from 'tap';
import { MeshClient, text, ToolError } from '../../src/client/index.js';
import { freePort } from '../helpers/processes.js';
import { startNative } from '../helpers/native.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient } from '../helpers/sidecar.js';

// The cmc example (examples/cmc) as a real process, started the way `mesh up` starts a native
// service: its own command, configured by MESH_* variables.
const cmc = 'examples/cmc/index.js';
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];
const chapter = 'Chapter 9\n\n"Run," she said. He ran quickly and really very quietly.\n\nThe door closed.';

t.test('standalone (MESH_NO_PROXY=1): serves MCP, registers nowhere', async (t) => {
  // ctx.mesh points at a port where no proxy listens.
  const instance = await startNative(t, { script: cmc, name: 'cmc', env: { MESH_PROXY_URL: `http://127.0.0.1:${await freePort()}` } });
  t.match(await instance.health(), { name: 'cmc', kind: 'native', state: 'ready', tools: 2, proxy: undefined });
  t.match(instance.stdout(), /cmc ready at http:\/\/127\.0\.0\.1:\d+\/mcp/);
  const client = await connectClient(t, instance.url);
  const { tools } = await client.listTools();
  t.same(tools.map((tool) => tool.name).sort(), ['analyze_chapter_quality', 'chapter_metrics']);
  t.match(
    tools.find((tool) => tool.name === 'analyze_chapter_quality'),
    {
      annotations: { readOnlyHint: true },
      inputSchema: { type: 'object', properties: { path: { type: 'string', minLength: 1 }, text: { type: 'string' } } },
    },
  );
  const metrics = await client.callTool({ name: 'chapter_metrics', arguments: { text: chapter } });
  t.match(metrics.structuredContent, { words: 15, sentences: 3, adverbsPer100: 20, fillersPer100: 13.33 });
  const unreachable = await client.callTool({ name: 'analyze_chapter_quality', arguments: { text: chapter } });
  t.match(unreachable, { isError: true, content: [{ type: 'text', text: /^PROXY_UNREACHABLE: cannot reach the mesh-proxy/ }] }, 'a failed mesh call is a tool error with its code');
});

t.test('registered with a real proxy', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const instance = await startNative(t, { script: cmc, name: 'cmc', proxy: proxy.base });

  t.test('listed by the proxy as a native instance, tools with their schemas', async (t) => {
    const { status, body } = await proxy.api('/v1/services/cmc');
    t.equal(status, 200);
    t.match(body, { name: 'cmc', status: 'healthy', tags: ['demo', 'native'], instances: [{ kind: 'native', state: 'ready', port: instance.port, url: instance.url, version: '1.0.0' }] });
    const quality = body.tools.find((tool: { name: string }) => tool.name === 'analyze_chapter_quality');
    t.match(quality, { description: /fs service's narrative structure/, inputSchema: { type: 'object', properties: { path: { type: 'string' }, text: { type: 'string' } } } });
    t.match(await instance.health(), { proxy: { url: proxy.base, registered: true } });
  });

  t.test('called through /v1', async (t) => {
    const { status, body } = await proxy.api('/v1/services/cmc/tools/chapter_metrics/call', { method: 'POST', body: JSON.stringify({ arguments: { text: chapter } }) });
    t.equal(status, 200);
    t.match(body.structuredContent, { words: 15 });
    const invalid = await proxy.api('/v1/services/cmc/tools/analyze_chapter_quality/call', { method: 'POST', body: JSON.stringify({ arguments: { path: 7 } }) });
    t.match(invalid.body, { isError: true, content: [{ type: 'text', text: 'invalid arguments for tool "analyze_chapter_quality": path: expected string, received number' }] });
    const neither = await proxy.api('/v1/services/cmc/tools/analyze_chapter_quality/call', { method: 'POST', body: JSON.stringify({ arguments: {} }) });
    t.match(neither.body.content[0].text, /pass exactly one of 'path'.*or 'text'/, 'a refinement message reaches the caller');
  });

  t.test('called through MeshClient: bad arguments and a failing handler throw ToolError', async (t) => {
    const mesh = new MeshClient({ proxy: proxy.base, caller: 'native-test' });
    t.teardown(() => mesh.close());
    t.match((await mesh.call('cmc', 'chapter_metrics', { text: chapter })).structuredContent, { sentences: 3 });
    const invalid = await mesh.call('cmc', 'chapter_metrics', {}).catch((e: unknown) => e);
    t.type(invalid, ToolError);
    t.match((invalid as ToolError).message, /cmc\.chapter_metrics failed: invalid arguments for tool "chapter_metrics": text: expected string, received undefined/);
    // No fs in this mesh: the handler's mesh call fails, and says why.
    const noFs = await mesh.call('cmc', 'analyze_chapter_quality', { text: chapter }).catch((e: unknown) => e);
    t.type(noFs, ToolError);
    t.match((noFs as ToolError).message, /^cmc\.analyze_chapter_quality failed: SERVICE_NOT_FOUND: unknown service "fs"; known services: cmc/);
  });

  t.test("called through the proxy's MCP endpoint as cmc__tool", async (t) => {
    const client = await connectClient(t, `${proxy.base}/mcp`);
    const { tools } = await client.listTools();
    t.match(
      tools.find((tool) => tool.name === 'cmc__analyze_chapter_quality'),
      { inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
    );
    const metrics = await client.callTool({ name: 'cmc__chapter_metrics', arguments: { text: chapter } });
    t.match(metrics.structuredContent, { words: 15 });
    const quality = await client.callTool({ name: 'cmc__analyze_chapter_quality', arguments: { text: chapter } });
    t.match(quality, { isError: true, content: [{ type: 'text', text: /SERVICE_NOT_FOUND: unknown service "fs"/ }] });
    t.match(text(await client.callTool({ name: 'cmc__chapter_metrics', arguments: {} })), /invalid arguments.*text: expected string/);
  });

  t.test('SIGTERM deregisters at once and the process ends with code 0', async (t) => {
    await instance.stop('SIGTERM');
    t.equal(instance.proc.exitCode, 0, `exit code 0 (stderr: ${instance.stderr().slice(-500)})`);
    t.match(instance.stderr(), /SIGTERM: stopping[\s\S]*deregistered from the mesh-proxy/);
    const { status } = await proxy.api('/v1/services/cmc');
    t.equal(status, 404, 'the proxy no longer knows cmc');
  });
});
