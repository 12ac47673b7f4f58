import type { ResolvedManifest } from './resolve-paths.js';

/** A fixed port of an enabled service that `mesh up` could never bind. */
export interface PortProblem {
  service: string;
  message: string;
}

/**
 * Fixed ports that clash: two services (or replicas, which use port, port+1, ...) on one port,
 * or a service on the proxy's `port` or `mcpPort` (the proxy binds them first).
 * @example checkManifestPorts(manifest) // [{ service: 'fs', message: 'port 6001 is proxy.port (the mesh-proxy listens there)' }]
 */
export function checkManifestPorts(manifest: ResolvedManifest): PortProblem[] {
  const owners = new Map<number, string>();
  if (manifest.proxy.port !== 0) owners.set(manifest.proxy.port, 'proxy.port');
  if (manifest.proxy.mcpPort !== 0 && manifest.proxy.mcpPort !== manifest.proxy.port) owners.set(manifest.proxy.mcpPort, 'proxy.mcpPort');
  const problems: PortProblem[] = [];
  for (const [name, service] of Object.entries(manifest.services)) {
    if (!service.enabled || service.port === undefined || service.port === 0) continue;
    for (let replica = 0; replica < service.replicas; replica++) {
      const port = service.port + replica;
      const owner = owners.get(port);
      const replicaNote = service.replicas > 1 ? ' (replicas use port, port+1, ...)' : '';
      if (owner?.startsWith('proxy.') === true) problems.push({ service: name, message: `port ${port} is ${owner} (the mesh-proxy listens there)${replicaNote}` });
      else if (owner !== undefined && owner !== name) problems.push({ service: name, message: `port ${port} is also ${owner}'s${replicaNote}` });
      if (owner === undefined) owners.set(port, name);
    }
  }
  return problems;
}
