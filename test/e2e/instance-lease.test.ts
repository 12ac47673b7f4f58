import t from 'tap';
import { startNative } from '../helpers/native.js';
import { pollJson, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient } from '../helpers/sidecar.js';

// An instance's lease, end to end with a real proxy and a real native instance (the registration
// runtime sidecars share): only its holder beats or deregisters it, the lease survives a proxy
// restart, and an instance the proxy forgot registers again and gets a new one.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];
const registrations = (stderr: string) => stderr.match(/registered with .* as /g)?.length ?? 0;

t.test('a token holder without the lease cannot mark an instance crashloop or remove it; the lease survives a proxy restart', async (t) => {
  const first = await startProxy(t, { extra: fast });
  const pp = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: first.base });
  const id = (await first.api('/v1/services/pp')).body.instances[0].id as string;

  for (const [what, headers] of [['no lease', {}], ['a wrong lease', { 'x-mesh-lease': 'A'.repeat(43) }]] as const) {
    const beat = await first.api(`/v1/instances/${id}/heartbeat`, { method: 'PUT', body: JSON.stringify({ name: 'pp', state: 'crashloop' }), headers });
    t.equal(beat.status, 409, `a crashloop beat with ${what}: 409`);
    t.match(beat.body.error.message, /heartbeat of instance .* refused/);
    const removed = await first.api(`/v1/instances/${id}`, { method: 'DELETE', headers });
    t.equal(removed.status, 409, `DELETE with ${what}: 409`);
  }
  const service = (await first.api('/v1/services/pp')).body;
  t.match(service, { status: 'healthy', instances: [{ id, state: 'ready', status: 'healthy' }] }, 'pp stays registered, ready and routable');
  t.notOk(JSON.stringify(service).includes('lease'), 'the listing carries no lease');

  // The instance's own beats carry its lease: it never had to register again.
  const beatsAt = service.instances[0].lastHeartbeat as number;
  await waitFor(async () => (await first.api('/v1/services/pp')).body.instances[0].lastHeartbeat > beatsAt, 'pp beats', 10_000);
  // The registration is on disk (writes are coalesced): nothing is waiting to be written.
  await pollJson(`${first.base}/healthz`, (_, body) => body.registry.fileWrites > 0 && body.registry.writePending === false);
  await first.stop('SIGKILL');

  const second = await startProxy(t, { registryFile: first.registryFile, port: first.port, extra: fast });
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
