import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseManifest } from '../../src/manifest/index.js';
import { isRemoteProxy, resolveProxy } from '../../sidecar/mesh/proxy-url.js';
import { ProxyKeeper } from '../../sidecar/mesh/orchestrator/proxy-keeper.js';
import { planLaunches } from '../../sidecar/mesh/orchestrator/plan.js';
import { otherHostArgs } from '../../sidecar/mesh/orchestrator/proxy-launch.js';
import { refOf } from '../../sidecar/mesh/process-refs.js';

const interfaces = { lo: [{ address: '127.0.0.1' }], eth0: [{ address: '10.77.0.3' }, { address: 'fd00::3' }] } as unknown as Parameters<typeof isRemoteProxy>[1];

t.test('a proxy URL is remote unless it names this machine (loopback, its name, one of its addresses)', async (t) => {
  for (const url of ['http://127.0.0.1:6001', 'https://localhost:6001', 'https://[::1]:6001', 'https://10.77.0.3:6001', 'https://[fd00::3]:6001', 'https://box:6001'])
    t.notOk(isRemoteProxy(url, interfaces, 'box'), url);
  for (const url of ['https://10.77.0.9:6001', 'https://gpu.lan:6001', 'http://[fd00::9]:6001']) t.ok(isRemoteProxy(url, interfaces, 'box'), url);
});

const manifest = (proxy: string) =>
  parseManifest(
    `version: 1\nproxy:\n${proxy}\nservices:\n  echo:\n    command: python3\n    host: 0.0.0.0\n    advertiseUrl: https://10.77.0.3:5001/mcp\n    tlsCert: ./c.pem\n    tlsKey: ./k.pem\n  nat:\n    kind: native\n    command: node\n    tlsCert: ./c.pem\n    tlsKey: ./k.pem\n`,
    '/etc/mesh/mesh.yaml',
  );

t.test('the proxy section: url (one or several), TLS files against the manifest folder, and what the launches get', async (t) => {
  const m = manifest('  url: https://10.77.0.9:6001,https://10.77.0.10:6001\n  ca: ./ca.pem\n  allowInstances: [10.0.0.0/8]\n  allowPlainHttp: true\n  tlsCert: /pki/p.pem\n  tlsKey: /pki/p.key');
  t.equal(m.proxy.ca, '/etc/mesh/ca.pem');
  t.equal(m.services.echo?.tlsCert, '/etc/mesh/c.pem');
  const location = resolveProxy({ manifest: { file: 'mesh.yaml', proxy: m.proxy } });
  t.match(location, { url: 'https://10.77.0.9:6001', source: 'manifest', all: 'https://10.77.0.9:6001,https://10.77.0.10:6001' });
  const [echo, nat] = planLaunches(m, { proxyUrl: location.all ?? location.url, node: 'node', sidecarScript: 'sidecar.js' });
  const flag = (name: string) => echo?.args[(echo.args.indexOf(name) ?? -2) + 1];
  t.equal(flag('--proxy'), 'https://10.77.0.9:6001,https://10.77.0.10:6001', 'every proxy, for failover');
  t.same(
    [flag('--host'), flag('--advertise-url'), flag('--tls-cert'), flag('--tls-key'), flag('--ca')],
    ['0.0.0.0', 'https://10.77.0.3:5001/mcp', '/etc/mesh/c.pem', '/etc/mesh/k.pem', '/etc/mesh/ca.pem'],
  );
  t.match(nat?.env, { MESH_PROXY_URL: 'https://10.77.0.9:6001,https://10.77.0.10:6001', MESH_TLS_CERT: '/etc/mesh/c.pem', MESH_TLS_KEY: '/etc/mesh/k.pem', MESH_CA: '/etc/mesh/ca.pem' });
  t.same(otherHostArgs(m.proxy), ['--tls-cert', '/pki/p.pem', '--tls-key', '/pki/p.key', '--ca', '/etc/mesh/ca.pem', '--allow-instances', '10.0.0.0/8', '--allow-plain-http']);
  t.throws(() => manifest('  url: ftp://x'), { code: 'MANIFEST_INVALID', message: /proxy\.url: expected an http\(s\) URL/ });
});

t.test('mesh up never starts a proxy for a remote proxy.url (nothing is contacted)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-remote-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const m = manifest('  url: https://203.0.113.7:6001');
  const location = resolveProxy({ manifest: { file: 'mesh.yaml', proxy: m.proxy } });
  const keeper = new ProxyKeeper({ manifest: m, location, runDir: dir, home: dir, supervisor: refOf(process.pid) });
  const state = await keeper.start(new AbortController().signal);
  t.match(state, { url: 'https://203.0.113.7:6001', started: false });
  t.same(await keeper.release(), { stopped: false, keptFor: [] }, 'and mesh down leaves it alone');
});

t.test('the mesh CLI takes several proxies from --proxy or MESH_PROXY_URL: the first is asked, all are kept', async (t) => {
  t.same(resolveProxy({ flag: 'https://a:1/, https://b:2' }, {}), { url: 'https://a:1', source: 'flag', from: '--proxy', all: 'https://a:1,https://b:2' });
  t.same(resolveProxy({}, { MESH_PROXY_URL: 'https://a:1,https://b:2/' }), { url: 'https://a:1', source: 'env', from: 'MESH_PROXY_URL', all: 'https://a:1,https://b:2' });
  t.same(resolveProxy({}, { MESH_PROXY_URL: 'https://a:1' }), { url: 'https://a:1', source: 'env', from: 'MESH_PROXY_URL' }, 'one URL: no list');
});
