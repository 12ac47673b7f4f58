// postJsonRpc against a real in-process HTTP server playing the instance: each way an instance can
// answer (JSON, SSE after other messages, an error, a lost session, silence, junk, no listener).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { ProtocolErrorCode, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { NotSentError, postJsonRpc, SessionLostError, type SessionTarget, type WireSizes } from '../../proxy/router/json-post.js';
import { RPC_CONNECTION_CLOSED } from '../../src/errors.js';
import { Drain } from '../../src/http/drain.js';
import { CallCancel } from '../../proxy/router/call-cancel.js';
import { neverReached } from '../../proxy/router/route-errors.js';
import { waitFor } from '../helpers/processes.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: any) => void;

// Listens on a free loopback port; requests go over one pool of kept-alive sockets; both end with the test.
async function listenKeptAlive(t: Test, server: ReturnType<typeof createServer>): Promise<{ port: number; dispatcher: Pool }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const dispatcher = new Pool(`http://127.0.0.1:${port}`);
  t.teardown(async () => {
    await dispatcher.destroy();
    server.closeAllConnections();
    server.close();
  });
  return { port, dispatcher };
}

async function instance(t: Test, handler: Handler): Promise<{ target: SessionTarget; seen: { headers: IncomingMessage['headers']; closed: boolean }[] }> {
  const seen: { headers: IncomingMessage['headers']; closed: boolean }[] = [];
  const server = createServer((req, res) => {
    const entry = { headers: req.headers, closed: false };
    seen.push(entry);
    res.on('close', () => (entry.closed = !res.writableFinished));
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => handler(req, res, JSON.parse(text)));
  });
  const { port, dispatcher } = await listenKeptAlive(t, server);
  return { target: { url: new URL(`http://127.0.0.1:${port}/mcp`), sessionId: 's-1', protocolVersion: '2025-06-18', dispatcher }, seen };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

t.test('a JSON answer resolves with its result; the session headers are sent', async (t) => {
  const { target, seen } = await instance(t, (_req, res, body) => json(res, 200, { jsonrpc: '2.0', id: body.id, result: { content: [{ type: 'text', text: body.params.name }] } }));
  const sizes: WireSizes = {};
  t.same(await postJsonRpc(target, 'p1', 'tools/call', { name: 'echo' }, 1_000, undefined, undefined, undefined, sizes), { content: [{ type: 'text', text: 'echo' }] });
  t.equal(sizes.responseBytes, JSON.stringify({ jsonrpc: '2.0', id: 'p1', result: { content: [{ type: 'text', text: 'echo' }] } }).length, "the answer's bytes, as read");
  t.equal(seen[0]?.headers['mcp-session-id'], 's-1');
  t.equal(seen[0]?.headers['mcp-protocol-version'], '2025-06-18');
  t.match(seen[0]?.headers.accept, /^application\/json, text\/event-stream$/, 'JSON preferred, SSE accepted');
});

t.test('an SSE answer: messages before the answer go to onOther, split chunks and multi-line data are joined', async (t) => {
  const { target } = await instance(t, (_req, res, body) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': a comment\n\n');
    res.write(`event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi"}}\n\n`);
    const answer = JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { content: [] } });
    res.write(`event: message\ndata: ${answer.slice(0, 10)}`);
    res.write(`\ndata: ${answer.slice(10)}\n`);
    setImmediate(() => res.write('\n'));
  });
  const others: unknown[] = [];
  const sizes: WireSizes = {};
  t.same(await postJsonRpc(target, 'p2', 'tools/call', {}, 1_000, (m) => others.push(m), undefined, undefined, sizes), { content: [] });
  t.match(others, [{ method: 'notifications/message' }], 'the log message reached onOther');
  // Its event's data: the two data lines joined by a newline; not the stream's other events.
  t.equal(sizes.responseBytes, JSON.stringify({ jsonrpc: '2.0', id: 'p2', result: { content: [] } }).length + 1, "the answer event's bytes, not the stream's");
});

t.test('an SSE answer with CRLF line endings (as the SSE standard allows) is read; an event that is not JSON fails the call', async (t) => {
  let junk = false;
  const { target } = await instance(t, (_req, res, body) => {
    res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' });
    if (junk) return res.end('data: <html>\r\n\r\n');
    res.write(`event: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi"}}\r\n\r\n`);
    res.write(`event: message\r\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { content: [] } })}\r\n\r\n`);
  });
  const others: unknown[] = [];
  t.same(await postJsonRpc(target, 'p3', 'tools/call', {}, 1_000, (m) => others.push(m)), { content: [] });
  t.equal(others.length, 1, 'the log message before it reached onOther');
  junk = true;
  t.match(await postJsonRpc(target, 'p4', 'tools/call', {}, 1_000).catch((e: unknown) => e), { code: ProtocolErrorCode.InternalError, message: /an SSE event that is not JSON: <html>/ });
});

t.test("errors keep the SDK client's shapes", async (t) => {
  let mode = '';
  const { target, seen } = await instance(t, (_req, res, body) => {
    if (mode === 'error') json(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: -32602, message: 'bad arguments', data: { field: 'x' } } });
    if (mode === 'lost') json(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
    if (mode === 'junk') {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    }
    if (mode === 'no-result') json(res, 200, { jsonrpc: '2.0', id: body.id });
    // 'silent': never answers
  });
  mode = 'error';
  await t.rejects(postJsonRpc(target, 'a', 'tools/call', {}, 1_000), { code: -32602, data: { field: 'x' } }, 'a JSON-RPC error → ProtocolError with its code and data');
  mode = 'lost';
  const lost = await postJsonRpc(target, 'b', 'tools/call', {}, 1_000).catch((e: unknown) => e);
  t.ok(lost instanceof SessionLostError, '404 → the session is lost');
  mode = 'junk';
  await t.rejects(postJsonRpc(target, 'c', 'tools/call', {}, 1_000), { code: ProtocolErrorCode.InternalError, message: /HTTP 502 .*not JSON: <html>bad gateway/ });
  mode = 'no-result';
  await t.rejects(postJsonRpc(target, 'd', 'tools/call', {}, 1_000), { message: /without a result object/ });
  mode = 'silent';
  const silent = postJsonRpc(target, 'e', 'tools/call', {}, 100);
  await t.rejects(silent, { code: SdkErrorCode.RequestTimeout }, 'no answer within the deadline → RequestTimeout');
  await new Promise((resolve) => setImmediate(resolve));
  const last = seen.at(-1);
  await t.resolves(
    waitFor(() => last?.closed === true, 'the timed-out request is closed', 2_000),
    'the timed-out request was closed, so the instance can cancel the call',
  );
});

t.test('a cancel rejects with its reason and closes the request, so the instance can cancel the call', async (t) => {
  const { target, seen } = await instance(t, () => undefined); // never answers
  const cancel = new CallCancel();
  const call = postJsonRpc(target, 'c1', 'tools/call', {}, 10_000, undefined, cancel);
  await waitFor(() => seen.length === 1, 'the instance got the request', 2_000);
  cancel.cancel(new Error('the client cancelled'));
  await t.rejects(call, { message: 'the client cancelled' });
  await t.resolves(
    waitFor(() => seen[0]?.closed === true, 'the cancelled request is closed', 2_000),
    'the request was closed',
  );
  t.equal(cancel.onCancel, undefined, 'the settled request let go of the cancel');
  const early = new AbortController();
  early.abort(new Error('already'));
  await t.rejects(postJsonRpc(target, 'c2', 'tools/call', {}, 10_000, undefined, CallCancel.following(early.signal).cancel), { message: 'already' }, 'an already aborted signal sends nothing');
  t.equal(seen.length, 1);
  const later = new AbortController();
  const followed = postJsonRpc(target, 'c3', 'tools/call', {}, 10_000, undefined, CallCancel.following(later.signal).cancel);
  await waitFor(() => seen.length === 2, 'the instance got the second request', 2_000);
  later.abort(new Error('later'));
  await t.rejects(followed, { message: 'later' }, 'a followed AbortSignal cancels too');
});

t.test('no listener: a connection failure worth another replica', async (t) => {
  const { target } = await instance(t, () => undefined);
  const nowhere = new Pool('http://127.0.0.1:1');
  t.teardown(() => nowhere.destroy());
  const closed = { ...target, url: new URL('http://127.0.0.1:1/mcp'), dispatcher: nowhere };
  const error = await postJsonRpc(closed, 'x', 'tools/call', {}, 1_000).catch((e: unknown) => e);
  t.ok(error instanceof SdkError && error.code === SdkErrorCode.ConnectionClosed, 'SdkError(ConnectionClosed)');
  t.ok(neverReached(error), 'the router fails over on it');
});

t.test('a connection reset after the request was sent may have run: never retried', async (t) => {
  const { target, seen } = await instance(t, (req) => req.socket.destroy());
  const error = await postJsonRpc(target, 'x', 'tools/call', {}, 5_000).catch((e: unknown) => e);
  t.equal(seen.length, 1, 'the instance got the request');
  t.ok(error instanceof SdkError && error.code === SdkErrorCode.ConnectionClosed, 'SdkError(ConnectionClosed)');
  t.notOk(neverReached(error), 'the router does not send it to another replica');
});

t.test("a draining instance's 503: not sent (another replica may take it), its body a JSON-RPC error from the one mapper", async (t) => {
  const drain = new Drain('mcp-server');
  let served = 0;
  const server = createServer(
    drain.wrap((_req, res) => {
      served++;
      json(res, 200, { jsonrpc: '2.0', id: 'p1', result: {} });
    }),
  );
  const { port, dispatcher } = await listenKeptAlive(t, server);
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  await drain.drain([], 0); // draining, still listening: a request on a kept-alive socket meets the 503
  const error = await postJsonRpc({ url, sessionId: 's-1', protocolVersion: undefined, dispatcher }, 'p1', 'tools/call', { name: 'x' }, 1_000).catch((e: unknown) => e);
  t.type(error, NotSentError);
  t.ok(neverReached(error), 'the router sends it to another replica');
  t.match((error as Error).message, /shutting down/);
  t.equal(served, 0);
  const answer = await fetch(url, { method: 'POST', body: '{}' });
  t.equal(answer.status, 503);
  t.match(await answer.json(), { jsonrpc: '2.0', id: null, error: { code: RPC_CONNECTION_CLOSED, message: /mcp-server is shutting down/, data: { code: 'SERVICE_UNAVAILABLE' } } });
});

t.test('an answer over maxResponseBytes fails naming the limit, JSON or one SSE event (whole or still arriving); smaller SSE events add up freely', async (t) => {
  const big = 'x'.repeat(5_000);
  const { target } = await instance(t, (_req, res, body) => {
    if (body.params.how === 'json') return json(res, 200, { jsonrpc: '2.0', id: body.id, result: { content: [{ type: 'text', text: big }] } });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const note = (text: string) => `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: text } })}\n\n`;
    if (body.params.how === 'sse-big') res.write(note(big));
    if (body.params.how === 'sse-endless')
      return res.write(`data: ${big}`); // an event that never ends
    else for (let i = 0; i < 5; i++) res.write(note('y'.repeat(800)));
    res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { content: [] } })}\n\n`);
  });
  const capped = { ...target, maxResponseBytes: 1_000 };
  for (const how of ['json', 'sse-big', 'sse-endless']) {
    const error = await postJsonRpc(capped, 'p1', 'tools/call', { how }, 1_000).catch((e: unknown) => e);
    t.match(
      error,
      { code: 'PAYLOAD_TOO_LARGE', message: /tools\/call to 127\.0\.0\.1:\d+: the instance's answer is larger than the 1000-byte limit .*--max-response-bytes/, context: { limitBytes: 1_000 } },
      how,
    );
    t.notOk(neverReached(error), `${how}: it ran, not sent elsewhere`);
  }
  const others: unknown[] = [];
  t.same(await postJsonRpc(capped, 'p2', 'tools/call', { how: 'sse-many' }, 1_000, (m) => others.push(m)), { content: [] }, 'five 800-byte events under a 1000-byte cap');
  t.equal(others.length, 5);
});
