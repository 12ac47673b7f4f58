import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import t from 'tap';
import { startProxy } from '../../proxy/proxy.js';
import { silentLogger } from '../../src/log.js';
import { isPlainRemote, markPlainRemote } from '../../proxy/plain-http.js';
import { build, leased, mcpClient, registration } from '../helpers/proxy-app.js';

t.test('a peer is "plain remote" when it is not loopback and not over TLS', async (t) => {
  t.ok(isPlainRemote({ remoteAddress: '10.0.0.5' }));
  t.ok(isPlainRemote({ remoteAddress: '::ffff:10.0.0.5' }));
  t.ok(isPlainRemote({ remoteAddress: undefined }), 'an unknown address is not trusted');
  t.notOk(isPlainRemote({ remoteAddress: '10.0.0.5', encrypted: true }), 'TLS');
  for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) t.notOk(isPlainRemote({ remoteAddress: local }), local);
});

// Runs `work` as the proxy's listener would serve a request from `address` (the registration paths
// read the mark through the request's async context).
function servedFrom<T>(address: string, work: () => Promise<T>, allowPlainHttp = false): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = markPlainRemote(() => void work().then(resolve, reject), { allowPlainHttp });
    listener({ socket: { remoteAddress: address } } as unknown as IncomingMessage, {} as ServerResponse);
  });
}

t.test('registrations over plain HTTP from another host get 403 naming TLS and --allow-plain-http', async (t) => {
  const { request, core, app } = await build(t);
  const refused = await servedFrom('10.0.0.5', () => request('/v1/instances', { method: 'POST', json: registration('fs-1') }));
  t.equal(refused.status, 403);
  t.match(refused.body.error, { code: 'FORBIDDEN', message: /registration over plain HTTP from 10\.0\.0\.5 refused: registrations from other hosts need TLS .*--tls-cert.*--allow-plain-http/ });
  t.equal(core.registry.stats().instances, 0, 'nothing registered');

  const local = await servedFrom('127.0.0.1', () => request('/v1/instances', { method: 'POST', json: registration('fs-1') }));
  t.equal(local.status, 201, 'from loopback it registers');
  const lease = local.body.lease as string;
  const beat = await servedFrom('10.0.0.5', () => request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: {}, headers: leased(lease) }));
  t.match(beat, { status: 403, body: { error: { message: /heartbeat over plain HTTP/ } } }, 'a heartbeat too');
  const gone = await servedFrom('10.0.0.5', () => request('/v1/instances/fs-1', { method: 'DELETE', headers: leased(lease) }));
  t.match(gone, { status: 403, body: { error: { message: /deregistration over plain HTTP/ } } }, 'and a deregistration');
  t.equal(core.registry.stats().instances, 1, 'still registered');
  const read = await servedFrom('10.0.0.5', () => request('/v1/services'));
  t.equal(read.status, 200, 'reads and calls are not registrations');

  const mcp = mcpClient(app);
  await mcp.initialize();
  const tool = await servedFrom('10.0.0.5', () => mcp.request('tools/call', { name: 'register_service', arguments: { name: 'web', url: 'http://127.0.0.1:9/mcp' } }));
  t.match(tool.result, { isError: true, content: [{ text: /FORBIDDEN: Forbidden: register_service over plain HTTP from 10\.0\.0\.5 refused/ }] }, 'the register_service tool as well');

  const allowed = await servedFrom('10.0.0.5', () => request('/v1/instances/fs-1/heartbeat', { method: 'PUT', json: {}, headers: leased(lease) }), true);
  t.equal(allowed.status, 200, 'with --allow-plain-http the heartbeat passes');
});

t.test('through real sockets: the mark survives the body read, Hono and the SDK transport', async (t) => {
  const proxy = await startProxy({ host: '127.0.0.1', port: 0, mcpPort: 0, heartbeatTimeoutMs: 60_000, version: 'test', log: silentLogger });
  t.teardown(() => proxy.stop());
  // The one seam: this server's peers look like another host (the bytes still cross a real socket).
  const [server] = proxy.servers;
  server?.prependListener('connection', (socket: Socket) => Object.defineProperty(socket, 'remoteAddress', { value: '10.0.0.5' }));
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const refused = await post('/v1/instances', registration('fs-1'));
  t.equal(refused.status, 403);
  t.match(await refused.json(), { error: { message: /registration over plain HTTP from 10\.0\.0\.5 refused/ } });
  const mcpHeaders = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
  const init = await post('/mcp', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }, mcpHeaders);
  const session = init.headers.get('mcp-session-id') ?? '';
  await init.text();
  await (await post('/mcp', { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...mcpHeaders, 'mcp-session-id': session })).text();
  const tool = await post(
    '/mcp',
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'register_service', arguments: { name: 'web', url: 'http://127.0.0.1:9/mcp' } } },
    { ...mcpHeaders, 'mcp-session-id': session },
  );
  t.match(await tool.text(), /register_service over plain HTTP from 10\.0\.0\.5 refused/, 'the tool through the lean path or the SDK transport');
  t.equal(proxy.core.registry.stats().instances, 0, 'nothing registered');
  t.equal((await fetch(`${proxy.url}/v1/services`)).status, 200, 'reads pass');
});
