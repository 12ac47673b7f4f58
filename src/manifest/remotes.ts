import type { RemoteService } from '../contract/remotes.js';
import type { ResolvedManifest } from './resolve-paths.js';

/**
 * The manifest's enabled remote servers as the proxy takes them (PUT /v1/remotes, --manifest).
 * @example await api.put('/v1/remotes', { remotes: enabledRemotes(manifest) })
 */
export function enabledRemotes(manifest: ResolvedManifest): Record<string, RemoteService> {
  const remotes: Record<string, RemoteService> = {};
  for (const [name, remote] of Object.entries(manifest.remotes)) if (remote.enabled) remotes[name] = { url: remote.url, headers: remote.headers, tags: remote.tags };
  return remotes;
}
