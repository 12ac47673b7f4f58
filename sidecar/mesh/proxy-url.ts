import type { ProxyConfig } from '../../src/manifest/index.js';

import { DEFAULT_PROXY_URL } from '../../src/client/proxy-url.js';

/** A proxy URL and where it came from, so an error can say why that URL was tried. */
export interface ProxyLocation {
  url: string;
  source: 'flag' | 'manifest' | 'env' | 'default';
  /** `--proxy`, `configs/demo.yaml (proxy section)`, `MESH_PROXY_URL`, `default`. */
  from: string;
}

// A wildcard bind address is reached through loopback.
/** The URL clients use for a manifest's proxy section. */
export function manifestProxyUrl(proxy: Pick<ProxyConfig, 'host' | 'port'>): string {
  const host = proxy.host === '0.0.0.0' || proxy.host === '' ? '127.0.0.1' : proxy.host === '::' ? '::1' : proxy.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${proxy.port}`;
}

/**
 * Finds the proxy: `--proxy URL`, else the manifest's proxy section (`-f FILE`), else
 * `MESH_PROXY_URL`, else http://127.0.0.1:6001.
 * @example resolveProxy({ flag: undefined, manifest: { file: 'configs/demo.yaml', proxy } }, process.env)
 */
export function resolveProxy(
  options: { flag?: string | undefined; manifest?: { file: string; proxy: Pick<ProxyConfig, 'host' | 'port'> } | undefined },
  env: NodeJS.ProcessEnv = process.env,
): ProxyLocation {
  if (options.flag !== undefined && options.flag !== '') return { url: trim(options.flag), source: 'flag', from: '--proxy' };
  if (options.manifest !== undefined) return { url: manifestProxyUrl(options.manifest.proxy), source: 'manifest', from: `${options.manifest.file} (proxy section)` };
  if (env.MESH_PROXY_URL !== undefined && env.MESH_PROXY_URL !== '') return { url: trim(env.MESH_PROXY_URL), source: 'env', from: 'MESH_PROXY_URL' };
  return { url: DEFAULT_PROXY_URL, source: 'default', from: 'the default' };
}

function trim(url: string): string {
  return url.replace(/\/+$/, '');
}
