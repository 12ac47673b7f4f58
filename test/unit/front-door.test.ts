// The front door in-process, over a real loopback HTTP server: what each request meets (401, 403,
// 413, 400, -32602), and where it is routed (the modern slot, the lean path, the SDK transport).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { createTokenCheck } from '../../src/http/bearer-token.js';
import { createFrontDoor, isMcpUrl, modernRoute, type FrontDoorOptions, type ReadMcpPost } from '../../src/http/front-door.js';
import { createHostGuard } from '../../src/http/host-guard.js';
import { MAX_JSON_DEPTH } from '../../src/http/json-depth.js';

type Seen = { path: 'modern' | 'lean' | 'cancel' | 'sdk'; parsed?: unknown; rawBody?: string; sessionId?: string };

// A front door whose three rooms record what reached them and answer with their name.
async function door(t: Test, options: { modern?: boolean; lean?: boolean; token?: string; maxBodyBytes?: number } = {}) {
  const seen: Seen[] = [];
  const answer = (res: ServerResponse, path: string) => res.writeHead(200, { 'content-type': 'text/plain' }).end(path);
  const config: FrontDoorOptions = {
    checkToken: createTokenCheck(options.token),
    guard: createHostGuard(),
    maxBodyBytes: options.maxBodyBytes,
    sdk: (req, res) => {
      const read = req as ReadMcpPost;
      seen.push({ path: 'sdk', parsed: read.parsedBody, ...(read.rawBody && { rawBody: read.rawBody.toString() }) });
      answer(res, 'sdk');
    },
  };
  if (options.modern) {
    config.modern = {
      serve(_req: IncomingMessage, res: ServerResponse, parsed: unknown) {
        seen.push({ path: 'modern', parsed });
        answer(res, 'modern');
      },
      close: async () => undefined,
    };
  }
  if (options.lean) {
    config.lean = {
      call(sessionId, request, _req, res) {
        if (sessionId === 'declined') return false;
        seen.push({ path: 'lean', parsed: request, sessionId });
        answer(res, 'lean');
        return true;
      },
      cancel(sessionId, requestId) {
        if (requestId !== 'running') return false;
        seen.push({ path: 'cancel', sessionId, parsed: requestId });
        return true;
      },
    };
  }
  const server = createServer(createFrontDoor(config));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (body: unknown, headers: Record<string, string> = {}, path = '/mcp') => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) };
  };
  return { seen, post, base };
}

const envelope = {
  [PROTOCOL_VERSION_META_KEY]: '2026-07-28',
  [CLIENT_INFO_META_KEY]: { name: 'front-door-test', version: '1.0.0' },
  [CLIENT_CAPABILITIES_META_KEY]: {},
};
const modernCall = { jsonrpc: '2.0', id: 'm1', method: 'tools/call', params: { name: 'echo', arguments: {}, _meta: envelope } };
const legacyCall = { jsonrpc: '2.0', id: 'l1', method: 'tools/call', params: { name: 'echo', arguments: {} } };

t.test('isMcpUrl: /mcp with or without a query, nothing else', async (t) => {
  t.ok(isMcpUrl('/mcp'));
  t.ok(isMcpUrl('/mcp?x=1'));
  t.notOk(isMcpUrl('/mcpx'));
  t.notOk(isMcpUrl('/mcp/'));
  t.notOk(isMcpUrl('/v1/mcp'));
  t.notOk(isMcpUrl(undefined));
});

t.test('a 2026-07-28 request reaches the modern slot when one is given, with its parsed body; without one it goes where legacy requests go', async (t) => {
  const withSlot = await door(t, { modern: true, lean: true });
  const answered = await withSlot.post(modernCall, { 'mcp-protocol-version': '2026-07-28', 'mcp-session-id': 's1' });
  t.equal(answered.text, 'modern');
  t.same(withSlot.seen, [{ path: 'modern', parsed: modernCall }]);
  const legacy = await withSlot.post(legacyCall, { 'mcp-session-id': 's1' });
  t.equal(legacy.text, 'lean', 'a legacy plain call on a session still takes the lean path');
  const initialize = await withSlot.post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
  t.equal(initialize.text, 'sdk', 'the legacy handshake goes to the SDK transport');

  const withoutSlot = await door(t, { lean: true });
  t.equal((await withoutSlot.post(modernCall, { 'mcp-session-id': 's1' })).text, 'lean', 'no modern slot: served as today');
});

t.test("the modern ladder's refusals reach the modern slot; a body that is no JSON-RPC message does not", async (t) => {
  const { seen, post } = await door(t, { modern: true });
  t.equal((await post(modernCall, { 'mcp-method': 'tools/list' })).text, 'modern', 'Mcp-Method disagreeing with the body (HeaderMismatch)');
  t.equal((await post(legacyCall, { 'mcp-protocol-version': '2026-07-28' })).text, 'modern', 'a modern header without the envelope');
  t.equal((await post({ jsonrpc: '2.0', id: 1 })).text, 'sdk', 'not a JSON-RPC message: the legacy transport answers it');
  t.equal((await post('{not json')).text, 'sdk', 'not JSON');
  t.equal((await post([legacyCall])).text, 'sdk', 'a batch');
  const badArguments = { ...modernCall, params: { ...modernCall.params, arguments: 'text' } };
  t.equal((await post(badArguments)).text, 'modern', 'a modern request is answered by the modern path, even with arguments that are not an object');
  t.equal(seen.filter((s) => s.path === 'modern').length, 3);
});

t.test('modernRoute: the SDK classifier decides; a claim-less request under a legacy header never reaches it', async (t) => {
  const req = (headers: Record<string, string>) => ({ method: 'POST', headers }) as unknown as IncomingMessage;
  t.ok(modernRoute(req({}), modernCall));
  t.notOk(modernRoute(req({}), legacyCall));
  t.notOk(modernRoute(req({ 'mcp-protocol-version': '2025-11-25' }), legacyCall));
  t.ok(modernRoute(req({ 'mcp-protocol-version': '2026-07-28' }), legacyCall), 'a modern header without a claim is refused on the modern ladder');
  t.notOk(modernRoute(req({}), [modernCall]), 'a batch is never modern');
});

t.test('plain calls on a session go to the lean path; the rest, with its raw and parsed body, to the SDK transport', async (t) => {
  const { seen, post } = await door(t, { lean: true });
  t.equal((await post(legacyCall, { 'mcp-session-id': 's1' }, '/mcp?trace=1')).text, 'lean', '/mcp with a query is the same endpoint');
  t.equal((await post(legacyCall)).text, 'sdk', 'no session');
  t.equal((await post(legacyCall, { 'mcp-session-id': 'declined' })).text, 'sdk', 'declined by the lean path');
  t.equal((await post(legacyCall, { 'mcp-session-id': 's1', accept: 'text/event-stream, application/json' })).text, 'sdk', 'SSE preferred');
  t.equal((await post(legacyCall, { 'mcp-session-id': 's1', accept: 'text/event-stream;q=0.8, application/json' })).text, 'lean', 'JSON preferred by q');
  const cancelled = await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'running' } }, { 'mcp-session-id': 's1' });
  t.equal(cancelled.status, 202, 'a lean call cancelled: 202');
  t.equal(
    (await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'other' } }, { 'mcp-session-id': 's1' })).text,
    'sdk',
    'a cancellation of a call the lean path does not serve',
  );
  const sdk = seen.filter((s) => s.path === 'sdk');
  t.same(sdk[0], { path: 'sdk', parsed: legacyCall, rawBody: JSON.stringify(legacyCall) }, 'the SDK transport gets the body read and parsed');
  t.same(
    seen.find((s) => s.path === 'cancel'),
    { path: 'cancel', sessionId: 's1', parsed: 'running' },
  );
});

t.test('refusals: token (401), Host/Origin (403), body limit (413), depth and empty batch (400), non-object arguments (-32602), all JSON-RPC shaped', async (t) => {
  const { seen, post, base } = await door(t, { lean: true, token: 's3cret', maxBodyBytes: 1_000 });
  const auth = { authorization: 'Bearer s3cret' };
  const noToken = await post(legacyCall);
  t.equal(noToken.status, 401);
  t.match(noToken.json(), { jsonrpc: '2.0', id: null, error: { code: -32001 } });
  t.equal((await fetch(`${base}/healthz`)).status, 401, 'every path needs the token');
  const foreign = await post(legacyCall, { ...auth, origin: 'http://evil.example' });
  t.equal(foreign.status, 403);
  t.match(foreign.json(), { jsonrpc: '2.0', id: null, error: { code: -32600, message: /Forbidden: Origin "http:\/\/evil\.example" is not allowed/, data: { code: 'FORBIDDEN' } } });
  const big = await post({ ...legacyCall, params: { name: 'echo', arguments: { text: 'x'.repeat(2_000) } } }, auth);
  t.equal(big.status, 413);
  t.match(big.json(), { id: null, error: { code: -32600, message: /exceeds the limit of 1000 bytes/, data: { code: 'PAYLOAD_TOO_LARGE' } } });
  const deep = await post(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, auth);
  t.equal(deep.status, 400);
  t.match(deep.json(), { error: { code: -32600, message: /nested deeper than 64 levels/ } });
  const empty = await post([], auth);
  t.equal(empty.status, 400);
  t.match(empty.json(), { error: { code: -32600, message: /empty JSON-RPC batch/ } });
  const badArgs = await post({ ...legacyCall, params: { name: 'echo', arguments: 'text' } }, { ...auth, 'mcp-session-id': 's1' });
  t.equal(badArgs.status, 200);
  t.match(badArgs.json(), { jsonrpc: '2.0', id: 'l1', error: { code: -32602, message: /arguments must be an object .* got a string/, data: { code: 'INVALID_PARAMS' } } });
  t.same(seen, [], 'nothing refused reached a room');
});
