import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { makeCerts, noOpenssl } from '../helpers/tls.js';

// Completes a TLS handshake against `ca` and reports whether the server's certificate verified.
function handshake(port: number, ca: string, servername: string): Promise<{ authorized: boolean; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(ca), servername, rejectUnauthorized: false }, () => {
      resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString() });
      socket.end();
    });
  });
}

t.test('makeCerts: the leaf verifies against its own CA only, with the SANs asked for', { skip: noOpenssl() }, async (t) => {
  const dir = t.testdir();
  const certs = makeCerts(`${dir}/a`, { ips: ['10.77.0.2'], dnsNames: ['proxy-a'] });
  const other = makeCerts(`${dir}/b`, { ips: [] });
  const server = createServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as AddressInfo).port;
  t.same(await handshake(port, certs.caFile, 'localhost'), { authorized: true, error: undefined });
  t.same(await handshake(port, certs.caFile, 'proxy-a'), { authorized: true, error: undefined });
  const wrong = await handshake(port, other.caFile, 'localhost');
  t.equal(wrong.authorized, false, 'a different CA does not verify the leaf');
  const san = new X509Certificate(readFileSync(certs.certFile)).subjectAltName ?? '';
  t.match(san, /IP Address:127\.0\.0\.1/);
  t.match(san, /IP Address:10\.77\.0\.2/);
  t.match(san, /DNS:proxy-a/);
});
