import t, { type Test } from 'tap';
import { Registry } from '../../proxy/registry/registry.js';
import type { RegistryEvent } from '../../proxy/registry/events.js';
import { noticePayloads } from '../../proxy/registry/store/pg-notice.js';
import { redactUrl } from '../../proxy/registry/store/pg-url.js';
import type { RegistrationInput } from '../../src/contract/index.js';
import { waitFor } from '../helpers/processes.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { schemaUrl } from '../helpers/registry-stores.js';

function reg(id: string, name = 'fs', port = 5001): RegistrationInput {
  const url = `http://127.0.0.1:${port}/mcp`;
  return { id, name, url, host: '127.0.0.1', port, tags: [], tools: [{ name: 'read_text', inputSchema: { type: 'object' } }], toolsHash: 'h1', version: '1', kind: 'sidecar' };
}

let schemas = 0;
// A fresh schema on the suite's cluster: its own tables and NOTIFY channel.
async function freshUrl(cluster: PgCluster): Promise<string> {
  const schema = `multi_${++schemas}`;
  await cluster.query(`CREATE SCHEMA ${schema}`);
  return schemaUrl(cluster, schema);
}

// A registry (one proxy) on `url` with a hand clock, recording its events.
async function proxy(t: Test, url: string, proxyId: string) {
  const clock = { now: Date.now() };
  const registry = await Registry.open({ registry: url, proxyId, now: () => clock.now });
  t.teardown(() => registry.close());
  const events: RegistryEvent[] = [];
  for (const name of ['joined', 'left', 'status', 'tools'] as const) registry.on(name, (e) => events.push(e));
  return { registry, clock, events };
}

t.test('NOTIFY payloads stay below 8000 bytes and keep every id, in order', async (t) => {
  const ids = Array.from({ length: 2000 }, (_, i) => `instance-${i}-${'x'.repeat(40)}`);
  const payloads = noticePayloads('me', [
    { k: 'beat', ids, v: ids.map((_, i) => i) },
    { k: 'del', ids: ['a'], r: 'expired' },
    { k: 'up', ids: ['a'] },
  ]);
  t.ok(payloads.length > 10, 'chunked');
  for (const p of payloads) t.ok(Buffer.byteLength(p) < 8000, 'below the NOTIFY limit');
  const parsed = payloads.map((p) => JSON.parse(p) as { k: string; ids: string[]; v?: number[] });
  t.same(
    parsed.filter((p) => p.k === 'beat').flatMap((p) => p.ids),
    ids,
  );
  t.same(
    parsed.filter((p) => p.k === 'beat').flatMap((p) => p.v),
    ids.map((_, i) => i),
    'revisions stay with their ids',
  );
  t.same(
    parsed.slice(-2).map((p) => p.k),
    ['del', 'up'],
    'a delete then an insert stays in that order',
  );
});

t.test('the URL is shown with its password redacted', async (t) => {
  t.equal(redactUrl('postgres://mm:s3cret@db.example:5432/mm?sslmode=require'), 'postgres://mm:***@db.example:5432/mm?sslmode=require');
  t.equal(redactUrl('postgresql://db/mm'), 'postgresql://db/mm');
});

t.test('PostgreSQL: several proxies, one registry', async (t) => {
  t.setTimeout(300_000);
  const cluster = await startPostgres(t);
  if (!cluster) return;

  t.test('two proxies migrating at once: both open, each migration applied once', async (t) => {
    const url = await freshUrl(cluster);
    const [a, b] = await Promise.all([Registry.open({ registry: url }), Registry.open({ registry: url })]);
    await a.close();
    await b.close();
    const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
    t.same(await cluster.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`), [{ version: 1 }]);
  });

  t.test('a change on one proxy is applied on the other, with its events', async (t) => {
    const url = await freshUrl(cluster);
    const a = await proxy(t, url, 'proxy-a');
    const b = await proxy(t, url, 'proxy-b');
    const { lease } = a.registry.register(reg('fs-1'));
    await waitFor(() => b.registry.hasInstance('fs-1'), 'B sees the registration made on A');
    t.match(b.events, [{ type: 'joined', instance: 'fs-1', service: 'fs' }]);
    t.throws(() => b.registry.heartbeat('fs-1', {}, 'A'.repeat(43)), { code: 'CONFLICT' }, 'the lease holds on B too');
    // A beat through B moves A's view (A's clock has moved on, so without it fs-1 would be unhealthy there).
    a.clock.now += 100_000;
    b.clock.now += 100_000;
    t.equal(b.registry.heartbeat('fs-1', {}, lease)?.status, 'healthy');
    await waitFor(() => a.registry.instance('fs-1')?.status === 'healthy' && a.events.some((e) => e.type === 'status' && e.status === 'healthy'), 'A hears the beat made on B');
    a.registry.register({ ...reg('fs-1'), toolsHash: 'h2', tools: [] }, lease);
    await waitFor(() => b.events.some((e) => e.type === 'tools'), 'B announces the new tool list');
    t.ok(b.registry.deregister('fs-1', { lease }));
    await waitFor(() => !a.registry.hasInstance('fs-1'), 'A drops what B deregistered');
    t.match(a.events.at(-1), { type: 'left', instance: 'fs-1', reason: 'deregistered' });
    a.registry.audit({ service: 'fs', tool: 'x', durationMs: 1, outcome: 'ok' });
    b.registry.audit({ service: 'fs', tool: 'y', durationMs: 1, outcome: 'ok' });
    await a.registry.flush();
    t.same((await b.registry.recentAudit({})).map((e) => e.tool).sort(), ['x', 'y'], 'one audit table for every proxy');
  });

  t.test('a silent instance is evicted once, by one proxy', async (t) => {
    const url = await freshUrl(cluster);
    const a = await proxy(t, url, 'proxy-a');
    const b = await proxy(t, url, 'proxy-b');
    a.registry.register(reg('fs-1'));
    await waitFor(() => b.registry.hasInstance('fs-1'), 'B sees it');
    await a.registry.flush();
    a.clock.now += 200_000;
    b.clock.now += 200_000;
    a.registry.sweep();
    b.registry.sweep();
    await a.registry.flush();
    await b.registry.flush();
    t.equal(a.registry.stats().evictions + b.registry.stats().evictions, 1, 'one proxy won the conditional delete');
    t.same(await cluster.query(`SELECT id FROM ${new URL(url).searchParams.get('options')!.split('=')[1]}.instances`), []);
    for (const p of [a, b]) t.equal(p.events.filter((e) => e.type === 'left').length, 1, 'each proxy announces the eviction once');
  });

  t.test('PostgreSQL restarts: calls route from memory, /healthz says so, queued writes are replayed', async (t) => {
    const url = await freshUrl(cluster);
    const a = await proxy(t, url, 'proxy-a');
    const b = await proxy(t, url, 'proxy-b');
    a.registry.register(reg('fs-1'));
    await waitFor(() => b.registry.hasInstance('fs-1'), 'B sees fs-1');
    await cluster.stop();
    a.registry.register(reg('fs-2', 'fs', 5002));
    a.registry.audit({ service: 'fs', tool: 'during-outage', durationMs: 1, outcome: 'ok' });
    t.equal(a.registry.healthyInstances('fs').length, 2, 'the table still answers');
    await waitFor(() => a.registry.stats().store.state === 'unavailable', 'the store reports the outage');
    t.match(a.registry.stats().store, { kind: 'postgres', reason: /\S/ });
    t.ok(a.registry.stats().store.queued >= 1, 'the registration waits in the queue');
    t.notMatch(JSON.stringify(a.registry.stats().store), /:pw@/, 'no password in what /healthz shows');
    t.equal(await a.registry.durable(200), false, 'the change is not stored yet');
    await cluster.start();
    await waitFor(() => a.registry.stats().store.state === 'ok', 'the store reconnects', 30_000);
    await waitFor(() => b.registry.hasInstance('fs-2'), 'B gets the change queued during the outage', 30_000);
    await waitFor(() => b.registry.stats().store.state === 'ok', 'B listens again', 30_000);
    t.same(b.registry.serviceNames(), ['fs']);
    t.match(await b.registry.recentAudit({}), [{ tool: 'during-outage' }], 'audit rows queued during the outage are stored too');
  });
});
