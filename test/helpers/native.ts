import type { Test } from 'tap';
import { freePort, pollJson, spawnNode, type Spawned } from './processes.js';

export interface RunningNative extends Spawned {
  port: number;
  url: string;
  base: string;
  health(): Promise<any>;
}

export interface NativeSpec {
  /** Script under dist/, e.g. examples/cmc/index.js. */
  script: string;
  /** MESH_SERVICE_NAME. */
  name: string;
  /** mesh-proxy URL to register with (default: standalone, MESH_NO_PROXY=1). */
  proxy?: string;
  env?: Record<string, string>;
  /** MESH_PORT (default: a free port). */
  port?: number;
}

/**
 * Starts a native instance the way `mesh up` does (its command, configured by MESH_* variables) on
 * a free port, waits for its /healthz and, with a proxy, for the proxy to list it healthy.
 */
export async function startNative(t: Test, spec: NativeSpec): Promise<RunningNative> {
  const port = spec.port ?? (await freePort());
  const env: Record<string, string> = { MESH_SERVICE_NAME: spec.name, MESH_PORT: String(port), MESH_HEARTBEAT: '1', ...spec.env };
  if (spec.proxy) env.MESH_PROXY_URL = spec.proxy;
  else env.MESH_NO_PROXY = '1';
  const spawned = spawnNode(spec.script, [], env);
  t.teardown(() => spawned.stop());
  const base = `http://127.0.0.1:${port}`;
  try {
    await pollJson(`${base}/healthz`, (status, body) => status === 200 && body.state === 'ready');
    if (spec.proxy) await pollJson(`${spec.proxy}/v1/services/${spec.name}`, (status, body) => status === 200 && body.status === 'healthy');
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${spec.name} stderr:\n${spawned.stderr()}`, { cause: error });
  }
  return { ...spawned, port, url: `${base}/mcp`, base, health: () => fetch(`${base}/healthz`).then((r) => r.json()) };
}
