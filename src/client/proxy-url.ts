/** Where the mesh-proxy is when nothing says otherwise. */
export const DEFAULT_PROXY_URL = 'http://127.0.0.1:6001';

/**
 * The proxy's base URL: an explicit one, else `MESH_PROXY_URL`, else the default (an empty value
 * counts as unset); trailing slashes removed.
 * @example proxyUrlFrom(undefined, { MESH_PROXY_URL: 'http://10.0.0.2:6001/' }) // 'http://10.0.0.2:6001'
 */
export function proxyUrlFrom(explicit?: string, env: Record<string, string | undefined> = process.env): string {
  return (explicit || env.MESH_PROXY_URL || DEFAULT_PROXY_URL).replace(/\/+$/, '');
}
