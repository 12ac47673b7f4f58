// upstreamFetch (the SDK client path's fetch) against a real in-process HTTP server playing the
// instance: a draining 503 is not sent; an answer over the limit becomes an error for its request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { NotSentError } from '../../proxy/router/json-post.js';
import { upstreamFetch } from '../../proxy/router/sdk-fetch.js';
import { Drain } from '../../src/http/drain.js';

async function instance(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void, drain?: Drain): Promise<string> {
  const server = createServer(drain ? drain.wrap(handler) : handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

const post = (id: number) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: {} }) });
const note = (text: string) => `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: text } })}\n\n`;
const big = 'x'.repeat(5_000);

t.test('an answer over the limit becomes a PAYLOAD_TOO_LARGE error for its request: JSON, or the SSE event that passes it', async (t) => {
  const url = await instance(t, (req, res) => {
    if (req.headers['x-how'] === 'json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: big }] } }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(note('before') + `data: ${big}`); // a notification, then an event that never ends
  });
  const fetchCapped = upstreamFetch(1_000);
  const json = JSON.parse(await (await fetchCapped(url, { ...post(7), headers: { 'x-how': 'json' } })).text());
  t.match(json, {
    jsonrpc: '2.0',
    id: 7,
    error: { message: /^tools\/call to 127\.0\.0\.1:\d+: .*larger than the 1000-byte limit .*--max-response-bytes/, data: { code: 'PAYLOAD_TOO_LARGE', limitBytes: 1_000 } },
  });
  const sse = await (await fetchCapped(url, { ...post(8), headers: { 'x-how': 'sse' } })).text();
  const events = sse.split('\n\n').filter((e) => e.startsWith('data: {'));
  t.equal(events.length, 2, 'the notification before the cut event, then the refusal');
  t.match(JSON.parse(events[0]!.slice(6)), { method: 'notifications/message', params: { data: 'before' } });
  t.match(JSON.parse(events[1]!.slice(6)), { id: 8, error: { data: { code: 'PAYLOAD_TOO_LARGE' } } });
  const small = (await (await upstreamFetch(10_000)(url, { ...post(9), headers: { 'x-how': 'json' } })).json()) as { result: { content: { text: string }[] } };
  t.equal(small.result.content[0]?.text.length, 5_000, 'under the limit the answer passes whole');
});

t.test("a draining instance's 503 is not sent", async (t) => {
  const drain = new Drain('instance');
  const url = await instance(t, (_req, res) => res.end('{}'), drain);
  await drain.drain([], 0);
  const error = await upstreamFetch(1_000)(url, post(1)).catch((e: unknown) => e);
  t.type(error, NotSentError);
});
