import t from 'tap';
import { instanceHostProblem, parseInstanceNetworks } from '../../proxy/registry/instance-networks.js';
import { registrationSchema } from '../../proxy/registry/schemas.js';
import { registration } from '../helpers/proxy-app.js';

t.test('--allow-instances parses CIDR lists (comma-separated, repeatable) and refuses what is not a network', async (t) => {
  t.equal(parseInstanceNetworks(undefined), undefined, 'none by default');
  t.equal(parseInstanceNetworks(['', ' , ']), undefined, 'empty entries are no network');
  t.same(parseInstanceNetworks(['10.0.0.0/8, 192.168.1.0/24', 'fd00::/8', '10.9.9.9'])?.cidrs, ['10.0.0.0/8', '192.168.1.0/24', 'fd00::/8', '10.9.9.9']);
  for (const bad of ['10.0.0.0/33', 'fd00::/129', '10.0.0/8', 'example.com/8', '10.0.0.0/8/1', '10.0.0.0/x', '10.0.0.0/-1', '10.0.0.0/']) {
    t.throws(() => parseInstanceNetworks([bad]), { code: 'BAD_REQUEST', message: new RegExp(`--allow-instances: "${bad.replace(/[./]/g, '\\$&')}" is not a network`) }, bad);
  }
});

t.test('an instance host is accepted when loopback, or an IP address inside a listed network', async (t) => {
  const networks = parseInstanceNetworks(['10.0.0.0/8,192.168.1.0/24,fd00::/8,172.16.5.5']);
  for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]']) t.equal(instanceHostProblem(host, networks), undefined, `${host}: loopback`);
  for (const host of ['10.1.2.3', '192.168.1.77', 'fd00::2', '[fd00::2]', '::ffff:10.0.0.7', '172.16.5.5']) t.equal(instanceHostProblem(host, networks), undefined, `${host}: inside`);
  for (const host of ['11.0.0.1', '192.168.2.1', 'fe80::1', '172.16.5.6', '0.0.0.0', '::ffff:11.0.0.1']) {
    t.match(
      instanceHostProblem(host, networks),
      /is not in the networks this proxy accepts instances from \(--allow-instances 10\.0\.0\.0\/8,192\.168\.1\.0\/24,fd00::\/8,172\.16\.5\.5\)/,
      `${host}: outside`,
    );
  }
  t.match(
    instanceHostProblem('gpu-box.lan', networks),
    /host "gpu-box\.lan" is not an IP address; --allow-instances .* admits IP addresses only: register an IP URL \(mesh-sidecar --advertise-url\)/,
    'host names are never resolved',
  );
  t.match(instanceHostProblem('10.1.2.3', undefined), /not loopback and this proxy does not accept remote instances \(start it with --allow-instances/, 'never by default');
});

t.test('the registration schema applies the allow list to the url and the host field', async (t) => {
  const schema = registrationSchema({ allowInstances: parseInstanceNetworks(['10.0.0.0/8']) });
  const inside = registration('far-1', 'far', { url: 'http://10.0.0.5:5001/mcp', host: '10.0.0.5', port: 5001 });
  t.ok(schema.safeParse(inside).success, 'inside the network');
  const outside = schema.safeParse({ ...inside, url: 'https://11.0.0.5:5001/mcp' });
  t.match(outside.error?.issues, [{ path: ['url'], message: /host "11\.0\.0\.5" is not in the networks/ }], 'the url host outside is refused, naming the field');
  const badHost = schema.safeParse({ ...inside, host: '11.0.0.5' });
  t.match(badHost.error?.issues, [{ path: ['host'] }], 'so is the host field');
  t.notOk(registrationSchema().safeParse(inside).success, 'the default proxy refuses it');
});
