import t from 'tap';
import { isEventStream } from '../helpers/media-type.js';
import { startNative } from '../helpers/native.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// A client's bad input is the client's error: a body nested 100,000 levels deep, arguments that are
// not an object, an empty batch. None of it may reach an instance or count as its failure (three
// failures would mark a healthy service unhealthy for every other client).
const DEPTH = 100_000;
const deep = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const deepCall = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"pp__whoami","arguments":${deep}}}`;
const lean = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

/** An initialized (lean) session on an MCP endpoint, opened with raw POSTs. */
async function session(url: string): Promise<string> {
  const init = await fetch(url, {
    method: 'POST',
    headers: lean,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
  const id = init.headers.get('mcp-session-id') ?? '';
  await init.text();
  await (await fetch(url, { method: 'POST', headers: { ...lean, 'mcp-session-id': id }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  return id;
}

const post = async (url: string, body: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { method: 'POST', headers: { ...lean, ...headers }, body });
  const text = await response.text();
  // The SDK transport answers on an SSE stream: its one data line is the answer.
  const json = isEventStream(response.headers.get('content-type')) ? (/^data: (.*)$/m.exec(text)?.[1] ?? '') : text;
  return { status: response.status, body: json === '' ? undefined : JSON.parse(json) };
};

t.test('deep arguments on the lean path and on /v1 are a 400 naming the limit, and never make the instance unhealthy', async (t) => {
  const proxy = await startProxy(t);
  await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: proxy.base });
  const id = await session(`${proxy.base}/mcp`);
  for (let i = 1; i <= 4; i++) {
    const answer = await post(`${proxy.base}/mcp`, deepCall(i), { 'mcp-session-id': id });
    t.equal(answer.status, 400, `lean path, deep call ${i}: 400`);
    t.match(answer.body, { jsonrpc: '2.0', error: { code: -32600, message: /nested deeper than 64 levels/ } }, `lean path, deep call ${i}: the message names the limit`);
    const v1 = await post(`${proxy.base}/v1/services/pp/tools/whoami/call`, `{"arguments":${deep}}`);
    t.equal(v1.status, 400, `/v1, deep call ${i}: 400`);
    t.match(v1.body, { error: { code: 'BAD_REQUEST', message: /nested deeper than 64 levels/ } }, `/v1, deep call ${i}: the message names the limit`);
  }
  const sdkPath = await post(`${proxy.base}/mcp`, deepCall(5));
  t.equal(sdkPath.status, 400, "a deep body without a session (the SDK transport's path) is refused at the same front door");
  const service = (await proxy.api('/v1/services/pp')).body;
  t.equal(service.status, 'healthy', 'the service is still healthy');
  t.equal(service.instances[0].failures, 0, 'no failure was counted against the instance');
  const ok = await post(`${proxy.base}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'pp__whoami', arguments: { a: { b: 1 } } } }), { 'mcp-session-id': id });
  t.match(ok.body, { id: 9, result: { structuredContent: { hops: 1 } } }, 'a normal call still goes through');
});

t.test('tools/call with arguments that are not an object, and an empty batch, are refused on the lean path', async (t) => {
  const proxy = await startProxy(t);
  await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: proxy.base });
  const id = await session(`${proxy.base}/mcp`);
  for (const args of ['"str"', '[1,2]', '42']) {
    const answer = await post(`${proxy.base}/mcp`, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"pp__whoami","arguments":${args}}}`, { 'mcp-session-id': id });
    t.match(answer.body, { id: 3, error: { code: -32602 } }, `arguments ${args}: -32602, not forwarded (${JSON.stringify(answer.body)})`);
  }
  const batch = await post(`${proxy.base}/mcp`, '[]', { 'mcp-session-id': id });
  t.equal(batch.status, 400, 'an empty batch: 400');
  t.match(batch.body, { error: { code: -32600, message: /empty JSON-RPC batch/ } }, 'an empty batch: -32600');
  const audit = (await proxy.api('/v1/audit?service=pp')).body.entries as unknown[];
  t.equal(audit.length, 0, 'nothing was routed to the instance');
  t.equal((await proxy.api('/v1/services/pp')).body.instances[0].failures, 0, 'no failure was counted');
});

t.test("an instance's own front door (native and sidecar) refuses a deep body and stays ready", async (t) => {
  const native = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp' });
  const sidecar = await startSidecar(t, { name: 'echo', command: ['python3', 'test/fixtures/echo_server.py'] });
  for (const [what, url] of [
    ['native', native.url],
    ['sidecar', sidecar.url],
  ] as const) {
    const id = await session(url);
    for (const headers of [{ 'mcp-session-id': id }, {}] as Record<string, string>[]) {
      const answer = await post(url, deepCall(5).replace('pp__whoami', 'whoami'), headers);
      t.equal(answer.status, 400, `${what}${headers['mcp-session-id'] ? ' (on its session)' : ''}: 400`);
      t.match(answer.body, { error: { code: -32600, message: /nested deeper than 64 levels/ } }, `${what}: the message names the limit`);
    }
    t.equal(await post(url, '[]', { 'mcp-session-id': id }).then((a) => a.status), 400, `${what}: an empty batch is a 400`);
  }
  t.equal((await native.health()).state, 'ready', 'the native instance is still ready');
  t.equal((await sidecar.health()).state, 'ready', 'the sidecar is still ready');
});
