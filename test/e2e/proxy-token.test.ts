import t from 'tap';
import { freePort } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';

// mesh-proxy --token: every request on every path and both ports is authorised, the lean tools/call
// path (which runs before the Hono app) included; a session id is not a credential.
const TOKEN = 's3cret-token';
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

const registration = {
  id: 'victim.127.0.0.1.9',
  name: 'victim',
  url: 'http://127.0.0.1:9/mcp',
  host: '127.0.0.1',
  port: 9,
  tools: [{ name: 'noop', inputSchema: { type: 'object' } }],
  toolsHash: 'h1',
  version: '1',
  kind: 'native',
};

/** A POST to an MCP endpoint as a lean client sends it (JSON preferred). */
function mcpPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers },
    body: JSON.stringify(body),
  });
}

/** An initialized (lean) session, opened with the token. */
async function session(url: string): Promise<string> {
  const init = await mcpPost(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, auth(TOKEN));
  const id = init.headers.get('mcp-session-id') ?? '';
  await init.text();
  await (await mcpPost(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...auth(TOKEN), 'mcp-session-id': id })).text();
  return id;
}

t.test('tools/call on an established session without the token, or with a wrong one, is refused on both ports', async (t) => {
  const mcpPort = await freePort();
  const proxy = await startProxy(t, { token: TOKEN, extra: ['--mcp-port', String(mcpPort)] });
  t.equal((await proxy.api('/v1/instances', { method: 'POST', body: JSON.stringify(registration), headers: auth(TOKEN) })).status, 201, 'registered with the token');
  const registered = async () => (await proxy.api('/v1/services', { headers: auth(TOKEN) })).body.services.length as number;

  for (const url of [`${proxy.base}/mcp`, `http://127.0.0.1:${mcpPort}/mcp`]) {
    const id = await session(url);
    t.ok(id, `a session on ${url}`);
    const deregister = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'deregister_service', arguments: { id: registration.id } } };
    for (const [what, headers] of [
      ['no Authorization', {}],
      ['a wrong token', auth('wrong')],
      ['not a bearer header', { authorization: `Basic ${TOKEN}` }],
    ] as const) {
      const response = await mcpPost(url, deregister, { ...headers, 'mcp-session-id': id });
      t.equal(response.status, 401, `${url}, ${what}: 401`);
      t.match(response.headers.get('www-authenticate'), /^Bearer/, `${url}, ${what}: WWW-Authenticate: Bearer`);
      t.match(await response.json(), { error: { message: /^Unauthorized: / } }, `${url}, ${what}: the message says why`);
    }
    t.equal(await registered(), 1, `${url}: the instance was not deregistered`);
    const listed = await mcpPost(url, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'list_services', arguments: {} } }, { ...auth(TOKEN), 'mcp-session-id': id });
    t.match(await listed.json(), { id: 8, result: { structuredContent: { services: [{ name: 'victim' }] } } }, `${url}: with the token the lean path answers`);
  }
});

t.test('every other path of both ports wants the token too', async (t) => {
  const mcpPort = await freePort();
  const proxy = await startProxy(t, { token: TOKEN, extra: ['--mcp-port', String(mcpPort)] });
  const id = await session(`${proxy.base}/mcp`);
  for (const base of [proxy.base, `http://127.0.0.1:${mcpPort}`]) {
    const requests: [string, string, Record<string, string>][] = [
      ['GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': id }],
      ['DELETE', '/mcp', { 'mcp-session-id': id }],
      ['GET', '/v1/services', {}],
      ['GET', '/v1/events', {}],
      ['GET', '/metrics', {}],
      ['GET', '/healthz', {}],
      ['DELETE', `/v1/instances/${registration.id}`, {}],
    ];
    for (const [method, path, headers] of requests) {
      for (const token of [undefined, 'wrong']) {
        const response = await fetch(`${base}${path}`, { method, headers: { ...headers, ...(token ? auth(token) : {}) } });
        t.equal(response.status, 401, `${method} ${base}${path} with ${token ?? 'no'} token: 401`);
        t.match(response.headers.get('www-authenticate'), /^Bearer/);
        await response.body?.cancel();
      }
    }
  }
  const ok = await fetch(`${proxy.base}/v1/services`, { headers: auth(TOKEN) });
  t.equal(ok.status, 200, 'the right token passes');
  await ok.body?.cancel();
});
