import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import t, { type Test } from 'tap';
import { fixture } from '../helpers/processes.js';
import { isEventStream } from '../helpers/media-type.js';
import { startSidecar } from '../helpers/sidecar.js';

// Raw HTTP against a real sidecar: what a browser, a DNS-rebinding page or a broken client would send.
const sidecar = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')] });
const MCP_ACCEPT = 'application/json, text/event-stream';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): any;
}

const seenHeaders: { what: string; headers: IncomingHttpHeaders }[] = [];

/** node:http, because fetch will not send a foreign Host header. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: sidecar.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        seenHeaders.push({ what: `${method} ${path}`, headers: res.headers });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A JSON-RPC message out of a JSON or an SSE response. */
function rpcOf(response: RawResponse): any {
  if (isEventStream(response.headers['content-type'])) {
    const data = response.text.split('\n').find((line) => line.startsWith('data: '));
    return JSON.parse(data!.slice(6));
  }
  return response.json();
}

async function healthy(t: Test) {
  const health = await raw('GET', '/healthz');
  t.equal(health.status, 200, 'the sidecar is still healthy');
  t.equal(health.json().state, 'ready');
}

// A raw initialize (request id `id`); throws unless it is answered 200.
async function initialize(id: string | number = 1) {
  const init = await raw(
    'POST',
    '/mcp',
    { 'content-type': 'application/json', accept: MCP_ACCEPT },
    JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  );
  if (init.status !== 200) throw new Error(`initialize: ${init.status} ${init.text}`);
  return init;
}

t.test('a foreign Host header is refused with 403 naming the Host, on every route', async (t) => {
  for (const [method, path] of [
    ['GET', '/healthz'],
    ['POST', '/mcp'],
    ['GET', '/mcp'],
    ['DELETE', '/mcp'],
    ['GET', '/nope'],
  ] as const) {
    const response = await raw(
      method,
      path,
      { host: 'evil.example:8080', 'content-type': 'application/json', accept: MCP_ACCEPT },
      method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) : undefined,
    );
    t.equal(response.status, 403, `${method} ${path}`);
    t.match(response.json(), { jsonrpc: '2.0', error: { message: /Host "evil\.example:8080" is not allowed/ } });
  }
  const ok = await raw('GET', '/healthz', { host: `localhost:${sidecar.port}` });
  t.equal(ok.status, 200, 'localhost is fine');
});

t.test('a foreign Origin is refused with 403', async (t) => {
  for (const [method, path] of [
    ['GET', '/healthz'],
    ['POST', '/mcp'],
  ] as const) {
    const response = await raw(method, path, { origin: 'http://evil.example', 'content-type': 'application/json', accept: MCP_ACCEPT }, method === 'POST' ? '{}' : undefined);
    t.equal(response.status, 403, `${method} ${path}`);
    t.match(response.json(), { error: { message: /Origin "http:\/\/evil\.example" is not allowed/ } });
  }
  const local = await raw('GET', '/healthz', { origin: 'http://localhost:3000' });
  t.equal(local.status, 200, 'a loopback origin is fine');
});

t.test('malformed JSON is a JSON-RPC parse error (-32700) and harms nothing', async (t) => {
  const response = await raw('POST', '/mcp', { 'content-type': 'application/json', accept: MCP_ACCEPT }, '{"jsonrpc": "2.0", "id": 1, "method": ');
  t.equal(response.status, 400);
  t.match(response.json(), { jsonrpc: '2.0', id: null, error: { code: -32700 } });
  const sessionId = (await initialize()).headers['mcp-session-id'] as string;
  const inSession = await raw('POST', '/mcp', { 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': sessionId }, 'not json at all');
  t.equal(inSession.status, 400);
  t.match(inSession.json(), { error: { code: -32700 } }, 'also on an established session');
  await healthy(t);
});

t.test('a body over 4 MiB is refused with 413', async (t) => {
  const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(4 * 1024 * 1024) } } });
  const declared = await raw('POST', '/mcp', { 'content-type': 'application/json', accept: MCP_ACCEPT, 'content-length': String(Buffer.byteLength(big)) }, big);
  t.equal(declared.status, 413, 'with Content-Length');
  t.match(declared.json(), { error: { message: /exceeds the limit of 4194304 bytes/ } });
  const chunked = await raw('POST', '/mcp', { 'content-type': 'application/json', accept: MCP_ACCEPT, 'transfer-encoding': 'chunked' }, big);
  t.equal(chunked.status, 413, 'chunked, without Content-Length');
  // fetch (what the SDK client uses) must see the 413 too, not a write error on a closed socket.
  const viaFetch = await fetch(sidecar.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: MCP_ACCEPT }, body: big });
  t.equal(viaFetch.status, 413, 'fetch gets the 413');
  t.notOk(
    [...viaFetch.headers.keys()].some((name) => name.startsWith('access-control-')),
    'no CORS headers',
  );
  t.match(await viaFetch.json(), { error: { message: /exceeds the limit/ } });
  await healthy(t);
});

t.test('an unknown session id gets 404', async (t) => {
  const response = await raw(
    'POST',
    '/mcp',
    { 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': 'no-such-session' },
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  );
  t.equal(response.status, 404);
  t.match(response.json(), { jsonrpc: '2.0', error: { message: /Session not found: no-such-session/ } });
  const get = await raw('GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': 'no-such-session' });
  t.equal(get.status, 404, 'GET too');
});

t.test('unknown routes get a JSON 404', async (t) => {
  const response = await raw('GET', '/nope');
  t.equal(response.status, 404);
  t.match(response.headers['content-type'], /application\/json/);
  t.match(response.json(), { error: { code: 'NOT_FOUND', message: /no route for GET \/nope; MCP is served at \/mcp/ } });
  t.equal((await raw('POST', '/v1/anything', { 'content-type': 'application/json' }, '{}')).status, 404);
});

t.test('initialize, then tools/call over raw HTTP: the call is answered as application/json', async (t) => {
  const init = await initialize('init-1');
  const sessionId = init.headers['mcp-session-id'];
  t.type(sessionId, 'string', 'a session id is issued');
  t.match(rpcOf(init), { jsonrpc: '2.0', id: 'init-1', result: { protocolVersion: '2025-06-18', serverInfo: { name: 'echo' } } });
  const headers = { 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': sessionId as string, 'mcp-protocol-version': '2025-06-18' };
  const initialized = await raw('POST', '/mcp', headers, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  t.equal(initialized.status, 202);
  const call = await raw('POST', '/mcp', headers, JSON.stringify({ jsonrpc: '2.0', id: 'call-1', method: 'tools/call', params: { name: 'echo', arguments: { text: 'raw hello' } } }));
  t.equal(call.status, 200);
  t.match(call.headers['content-type'], /^application\/json/);
  t.same(call.json(), { jsonrpc: '2.0', id: 'call-1', result: { content: [{ type: 'text', text: 'raw hello' }] } });
  const unknownTool = await raw('POST', '/mcp', headers, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'nope', arguments: {} } }));
  t.match(unknownTool.json(), { id: 2, error: { code: -32602, message: /Unknown tool: nope/ } });
  const deleted = await raw('DELETE', '/mcp', { 'mcp-session-id': sessionId as string, 'mcp-protocol-version': '2025-06-18' });
  t.equal(deleted.status, 200);
});

t.test('no CORS headers on any response, preflight included', async (t) => {
  const preflight = await raw('OPTIONS', '/mcp', { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' });
  t.not(preflight.status, 204, `preflight not granted (${preflight.status})`);
  t.ok(seenHeaders.length > 20, `${seenHeaders.length} responses checked`);
  for (const { what, headers } of seenHeaders) {
    const cors = Object.keys(headers).filter((name) => name.startsWith('access-control-'));
    if (cors.length > 0) t.fail(`${what} sent ${cors.join(', ')}`);
  }
  t.pass('none seen');
});
