import t from 'tap';
import { DEFAULT_PROXY_URL, proxyUrlFrom } from '../../src/client/proxy-url.js';
import { MeshClient } from '../../src/client/index.js';
import { resolveInstanceOptions } from '../../src/instance/instance-options.js';

t.test('explicit, then MESH_PROXY_URL, then the default; empty counts as unset; no trailing slash', async (t) => {
  t.equal(proxyUrlFrom('http://a:1/', { MESH_PROXY_URL: 'http://b:2' }), 'http://a:1');
  t.equal(proxyUrlFrom(undefined, { MESH_PROXY_URL: 'http://b:2//' }), 'http://b:2');
  t.equal(proxyUrlFrom(undefined, { MESH_PROXY_URL: '' }), DEFAULT_PROXY_URL);
  t.equal(proxyUrlFrom(undefined, {}), 'http://127.0.0.1:6001');
});

t.test('MeshClient and native instances find the proxy the same way', async (t) => {
  const saved = process.env.MESH_PROXY_URL;
  t.teardown(() => {
    if (saved === undefined) delete process.env.MESH_PROXY_URL;
    else process.env.MESH_PROXY_URL = saved;
  });
  process.env.MESH_PROXY_URL = '';
  const client = new MeshClient();
  t.teardown(() => client.close());
  t.equal(client.proxy, DEFAULT_PROXY_URL, 'an empty MESH_PROXY_URL is unset for the client too');
  t.equal(resolveInstanceOptions({ name: 'x' }, { MESH_PROXY_URL: 'http://c:3/' }).proxyUrl, 'http://c:3');
});
