import t from 'tap';
import { fixture, pollJson } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// A child's stdout line beyond --max-message-bytes (a huge answer, or junk with no newline) is
// discarded and fails its call naming the limit; the sidecar lives and the next call works.

type Content = { type: string; text: string }[];
const textOf = (result: unknown) => (result as { content: Content }).content.map((c) => c.text).join('\n');
const big = ['python3', fixture('big_output_server.py')];

t.test('sidecar: a 20 MB answer passes under the default limit; 50 MB of junk fails only its call', async (t) => {
  const sidecar = await startSidecar(t, { name: 'big', command: big });
  const client = await connectClient(t, sidecar.url);
  t.equal(textOf(await client.callTool({ name: 'big', arguments: { mb: 20 } })).length, 20_000_000, 'the 20 MB result arrives whole');
  const error = await client.callTool({ name: 'flood', arguments: {} }).catch((e: unknown) => e);
  t.match(error, { message: /while tool "flood" was in flight the server wrote a stdout line larger than the 33554432-byte limit .*--max-message-bytes/ });
  t.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } })), 'still here');
  const health = await sidecar.health();
  t.equal(health.state, 'ready');
  t.equal(health.restarts, 0, 'the child was not restarted');
  t.equal(health.junkLines, 1, 'the over-long line is counted as junk');
  t.match(sidecar.stderr(), /discarded a stdout line of 50000000 bytes/, 'logged with its size');
});

t.test('sidecar: an answer over --max-message-bytes fails with the limit named, by its own id', async (t) => {
  const sidecar = await startSidecar(t, { name: 'big', command: big, extra: ['--max-message-bytes', '5000000'] });
  const client = await connectClient(t, sidecar.url);
  const slow = client.callTool({ name: 'echo', arguments: { text: 'first' } });
  const error = await client.callTool({ name: 'big', arguments: { mb: 20 } }).catch((e: unknown) => e);
  t.match(error, { message: /the answer to tool "big" is larger than the 5000000-byte limit of one message \(--max-message-bytes\)/ });
  t.equal(textOf(await slow), 'first');
  t.equal(textOf(await client.callTool({ name: 'big', arguments: { mb: 4 } })).length, 4_000_000, 'below the limit still works');
  t.equal((await sidecar.health()).state, 'ready');
});

t.test('through the proxy: 20 MB passes, junk fails its call clearly, the sidecar stays registered', async (t) => {
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'] });
  const sidecar = await startSidecar(t, { name: 'big', command: big, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await pollJson(`${proxy.base}/v1/services/big`, (status, body) => status === 200 && body.status === 'healthy');
  const client = await connectClient(t, `${proxy.base}/mcp`);
  t.equal(textOf(await client.callTool({ name: 'big__big', arguments: { mb: 20 } })).length, 20_000_000);
  const flood = await client.callTool({ name: 'big__flood', arguments: {} });
  t.equal(flood.isError, true);
  t.match(textOf(flood), /33554432-byte limit of one message \(--max-message-bytes\)/);
  t.equal(textOf(await client.callTool({ name: 'big__echo', arguments: { text: 'after' } })), 'after');
  t.equal((await sidecar.health()).restarts, 0);
  t.equal(sidecar.proc.exitCode, null, 'the sidecar is alive');
});

t.test("proxy: an instance's answer over --max-response-bytes fails its call naming the limit; the proxy lives, the next call works", async (t) => {
  const { startNative } = await import('../helpers/native.js');
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '4', '--max-response-bytes', '100000'] });
  await startNative(t, { script: 'test/fixtures/flaky-instance.js', name: 'echo', proxy: proxy.base });
  const call = (bytes: number) =>
    fetch(`${proxy.base}/v1/services/echo/tools/big/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ arguments: { bytes } }) }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));
  const over = await call(200_000);
  t.equal(over.status, 413);
  t.match(over.body.error, { code: 'PAYLOAD_TOO_LARGE', message: /larger than the 100000-byte limit .*--max-response-bytes/ });
  t.equal((await fetch(`${proxy.base}/healthz`)).status, 200, 'the proxy is up');
  const under = await call(50_000);
  t.equal(under.status, 200);
  t.equal(textOf(under.body).length, 50_000, 'a following answer under the limit arrives whole');
  const service = (await proxy.api('/v1/services/echo')).body;
  t.equal(service.status, 'healthy', 'the instance is not held at fault');
  // A client that declared roots has its own upstream session: its calls go through the SDK client.
  const client = await connectClient(t, `${proxy.base}/mcp`, { capabilities: { roots: {} } }, 'roots-client');
  client.setRequestHandler('roots/list', () => ({ roots: [] }));
  const relayed = await client.callTool({ name: 'echo__big', arguments: { bytes: 200_000 } });
  t.equal(relayed.isError, true);
  t.match(textOf(relayed), /PAYLOAD_TOO_LARGE.*larger than the 100000-byte limit .*--max-response-bytes/, 'the SDK client path names the limit too');
  t.equal(textOf(await client.callTool({ name: 'echo__big', arguments: { bytes: 50_000 } })).length, 50_000, 'and its next call works');
});
