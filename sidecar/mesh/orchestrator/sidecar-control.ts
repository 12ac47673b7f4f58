import { z } from 'zod';
import { MeshError } from '../../../src/errors.js';

const RestartAnswerSchema = z.object({ state: z.string(), pid: z.number().nullable(), lastError: z.string().nullable().optional() });

/**
 * Asks the sidecar at `mcpUrl` to restart its child in place (POST /control/restart with the run's
 * token); resolves with the new child's pid once it is ready, throws naming the reason otherwise.
 * @example const { pid } = await restartSidecarChild('http://127.0.0.1:5001/mcp', token)
 */
export async function restartSidecarChild(mcpUrl: string, token: string, timeoutMs = 60_000): Promise<{ pid: number | undefined }> {
  const url = mcpUrl.replace(/\/mcp$/, '/control/restart');
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new MeshError('SERVICE_UNAVAILABLE', `the sidecar at ${url} did not answer the restart request: ${(error as Error).message}`, { cause: error });
  }
  const parsed = RestartAnswerSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new MeshError('SERVICE_UNAVAILABLE', `the sidecar at ${url} answered the restart request with HTTP ${response.status} and no restart result (a sidecar older than this mesh CLI?)`);
  if (parsed.data.state !== 'ready') throw new MeshError('CHILD_START_FAILED', `the server restarted by ${url} is ${parsed.data.state}${parsed.data.lastError ? `: ${parsed.data.lastError}` : ''}`);
  return { pid: parsed.data.pid ?? undefined };
}
