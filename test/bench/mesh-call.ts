/**
 * The mesh side of the comparison: a real mesh-proxy (temporary registry, free port) and a real
 * mesh-sidecar wrapping the same stdio server as service "fs", called by the app API
 * `MeshClient.call('fs', tool, args)` over the proxy's /v1 HTTP API.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MeshClient, type CallToolResult } from '../../src/client/index.js';
import { spawnTracked, type Tracked } from './child-processes.js';
import { freePort } from './free-port.js';
import { benchEnv, root, startBenchProxy } from './paths.js';
import { httpJson, waitReady } from './wait-ready.js';

const sidecarCli = join(root, 'dist/sidecar/cli.js');

export interface MeshRoute {
  readonly service: string;
  /** Proxy spawn until the service is listed healthy (proxy start + sidecar start + registration). */
  readonly readyMs: number;
  readonly processes: readonly Tracked[];
  call(tool: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** Sidecar first (it deregisters from a live proxy), then the proxy. */
  stop(): Promise<void>;
}

/** Starts proxy + sidecar for `server` (argv of a stdio MCP server) and a MeshClient on the proxy. */
export async function startMeshRoute(service: string, server: readonly string[], timeoutMs = 30_000): Promise<MeshRoute> {
  const proxy = await startBenchProxy();
  let sidecar: Tracked | undefined;
  const mesh = new MeshClient({ proxy: proxy.base, caller: 'mm-bench' });
  const stop = async () => {
    await mesh.close();
    await sidecar?.stop();
    await proxy.stop();
  };
  try {
    const port = await freePort();
    const [command = '', ...args] = server;
    sidecar = spawnTracked('mesh-sidecar', process.execPath, [sidecarCli, '--name', service, '--port', String(port), '--proxy', proxy.base, '--', command, ...args], {
      env: { ...benchEnv(), MESH_HOME: proxy.dir },
    });
    await waitReady(
      [proxy.proc, sidecar],
      `service "${service}" healthy in the proxy`,
      async () => {
        const { status, body } = await httpJson(`${proxy.base}/v1/services/${service}`);
        return status === 200 && (body as { status?: unknown }).status === 'healthy';
      },
      timeoutMs,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const readyMs = performance.now() - proxy.proc.spawnedAt;
  return {
    service,
    readyMs,
    processes: [proxy.proc, sidecar],
    call: (tool, args) => mesh.call(service, tool, args),
    stop,
  };
}
