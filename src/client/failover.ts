import { certificateHint } from '../http/tls-trust.js';
import { ProxyUnreachable } from './errors.js';

/** System codes of a connection that was never made: the request never reached a proxy. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * True when a request that could not reach one proxy may go to the next: always when it never
 * reached it (no connection made, or its certificate refused before anything was sent); for a
 * lookup (GET) also when the connection broke on the way. A POST (a tool call) that may have run is
 * never sent twice.
 * @example mayTryNextProxy(error, 'POST') // true only for ECONNREFUSED and the like
 */
export function mayTryNextProxy(error: ProxyUnreachable, method: string): boolean {
  if (method === 'GET') return true;
  const code = typeof error.context.systemCode === 'string' ? error.context.systemCode : undefined;
  return code !== undefined && (NEVER_CONNECTED.has(code) || certificateHint(code) !== undefined);
}

/** The error when no proxy of the list could be reached: each proxy with why (one proxy: its own error). */
export function allUnreachable(failures: ProxyUnreachable[]): ProxyUnreachable {
  const [only] = failures;
  if (failures.length === 1 && only) return only;
  const each = failures.map((failure) => `${failure.context.proxy} (${typeof failure.context.systemCode === 'string' ? failure.context.systemCode : 'unreachable'})`);
  return new ProxyUnreachable(`cannot reach any of the mesh-proxies: ${each.join(', ')}; start one, or point MESH_PROXY_URL / the \`proxyUrl\` option at running ones`, {
    cause: failures.at(-1),
    context: { proxy: failures.map((failure) => failure.context.proxy).join(',') },
  });
}
