import t from 'tap';
import { MeshClient, ProxyUnreachable, text } from '../../src/client/index.js';
import { waitFor } from '../helpers/processes.js';
import { tempDir } from '../helpers/proxy.js';
import { echoSidecar, getJson, healthyOn, proxyWith } from '../helpers/tls-mesh.js';
import { makeCerts, noOpenssl } from '../helpers/tls.js';

// Issue 12, other hosts, on loopback with real processes: proxy, sidecar and MeshClient over HTTPS
// with a test CA; a wrong CA is refused with an error that says so.

t.test('proxy + sidecar + MeshClient over HTTPS with a test CA', { skip: noOpenssl(), timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const certs = makeCerts(`${dir}/mesh`, { ips: [] });
  const other = makeCerts(`${dir}/other`, { ips: [] });
  const tls = ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--ca', certs.caFile];
  const proxy = await proxyWith(t, tls, { caFile: certs.caFile });
  t.match(proxy.stdout(), /ready at https:\/\/127\.0\.0\.1:\d+/, 'the proxy serves HTTPS');
  t.equal(await getJson(`${proxy.base}/healthz`), undefined, 'a client without the CA gets no answer');

  const sidecar = await echoSidecar(t, 'echo', [...tls, '--proxy', proxy.base]);
  const [instance] = await healthyOn(proxy.base, 'echo', certs.caFile);
  t.equal(instance.url, `https://127.0.0.1:${sidecar.port}/mcp`, 'the sidecar registered its https URL');

  const mesh = new MeshClient({ proxyUrl: proxy.base, ca: certs.caFile, caller: 'tls-test' });
  t.teardown(() => mesh.close());
  t.equal(text(await mesh.call('echo', 'echo', { text: 'over TLS, both hops' })), 'over TLS, both hops', 'client → proxy → sidecar over HTTPS');

  const wrong = new MeshClient({ proxyUrl: proxy.base, ca: other.caFile });
  t.teardown(() => wrong.close());
  const refused = await wrong.services().catch((error: unknown) => error);
  t.type(refused, ProxyUnreachable);
  t.match((refused as Error).message, /TLS: the server's certificate was not accepted \([A-Z_]+\); give the CA that signed it with --ca/, 'a wrong CA: a clear error');

  const lost = await echoSidecar(t, 'lost', [...tls.slice(0, 4), '--ca', other.caFile, '--proxy', proxy.base]);
  let health: any;
  await waitFor(async () => {
    health = (await getJson(`${lost.base}/healthz`, certs.caFile))?.body;
    return typeof health?.proxy?.lastError === 'string';
  }, 'the sidecar with the wrong CA reports why it is not registered');
  t.match(health.proxy, { registered: false, lastError: /TLS: the server's certificate was not accepted/ });
  t.equal((await getJson(`${proxy.base}/v1/services/lost`, certs.caFile))?.status, 404, 'and is not registered');
});

t.test('a proxy whose --ca does not trust the instance cannot call it', { skip: noOpenssl(), timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const certs = makeCerts(`${dir}/mesh`, { ips: [] });
  const other = makeCerts(`${dir}/other`, { ips: [] });
  // The proxy trusts only `other`; the sidecar's certificate is signed by the mesh CA.
  const proxy = await proxyWith(t, ['--tls-cert', other.certFile, '--tls-key', other.keyFile, '--ca', other.caFile], { caFile: other.caFile });
  await echoSidecar(t, 'echo', ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--ca', other.caFile, '--proxy', proxy.base]);
  await healthyOn(proxy.base, 'echo', other.caFile);
  const mesh = new MeshClient({ proxyUrl: proxy.base, ca: other.caFile });
  t.teardown(() => mesh.close());
  const failed = await mesh.call('echo', 'echo', { text: 'x' }).catch((error: unknown) => error);
  t.match((failed as Error).message, /TLS: the server's certificate was not accepted \([A-Z_]+\)/, 'the hop to the instance verifies its certificate, and says so');
});

t.test('a sidecar bound to 0.0.0.0 registers its --advertise-url and answers to it', { skip: noOpenssl(), timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  // 127.0.0.2 reaches this machine (all of 127/8 is loopback) but is no name the sidecar knows otherwise.
  const certs = makeCerts(`${dir}/mesh`, { ips: ['127.0.0.2'] });
  const token = 'advertise-test-token';
  const tls = ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--ca', certs.caFile, '--token', token];
  const proxy = await proxyWith(t, tls, { caFile: certs.caFile, auth: token });
  const sidecar = await echoSidecar(t, 'echo', [...tls, '--host', '0.0.0.0', '--proxy', proxy.base, '--advertise-url', 'https://127.0.0.2:PORT/mcp']);
  const [instance] = await healthyOn(proxy.base, 'echo', certs.caFile, 30_000, token);
  t.equal(instance.url, `https://127.0.0.2:${sidecar.port}/mcp`, 'the advertised URL is registered');
  t.equal(instance.id, `echo.127.0.0.2.${sidecar.port}`, 'and names the instance');
  const mesh = new MeshClient({ proxyUrl: proxy.base, ca: certs.caFile, token });
  t.teardown(() => mesh.close());
  t.equal(text(await mesh.call('echo', 'echo', { text: 'to the advertised URL' })), 'to the advertised URL', 'the proxy reaches it there (Host 127.0.0.2 accepted)');
});
