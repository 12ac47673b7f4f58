import t from 'tap';
import { MeshClient, ProxyUnreachable, text } from '../../src/client/index.js';
import { freePort, waitFor } from '../helpers/processes.js';
import { echoSidecar, getJson, healthyOn, proxyWith } from '../helpers/tls-mesh.js';

// Issue 12, several proxies: a sidecar registers with one proxy at a time and fails over in order;
// MeshClient sends a request to the next proxy only when it never reached one.

t.test('a sidecar with two proxy URLs, the first dead, registers with the second; when that one dies, back to the first', { timeout: 120_000 }, async (t) => {
  const firstPort = await freePort();
  const first = `http://127.0.0.1:${firstPort}`;
  const second = await proxyWith(t, []);
  const sidecar = await echoSidecar(t, 'echo', ['--proxy', `${first},${second.base}`]);
  await healthyOn(second.base, 'echo');
  let health = (await getJson(`${sidecar.base}/healthz`))?.body;
  t.match(health.proxy, { url: second.base, registered: true }, 'registered with the second proxy');
  t.match(sidecar.stderr(), new RegExp(`mesh-proxy at ${first} unavailable \\(.*ECONNREFUSED.*\\); failing over to ${second.base}`), 'saying why it moved on');

  const revived = await proxyWith(t, [], { port: firstPort });
  await second.stop('SIGKILL');
  await healthyOn(revived.base, 'echo');
  await waitFor(async () => {
    health = (await getJson(`${sidecar.base}/healthz`))?.body;
    return health?.proxy?.url === first && health.proxy.registered === true;
  }, 'the sidecar re-registered with the first proxy');
  // It keeps heart-beating there: the instance stays healthy past the proxy's heartbeat timeout (6 s).
  const joined = (await getJson(`${revived.base}/v1/services/echo`))?.body.instances[0];
  await waitFor(async () => (await getJson(`${revived.base}/v1/services/echo`))?.body.instances[0]?.lastHeartbeat !== joined.lastHeartbeat, 'a heartbeat reached the new proxy');
  t.equal((await getJson(`${revived.base}/v1/services/echo`))?.body.status, 'healthy');
});

t.test('MeshClient fails over to the next proxy for a request that never reached one', { timeout: 120_000 }, async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const live = await proxyWith(t, []);
  await echoSidecar(t, 'echo', ['--proxy', live.base]);
  await healthyOn(live.base, 'echo');
  const mesh = new MeshClient({ proxyUrl: [dead, live.base], caller: 'failover-test' });
  t.teardown(() => mesh.close());
  t.equal(text(await mesh.call('echo', 'echo', { text: 'via the second' })), 'via the second', 'a refused connection: the call goes to the next proxy');
  t.equal(mesh.proxy, live.base, 'and the client stays with the proxy that answered');
  t.same(
    (await mesh.services()).map((s) => s.name),
    ['echo'],
  );
  const audit = (await getJson(`${live.base}/v1/audit?limit=10`))?.body.entries.filter((entry: any) => entry.caller === 'failover-test');
  t.equal(audit.length, 1, 'the call ran once');

  const none = new MeshClient({ proxyUrl: [dead, `http://127.0.0.1:${await freePort()}`] });
  t.teardown(() => none.close());
  const error = await none.call('echo', 'echo', { text: 'x' }).catch((failure: unknown) => failure);
  t.type(error, ProxyUnreachable);
  t.match((error as Error).message, /cannot reach any of the mesh-proxies: http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\), http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});
