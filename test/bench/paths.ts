import { fileURLToPath } from 'node:url';
import type { BenchPath, StartedPath } from './bench-path.js';
import { spawnTracked, type Tracked } from './child-processes.js';
import type { ToolCall } from './driver.js';
import { freePort } from './free-port.js';
import { openStdioDriver } from './stdio-driver.js';
import { httpStatus, waitReady } from './wait-ready.js';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
const everything = `${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;
const sidecarCli = `${root}dist/sidecar/cli.js`;
const supergatewayCli = `${root}node_modules/supergateway/dist/index.js`;
const node = process.execPath;

export const ECHO: ToolCall = { name: 'echo', arguments: { message: 'hello from mm-bench' } };

/** The environment of spawned bridges: no proxy to register with, so the run stays self-contained. */
function benchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MESH_PROXY_URL;
  return env;
}

function httpStarted(proc: Tracked, url: string): StartedPath {
  return { rssPid: proc.pid, spawnedAt: proc.spawnedAt, url, stop: () => proc.stop() };
}

/** 1. A lean JSON-RPC driver writing lines on the server's stdin: the floor every bridge is measured against. */
const direct: BenchPath = {
  name: 'direct',
  description: 'lean driver → stdio → server-everything',
  async start() {
    const proc = spawnTracked('server-everything', node, [everything, 'stdio'], { ownStdout: true });
    return { rssPid: proc.pid, spawnedAt: proc.spawnedAt, openDriver: (call) => openStdioDriver(proc, call), stop: () => proc.stop() };
  },
};

/** 2. mesh-sidecar wrapping the server; ready when /healthz answers 200 (child initialized, tools read). */
const sidecar: BenchPath = {
  name: 'sidecar',
  description: 'HTTP → mesh-sidecar → stdio → server-everything',
  targets: { minThroughputVsSupergateway: 3, maxP50VsSupergateway: 0.5 },
  async start({ bridgeNodeFlags }) {
    const port = await freePort();
    const proc = spawnTracked('mesh-sidecar', node, [...bridgeNodeFlags, sidecarCli, '--name', 'bench', '--port', String(port), '--', node, everything, 'stdio'], { env: benchEnv() });
    const base = `http://127.0.0.1:${port}`;
    await waitReady(proc, 'GET /healthz', async () => (await httpStatus(`${base}/healthz`)) === 200);
    return httpStarted(proc, `${base}/mcp`);
  },
};

/**
 * 3. supergateway, stateful Streamable HTTP. It spawns one child per MCP session (at initialize),
 * so "ready" is its HTTP listener (a health endpoint) and the child's start is in the initialize time.
 * Logging is off: at the default level it prints every message, which would slow it down unfairly.
 */
const supergateway: BenchPath = {
  name: 'supergateway',
  description: 'HTTP → supergateway (streamableHttp, stateful) → stdio → server-everything',
  async start({ bridgeNodeFlags }) {
    const port = await freePort();
    const proc = spawnTracked(
      'supergateway',
      node,
      [
        ...bridgeNodeFlags,
        supergatewayCli,
        '--stdio',
        `'${node}' '${everything}' stdio`,
        '--outputTransport',
        'streamableHttp',
        '--stateful',
        '--port',
        String(port),
        '--healthEndpoint',
        '/healthz',
        '--logLevel',
        'none',
      ],
      { env: benchEnv() },
    );
    const base = `http://127.0.0.1:${port}`;
    await waitReady(proc, 'GET /healthz', async () => (await httpStatus(`${base}/healthz`)) === 200);
    return httpStarted(proc, `${base}/mcp`);
  },
};

/** Every path, in the order the report lists them. A later issue appends the proxy paths here. */
export const PATHS: readonly BenchPath[] = [direct, sidecar, supergateway];
