import t from 'tap';
import { createHostGuard, LOOPBACK_HOSTS } from '../../src/http/host-guard.js';

// DNS-rebinding protection: only loopback names (plus explicitly allowed ones) pass Host and Origin.
t.test('loopback Host headers pass, with or without a port', async (t) => {
  const guard = createHostGuard();
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5001', '[::1]', '[::1]:5002', 'LOCALHOST:5000']) {
    t.equal(guard(host, undefined), undefined, `Host ${host}`);
  }
  t.ok(LOOPBACK_HOSTS.includes('127.0.0.1'));
});

t.test('a foreign or missing Host is refused and the reason names it', async (t) => {
  const guard = createHostGuard();
  t.match(guard('evil.example:5000', undefined), /Host "evil\.example:5000" is not allowed/);
  t.match(guard('127.0.0.1.evil.example', undefined), /not allowed/, 'a loopback-looking prefix is not loopback');
  t.match(guard('localhost.evil', undefined), /not allowed/);
  t.match(guard('[::2]:80', undefined), /not allowed/);
  t.match(guard(undefined, undefined), /missing Host header/);
  t.match(guard('', undefined), /missing Host header/);
});

t.test('Origin is checked too when present', async (t) => {
  const guard = createHostGuard();
  t.equal(guard('127.0.0.1:5000', 'http://localhost:3000'), undefined);
  t.equal(guard('127.0.0.1:5000', 'http://[::1]:3000'), undefined);
  t.match(guard('127.0.0.1:5000', 'http://evil.example'), /Origin "http:\/\/evil\.example" is not allowed/);
  t.match(guard('127.0.0.1:5000', 'not a url'), /not a valid origin/);
  t.match(guard('127.0.0.1:5000', 'null'), /not a valid origin/, 'opaque origin "null" refused');
});

t.test('allowed hosts and a specific bind address extend the list; wildcards do not', async (t) => {
  const guard = createHostGuard({ allowedHosts: ['Mesh.Local'], bindHost: '10.0.0.5' });
  t.equal(guard('mesh.local:5000', 'http://MESH.local'), undefined, 'allowed host, case-insensitive');
  t.equal(guard('10.0.0.5:5000', undefined), undefined, 'the bind address');
  t.match(guard('10.0.0.6:5000', undefined), /not allowed/);
  const v6 = createHostGuard({ bindHost: 'fe80::1' });
  t.equal(v6('[fe80::1]:5000', undefined), undefined, 'IPv6 bind address in brackets');
  const any = createHostGuard({ bindHost: '0.0.0.0' });
  t.match(any('0.0.0.0:5000', undefined), /not allowed/, '0.0.0.0 is not a name to accept');
  t.match(createHostGuard({ bindHost: '::' })('[::]:5000', undefined), /not allowed/);
  // Bound to every interface: the machine's own addresses (another host calls https://10.77.0.3:5001), never a name.
  const interfaces = {
    eth0: [
      { address: '10.77.0.3', family: 'IPv4' },
      { address: 'fd00::3', family: 'IPv6' },
    ],
  } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
  const wild = createHostGuard({ bindHost: '0.0.0.0', interfaces });
  t.equal(wild('10.77.0.3:5001', undefined), undefined, "an address of the machine's");
  t.equal(wild('[fd00::3]:5001', undefined), undefined, 'IPv6 too');
  t.match(wild('10.77.0.4:5001', undefined), /not allowed/, 'another address is not');
  t.match(wild('evil.example:5001', undefined), /not allowed/, 'nor a name');
  t.match(createHostGuard({ bindHost: '10.77.0.3', interfaces })('[fd00::3]:5001', undefined), /not allowed/, 'a concrete bind accepts its own address only');
});
