import t from 'tap';
import type { Logger } from '../../src/log.js';
import { startProxy } from '../../proxy/proxy.js';
import { RemoteServiceSchema } from '../../src/contract/remotes.js';
import { connectClient } from '../helpers/sidecar.js';
import { postModern } from '../helpers/modern.js';
import { waitFor } from '../helpers/processes.js';
import { startRemoteMcp } from '../fixtures/remote-mcp.js';

// A remote Streamable HTTP server in the proxy's configuration: an SDK server in this process that
// requires a header token stands in for it. The proxy registers it (its loopback rule waived for it
// alone), sends the header on every hop, health-checks it, and never shows or logs the token.

const SECRET = 'tok-SECRET-9f3a';

function recordingLogger(lines: string[]): Logger {
  const log: Logger = {
    debug: (m) => void lines.push(m),
    info: (m) => void lines.push(m),
    warn: (m) => void lines.push(m),
    error: (m) => void lines.push(m),
    child: () => log,
  };
  return log;
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; text: string; body: any }> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers as Record<string, string>) } });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

t.test('a remote server: registered beyond loopback, routed with its header, health-checked, its token never shown', async (t) => {
  t.setTimeout(60_000);
  const remote = await startRemoteMcp({ header: ['x-api-key', SECRET], tools: ['lookup'] });
  t.teardown(() => remote.close());
  const port = Number(new URL(remote.url).port);
  // 0.0.0.0 reaches this machine but is not a loopback name: only a configured remote may use it.
  const url = `http://0.0.0.0:${port}/mcp`;
  const lines: string[] = [];
  const proxy = await startProxy({
    host: '127.0.0.1',
    port: 0,
    heartbeatTimeoutMs: 60_000,
    heartbeatIntervalMs: 500,
    version: '0.0.0-test',
    log: recordingLogger(lines),
    remotes: { rem: RemoteServiceSchema.parse({ url, headers: { 'X-Api-Key': SECRET }, tags: ['remote'] }) },
  });
  t.teardown(() => proxy.stop());
  const status = async () => (await json(`${proxy.url}/v1/services`)).body.services.find((s: { name: string }) => s.name === 'rem')?.status;
  await waitFor(async () => (await status()) === 'healthy', 'the remote service is registered healthy', 20_000);

  const client = await connectClient(t, `${proxy.url}/mcp`);
  t.same((await client.callTool({ name: 'rem__echo', arguments: { text: 'via legacy' } })).content, [{ type: 'text', text: 'via legacy' }]);
  const modern = await postModern(`${proxy.url}/mcp`, 'tools/call', { name: 'rem__lookup', arguments: {} });
  t.same(modern.body.result.content, [{ type: 'text', text: 'lookup' }], 'the 2026-07-28 lean path too');
  t.equal(remote.refused(), 0, 'every request to it carried its header');
  t.ok(
    remote.seen.every((headers) => headers.authorization === undefined),
    'the mesh token (none here) is not what it gets',
  );

  const registerSame = await client.callTool({ name: 'register_service', arguments: { name: 'other', url } }).catch((error: Error) => ({ content: [{ type: 'text', text: error.message }] }));
  t.match(JSON.stringify(registerSame.content), /not loopback/, 'register_service of the same URL is still refused: the waiver is for the configured service only');

  const shown = [await json(`${proxy.url}/v1/services`), await json(`${proxy.url}/v1/services/rem`), await json(`${proxy.url}/v1/remotes`), await json(`${proxy.url}/v1/audit`)];
  for (const answer of shown) t.notMatch(answer.text, SECRET, 'no /v1 answer shows the token');
  t.match(shown[2]!.body.remotes, [{ name: 'rem', url, headerCount: 1, healthy: true }]);
  const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
  t.notMatch(metrics, SECRET);

  // Down: its checks fail, the registry marks it unhealthy; back on the same port: healthy again.
  await remote.close();
  await waitFor(async () => (await status()) === 'unhealthy', 'the silent remote turns unhealthy', 20_000);
  t.match((await json(`${proxy.url}/v1/remotes`)).body.remotes[0].lastError, /cannot reach an MCP server at http:\/\/0\.0\.0\.0:\d+\/mcp: /);
  const again = await startRemoteMcp({ header: ['x-api-key', SECRET], port });
  t.teardown(() => again.close());
  await waitFor(async () => (await status()) === 'healthy', 'healthy again once it answers', 20_000);
  t.notMatch(lines.join('\n'), SECRET, 'the token was never logged');
  t.ok(
    lines.some((line) => /remote service "rem"/.test(line)),
    'what happened to it was logged',
  );
});

t.test('PUT /v1/remotes: a wrong token is a failed check naming the HTTP status; bad URLs are refused', async (t) => {
  const remote = await startRemoteMcp({ header: ['authorization', `Bearer ${SECRET}`] });
  t.teardown(() => remote.close());
  const proxy = await startProxy({ host: '127.0.0.1', port: 0, heartbeatTimeoutMs: 60_000, version: '0.0.0-test', log: recordingLogger([]) });
  t.teardown(() => proxy.stop());
  const put = (remotes: unknown) => json(`${proxy.url}/v1/remotes`, { method: 'PUT', body: JSON.stringify({ remotes }) });
  const wrong = await put({ rem: { url: remote.url, headers: { authorization: 'Bearer wrong-SECRET' } } });
  t.equal(wrong.status, 200);
  t.notMatch(wrong.text, 'wrong-SECRET', 'the answer never shows a header');
  await waitFor(async () => (await json(`${proxy.url}/v1/remotes`)).body.remotes[0]?.lastError !== undefined, 'the check failed');
  const listed = await json(`${proxy.url}/v1/remotes`);
  t.match(listed.body.remotes[0].lastError, /it answered HTTP 401/);
  t.notMatch(listed.text, /SECRET/);

  for (const [url, why] of [
    ['ftp://127.0.0.1/mcp', /scheme "ftp:" not allowed: only http and https/],
    ['http://user:pw@127.0.0.1/mcp', /credentials in the URL are not allowed/],
  ] as const) {
    const refused = await put({ bad: { url } });
    t.equal(refused.status, 400);
    t.match(refused.body.error.message, why);
  }
  const crlf = await put({ bad: { url: remote.url, headers: { 'x-a': 'a\r\nb' } } });
  t.equal(crlf.status, 400, 'a header value with CR/LF');

  const right = await put({ rem: { url: remote.url, headers: { authorization: `Bearer ${SECRET}` } } });
  t.equal(right.status, 200);
  await waitFor(async () => (await json(`${proxy.url}/v1/remotes`)).body.remotes[0]?.healthy === true, 'changed headers are used');
  const removed = await put({});
  t.same(removed.body.remotes, []);
  await waitFor(async () => (await json(`${proxy.url}/v1/services`)).body.services.length === 0, 'a removed remote is deregistered');
});
