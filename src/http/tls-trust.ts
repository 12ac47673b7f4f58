import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { MeshError } from '../errors.js';

// TLS material from files, read once at start: a missing or wrong file is a clear error naming the
// flag, never a handshake failure later. Peers are verified against the system store plus `--ca`.

/** A certificate and its key (PEM), what an HTTPS server of the mesh presents. */
export interface ServerTls {
  cert: string;
  key: string;
}

// An inline PEM is not echoed in errors (a key could be in it).
const shown = (value: string) => (value.includes('-----BEGIN ') ? '(inline PEM)' : value);

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

// A PEM given inline (an option of createInstance()) or the path of a PEM file (a flag).
function readPem(file: string, what: string): string {
  if (file.includes('-----BEGIN ')) return file;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new MeshError('BAD_REQUEST', `${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (expected a PEM file)`, { cause: error });
  }
}

/**
 * The CAs to verify peers against: the system store plus every certificate of the PEM `file`
 * (`--ca`, MESH_CA); undefined without a file (the system store alone, the default).
 * @throws MeshError BAD_REQUEST naming the file when it is unreadable or holds no certificate
 * @example new Pool(origin, { connect: { ca: readCa('/etc/mesh/ca.pem') } })
 */
export function readCa(file: string | undefined, what = '--ca'): string[] | undefined {
  if (file === undefined || file === '') return undefined;
  const certs = readPem(file, what).match(PEM_CERT);
  if (!certs) throw new MeshError('BAD_REQUEST', `${what} ${shown(file)}: no "BEGIN CERTIFICATE" block (expected the PEM of the CA that signed the peers' certificates)`);
  return [...rootCertificates, ...certs];
}

/**
 * The certificate and key of an HTTPS server (`--tls-cert`, `--tls-key`), both or neither.
 * @throws MeshError BAD_REQUEST naming the missing or unreadable one
 * @example readServerTls('cert.pem', 'key.pem') // { cert, key }
 */
export function readServerTls(certFile: string | undefined, keyFile: string | undefined): ServerTls | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new MeshError('BAD_REQUEST', `${certFile ? '--tls-key' : '--tls-cert'} is missing: HTTPS needs both --tls-cert and --tls-key`);
  const cert = readPem(certFile, '--tls-cert');
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new MeshError('BAD_REQUEST', `--tls-cert ${shown(certFile)}: no "BEGIN CERTIFICATE" block`);
  const key = readPem(keyFile, '--tls-key');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new MeshError('BAD_REQUEST', `--tls-key ${shown(keyFile)}: no "BEGIN ... PRIVATE KEY" block`);
  return { cert, key };
}

/** System error codes of a TLS handshake whose peer certificate was not trusted or did not match. */
const CERTIFICATE_CODES = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_|HOSTNAME_MISMATCH)/;

/**
 * What to do about a failed connection's system `code` when it is a certificate problem, else undefined.
 * @example certificateHint('UNABLE_TO_VERIFY_LEAF_SIGNATURE') // 'TLS: the certificate ... --ca / MESH_CA ...'
 */
export function certificateHint(code: string | undefined): string | undefined {
  if (code === undefined || !CERTIFICATE_CODES.test(code)) return undefined;
  return `TLS: the server's certificate was not accepted (${code}); give the CA that signed it with --ca (MESH_CA, or the \`ca\` option), and check that the certificate names the host in the URL`;
}

/**
 * The certificate hint for a failed request whose error, or any error it was caused by, carries a
 * certificate code (libraries wrap it: the SDK's error → fetch's TypeError → the TLS error).
 * @example certificateProblem(sdkError) // 'TLS: the server's certificate was not accepted (...)...' or undefined
 */
export function certificateProblem(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    const hint = typeof code === 'string' ? certificateHint(code) : undefined;
    if (hint) return hint;
    const nested = (current as { errors?: unknown }).errors;
    current = Array.isArray(nested) && nested[0] instanceof Error ? nested[0] : current.cause;
  }
  return undefined;
}
