import { proxyRequest } from '../../../src/client/proxy-request.js';
import type { Views } from '../../../src/contract/views.js';

/**
 * Tells a running proxy the manifest's named views (PUT /v1/views replaces the whole set), so a
 * re-applied manifest or a proxy this run did not start serves them. A failure is reported, not
 * thrown: the services run either way.
 */
export async function pushViews(proxyUrl: string, views: Views): Promise<string | undefined> {
  const transport = { proxy: proxyUrl, fetch: globalThis.fetch, token: process.env.MESH_TOKEN || undefined };
  try {
    await proxyRequest(transport, { method: 'PUT', path: '/v1/views', body: { views }, timeoutMs: 10_000 });
    return undefined;
  } catch (error) {
    return `the views could not be applied at ${proxyUrl}: ${(error as Error).message}`;
  }
}
