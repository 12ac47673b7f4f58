import t from 'tap';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/client';
import { fixture, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// Abandoned sessions (clients gone without DELETE) expire after --session-idle-timeout; at
// --max-sessions a new session evicts the least recently used idle one. Both answer 404 after.

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

// Opens a session as a client that will vanish: initialize, then nothing.
async function openSession(url: string): Promise<string> {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'abandoner', version: '1' } } };
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(init) });
  await response.text();
  const id = response.headers.get('mcp-session-id');
  if (!id) throw new Error(`no session id (status ${response.status})`);
  await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).then((r) => r.text());
  return id;
}

// The HTTP status of a tools/list on the session (200 while it lives, 404 once it is gone).
async function statusOf(url: string, id: string): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  await response.text();
  return response.status;
}

const echo = ['python3', fixture('echo_server.py')];

t.test('proxy: an abandoned session expires after the idle timeout and answers 404', async (t) => {
  const proxy = await startProxy(t, { extra: ['--session-idle-timeout', '0.5'] });
  const url = `${proxy.base}/mcp`;
  const id = await openSession(url);
  t.equal(await statusOf(url, id), 200);
  // Watched from /metrics, which does not touch the session (a request on it would keep it alive).
  const open = async () => Number(/^mesh_mcp_sessions (\d+)$/m.exec(await (await fetch(`${proxy.base}/metrics`)).text())?.[1]);
  t.equal(await open(), 1);
  await waitFor(async () => (await open()) === 0, 'the idle session expired');
  t.equal(await statusOf(url, id), 404, "the spec's 404: the client initializes again");
  const client = await connectClient(t, url);
  t.ok((await client.listTools()).tools.length > 0, 'a new session works');
});

t.test('proxy: at --max-sessions the least recently used idle session is evicted', async (t) => {
  const proxy = await startProxy(t, { extra: ['--max-sessions', '3'] });
  const url = `${proxy.base}/mcp`;
  const [a, b, c] = [await openSession(url), await openSession(url), await openSession(url)];
  t.equal(await statusOf(url, a), 200, 'a used again: b is now the least recently used');
  const d = await openSession(url);
  t.equal(await statusOf(url, b), 404, 'b was evicted');
  for (const id of [a, c, d]) t.equal(await statusOf(url, id), 200);
});

t.test('sidecar: an abandoned session expires after the idle timeout and answers 404', async (t) => {
  const sidecar = await startSidecar(t, { name: 'echo', command: echo, extra: ['--session-idle-timeout', '0.5'] });
  const id = await openSession(sidecar.url);
  t.equal((await sidecar.health()).sessions, 1);
  await waitFor(async () => (await sidecar.health()).sessions === 0, 'the idle session expired (healthz does not touch it)');
  t.equal(await statusOf(sidecar.url, id), 404);
});

// The default idle timeout (30 min): a 404 here can only come from the eviction.
t.test('sidecar: at --max-sessions the least recently used idle session is evicted', async (t) => {
  const sidecar = await startSidecar(t, { name: 'echo', command: echo, extra: ['--max-sessions', '2'] });
  const [x, y] = [await openSession(sidecar.url), await openSession(sidecar.url)];
  const z = await openSession(sidecar.url);
  t.equal((await sidecar.health()).sessions, 2, 'the cap holds');
  t.equal(await statusOf(sidecar.url, x), 404, 'x, the least recently used, was evicted');
  t.equal(await statusOf(sidecar.url, y), 200, 'y, used after x, was kept');
  t.equal(await statusOf(sidecar.url, z), 200, 'z, the new session, works');
});
