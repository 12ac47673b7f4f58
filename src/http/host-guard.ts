/** Hostnames a loopback-bound server answers to; anything else in Host or Origin is a DNS-rebinding attempt. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

export interface HostGuardOptions {
  /** Extra hostnames (no port) accepted in Host and Origin, e.g. the machine's name when bound beyond loopback. */
  allowedHosts?: string[] | undefined;
  /** The address the server is bound to; a specific one is accepted too. */
  bindHost?: string | undefined;
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
