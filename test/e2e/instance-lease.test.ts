import t from 'tap';
import { startNative } from '../helpers/native.js';
import { pollJson, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient } from '../helpers/sidecar.js';

// An instance's lease, end to end with a real proxy and a real native instance (the registration
// runtime sidecars share): only its holder beats, deregisters or re-registers it (a restarted
// instance proves itself with its claim), the lease survives a proxy restart, and an instance the
// proxy forgot registers again and gets a new one.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];
const registrations = (stderr: string) => stderr.match(/registered with .* as /g)?.length ?? 0;

t.test('a token holder cannot mark a live instance crashloop nor remove it, by heartbeat, DELETE or re-registration; a restarted instance gets back in at once', async (t) => {
  // The old registration stays live (3 missed beats of 20 s) long after its process is killed.
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '20', '--heartbeat-timeout', '60'] });
  const pp = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: proxy.base });
  const view = (await proxy.api('/v1/services/pp')).body.instances[0];
  const { tools } = (await proxy.api('/v1/services/pp/tools')).body;
  // Everything a registration needs is public: id, name, url, tools.
  const body = (extra: Record<string, unknown>) =>
    JSON.stringify({
      id: view.id,
      name: 'pp',
      url: view.url,
      host: view.host,
      port: view.port,
      tools,
      toolsHash: view.toolsHash,
      version: view.version,
      kind: 'native',
      ...extra,
    });

  const madeUp = 'C'.repeat(43);
  for (const [what, headers] of [
    ['no lease', {}],
    ['a wrong lease', { 'x-mesh-lease': 'A'.repeat(43) }],
  ] as const) {
    const beat = await proxy.api(`/v1/instances/${view.id}/heartbeat`, { method: 'PUT', body: JSON.stringify({ name: 'pp', state: 'crashloop' }), headers });
    t.equal(beat.status, 409, `a crashloop beat with ${what}: 409`);
    t.match(beat.body.error.message, /heartbeat of instance .* refused/);
    t.equal((await proxy.api(`/v1/instances/${view.id}`, { method: 'DELETE', headers })).status, 409, `DELETE with ${what}: 409`);
    for (const [how, extra] of [
      ['no claim', { state: 'crashloop' }],
      ['no claim, state ready', { state: 'ready' }],
      ['a made-up claim', { state: 'ready', claim: madeUp }],
      ['a made-up claim, crashloop', { state: 'crashloop', claim: madeUp }],
    ] as const) {
      const again = await proxy.api('/v1/instances', { method: 'POST', body: body(extra), headers });
      t.equal(again.status, 409, `a re-registration with ${what} and ${how}: 409`);
      t.match(
        again.body.error.message,
        /instance "pp\.[^"]*" of service "pp" is live|live instance "pp\.[^"]*" without its lease|a live instance of service "pp" holds id "pp\./,
        'naming the live instance',
      );
      t.notOk('lease' in again.body, 'and no lease');
    }
  }
  const madeUpAnswer = await proxy.api('/v1/instances', { method: 'POST', body: body({ claim: madeUp }) });
  t.match(madeUpAnswer.body.error.message, /its claim was not confirmed: http:\/\/127\.0\.0\.1:\d+\/healthz shows another claim/, 'the made-up claim is checked at the instance and named');
  const otherId = await proxy.api('/v1/instances', { method: 'POST', body: body({ id: 'pp-other', state: 'ready' }) });
  t.equal(otherId.status, 409, 'nor may another id at its url replace it');
  t.match(otherId.body.error.message, /registering "pp-other" at its url would replace it/);
  const service = (await proxy.api('/v1/services/pp')).body;
  t.match(service, { status: 'healthy', instances: [{ id: view.id, state: 'ready', status: 'healthy', pid: view.pid }] }, 'pp stays registered, ready and routable');
  t.equal(service.instances.length, 1);
  t.notOk(JSON.stringify(service).includes('lease'), 'the listing carries no lease');
  t.notMatch(JSON.stringify(await pp.health()), /"claim"/, "its /healthz shows the claim's digest only");
  t.match(await pp.health(), { claimSha256: /^[0-9a-f]{64}$/ });
  const beatsAt = service.instances[0].lastHeartbeat as number;
  await waitFor(async () => (await proxy.api('/v1/services/pp')).body.instances[0].lastHeartbeat > beatsAt, 'pp still beats with its lease', 10_000);
  t.equal(registrations(pp.stderr()), 1, 'pp registered once');
  t.notMatch(pp.stderr(), /registering again/, 'and never lost its lease');

  // kill -9 and start again on the same port (same id) while the old registration is live.
  await pp.stop('SIGKILL');
  const restarted = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: proxy.base, port: view.port });
  // The old registration is listed healthy all along: wait for the new process's own registration.
  await waitFor(async () => (await proxy.api('/v1/services/pp')).body.instances?.[0]?.pid !== view.pid, 'the restarted instance registers over the live registration', 20_000);
  const back = (await proxy.api('/v1/services/pp')).body;
  t.match(back, { status: 'healthy', instances: [{ id: view.id, state: 'ready', status: 'healthy' }] }, 'the restarted instance is in, under its id');
  t.not(back.instances[0].pid, view.pid, 'registered by the new process');
  // Its log line may reach us a moment after the proxy listed it.
  await waitFor(() => registrations(restarted.stderr()) > 0, 'the restarted instance logged its registration');
  t.equal(registrations(restarted.stderr()), 1, 'at its first registration: no retry');
  t.notMatch(restarted.stderr(), /unavailable|HTTP 409/);
  t.match(proxy.stderr(), new RegExp(`instance "${view.id.replace(/\./g, '\\.')}" of service "pp" registered again without its current lease`), 'over the live registration, logged');
  const beat = back.instances[0].lastHeartbeat as number;
  await waitFor(async () => (await proxy.api('/v1/services/pp')).body.instances[0].lastHeartbeat > beat, 'the restarted instance beats with its new lease', 10_000);
});

t.test('the lease survives a proxy restart', async (t) => {
  // Kept 30 s: pp retries 5 s after the proxy went away, and must still be known when it does.
  const slowExpiry = ['--heartbeat-interval', '1', '--heartbeat-timeout', '30'];
  const first = await startProxy(t, { extra: slowExpiry });
  const pp = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: first.base });
  const beatsAt = (await first.api('/v1/services/pp')).body.instances[0].lastHeartbeat as number;
  await waitFor(async () => (await first.api('/v1/services/pp')).body.instances[0].lastHeartbeat > beatsAt, 'pp beats', 10_000);
  // The registration is on disk (writes are coalesced): nothing is waiting to be written.
  await pollJson(`${first.base}/healthz`, (_, body) => body.registry.fileWrites > 0 && body.registry.writePending === false);
  await first.stop('SIGKILL');

  const second = await startProxy(t, { registryFile: first.registryFile, port: first.port, extra: slowExpiry });
  const loaded = (await second.api('/v1/services/pp')).body.instances[0];
  await waitFor(async () => (await second.api('/v1/services/pp')).body.instances[0].lastHeartbeat > loaded.lastHeartbeat, 'pp beats the restarted proxy', 10_000);
  const after = (await second.api('/v1/services/pp')).body.instances[0];
  t.equal(after.updatedAt, loaded.updatedAt, 'its beats were accepted with the stored lease: no new registration');
  t.equal(registrations(pp.stderr()), 1, 'pp registered once in all');
  t.notMatch(pp.stderr(), /registering again/);
});

t.test('an instance the proxy no longer knows registers again after a 404 and gets a new lease', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const pp = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: proxy.base });
  const id = (await proxy.api('/v1/services/pp')).body.instances[0].id as string;
  const client = await connectClient(t, `${proxy.base}/mcp`, {}, 'ops-agent');
  const removed = await client.callTool({ name: 'deregister_service', arguments: { id } });
  t.match(removed.structuredContent, { deregistered: id }, 'an operator removes it without its lease');
  await waitFor(() => proxy.stderr().includes(`instance "${id}" of service "pp" removed by operator "ops-agent"`), 'the proxy logs who removed it', 10_000);
  await waitFor(() => registrations(pp.stderr()) === 2, 'pp registers again after its beat got 404', 10_000);
  t.match(pp.stderr(), /proxy does not know this instance .*: registering again/);
  await pollJson(`${proxy.base}/v1/services/pp`, (status, body) => status === 200 && body.status === 'healthy');
  const beatsAt = (await proxy.api('/v1/services/pp')).body.instances[0].lastHeartbeat as number;
  await waitFor(async () => (await proxy.api('/v1/services/pp')).body.instances[0].lastHeartbeat > beatsAt, 'pp beats with its new lease', 10_000);
  t.equal(registrations(pp.stderr()), 2, 'and keeps beating without registering again');
});
