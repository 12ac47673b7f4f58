import { request } from 'node:http';
import t from 'tap';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fixture, freePort, pollJson, spawnNode, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// The mesh token is checked on instances too, not only on the proxy: a sidecar given --token wants
// it on every request (401 as the proxy answers), the proxy sends its own on everything it asks an
// instance (MCP sessions, calls, the claim check), and no instance binds beyond loopback without one.
const TOKEN = 's3cret-token';
const auth = { authorization: `Bearer ${TOKEN}` };
// POSTs `body` to `target` exactly as written (no URL normalisation on the way) and resolves with the status.
function rawPost(base: string, target: string, body: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: 'POST', path: target, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const initialize = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

t.test('a sidecar with --token refuses requests without it and works through a proxy with the same token', async (t) => {
  const proxy = await startProxy(t, { token: TOKEN });
  const echo = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')], proxy: proxy.base, token: TOKEN });
  const post = (headers: Record<string, string>) =>
    fetch(echo.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(initialize),
    });
  for (const [what, headers] of [
    ['no Authorization', {}],
    ['a wrong token', { authorization: 'Bearer wrong' }],
  ] as const) {
    const refused = await post(headers);
    t.equal(refused.status, 401, `initialize with ${what}: 401`);
    t.match(refused.headers.get('www-authenticate'), /^Bearer realm="mesh"/, 'WWW-Authenticate: Bearer, as the proxy answers');
    t.match(await refused.json(), { jsonrpc: '2.0', error: { code: -32001, message: /^Unauthorized: / } }, 'a JSON-RPC error naming the problem');
    t.equal((await fetch(`${echo.base}/healthz`, { headers })).status, 401, `/healthz with ${what}: 401`);
  }
  const accepted = await post(auth);
  t.equal(accepted.status, 200, 'initialize with the token: 200');
  await accepted.body?.cancel();
  // fetch would resolve the dot segments itself: a raw request sends the target as written. The
  // router would read each of these as /mcp, so none may pass the token (or the body checks) by its spelling.
  for (const target of ['/control/../mcp', '/./mcp', '/control/%2e%2e/mcp']) {
    const status = await rawPost(echo.base, target, JSON.stringify(initialize));
    t.equal(status, 400, `POST ${target} without a token: refused (400, not normal form), never served`);
  }
  t.not(await rawPost(echo.base, '/control/..%2Fmcp', JSON.stringify(initialize)), 200, 'an encoded slash is no dot segment and no way in either');

  await pollJson(`${proxy.base}/v1/services/echo`, (status, body) => status === 200 && body.status === 'healthy', 20_000, auth);
  const client = new Client({ name: 'token-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${proxy.base}/mcp`), { requestInit: { headers: auth } }));
  t.teardown(() => client.close());
  const answer = await client.callTool({ name: 'echo__echo', arguments: { text: 'through the proxy' } });
  t.match(answer, { content: [{ type: 'text', text: /through the proxy/ }] }, 'a routed call reaches the token-protected sidecar');
  t.notOk(answer.isError);

  // The claim check sends the token too: a sidecar killed with -9 and started again on its port gets back in at once.
  const before = (await proxy.api('/v1/services/echo', { headers: auth })).body.instances[0];
  await echo.stop('SIGKILL');
  const again = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')], proxy: proxy.base, token: TOKEN, port: echo.port });
  await waitFor(async () => (await proxy.api('/v1/services/echo', { headers: auth })).body.instances?.[0]?.pid !== before.pid, 'the restarted sidecar registers over its live registration', 20_000);
  t.match((await proxy.api('/v1/services/echo', { headers: auth })).body, { status: 'healthy', instances: [{ id: before.id }] });
  t.notMatch(again.stderr(), /HTTP 409/, 'its claim was confirmed at once');
  const later = await client.callTool({ name: 'echo__echo', arguments: { text: 'after the restart' } });
  t.match(later, { content: [{ type: 'text', text: /after the restart/ }] });
});

t.test('mesh-sidecar and a native instance bound beyond loopback without a token refuse to start', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const sidecar = spawnNode('sidecar/cli.js', ['--name', 'open', '--host', '0.0.0.0', '--port', String(port), '--no-proxy', '--', 'python3', fixture('echo_server.py')], { MESH_TOKEN: '' });
  t.teardown(() => sidecar.stop());
  await sidecar.proc;
  t.equal(sidecar.proc.exitCode, 1, 'mesh-sidecar exits 1');
  t.match(sidecar.stderr(), /host 0\.0\.0\.0 exposes this sidecar beyond this machine; set --token \(or MESH_TOKEN\)/, 'naming the option');
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status, undefined, 'nothing listens');

  const native = spawnNode('test/fixtures/ping-pong-instance.js', [], { MESH_SERVICE_NAME: 'pp', MESH_HOST: '0.0.0.0', MESH_PORT: String(port), MESH_NO_PROXY: '1', MESH_TOKEN: '' });
  t.teardown(() => native.stop());
  await native.proc;
  t.not(native.proc.exitCode, 0, 'the native instance does not start');
  t.match(native.stderr(), /host 0\.0\.0\.0 exposes instance "pp" beyond this machine; set its token option \(or MESH_TOKEN\)/);
});
