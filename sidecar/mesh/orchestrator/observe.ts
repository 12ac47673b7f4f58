import type { ListedInstance, SidecarHealthBody } from './classify.js';

/** Every instance the proxy lists, by service name (undefined when the proxy did not answer). */
export async function listInstances(proxyUrl: string, timeoutMs = 2_000): Promise<Map<string, ListedInstance[]> | undefined> {
  try {
    const response = await fetch(`${proxyUrl}/v1/services`, { signal: AbortSignal.timeout(timeoutMs), headers: authHeaders() });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { services?: { name: string; instances?: ListedInstance[] }[] };
    return new Map((body.services ?? []).map((service) => [service.name, service.instances ?? []]));
  } catch {
    return undefined;
  }
}

/** A sidecar's own /healthz body (also answered with 503 while the child is down). */
export async function sidecarHealth(mcpUrl: string, timeoutMs = 1_000): Promise<SidecarHealthBody | undefined> {
  try {
    const response = await fetch(mcpUrl.replace(/\/mcp$/, '/healthz'), { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as SidecarHealthBody;
    return typeof body.state === 'string' ? body : undefined;
  } catch {
    return undefined;
  }
}

function authHeaders(): Record<string, string> {
  const token = process.env.MESH_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}
