import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import type { RegistrationInput } from '../../src/contract/index.js';
import { startPostgres } from '../helpers/postgres.js';
import { postModern } from '../helpers/modern.js';
import { waitFor } from '../helpers/processes.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

// Instances registered by hand (no process behind them): the registry never calls them in this test.
function reg(id: string, port: number): RegistrationInput {
  const url = `http://127.0.0.1:${port}/mcp`;
  return { id, name: `svc-${id}`, url, host: '127.0.0.1', port, tags: [], tools: [{ name: 'echo', inputSchema: { type: 'object' } }], toolsHash: 'h1', version: '1', kind: 'native' };
}

const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });
const withLease = (lease: string): RequestInit => ({ headers: { 'x-mesh-lease': lease } });

t.test('two mesh-proxy processes on one PostgreSQL are one mesh', async (t) => {
  t.setTimeout(240_000);
  const cluster = await startPostgres(t);
  if (!cluster) return;
  const flags = (id: string) => ['--proxy-id', id, '--heartbeat-interval', '1', '--heartbeat-timeout', '6'];
  const a = await startProxy(t, { registryFile: cluster.url, extra: flags('proxy-a') });
  const b = await startProxy(t, { registryFile: cluster.url, extra: flags('proxy-b') });
  t.notMatch(a.stdout() + a.stderr(), /:pw@/, 'the password is never logged');
  t.match(a.stdout(), /registry postgres:\/\/mm:\*\*\*@127\.0\.0\.1/);

  // Registered instances beat through the proxy that registered them until the test stops them.
  const leases = new Map<string, { proxy: RunningProxy; lease: string }>();
  const beating = setInterval(() => {
    for (const [id, { proxy, lease }] of leases) void proxy.api(`/v1/instances/${id}/heartbeat`, { method: 'PUT', body: '{}', ...withLease(lease) }).catch(() => undefined);
  }, 300);
  t.teardown(() => clearInterval(beating));
  const register = async (proxy: RunningProxy, id: string, port: number) => {
    const answer = await proxy.api('/v1/instances', json(reg(id, port)));
    t.equal(answer.status, 201, `${id} registered`);
    leases.set(id, { proxy, lease: answer.body.lease });
  };
  const has = async (proxy: RunningProxy, id: string) => (await proxy.api(`/v1/services/svc-${id}`)).status === 200;
  const statusOn = async (proxy: RunningProxy, id: string) => (await proxy.api(`/v1/services/svc-${id}`)).body.status;

  await t.test('a registration on A is visible on B, and B keeps it healthy while A hears its beats', async (t) => {
    await register(a, 'one', 5101);
    await waitFor(() => has(b, 'one'), 'B lists the service registered on A', 20_000);
    const modernTools = await postModern(`${b.base}/mcp`, 'tools/list', {});
    t.ok(
      modernTools.body.result.tools.some((tool: { name: string }) => tool.name === 'svc-one__echo'),
      "B's MCP endpoint serves the tools of a service registered on A",
    );
    // Longer than the heartbeat timeout: only A's beats, carried to B, keep it there and healthy.
    for (let i = 0; i < 10; i++) {
      t.equal(await statusOn(b, 'one'), 'healthy', 'healthy on B');
      await delay(800); // pacing over 8 s, not readiness
    }
  });

  await t.test('a deregistration on B removes the instance on A', async (t) => {
    await register(a, 'two', 5102);
    await waitFor(() => has(b, 'two'), 'B sees two', 20_000);
    const { lease } = leases.get('two')!;
    leases.delete('two');
    t.equal((await b.api('/v1/instances/two', { method: 'DELETE', ...withLease(lease) })).status, 204);
    await waitFor(async () => !(await has(a, 'two')), 'A drops two', 20_000);
  });

  await t.test('a silent instance is evicted once, not once per proxy', async (t) => {
    await register(b, 'three', 5103);
    await waitFor(() => has(a, 'three'), 'A sees three', 20_000);
    leases.delete('three'); // silent from now on
    await waitFor(async () => !(await has(a, 'three')) && !(await has(b, 'three')), 'both proxies dropped three', 30_000);
    const evictions = async (p: RunningProxy) => (await p.api('/healthz')).body.registry.evictions as number;
    t.equal((await evictions(a)) + (await evictions(b)), 1, 'one proxy won the conditional delete');
    for (const p of [a, b]) {
      const { events } = (await p.api('/v1/events/recent?service=svc-three')).body;
      t.equal(events.filter((e: { type: string }) => e.type === 'left').length, 1, 'one left event on each proxy');
    }
  });

  await t.test('a legacy session belongs to its proxy; a modern client uses either', async (t) => {
    const init = await fetch(`${a.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'legacy', version: '1' } } }),
    });
    const session = init.headers.get('mcp-session-id');
    await init.text();
    t.ok(session, 'A opened a session');
    const onB = await fetch(`${b.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session!, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
    });
    await onB.text();
    t.equal(onB.status, 404, 'B does not know it: the spec says 404, the client initializes again');
    for (const p of [a, b]) t.equal((await postModern(`${p.base}/mcp`, 'tools/list', {})).status, 200, 'stateless requests work on every proxy');
  });

  await t.test('PostgreSQL restarts under registrations: both proxies reconnect and nothing is lost', async (t) => {
    const ids = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const restart = cluster.restart();
    try {
      await Promise.all(ids.map((id, i) => register(i % 2 === 0 ? a : b, id, 5200 + i)));
    } catch (error) {
      t.comment(`proxy A stderr:\n${a.stderr()}\nproxy B stderr:\n${b.stderr()}`);
      throw error;
    }
    await restart;
    for (const p of [a, b]) {
      await waitFor(async () => (await p.api('/healthz')).body.registry.store.state === 'ok', 'the store is back', 30_000);
      for (const id of ids) await waitFor(() => has(p, id), `${id} is listed on ${p.base}`, 30_000);
    }
    const rows = (await cluster.query("SELECT count(*)::int AS n FROM instances WHERE id LIKE 'r%'")) as Array<{ n: number }>;
    t.equal(rows[0]?.n, ids.length, 'every registration is stored');
  });
});
