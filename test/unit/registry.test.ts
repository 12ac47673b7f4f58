import t, { type Test } from 'tap';
import { Registry } from '../../proxy/registry/registry.js';
import type { RegistryEvent } from '../../proxy/registry/events.js';
import type { RegistrationInput } from '../../src/contract/index.js';
import { eachStore, type StoreOptions } from '../helpers/registry-stores.js';

const START = 1_700_000_000_000;

// A registry with a hand-driven clock: health tests move time instead of sleeping.
// The store under test (eachStore below runs the suite once per store).
let storeOptions: StoreOptions = () => Promise.resolve({});

async function openClocked(t: Test, options: Parameters<typeof Registry.open>[0] = {}) {
  const clock = { now: START };
  const registry = await Registry.open({ now: () => clock.now, ...(await storeOptions()), ...options });
  t.teardown(() => registry.close());
  const events: RegistryEvent[] = [];
  for (const name of ['joined', 'left', 'status', 'tools'] as const) registry.on(name, (e) => events.push(e));
  return { registry, clock, events };
}

// A valid registration for instance `id` of service `name` on `port`.
function reg(id: string, name = 'fs', port = 5001, extra: Partial<RegistrationInput> = {}): RegistrationInput {
  return {
    id,
    name,
    url: `http://127.0.0.1:${port}/mcp`,
    host: '127.0.0.1',
    port,
    pid: 1000 + port,
    tags: ['python'],
    tools: [{ name: 'read_text', inputSchema: { type: 'object' } }],
    toolsHash: 'h1',
    version: '1.0.0',
    kind: 'sidecar',
    ...extra,
  };
}

eachStore(t, (t, options) => {
  t.beforeEach(() => {
    storeOptions = options;
  });

  t.test('register is idempotent per id and keeps replicas apart', async (t) => {
    const { registry, clock, events } = await openClocked(t);
    const first = registry.register(reg('fs-a'));
    t.equal(first.created, true);
    t.equal(first.instance.status, 'healthy');
    t.equal(first.instance.registeredAt, START);
    clock.now += 1000;
    const again = registry.register(reg('fs-a', 'fs', 5001, { version: '1.0.1' }), first.lease);
    t.equal(again.created, false, 'same id updates');
    t.equal(again.instance.version, '1.0.1');
    t.equal(again.instance.registeredAt, START, 'first registration time kept');
    t.equal(again.instance.updatedAt, START + 1000);
    t.equal(registry.stats().instances, 1);
    registry.register(reg('fs-b', 'fs', 5002, { tags: ['python', 'replica'] }));
    registry.register(reg('mem-1', 'memory', 5003, { tags: ['node'], tools: [] }));
    const fs = registry.service('fs');
    t.equal(fs?.instanceCount, 2, 'two replicas of fs');
    t.equal(fs?.status, 'healthy');
    t.same(fs?.tags, ['python', 'replica']);
    t.equal(fs?.toolCount, 1);
    t.same(
      registry.services().map((s) => s.name),
      ['fs', 'memory'],
    );
    t.same(
      registry.services({ tag: 'node' }).map((s) => s.name),
      ['memory'],
    );
    t.same(registry.serviceNames(), ['fs', 'memory']);
    t.equal(registry.healthyInstances('fs').length, 2);
    t.equal(registry.tools('fs')?.[0]?.name, 'read_text');
    t.equal(registry.tools('nope'), undefined);
    t.equal(registry.service('nope'), undefined);
    t.same(
      events.filter((e) => e.type === 'joined').map((e) => e.instance),
      ['fs-a', 'fs-b', 'mem-1'],
    );
    t.throws(() => (registry.instance('fs-a')!.tools as unknown[]).push({}), TypeError, 'stored tools are frozen');
  });

  t.test('a new tool list, a new name, a reused url', async (t) => {
    const { registry, clock, events } = await openClocked(t);
    const { lease } = registry.register(reg('fs-a'));
    registry.register(
      reg('fs-a', 'fs', 5001, {
        toolsHash: 'h2',
        tools: [
          { name: 'a', inputSchema: { type: 'object' } },
          { name: 'b', inputSchema: { type: 'object' } },
        ],
      }),
      lease,
    );
    t.match(events.at(-1), { type: 'tools', service: 'fs', instance: 'fs-a', toolsHash: 'h2', previousHash: 'h1', toolCount: 2 });
    clock.now += 90_000; // fs-a no longer beats in time: its id may go to another service
    registry.register(reg('fs-a', 'files', 5001));
    t.match(events.slice(-2), [
      { type: 'left', service: 'fs', reason: 'renamed' },
      { type: 'joined', service: 'files', instance: 'fs-a' },
    ]);
    t.equal(registry.service('fs'), undefined);
    t.throws(
      () => registry.register(reg('files-new', 'files', 5001)),
      {
        code: 'CONFLICT',
        message:
          /instance "fs-a" of service "files" is live at http:\/\/127\.0\.0\.1:5001\/mcp \(registering "files-new" at its url would replace it\); this registration carries neither its lease nor a claim/,
      },
      'another id at a live url of the same service needs proof',
    );
    registry.register(reg('files-new', 'files', 5001), undefined, { claimProven: true });
    t.match(events.slice(-2), [
      { type: 'left', instance: 'fs-a', reason: 'replaced' },
      { type: 'joined', instance: 'files-new' },
    ]);
    t.equal(registry.service('files')?.instanceCount, 1, 'a server proven at the same url replaces its old id');
  });

  t.test('an instance id and url belong to the live service that registered them', async (t) => {
    const { registry, clock, events } = await openClocked(t);
    const { lease } = registry.register(reg('fs-a', 'fs', 5001));
    t.throws(
      () => registry.register(reg('fs-a', 'evil', 5009)),
      { code: 'CONFLICT', message: /instance id "fs-a" belongs to the live service "fs" \(at http:\/\/127\.0\.0\.1:5001\/mcp\)/ },
      'another service under a live id: 409',
    );
    t.throws(
      () => registry.register(reg('evil-1', 'evil', 5001)),
      { code: 'CONFLICT', message: /url http:\/\/127\.0\.0\.1:5001\/mcp is served by the live instance "fs-a" of service "fs"/ },
      'another service at a live url: 409',
    );
    t.throws(() => registry.heartbeat('fs-a', { name: 'evil', state: 'crashloop' }, lease), { code: 'CONFLICT', message: /belongs to service "fs", not "evil"/ }, 'a beat naming another service: 409');
    t.equal(registry.service('fs')?.status, 'healthy', 'fs is still routable');
    t.notOk(
      events.some((e) => e.type === 'left'),
      'nothing was evicted',
    );
    t.equal(registry.heartbeat('fs-a', { name: 'fs' }, lease)?.status, 'healthy', 'a beat naming its own service passes');

    // A live id stays at its url: moving it takes its lease (a restarted sidecar on a new port has a new id).
    t.throws(
      () => registry.register(reg('fs-a', 'fs', 5002)),
      { code: 'CONFLICT', message: /instance id "fs-a" is live at http:\/\/127\.0\.0\.1:5001\/mcp; moving it to http:\/\/127\.0\.0\.1:5002\/mcp needs its lease \(x-mesh-lease\)/ },
      'the same service cannot move a live id without its lease',
    );
    t.equal(registry.instance('fs-a')?.url, 'http://127.0.0.1:5001/mcp', 'the id still points at its own url');
    const moved = registry.register(reg('fs-a', 'fs', 5002), lease);
    t.equal(moved.instance.url, 'http://127.0.0.1:5002/mcp', 'with its lease the instance moves its id to a new url');
    t.equal(moved.lease, lease, 'and keeps its lease');
    t.throws(() => registry.register(reg('fs-b', 'fs', 5002, { state: 'crashloop' }), undefined, { claimProven: true }), {
      code: 'CONFLICT',
      message: /live instance "fs-a" without its lease .* may not set state "crashloop"/,
    });
    t.throws(() => registry.register(reg('fs-b', 'fs', 5002)), { code: 'CONFLICT', message: /registering "fs-b" at its url would replace it/ }, 'nor replace it under another id without proof');
    t.equal(registry.instance('fs-a')?.url, 'http://127.0.0.1:5002/mcp', 'fs-a is still there');
    registry.register(reg('fs-b', 'fs', 5002), undefined, { claimProven: true });
    t.match(events.at(-2), { type: 'left', instance: 'fs-a', reason: 'replaced' }, 'a replica of the same service proven at the url may take it over');

    clock.now += 90_000; // fs-b stopped beating: its id and url are free again
    t.equal(registry.register(reg('fs-b', 'other', 5002)).instance.name, 'other', "a dead instance's id may be taken");
  });

  t.test('a heartbeat or deregistration speaks only for the instance whose lease it carries', async (t) => {
    const { registry, clock, events } = await openClocked(t);
    const { lease } = registry.register(reg('fs-a'));
    t.match(lease, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
    t.not(registry.register(reg('fs-b', 'fs', 5002)).lease, lease, 'every instance has its own lease');
    t.throws(() => registry.heartbeat('fs-a', { state: 'crashloop' }, undefined), { code: 'CONFLICT', message: /heartbeat of instance "fs-a" refused: it carries no lease/ }, 'no lease: 409');
    t.throws(() => registry.heartbeat('fs-a', { name: 'fs', state: 'crashloop' }, 'B'.repeat(43)), { code: 'CONFLICT', message: /not the current lease of instance "fs-a"/ }, 'a wrong lease: 409');
    t.equal(registry.instance('fs-a')?.status, 'healthy', 'still healthy');
    t.equal(registry.instance('fs-a')?.state, 'ready');
    t.throws(() => registry.deregister('fs-a', { lease: undefined }), { code: 'CONFLICT', message: /deregistration of instance "fs-a" refused/ });
    t.throws(() => registry.deregister('fs-a', { lease: 'B'.repeat(43) }), { code: 'CONFLICT' });
    t.notOk(
      events.some((e) => e.type === 'left'),
      'nothing left',
    );
    t.notOk(JSON.stringify([registry.services(), registry.instance('fs-a'), events]).includes(lease), 'no view or event carries the lease');

    clock.now += 1_000;
    t.equal(registry.heartbeat('fs-a', { state: 'crashloop' }, lease)?.status, 'crashloop', 'its holder may say crashloop');
    // Re-registration: with the lease it is kept; without it a live id changes hands only once the
    // caller saw its claim at the instance's /healthz (claimProven), and never into crashloop.
    t.equal(registry.register(reg('fs-a', 'fs', 5001, { state: 'ready' }), lease).lease, lease);
    t.throws(
      () => registry.register(reg('fs-a')),
      { code: 'CONFLICT', message: /instance "fs-a" of service "fs" is live at http:\/\/127\.0\.0\.1:5001\/mcp; this registration carries neither its lease nor a claim/ },
      'no lease, no claim: 409',
    );
    t.throws(() => registry.register(reg('fs-a', 'fs', 5001, { claim: 'C'.repeat(43) })), { code: 'CONFLICT', message: /carries a claim that was not confirmed/ }, 'an unconfirmed claim: 409');
    t.throws(
      () => registry.register(reg('fs-a', 'fs', 5001, { state: 'crashloop' }), undefined, { claimProven: true }),
      { code: 'CONFLICT', message: /may not set state "crashloop": only starting or ready/ },
      'never crashloop without the lease',
    );
    t.equal(registry.heartbeat('fs-a', {}, lease)?.status, 'healthy', 'the lease is still current');
    const taken = registry.register(reg('fs-a', 'fs', 5001, { claim: 'C'.repeat(43) }), undefined, { claimProven: true }).lease;
    t.not(taken, lease, 'a confirmed claim (a restarted instance) gets a new lease');
    t.notOk(JSON.stringify([registry.instance('fs-a'), events]).includes('C'.repeat(43)), 'the claim is not kept');
    t.throws(() => registry.heartbeat('fs-a', {}, lease), { code: 'CONFLICT' }, 'the previous lease is dead');
    t.throws(() => registry.register(reg('fs-a'), lease), { code: 'CONFLICT' }, 'and no longer registers');
    t.equal(registry.heartbeat('fs-a', {}, taken)?.status, 'healthy');
    clock.now += 90_000; // silent for too long: no longer live, its id needs no proof
    t.not(registry.register(reg('fs-a')).lease, taken, 'a no-longer-live id is registered without proof');
    t.equal(registry.deregister('fs-a', { operator: 'ops-agent' }), true, 'an operator removes without the lease');
    t.match(events.at(-1), { type: 'left', instance: 'fs-a', reason: 'deregistered', by: 'ops-agent' });
  });

  t.test('heartbeats: unknown id, memory-only, health transitions with the clock', async (t) => {
    const { registry, clock, events } = await openClocked(t);
    t.equal(registry.heartbeat('ghost', {}, undefined), undefined, 'unknown id → undefined (HTTP 404, sidecar re-registers)');
    const a = registry.register(reg('fs-a')).lease;
    const b = registry.register(reg('fs-b', 'fs', 5002)).lease;
    clock.now += 30_000;
    const beat = registry.heartbeat('fs-a', { inflight: 2, calls: 40, toolsHash: 'h1' }, a);
    t.equal(beat?.lastHeartbeat, START + 30_000);
    t.equal(beat?.inflight, 2);
    t.equal(beat?.calls, 40);
    clock.now = START + 89_999;
    t.same(registry.sweep(), { changed: [], removed: [] }, 'not yet: 3 beats of 30 s');
    clock.now = START + 90_000;
    const swept = registry.sweep();
    t.match(swept.changed, [{ type: 'status', instance: 'fs-b', previous: 'healthy', status: 'unhealthy', reason: 'heartbeat-timeout', serviceStatus: 'healthy' }]);
    t.same(
      registry.healthyInstances('fs').map((i) => i.id),
      ['fs-a'],
    );
    t.equal(registry.service('fs')?.status, 'healthy', 'one healthy replica keeps the service healthy');
    clock.now = START + 100_000;
    registry.heartbeat('fs-b', {}, b);
    t.match(events.at(-1), { type: 'status', instance: 'fs-b', status: 'healthy', previous: 'unhealthy', reason: 'heartbeat' });
    clock.now = START + 30_000 + 120_000;
    const removed = registry.sweep();
    t.match(removed.removed, [{ type: 'left', instance: 'fs-a', reason: 'expired' }]);
    t.match(removed.changed, [], 'fs-b was heard from at +100 s: still healthy');
    t.equal(registry.heartbeat('fs-a', {}, a), undefined, 'an expired instance must re-register');
    clock.now = START + 100_000 + 90_000;
    t.equal(registry.instance('fs-b')?.status, 'unhealthy', 'reads re-derive the status from the clock');
    t.match(events.at(-1), { type: 'status', instance: 'fs-b', status: 'unhealthy', serviceStatus: 'unhealthy' });
    clock.now = START + 100_000 + 120_000;
    registry.sweep();
    t.equal(registry.stats().instances, 0);
    t.equal(registry.services().length, 0);
    t.match(events.at(-1), { type: 'left', instance: 'fs-b', serviceStatus: undefined });
  });

  t.test('child state reported by the sidecar', async (t) => {
    const { registry, events } = await openClocked(t);
    const { lease } = registry.register(reg('fs-a', 'fs', 5001, { state: 'starting' }));
    t.equal(registry.instance('fs-a')?.status, 'starting');
    t.same(registry.healthyInstances('fs'), [], 'starting is not routed');
    registry.heartbeat('fs-a', { state: 'ready' }, lease);
    t.equal(registry.instance('fs-a')?.status, 'healthy');
    registry.heartbeat('fs-a', { state: 'restarting' }, lease);
    t.match(events.at(-1), { type: 'status', status: 'restarting', reason: 'heartbeat' });
    t.same(registry.healthyInstances('fs'), []);
    registry.heartbeat('fs-a', { state: 'crashloop' }, lease);
    t.equal(registry.service('fs')?.status, 'crashloop');
    t.same(
      registry.services({ status: 'crashloop' }).map((s) => s.name),
      ['fs'],
    );
    t.same(registry.services({ status: 'healthy' }), []);
    t.same(registry.countByStatus(), { starting: 0, healthy: 0, unhealthy: 0, restarting: 0, crashloop: 1 });
    t.throws(() => registry.heartbeat('fs-a', { state: 'zombie' }, lease), /state/);
    t.equal(registry.heartbeat('ghost', { state: 'ready' }, lease), undefined);
  });

  t.test('deregister removes at once and says so', async (t) => {
    const { registry, events } = await openClocked(t);
    const { lease } = registry.register(reg('fs-a'));
    t.equal(registry.deregister('fs-a', { lease }), true);
    t.equal(registry.deregister('fs-a', { lease }), false);
    t.match(events.at(-1), { type: 'left', service: 'fs', instance: 'fs-a', reason: 'deregistered', serviceStatus: undefined });
    t.equal(registry.instance('fs-a'), undefined);
  });

  t.test('a throwing listener breaks nothing; unsubscribe works', async (t) => {
    const { registry } = await openClocked(t);
    registry.on('joined', () => {
      throw new Error('listener bug');
    });
    let seen = 0;
    const off = registry.events.on('joined', () => seen++);
    t.equal(registry.register(reg('fs-a')).created, true);
    off();
    registry.register(reg('fs-b', 'fs', 5002));
    t.equal(seen, 1);
  });

  t.test('audit: buffered, batched, newest first, capped', async (t) => {
    const { registry, clock } = await openClocked(t, { auditRetention: 50 });
    for (let i = 0; i < 120; i++) {
      clock.now = START + i;
      registry.audit({ caller: 'c', service: i % 2 ? 'fs' : 'memory', instance: 'x', tool: `t${i}`, durationMs: 1.5, outcome: 'ok', errorCode: undefined, requestBytes: 10, responseBytes: 20 });
    }
    t.equal(registry.stats().auditPending, 120, 'nothing inserted on the caller path');
    const recent = await registry.recentAudit({ limit: 1000 });
    t.equal(recent.length, 50, 'retention cap');
    t.match(recent[0], { tool: 't119', at: START + 119, durationMs: 1.5, outcome: 'ok', requestBytes: 10, responseBytes: 20, service: 'fs' });
    t.equal(recent.at(-1)?.tool, 't70');
    t.same(
      (await registry.recentAudit({ service: 'memory', limit: 3 })).map((e) => e.tool),
      ['t118', 't116', 't114'],
    );
    t.equal(registry.stats().auditRows, 50);
    registry.audit({ service: 'fs', tool: 'late', durationMs: 3, outcome: 'timeout', errorCode: 'CALL_TIMEOUT' });
    await registry.flush();
    t.match((await registry.recentAudit({ limit: 1 }))[0], { tool: 'late', outcome: 'timeout', errorCode: 'CALL_TIMEOUT' });
    t.equal(registry.stats().auditRows, 50);
  });

  t.test('closed registry refuses changes and close is idempotent', async (t) => {
    const registry = await Registry.open(await storeOptions());
    await registry.close();
    await registry.close();
    t.throws(() => registry.register(reg('x')), /closed/);
    t.same(registry.sweep(), { changed: [], removed: [] });
  });
});
