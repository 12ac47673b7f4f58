import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer, type JSONRPCMessage, type MessageExtraInfo } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { freePort, waitFor } from '../helpers/processes.js';
import { Drain } from '../../src/http/drain.js';
import { OutlierDetector } from '../../proxy/router/outlier-detector.js';
import { Router, type RoutableInstance } from '../../proxy/router/router.js';
import { Upstream, type UpstreamChange } from '../../proxy/router/upstream.js';
import { NotSentError } from '../../proxy/router/json-post.js';

// The router's resources and prompts against an in-process SDK server on a loopback port: lists
// fetched once per instance and kept, dropped on the instance's list_changed, errors that name things.

interface TestInstance {
  url: string;
  /** Requests received, by method. */
  counts: Map<string, number>;
  servers: McpServer[];
}

async function startUpstream(t: Test, setup: (server: McpServer) => void, drain?: Drain): Promise<TestInstance> {
  const counts = new Map<string, number>();
  const servers: McpServer[] = [];
  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') {
      // The standalone SSE stream is registered before its headers go out: count it as open then.
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => typeof res;
      res.writeHead = (...args: unknown[]) => {
        counts.set('GET stream', (counts.get('GET stream') ?? 0) + 1);
        return writeHead(...args);
      };
    }
    const sid = req.headers['mcp-session-id'];
    if (req.method === 'POST' && sid === undefined) counts.set('sessionless POST', (counts.get('sessionless POST') ?? 0) + 1);
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (!transport) {
      // `servers` lists the sessions' servers (not the one a sessionless request, the proxy's era probe, got).
      const created: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id: string): void => {
          transports.set(id, created);
          servers.push(server);
        },
      });
      const server = new McpServer({ name: 'upstream', version: '1.0.0' }, { capabilities: { resources: { listChanged: true }, prompts: { listChanged: true } } });
      setup(server);
      await server.connect(created);
      const deliver = created.onmessage;
      created.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) => {
        if ('method' in message) counts.set(message.method, (counts.get(message.method) ?? 0) + 1);
        deliver?.(message, extra);
      };
      transport = created;
    }
    await transport.handleRequest(req, res);
  };
  const http = createServer(drain ? drain.wrap((req, res) => void listener(req, res)) : listener);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`, counts, servers };
}

function docs(server: McpServer) {
  server.registerResource('a', 'docs://a.md', { mimeType: 'text/markdown', description: 'A' }, async (uri) => ({ contents: [{ uri: uri.href, text: '# A' }] }));
  server.registerPrompt('greet', { description: 'Greets', argsSchema: z.object({}) }, async () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'hello' } }] }));
}

function routerFor(t: Test, instances: () => RoutableInstance[], changes: [string, UpstreamChange][] = []) {
  const warnings: string[] = [];
  const outliers = new OutlierDetector();
  // Each instance whose breaker counts failures, once per failure in a row.
  const failures = () => [...outliers.describe(instances()).entries()].flatMap(([id, c]) => Array<string>(c.consecutiveFailures).fill(id));
  const router = new Router({
    outliers,
    deadlineMs: 2_000,
    table: {
      instancesOf: (name) => (name === 'docs' ? instances() : []),
      toolsOf: () => [],
      serviceNames: () => ['docs'],
    },
    onInstanceChange: (id, change) => changes.push([id, change]),
    warn: (message) => warnings.push(message),
  });
  t.teardown(() => router.close());
  return { router, failures, warnings };
}

t.test('listings are fetched once per instance and kept', async (t) => {
  const upstream = await startUpstream(t, docs);
  const { router } = routerFor(t, () => [{ id: 'docs-1', url: upstream.url, status: 'healthy', toolsHash: 'h1' }]);
  const first = await router.listingsOf('docs');
  t.same(
    first.resources.map((r) => r.uri),
    ['docs://a.md'],
  );
  t.same(
    first.prompts.map((p) => p.name),
    ['greet'],
  );
  t.same(first.templates, [], 'a server without templates has none (MethodNotFound is not an error)');
  const [second] = await Promise.all([router.listingsOf('docs'), router.listingsOf('docs'), router.listingsOf('docs')]);
  t.equal(second, first, 'the same cached object');
  t.equal(upstream.counts.get('resources/list'), 1, 'listed once');
  t.equal(upstream.counts.get('prompts/list'), 1);
  t.equal(upstream.counts.get('initialize'), 1, 'one pooled session');

  const read = await router.readResource('docs', 'docs://a.md');
  t.same(read.contents, [{ uri: 'docs://a.md', text: '# A' }]);
  const prompt = await router.getPrompt('docs', 'greet', undefined);
  t.match(prompt.messages, [{ content: { text: 'hello' } }]);
  t.equal(upstream.counts.get('initialize'), 1, 'reads and gets reuse the session');

  router.invalidate('docs-1');
  await router.listingsOf('docs');
  t.equal(upstream.counts.get('resources/list'), 2, 'invalidate refetches');
});

t.test('a new tools hash refetches; list_changed from the instance drops its lists', async (t) => {
  const upstream = await startUpstream(t, docs);
  const instance = { id: 'docs-1', url: upstream.url, status: 'healthy', toolsHash: 'h1' };
  const changes: [string, UpstreamChange][] = [];
  const { router } = routerFor(t, () => [instance], changes);
  await router.listingsOf('docs');
  instance.toolsHash = 'h2';
  await router.listingsOf('docs');
  t.equal(upstream.counts.get('resources/list'), 2, 'a re-registration with another tool list refetches');

  const heard = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (changes.some(([, change]) => change === 'resources')) {
        clearInterval(poll);
        resolve();
      }
    }, 10);
  });
  // The GET stream that carries list_changed opens in the background after initialize; wait for it.
  for (let i = 0; i < 500 && !upstream.counts.has('GET stream'); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(upstream.counts.has('GET stream'), 'the pooled session listens on its GET stream');
  upstream.servers[0]!.registerResource('b', 'docs://b.md', {}, async (uri) => ({ contents: [{ uri: uri.href, text: 'B' }] }));
  await heard;
  t.same(
    changes.find(([, change]) => change === 'resources'),
    ['docs-1', 'resources'],
    'the owner hears which instance changed',
  );
  const after = await router.listingsOf('docs');
  t.same(
    after.resources.map((r) => r.uri),
    ['docs://a.md', 'docs://b.md'],
    'the new resource is listed',
  );
});

t.test('errors name the service, the uri or prompt, and the states', async (t) => {
  const upstream = await startUpstream(t, docs);
  const instances: RoutableInstance[] = [{ id: 'docs-1', url: upstream.url, status: 'unhealthy' }];
  const { router, failures } = routerFor(t, () => instances);
  await t.rejects(router.listingsOf('nope'), { code: 'SERVICE_NOT_FOUND', message: /unknown service "nope"; known services: docs/ });
  await t.rejects(router.readResource('docs', 'docs://a.md'), { code: 'SERVICE_UNAVAILABLE', message: /service "docs" has no healthy instance \(docs-1 unhealthy\)/ });
  await t.rejects(router.listingsOf('docs'), { code: 'SERVICE_UNAVAILABLE' });

  instances[0]!.status = 'healthy';
  await t.rejects(router.readResource('docs', 'docs://nope.md'), {
    code: 'TOOL_ERROR',
    message: /^docs resource "docs:\/\/nope\.md": Resource not found: docs:\/\/nope\.md$/,
    context: { rpcCode: -32602 },
  });
  await t.rejects(router.getPrompt('docs', 'nope', undefined), { message: /^docs prompt "nope": Prompt nope not found/, context: { rpcCode: -32602 } });
  t.same(failures(), [], 'an instance that answered is not reported as failing');

  // A port nothing listens on (refused); port 9 would be fetch's own refusal ('bad port'), a proxy-side error.
  instances[0] = { id: 'dead-1', url: `http://127.0.0.1:${await freePort()}/mcp`, status: 'healthy' };
  await t.rejects(router.readResource('docs', 'docs://a.md'), { code: 'SERVICE_UNAVAILABLE', message: /^docs resource "docs:\/\/a\.md": fetch failed/ });
  t.same(failures(), ['dead-1'], 'one unreachable replica: reported once, and the error says why');
  await t.rejects(router.listingsOf('docs'), { code: 'SERVICE_UNAVAILABLE', message: /docs \(listing resources and prompts\): fetch failed/ });
  t.same(failures(), ['dead-1'], 'a failed listing is not counted against the instance');

  instances.push({ id: 'docs-1', url: upstream.url, status: 'healthy' });
  const read = await router.readResource('docs', 'docs://a.md');
  t.equal(read.contents[0]?.uri, 'docs://a.md', 'with a healthy replica left, a connection failure fails over');
});

t.test('breakers on the router: a refusing replica is retried elsewhere, ejected, probed after the injected ejection time', async (t) => {
  const upstream = await startUpstream(t, docs);
  const clock = { now: 1_000 };
  const outliers = new OutlierDetector({ policy: { consecutiveFailures: 2, baseEjectionMs: 1_000 }, now: () => clock.now });
  const instances: RoutableInstance[] = [
    { id: 'dead', url: 'http://127.0.0.1:9/mcp', status: 'healthy' },
    { id: 'live', url: upstream.url, status: 'healthy' },
  ];
  const retried: string[] = [];
  const router = new Router({
    deadlineMs: 2_000,
    outliers,
    onRetry: (service) => retried.push(service),
    table: { instancesOf: () => instances, toolsOf: () => [], serviceNames: () => ['docs'] },
  });
  t.teardown(() => router.close());
  const circuit = (id: string) => outliers.describe(instances).get(id);
  for (let i = 0; i < 6; i++) t.same((await router.readResource('docs', 'docs://a.md')).contents[0]?.uri, 'docs://a.md', `read ${i} answered`);
  t.equal(upstream.counts.get('resources/read'), 6, 'every read was served by the live replica');
  t.same(retried, ['docs', 'docs'], 'the two reads sent to the refusing replica went to the other one');
  t.match(circuit('dead'), { state: 'open', consecutiveFailures: 2, ejections: 1, ejectedUntil: 2_000 });
  clock.now = 2_000;
  t.equal(circuit('dead')?.state, 'half-open', 'the ejection time is over on the injected clock');
  for (let i = 0; i < 6 && circuit('dead')?.state !== 'open'; i++) await router.readResource('docs', 'docs://a.md');
  t.match(circuit('dead'), { state: 'open', ejections: 2, ejectedUntil: 4_000 }, 'its probe was refused: ejected again, twice as long');
  t.equal(retried.length, 3, "and the probe's read was served by the other replica");
});

// An instance that keeps the subscribed uris and the order it applied subscribe/unsubscribe in;
// while `gate` is closed its unsubscribes wait before applying.
function subscribable(applied: string[], subscribed: Set<string>, gate: { open: Promise<void> }) {
  return (server: McpServer) => {
    docs(server);
    server.server.setRequestHandler('resources/subscribe', async (request) => {
      subscribed.add(request.params.uri);
      applied.push('subscribe');
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (request) => {
      await gate.open;
      subscribed.delete(request.params.uri);
      applied.push('unsubscribe');
      return {};
    });
  };
}

t.test('a subscribe right after the last unsubscribe waits for it, so the instance ends subscribed', async (t) => {
  const applied: string[] = [];
  const subscribed = new Set<string>();
  let open = () => undefined as void;
  const gate = { open: new Promise<void>((resolve) => (open = resolve)) };
  const upstream = await startUpstream(t, subscribable(applied, subscribed, gate));
  const { router } = routerFor(t, () => [{ id: 'docs-1', url: upstream.url, status: 'healthy' }]);
  const first = { updated: () => undefined };
  const second = { updated: () => undefined };
  await router.subscriptions.subscribe('docs', 'docs://a.md', first);
  const leaving = router.subscriptions.unsubscribe('docs', 'docs://a.md', first);
  await waitFor(() => upstream.counts.get('resources/unsubscribe') === 1, 'the unsubscribe reached the instance', 5_000);
  const joining = router.subscriptions.subscribe('docs', 'docs://a.md', second);
  // Give a premature subscribe the chance to overtake the held unsubscribe (none should come).
  await waitFor(() => upstream.counts.get('resources/subscribe') === 2, 'a second subscribe was sent', 300).catch(() => undefined);
  t.equal(upstream.counts.get('resources/subscribe'), 1, 'no subscribe is sent while the unsubscribe is in flight');
  open();
  await leaving;
  await joining;
  t.same(applied, ['subscribe', 'unsubscribe', 'subscribe'], 'the instance applied them in order');
  t.same([...subscribed], ['docs://a.md'], 'and holds the subscription the live subscriber needs');
});

t.test('a subscription that cannot be moved is reported through warn', async (t) => {
  const applied: string[] = [];
  const upstream = await startUpstream(t, subscribable(applied, new Set(), { open: Promise.resolve() }));
  const instances: RoutableInstance[] = [{ id: 'docs-1', url: upstream.url, status: 'healthy' }];
  const { router, warnings } = routerFor(t, () => instances);
  await router.subscriptions.subscribe('docs', 'docs://a.md', { updated: () => undefined });
  instances.length = 0;
  router.forget('docs-1');
  await waitFor(() => warnings.length > 0, 'a warning', 5_000);
  t.match(warnings, [/cannot move the subscription to docs "docs:\/\/a\.md": unknown service "docs"/]);
});

t.test('a request cancelled by an AbortSignal lets go of the signal once it settles', async (t) => {
  const upstream = await startUpstream(t, docs);
  const session = new Upstream(upstream.url, 'test');
  t.teardown(() => session.close());
  const controller = new AbortController();
  for (let i = 0; i < 3; i++) await session.readResource('docs://a.md', 2_000, undefined, { signal: controller.signal });
  t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no abort listener left behind by three settled requests');
  await t.rejects(session.readResource('docs://nope.md', 2_000, undefined, { signal: controller.signal }));
  t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'nor by a failed one');
});

t.test("a draining replica's 503 is a request it never ran: sent to the other replica, and counted against the draining one", async (t) => {
  const drain = new Drain('upstream');
  const draining = await startUpstream(t, docs, drain);
  const live = await startUpstream(t, docs);
  const instances: RoutableInstance[] = [
    { id: 'draining', url: draining.url, status: 'healthy' },
    { id: 'live', url: live.url, status: 'healthy' },
  ];
  const { router, failures } = routerFor(t, () => instances);
  // Sessions open on both first (the drain's gap: the instance is still listed while it drains).
  for (let i = 0; i < 50 && ((draining.counts.get('resources/read') ?? 0) === 0 || (live.counts.get('resources/read') ?? 0) === 0); i++) await router.readResource('docs', 'docs://a.md');
  const servedBefore = draining.counts.get('resources/read');
  await drain.drain([], 0);
  for (let i = 0; i < 4; i++) t.match((await router.readResource('docs', 'docs://a.md')).contents[0], { text: '# A' }, `read ${i} answered`);
  t.equal(draining.counts.get('resources/read'), servedBefore, 'the draining replica ran nothing more');
  t.ok(failures().includes('draining'), `its refusal is no breaker success (failures: ${failures().join(', ')})`);
  t.notOk(failures().includes('live'));
});

t.test("a draining instance's 503 on a client's own upstream (the SDK client path) is not sent either", async (t) => {
  const drain = new Drain('upstream');
  const draining = await startUpstream(t, docs, drain);
  const upstream = new Upstream(draining.url, 'test', undefined, { capabilities: { roots: {} } });
  t.teardown(() => upstream.close());
  t.match((await upstream.readResource('docs://a.md', 2_000)).contents[0], { text: '# A' }, 'served before the drain');
  await drain.drain([], 0);
  const error = await upstream.readResource('docs://a.md', 2_000).catch((e: unknown) => e);
  t.type(error, NotSentError);
  t.match((error as Error).message, /shutting down \(HTTP 503, draining\)/);
  t.equal(draining.counts.get('resources/read'), 1, 'the draining instance ran nothing more');
});

t.test('an instance that leaves takes its era verdict along: one that comes back at the same URL is probed again', async (t) => {
  const upstream = await startUpstream(t, docs);
  const { router } = routerFor(t, () => [{ id: 'docs-1', url: upstream.url, status: 'healthy', toolsHash: 'h1' }]);
  // A connect without a verdict probes (server/discover), then initializes: two POSTs without a session.
  const sessionless = () => upstream.counts.get('sessionless POST') ?? 0;
  await router.listingsOf('docs');
  t.equal(sessionless(), 2, 'the first connect probed, then opened a session');
  router.forget('docs-1');
  await router.listingsOf('docs');
  t.equal(sessionless(), 4, 'after it left, the next connect probes again instead of trusting the old verdict');
});
