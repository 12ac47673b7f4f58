import { proxyRequest } from '../../../src/client/proxy-request.js';
import { enabledRemotes, type ResolvedManifest } from '../../../src/manifest/index.js';

/**
 * Tells a running proxy the manifest's named views and remote servers (PUT /v1/views and
 * /v1/remotes replace the whole sets), so a re-applied manifest or a proxy this run did not start
 * serves them. A failure is reported, not thrown: the services run either way.
 */
export async function pushViews(proxyUrl: string, manifest: ResolvedManifest): Promise<string | undefined> {
  const transport = { proxy: proxyUrl, fetch: globalThis.fetch, token: process.env.MESH_TOKEN || undefined };
  try {
    await proxyRequest(transport, { method: 'PUT', path: '/v1/views', body: { views: manifest.views }, timeoutMs: 10_000 });
    await proxyRequest(transport, { method: 'PUT', path: '/v1/remotes', body: { remotes: enabledRemotes(manifest) }, timeoutMs: 10_000 });
    return undefined;
  } catch (error) {
    return `the views and remote servers could not be applied at ${proxyUrl}: ${(error as Error).message}`;
  }
}

/** True when the manifest has something only the proxy serves: views or remote servers. */
export const hasProxyConfig = (manifest: ResolvedManifest) => Object.keys(manifest.views).length > 0 || Object.keys(manifest.remotes).length > 0;
