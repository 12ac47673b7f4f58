import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files of a test PKI: a CA and one leaf (server and client auth) signed by it. */
export interface TestCerts {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface MakeCertsOptions {
  /** IP addresses of the leaf's SAN, besides 127.0.0.1 (always there). */
  ips: string[];
  /** DNS names of the leaf's SAN, besides localhost (always there). */
  dnsNames?: string[];
}

const missing = 'needs openssl: install the Debian package openssl';

/**
 * The one-line reason to skip a test that needs certificates, or undefined when the openssl CLI runs.
 * @example t.test('over HTTPS', { skip: noOpenssl() }, async (t) => { ... });
 */
export function noOpenssl(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return missing;
  }
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(missing, { cause: error });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: error });
  }
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a fresh CA and a leaf certificate signed by it in `dir` (created when missing), with the openssl CLI.
 * Synchronous, so `await makeCerts(...)` and `makeCerts(...)` both work. Each call makes a different CA,
 * so two calls give a "wrong CA" for each other.
 * @example const { caFile, certFile, keyFile } = makeCerts(t.testdir(), { ips: ['10.77.0.2'] });
 */
export function makeCerts(dir: string, options: MakeCertsOptions): TestCerts {
  mkdirSync(dir, { recursive: true });
  const ips = ['127.0.0.1', ...options.ips.filter((ip) => ip !== '127.0.0.1')];
  const names = ['localhost', ...(options.dnsNames ?? []).filter((name) => name !== 'localhost')];
  const san = [...ips.map((ip) => `IP:${ip}`), ...names.map((name) => `DNS:${name}`)].join(',');
  writeFileSync(join(dir, 'leaf.ext'), [`subjectAltName=${san}`, 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth', ''].join('\n'));
  openssl(
    [
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '3',
      '-subj',
      '/CN=MM test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(['req', ...ecKey, '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', `/CN=${names[0] ?? 'localhost'}`], dir);
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '3', '-extfile', 'leaf.ext'], dir);
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
}
