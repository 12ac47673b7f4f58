import type { ListedInstance, SidecarHealthBody } from './classify.js';
import { requestJson } from './http-json.js';
import type { ToolLike } from './summary.js';

// Every probe `mesh up` and `mesh config` make, in one place: a GET with a deadline whose JSON body
// is returned whatever the status (a sidecar answers its health with 503 while the child is down).
// Both get MESH_TOKEN: the proxy and the sidecars `mesh up` started with it require it on every path, /healthz too.
async function getJson(url: string, timeoutMs: number, _to: 'proxy' | 'sidecar'): Promise<{ ok: boolean; body: unknown } | undefined> {
  // requestJson's deadline timer holds the process open: a server that accepts and never answers
  // cannot end `mesh up` with exit 13 (top-level await never settled).
  try {
    const token = process.env.MESH_TOKEN;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const answer = await requestJson(url, { timeoutMs, headers });
    return answer.body === undefined ? undefined : { ok: answer.ok, body: answer.body };
  } catch {
    return undefined;
  }
}

/** True when a mesh-proxy answers GET /healthz at `url`. */
export async function proxyAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const answer = await getJson(`${url}/healthz`, timeoutMs, 'proxy');
  return answer?.ok === true && (answer.body as { status?: unknown }).status === 'ok';
}

/** Every instance the proxy lists, by service name (undefined when the proxy did not answer). */
export async function listInstances(proxyUrl: string, timeoutMs = 2_000): Promise<Map<string, ListedInstance[]> | undefined> {
  const answer = await getJson(`${proxyUrl}/v1/services`, timeoutMs, 'proxy');
  if (answer?.ok !== true) return undefined;
  const body = answer.body as { services?: { name: string; instances?: ListedInstance[] }[] };
  return new Map((body.services ?? []).map((service) => [service.name, service.instances ?? []]));
}

/** Tools of a service, from the proxy (empty when it cannot say). */
export async function fetchTools(proxyUrl: string, service: string, timeoutMs = 2_000): Promise<ToolLike[]> {
  const answer = await getJson(`${proxyUrl}/v1/services/${encodeURIComponent(service)}/tools`, timeoutMs, 'proxy');
  return answer?.ok === true ? ((answer.body as { tools?: ToolLike[] }).tools ?? []) : [];
}

/** A sidecar's own /healthz body (also answered with 503 while the child is down). */
export async function sidecarHealth(mcpUrl: string, timeoutMs = 1_000): Promise<SidecarHealthBody | undefined> {
  const answer = await getJson(mcpUrl.replace(/\/mcp$/, '/healthz'), timeoutMs, 'sidecar');
  const body = answer?.body as SidecarHealthBody | undefined;
  return typeof body?.state === 'string' ? body : undefined;
}
