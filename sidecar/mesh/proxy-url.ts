import { hostname, networkInterfaces } from 'node:os';
import type { ProxyConfig } from '../../src/manifest/index.js';

import { DEFAULT_PROXY_URL } from '../../src/client/proxy-url.js';

/** A proxy URL and where it came from, so an error can say why that URL was tried. */
export interface ProxyLocation {
  url: string;
  source: 'flag' | 'manifest' | 'env' | 'default';
  /** `--proxy`, `configs/demo.yaml (proxy section)`, `MESH_PROXY_URL`, `default`. */
  from: string;
  /** Every proxy of the mesh, comma-separated, when the manifest's `proxy.url` names several (registration fails over in order). */
  all?: string;
}

// A wildcard bind address is reached through loopback.
/** The URL clients use for a manifest's proxy section. */
export function manifestProxyUrl(proxy: Pick<ProxyConfig, 'host' | 'port'> & Partial<Pick<ProxyConfig, 'url' | 'tlsCert'>>): string {
  const [first] = (proxy.url ?? '').split(',').map((url) => trim(url.trim()));
  if (first) return first;
  const scheme = proxy.tlsCert === undefined ? 'http' : 'https';
  const host = proxy.host === '0.0.0.0' || proxy.host === '' ? '127.0.0.1' : proxy.host === '::' ? '::1' : proxy.host;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${proxy.port}`;
}

/**
 * Finds the proxy: `--proxy URL`, else the manifest's proxy section (`-f FILE`), else
 * `MESH_PROXY_URL`, else http://127.0.0.1:6001.
 * @example resolveProxy({ flag: undefined, manifest: { file: 'configs/demo.yaml', proxy } }, process.env)
 */
export function resolveProxy(
  options: { flag?: string | undefined; manifest?: { file: string; proxy: Pick<ProxyConfig, 'host' | 'port'> & Partial<Pick<ProxyConfig, 'url' | 'tlsCert'>> } | undefined },
  env: NodeJS.ProcessEnv = process.env,
): ProxyLocation {
  if (options.flag !== undefined && options.flag !== '') return listed(options.flag, 'flag', '--proxy');
  if (options.manifest !== undefined) {
    const all = options.manifest.proxy.url?.includes(',') ? options.manifest.proxy.url : undefined;
    return { url: manifestProxyUrl(options.manifest.proxy), source: 'manifest', from: `${options.manifest.file} (proxy section)`, ...(all && { all }) };
  }
  if (env.MESH_PROXY_URL !== undefined && env.MESH_PROXY_URL !== '') return listed(env.MESH_PROXY_URL, 'env', 'MESH_PROXY_URL');
  return { url: DEFAULT_PROXY_URL, source: 'default', from: 'the default' };
}

function trim(url: string): string {
  return url.replace(/\/+$/, '');
}

// A comma-separated list of the mesh's proxies: the first is the one asked; `all` keeps them for failover.
function listed(value: string, source: ProxyLocation['source'], from: string): ProxyLocation {
  const urls = value
    .split(',')
    .map((url) => trim(url.trim()))
    .filter((url) => url !== '');
  return { url: urls[0] ?? trim(value), source, from, ...(urls.length > 1 && { all: urls.join(',') }) };
}

/**
 * True when `url` names another machine: its host is neither loopback, nor this machine's name,
 * nor one of its addresses. `mesh up` never starts a proxy there (the manifest's `proxy.url`).
 * @example isRemoteProxy('https://10.0.0.2:6001') // true unless 10.0.0.2 is this machine
 */
export function isRemoteProxy(url: string, interfaces = networkInterfaces(), name = hostname()): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === name.toLowerCase() || host.startsWith('127.') || host === '::1') return false;
  const own = Object.values(interfaces).flatMap((infos) => (infos ?? []).map((info) => info.address.toLowerCase()));
  return !own.includes(host);
}
