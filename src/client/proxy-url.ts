/** Where the mesh-proxy is when nothing says otherwise. */
export const DEFAULT_PROXY_URL = 'http://127.0.0.1:6001';

const trim = (url: string) => url.replace(/\/+$/, '');

// Comma-separated lists, trimmed, empty entries dropped.
function split(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(','))
    .map((value) => trim(value.trim()))
    .filter((value) => value !== '');
}

/**
 * The proxy's base URL: an explicit one, else `MESH_PROXY_URL`, else the default (an empty value
 * counts as unset); trailing slashes removed. With several (comma-separated), the first.
 * @example proxyUrlFrom(undefined, { MESH_PROXY_URL: 'http://10.0.0.2:6001/' }) // 'http://10.0.0.2:6001'
 */
export function proxyUrlFrom(explicit?: string, env: Record<string, string | undefined> = process.env): string {
  return proxyUrlsFrom(explicit === undefined ? undefined : [explicit], env)[0] as string;
}

/**
 * The proxies of one mesh, in the order to try them: the explicit ones (each may be a
 * comma-separated list), else `MESH_PROXY_URL` (comma-separated), else the default.
 * @example proxyUrlsFrom(undefined, { MESH_PROXY_URL: 'https://a:6001,https://b:6001' }) // ['https://a:6001', 'https://b:6001']
 */
export function proxyUrlsFrom(explicit?: string | readonly string[], env: Record<string, string | undefined> = process.env): string[] {
  const given = split(typeof explicit === 'string' ? [explicit] : (explicit ?? []));
  if (given.length > 0) return given;
  const fromEnv = split([env.MESH_PROXY_URL ?? '']);
  return fromEnv.length > 0 ? fromEnv : [DEFAULT_PROXY_URL];
}
