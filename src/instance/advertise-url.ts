import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { MeshError } from '../errors.js';

/** A wildcard bind address: the instance listens on every interface, so none of them names it. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

// The first address of the machine another host can reach (not loopback, not link-local).
function firstExternalIPv4(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) if (info.family === 'IPv4' && !info.internal) return info.address;
  }
  return undefined;
}

const bracket = (host: string) => (isIP(host) === 6 ? `[${host}]` : host);

/**
 * The URL an instance registers with the proxy (the one the proxy calls): `advertiseUrl` as given
 * (`/mcp` added when it has no path); else from the bind address: a concrete address as is, a
 * wildcard (0.0.0.0, ::) as the machine's first non-internal IPv4 address (127.0.0.1 when it has none).
 * @throws MeshError BAD_REQUEST when `advertiseUrl` is not an http(s) URL
 * @example advertisedUrl({ host: '0.0.0.0', port: 5001, tls: true }) // 'https://10.0.0.7:5001/mcp'
 */
export function advertisedUrl(options: { host: string; port: number; tls: boolean; advertiseUrl?: string | undefined; interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]> }): string {
  if (options.advertiseUrl !== undefined && options.advertiseUrl !== '') {
    let url: URL;
    try {
      url = new URL(options.advertiseUrl);
    } catch {
      throw new MeshError('BAD_REQUEST', `--advertise-url ${options.advertiseUrl}: not a URL (expected e.g. https://10.0.0.7:5001/mcp)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MeshError('BAD_REQUEST', `--advertise-url ${options.advertiseUrl}: expected an http:// or https:// URL`);
    if (url.pathname === '/') url.pathname = '/mcp';
    return url.href;
  }
  const host = WILDCARDS.has(options.host) ? (firstExternalIPv4(options.interfaces ?? networkInterfaces()) ?? '127.0.0.1') : options.host.replace(/^\[|\]$/g, '');
  return `${options.tls ? 'https' : 'http'}://${bracket(host)}:${options.port}/mcp`;
}
