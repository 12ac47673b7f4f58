import t, { type Test } from 'tap';
import { silentLogger } from '../../src/log.js';
import { createProxyApp } from '../../proxy/app.js';
import { MeshCore } from '../../proxy/core.js';
import { MeshEndpoint } from '../../proxy/mcp/endpoint.js';
import { createProxyMetrics } from '../../proxy/metrics.js';
import { Registry } from '../../proxy/registry/registry.js';

// How the proxy's /v1 call route reads the x-mesh-caller and x-mesh-hops headers that MeshClient
// (and so every native instance's ctx.mesh) sends, and what the audit trail keeps of them.
// In-process (app.request()); the instance is metadata only (port 9: nothing answers there).
async function build(t: Test) {
  const registry = await Registry.open({});
  const core = new MeshCore({ registry, deadlineMs: 2_000, maxHops: 4 });
  const endpoint = new MeshEndpoint(core, silentLogger, '0.0.0-test');
  const app = createProxyApp({ core, endpoint, metrics: createProxyMetrics({ instancesByStatus: () => registry.countByStatus() }) });
  t.teardown(async () => {
    await endpoint.close();
    await core.router.close();
    await registry.close();
  });
  const request = async (path: string, init: RequestInit = {}) => {
    const headers = { host: '127.0.0.1:6001', 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) };
    const response = await app.request(path, { ...init, headers });
    return { status: response.status, body: (await response.json()) as any };
  };
  const registered = await request('/v1/instances', {
    method: 'POST',
    body: JSON.stringify({
      id: 'fs-1',
      name: 'fs',
      url: 'http://127.0.0.1:9/mcp',
      host: '127.0.0.1',
      port: 9,
      pid: 4242,
      tags: [],
      tools: [{ name: 'read_text', inputSchema: { type: 'object' } }],
      toolsHash: 'h1',
      version: '1.0.0',
      kind: 'sidecar',
    }),
  });
  t.equal(registered.status, 201);
  const call = (headers: Record<string, string>) => request('/v1/services/fs/tools/read_text/call', { method: 'POST', body: JSON.stringify({ arguments: { path: 'a' } }), headers });
  return { request, call };
}

t.test('a call at the hop limit is refused with LOOP_DETECTED (508) before any instance is tried', async (t) => {
  const { call, request } = await build(t);
  const refused = await call({ 'x-mesh-hops': '4', 'x-mesh-caller': 'pong' });
  t.equal(refused.status, 508);
  t.match(refused.body.error, { code: 'LOOP_DETECTED', message: 'fs.read_text refused: 4 mesh hops already (limit 4); is there a call loop?', hops: 4 });
  const under = await call({ 'x-mesh-hops': '3', 'x-mesh-caller': 'ping' });
  t.equal(under.body.error.code, 'SERVICE_UNAVAILABLE', 'under the limit the call is routed (and fails here: nothing listens)');

  const { status, body } = await request('/v1/audit?service=fs&limit=2');
  t.equal(status, 200);
  t.match(
    body.entries,
    [
      { caller: 'ping', service: 'fs', tool: 'read_text', outcome: 'error', errorCode: 'SERVICE_UNAVAILABLE', instance: 'fs-1' },
      { caller: 'pong', service: 'fs', tool: 'read_text', outcome: 'error', errorCode: 'LOOP_DETECTED' },
    ],
    'the audit trail names the caller of each call, newest first',
  );
  t.notOk('instance' in body.entries[1], 'the refused call reached no instance');
});

t.test('malformed headers are refused, naming the header; absent ones default', async (t) => {
  const { call, request } = await build(t);
  for (const hops of ['-1', 'two', '1.5', '99999']) {
    const { status, body } = await call({ 'x-mesh-hops': hops });
    t.equal(status, 400, `x-mesh-hops: ${hops}`);
    t.match(body.error, { code: 'BAD_REQUEST', message: /^invalid headers: x-mesh-hops: expected a whole number of mesh hops/ });
  }
  const long = await call({ 'x-mesh-caller': 'x'.repeat(129) });
  t.match(long.body.error, { code: 'BAD_REQUEST', message: /x-mesh-caller: Too big/ });
  await call({});
  const { body } = await request('/v1/audit?limit=1');
  t.match(body.entries, [{ caller: 'http-client', service: 'fs' }], 'no x-mesh-caller: "http-client"');
  const bad = await request('/v1/audit?limit=0');
  t.match(bad, { status: 400, body: { error: { code: 'BAD_REQUEST', message: /^invalid query: limit/ } } });
});
