import t from 'tap';
import { advertisedUrl } from '../../src/instance/advertise-url.js';
import { DEFAULT_PROXY_URL, proxyUrlFrom, proxyUrlsFrom } from '../../src/client/proxy-url.js';
import { allUnreachable, mayTryNextProxy } from '../../src/client/failover.js';
import { ProxyUnreachable } from '../../src/client/errors.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { RegistrationClient } from '../../src/instance/registration.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { startProxy } from '../../proxy/proxy.js';
import { freePort, waitFor } from '../helpers/processes.js';

t.test('several proxy URLs: flags (repeated, comma lists), else MESH_PROXY_URL (comma list), else the default', async (t) => {
  t.same(proxyUrlsFrom(['https://a:6001/, https://b:6001', 'https://c:6001'], { MESH_PROXY_URL: 'http://env:1' }), ['https://a:6001', 'https://b:6001', 'https://c:6001'], 'flags win, in order');
  t.same(proxyUrlsFrom(undefined, { MESH_PROXY_URL: 'https://a:6001,https://b:6001/' }), ['https://a:6001', 'https://b:6001']);
  t.same(proxyUrlsFrom(['', ' '], { MESH_PROXY_URL: '' }), [DEFAULT_PROXY_URL], 'empty means unset');
  t.equal(proxyUrlFrom(undefined, { MESH_PROXY_URL: 'https://a:6001,https://b:6001' }), 'https://a:6001', 'one URL wanted: the first');
  const client = new MeshClient({ proxyUrl: ['http://127.0.0.1:1', 'http://127.0.0.1:2/'] });
  t.same(client.proxies, ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  t.equal(client.proxy, 'http://127.0.0.1:1', 'starts with the first');
});

t.test('--advertise-url, or the URL derived from the bind address', async (t) => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: 'fd00::2', family: 'IPv6', internal: false },
      { address: '10.77.0.3', family: 'IPv4', internal: false },
    ],
    eth1: [{ address: '192.168.9.9', family: 'IPv4', internal: false }],
  } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
  t.equal(advertisedUrl({ host: '127.0.0.1', port: 5001, tls: false, interfaces }), 'http://127.0.0.1:5001/mcp', 'a concrete address as is');
  t.equal(advertisedUrl({ host: '10.77.0.3', port: 5001, tls: true, interfaces }), 'https://10.77.0.3:5001/mcp', 'https with TLS');
  t.equal(advertisedUrl({ host: '::1', port: 5001, tls: false, interfaces }), 'http://[::1]:5001/mcp', 'IPv6 bracketed');
  t.equal(advertisedUrl({ host: '0.0.0.0', port: 5002, tls: true, interfaces }), 'https://10.77.0.3:5002/mcp', '0.0.0.0: the first non-internal IPv4');
  t.equal(advertisedUrl({ host: '::', port: 5002, tls: false, interfaces }), 'http://10.77.0.3:5002/mcp', ':: likewise');
  t.equal(advertisedUrl({ host: '0.0.0.0', port: 5002, tls: false, interfaces: { lo: interfaces.lo } }), 'http://127.0.0.1:5002/mcp', 'loopback when the machine has nothing else');
  t.equal(advertisedUrl({ host: '0.0.0.0', port: 5002, tls: false, advertiseUrl: 'https://gpu.lan:443', interfaces }), 'https://gpu.lan/mcp', 'given: as is, /mcp added to a bare origin');
  t.equal(advertisedUrl({ host: '0.0.0.0', port: 5002, tls: false, advertiseUrl: 'https://10.0.0.9:7000/x/mcp' }), 'https://10.0.0.9:7000/x/mcp');
  t.throws(() => advertisedUrl({ host: '0.0.0.0', port: 1, tls: false, advertiseUrl: 'ftp://x' }), { code: 'BAD_REQUEST', message: /--advertise-url ftp:\/\/x: expected an http/ });
  t.throws(() => advertisedUrl({ host: '0.0.0.0', port: 1, tls: false, advertiseUrl: 'not a url' }), { code: 'BAD_REQUEST', message: /not a URL/ });
});

const unreachable = (proxy: string, systemCode?: string) => new ProxyUnreachable(`cannot reach ${proxy}`, { context: systemCode ? { proxy, systemCode } : { proxy } });

t.test('what may go to the next proxy: a request that never reached one; a GET also after a broken connection', async (t) => {
  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'])
    t.ok(mayTryNextProxy(unreachable('a', code), 'POST'), `POST after ${code}`);
  for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', undefined]) t.notOk(mayTryNextProxy(unreachable('a', code), 'POST'), `never a POST after ${code ?? 'an unknown failure'}: the tool may have run`);
  t.ok(mayTryNextProxy(unreachable('a', 'ECONNRESET'), 'GET'), 'a lookup is idempotent');
  const all = allUnreachable([unreachable('http://a:1', 'ECONNREFUSED'), unreachable('http://b:2', 'ENOTFOUND')]);
  t.match(all.message, /cannot reach any of the mesh-proxies: http:\/\/a:1 \(ECONNREFUSED\), http:\/\/b:2 \(ENOTFOUND\)/);
  const one = unreachable('http://a:1', 'ECONNREFUSED');
  t.equal(allUnreachable([one]), one, 'one proxy: its own error');
});

t.test('a registration tries the proxies in order, from the one that failed to the next, and stays where it registered', { timeout: 60_000 }, async (t) => {
  const proxy = await startProxy({ host: '127.0.0.1', port: 0, mcpPort: 0, heartbeatTimeoutMs: 60_000, version: 'test', log: silentLogger });
  t.teardown(() => proxy.stop());
  const dead = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (message) => warnings.push(message), child: () => log };
  const client = new RegistrationClient({
    proxyUrl: [dead[0] as string, dead[1] as string, proxy.url],
    describe: () => ({ id: 'svc.127.0.0.1.9', name: 'svc', url: 'http://127.0.0.1:9/mcp', host: '127.0.0.1', port: 9, tags: [], tools: [], toolsHash: 'h', version: '1', kind: 'native' }),
    intervalMs: 60_000,
    retryMs: 60_000,
    log,
  });
  t.teardown(() => client.stop());
  client.start();
  await waitFor(() => client.registered, 'registered with the third proxy');
  t.equal(client.base, proxy.url);
  t.match(warnings, [
    new RegExp(`^mesh-proxy at ${dead[0]} unavailable \\(.*ECONNREFUSED.*\\); failing over to ${dead[1]}$`),
    new RegExp(`^mesh-proxy at ${dead[1]} unavailable .*; failing over to ${proxy.url}$`),
  ]);
  t.equal(proxy.core.registry.stats().instances, 1, 'registered once, there');
});

t.test('a whole round of dead proxies waits before the next round', { timeout: 60_000 }, async (t) => {
  const dead = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (message) => warnings.push(message), child: () => log };
  const client = new RegistrationClient({
    proxyUrl: dead,
    describe: () => ({ id: 'a.127.0.0.1.9', name: 'a', url: 'http://127.0.0.1:9/mcp', host: '127.0.0.1', port: 9, tags: [], tools: [], toolsHash: 'h', version: '1', kind: 'native' }),
    retryMs: 60_000,
    log,
  });
  t.teardown(() => client.stop());
  client.start();
  await waitFor(() => warnings.length >= 2, 'both proxies tried');
  t.match(warnings[1], new RegExp(`mesh-proxy at ${dead[1]} unavailable .*; no proxy answers: retrying with ${dead[0]}`));
  t.equal(warnings.length, 2, 'later rounds are not logged again');
  t.notOk(client.registered);
});

t.test('a proxy that is away at first (starting beside us) is tried again soon, not after retryMs', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const client = new RegistrationClient({
    proxyUrl: `http://127.0.0.1:${port}`,
    describe: () => ({ id: 'early.127.0.0.1.9', name: 'early', url: 'http://127.0.0.1:9/mcp', host: '127.0.0.1', port: 9, tags: [], tools: [], toolsHash: 'h', version: '1', kind: 'native' }),
    retryMs: 60_000,
    log: silentLogger,
  });
  t.teardown(() => client.stop());
  client.start();
  await waitFor(() => client.lastError !== undefined, 'the first attempt failed');
  const proxy = await startProxy({ host: '127.0.0.1', port, mcpPort: 0, heartbeatTimeoutMs: 60_000, version: 'test', log: silentLogger });
  t.teardown(() => proxy.stop());
  // The first retries come after 250 ms, 500 ms, 1 s...: well within 15 s, where retryMs would be 60 s.
  await waitFor(() => client.registered, 'registered once the proxy answers', 15_000);
  t.equal(proxy.core.registry.stats().instances, 1);
});
