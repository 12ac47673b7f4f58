import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { startProxy } from '../helpers/proxy.js';
import { connectClient } from '../helpers/sidecar.js';

// register_service makes the proxy contact a URL: the registration is checked first (loopback
// policy, ownership), a redirect is not followed, and what the URL answered is never echoed back.
const SECRET = 'SECRET-INTERNAL-BODY-4711';

/** A loopback HTTP server that counts its requests and answers each with `answer`. */
async function recorder(t: Test, answer: (res: import('node:http').ServerResponse) => void): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, hits: () => hits };
}

const textOf = (result: unknown) => ((result as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('');

/** register_service's answer as text, whether it failed as a protocol error or as a tool error. */
async function registerService(client: Awaited<ReturnType<typeof connectClient>>, args: Record<string, unknown>): Promise<string> {
  try {
    return textOf(await client.callTool({ name: 'register_service', arguments: args }));
  } catch (error) {
    return (error as Error).message;
  }
}

t.test('register_service: refused before any contact, no redirect followed, no remote body echoed', async (t) => {
  const secret = await recorder(t, (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(SECRET));
  const redirect = await recorder(t, (res) => res.writeHead(307, { location: `http://0.0.0.0:${secret.port}/mcp` }).end());
  const proxy = await startProxy(t);
  const client = await connectClient(t, `${proxy.base}/mcp`);

  // 0.0.0.0 reaches this machine but is not a loopback name: the policy refuses it, and first.
  const remote = await registerService(client, { name: 'probe', url: `http://0.0.0.0:${secret.port}/mcp` });
  t.match(remote, /host "0\.0\.0\.0" is not loopback/, `refused by the loopback policy: ${remote}`);
  t.equal(secret.hits(), 0, 'the URL was not contacted');

  const echoed = await registerService(client, { name: 'probe', url: `http://127.0.0.1:${secret.port}/mcp` });
  t.ok(secret.hits() > 0, 'a loopback URL is contacted');
  t.notMatch(echoed, SECRET, `the remote body is not echoed: ${echoed}`);
  t.match(echoed, /cannot reach an MCP server at http:\/\/127\.0\.0\.1:\d+\/mcp: it answered HTTP 500/, 'it says how the contact failed');

  const before = secret.hits();
  const redirected = await registerService(client, { name: 'probe', url: `http://127.0.0.1:${redirect.port}/mcp` });
  t.ok(redirect.hits() > 0, 'the loopback URL was contacted');
  t.equal(secret.hits(), before, `its redirect to a non-loopback host was not followed (${redirected}); a guard: the SDK transport already refuses it`);
  t.notMatch(redirected, SECRET);
});

t.test('register_service under the live id or url of another service is refused before contact', async (t) => {
  const server = await recorder(t, (res) => res.writeHead(500).end(SECRET));
  const target = await recorder(t, (res) => res.writeHead(500).end(SECRET));
  const proxy = await startProxy(t);
  const owner = { id: 'fs.owner', name: 'fs', url: `http://127.0.0.1:${server.port}/mcp`, host: '127.0.0.1', port: server.port, tools: [], toolsHash: 'h', version: '1', kind: 'sidecar' };
  t.equal((await proxy.api('/v1/instances', { method: 'POST', body: JSON.stringify(owner) })).status, 201);
  const client = await connectClient(t, `${proxy.base}/mcp`);
  const sameId = await registerService(client, { name: 'evil', url: `http://127.0.0.1:${target.port}/mcp`, id: 'fs.owner' });
  t.match(sameId, /instance id "fs\.owner" belongs to the live service "fs"/, sameId);
  const sameUrl = await registerService(client, { name: 'evil', url: owner.url });
  t.match(sameUrl, /is served by the live instance "fs\.owner" of service "fs"/, sameUrl);
  t.equal(target.hits(), 0, "the intruder's URL was not contacted");
  t.same(
    (await proxy.api('/v1/services')).body.services.map((s: { name: string }) => s.name),
    ['fs'],
    'fs is still the only service',
  );
});
