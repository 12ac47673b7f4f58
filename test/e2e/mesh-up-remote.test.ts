import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MeshClient } from '../../src/client/index.js';
import { dist, fixture, waitFor } from '../helpers/processes.js';
import { runMesh, tearDownMeshes } from '../helpers/mesh-cli.js';
import { getJson, healthyOn, proxyWith } from '../helpers/tls-mesh.js';
import { makeCerts, noOpenssl } from '../helpers/tls.js';

// Issue 12: `mesh up` of a manifest whose proxy section names a proxy elsewhere (proxy.url) starts
// only the services, over HTTPS with the manifest's CA, and registers them there; `mesh down`
// stops them and leaves that proxy running.
t.test('mesh up with a proxy.url section: only the local services, registered there over TLS', { skip: noOpenssl(), timeout: 180_000 }, async (t) => {
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home') };
  const certs = makeCerts(join(dir, 'pki'), { ips: [] });
  const proxy = await proxyWith(t, ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--ca', certs.caFile], { caFile: certs.caFile });
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    `version: 1
proxy:
  url: ${proxy.base}
  ca: ./pki/ca.pem
  heartbeatInterval: 1
services:
  echo:
    command: python3
    args: [${fixture('echo_server.py')}]
    tlsCert: ./pki/cert.pem
    tlsKey: ./pki/key.pem
  pp:
    kind: native
    command: node
    args: [${dist('test/fixtures/ping-pong-instance.js')}]
    env: { PEER: pp }
    tlsCert: ./pki/cert.pem
    tlsKey: ./pki/key.pem
`,
  );
  tearDownMeshes(t, dir, env, [file]);

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 0, `every service healthy\n${up.stdout}\n${up.stderr}`);
  t.match(up.stdout, new RegExp(`using the mesh-proxy already running at ${proxy.base.replace(/[.]/g, '\\.')} \\(URL from .*mesh\\.yaml \\(proxy section\\)\\)`), 'no proxy started');
  const [echo] = await healthyOn(proxy.base, 'echo', certs.caFile);
  const [pp] = await healthyOn(proxy.base, 'pp', certs.caFile);
  t.match(echo.url, /^https:\/\/127\.0\.0\.1:\d+\/mcp$/, 'the sidecar registered its https URL');
  t.match(pp.url, /^https:\/\/127\.0\.0\.1:\d+\/mcp$/, 'so did the native instance');

  const mesh = new MeshClient({ proxyUrl: proxy.base, ca: certs.caFile, caller: 'remote-test' });
  t.teardown(() => mesh.close());
  const relayed = await mesh.call('pp', 'relay', {});
  t.match(relayed.structuredContent, { peer: { caller: 'pp' } }, "a native handler's ctx.mesh call goes through the https proxy with MESH_CA");

  const down = await runMesh(['down', file], { env });
  t.equal(down.code, 0, down.stderr);
  t.match(down.stdout, new RegExp(`the mesh-proxy at ${proxy.base.replace(/[.]/g, '\\.')} was already running and keeps running`));
  await waitFor(async () => (await getJson(`${proxy.base}/v1/services`, certs.caFile))?.body.services.length === 0, 'the services deregistered from the proxy');
  t.equal((await getJson(`${proxy.base}/healthz`, certs.caFile))?.status, 200, 'the proxy keeps running');
});
