import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Registry } from '../../proxy/registry/registry.js';
import type { RegistrationInput } from '../../src/contract/index.js';
import { eachStore } from '../helpers/registry-stores.js';

// A valid registration for instance `id` of service `name` on `port`.
function reg(id: string, name = 'fs', port = 5001): RegistrationInput {
  const url = `http://127.0.0.1:${port}/mcp`;
  return {
    id,
    name,
    url,
    host: '127.0.0.1',
    port,
    pid: 77,
    tags: ['t'],
    tools: [{ name: 'read_text', description: 'Read', inputSchema: { type: 'object' } }],
    toolsHash: 'h1',
    version: '1',
    kind: 'sidecar',
  };
}

eachStore(t, (t, storeOptions) => {
  t.test('instances, leases, child states and the audit trail survive a restart of the registry', async (t) => {
    const base = await storeOptions();
    // sql.js needs a file to survive a restart; PostgreSQL keeps its schema.
    const dir = mkdtempSync(join(tmpdir(), 'mm-store-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const options = base.registry === undefined ? { file: join(dir, 'registry.sqlite') } : base;
    const first = await Registry.open(options);
    const { lease } = first.register(reg('fs-a'));
    const b = first.register(reg('fs-b', 'fs', 5002)).lease;
    first.register(reg('mem-a', 'memory', 5003));
    first.heartbeat('fs-b', { state: 'restarting' }, b);
    t.ok(first.deregister('mem-a', { lease: first.register(reg('mem-a', 'memory', 5003), undefined, { claimProven: true }).lease }));
    first.audit({ service: 'fs', tool: 'read_text', durationMs: 2, outcome: 'ok', caller: 'app' });
    t.equal(await first.durable(), true, 'every change is stored');
    await first.close();

    const second = await Registry.open(options);
    t.teardown(() => second.close());
    t.same(second.serviceNames(), ['fs'], 'the deregistered service stays gone');
    t.match(second.instance('fs-a'), { name: 'fs', pid: 77, status: 'healthy', tools: [{ description: 'Read' }] });
    t.equal(second.instance('fs-b')?.state, 'restarting', 'child state kept');
    t.throws(() => second.heartbeat('fs-a', {}, 'A'.repeat(43)), { code: 'CONFLICT' }, 'a wrong lease is still refused');
    t.equal(second.heartbeat('fs-a', {}, lease)?.status, 'healthy', 'the stored lease still beats');
    t.match(await second.recentAudit({}), [{ service: 'fs', tool: 'read_text', caller: 'app', outcome: 'ok' }]);
    t.match(second.stats().store, { kind: base.registry === undefined ? 'sqljs' : 'postgres', state: 'ok', queued: 0 });
  });
});
