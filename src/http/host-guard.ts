import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** Hostnames a loopback-bound server answers to; anything else in Host or Origin is a DNS-rebinding attempt. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

export interface HostGuardOptions {
  /** Extra hostnames (no port) accepted in Host and Origin, e.g. the machine's name when bound beyond loopback. */
  allowedHosts?: string[] | undefined;
  /** The address the server is bound to; a specific one is accepted too, and for 0.0.0.0 / :: every address of the machine. */
  bindHost?: string | undefined;
  /** The machine's addresses (default os.networkInterfaces()); tests inject them. */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

// Bound to every interface, a server is reached at any address of the machine (another host calls
// https://10.0.0.7:5001): those IP literals are accepted. A DNS-rebinding attack needs a name, and
// names stay refused unless listed.
function ownAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  return Object.values(interfaces).flatMap((infos) => (infos ?? []).map((info) => (info.family === 'IPv6' ? `[${info.address.toLowerCase()}]` : info.address)));
}

export type HostGuard = (host: string | undefined, origin: string | undefined) => string | undefined;

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  const colon = hostHeader.indexOf(':');
  return (colon === -1 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/**
 * Builds the Host/Origin check every HTTP endpoint applies. Returns undefined when the request may
 * pass, or the reason it may not (for a 403 body).
 */
export function createHostGuard(options: HostGuardOptions = {}): HostGuard {
  const allowed = new Set([...LOOPBACK_HOSTS, ...(options.allowedHosts ?? []).map((h) => h.toLowerCase())]);
  const bind = options.bindHost;
  if (bind && bind !== '0.0.0.0' && bind !== '::') allowed.add(bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind);
  if (bind === '0.0.0.0' || bind === '::') for (const address of ownAddresses(options.interfaces ?? networkInterfaces())) allowed.add(address);
  return (host, origin) => {
    if (!host) return 'missing Host header';
    if (!allowed.has(hostnameOf(host))) return `Host "${host}" is not allowed (DNS-rebinding protection); allowed: ${[...allowed].join(', ')}`;
    if (origin === undefined) return undefined;
    let originHost: string;
    try {
      originHost = new URL(origin).hostname.toLowerCase();
    } catch {
      return `Origin "${origin}" is not a valid origin`;
    }
    if (!allowed.has(originHost)) return `Origin "${origin}" is not allowed (DNS-rebinding protection)`;
    return undefined;
  };
}
