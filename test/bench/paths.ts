import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchPath, StartedPath } from './bench-path.js';
import { spawnTracked, type Tracked } from './child-processes.js';
import type { ToolCall } from './driver.js';
import { freePort } from './free-port.js';
import { openStdioDriver } from './stdio-driver.js';
import { openModernDriver } from './modern-driver.js';
import { httpJson, httpStatus, waitReady } from './wait-ready.js';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
const everything = `${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;
const sidecarCli = `${root}dist/sidecar/cli.js`;
export const proxyCli = `${root}dist/proxy/cli.js`;
const supergatewayCli = `${root}node_modules/supergateway/dist/index.js`;
const otlpSink = `${root}dist/test/bench/otlp-sink.js`;
const node = process.execPath;

const MESSAGE = 'hello from mm-bench';
export const ECHO: ToolCall = { name: 'echo', arguments: { message: MESSAGE } };

/** The environment of spawned bridges: no proxy to register with, so the run stays self-contained. */
export function benchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MESH_PROXY_URL;
  delete env.MESH_TOKEN;
  return env;
}

/** A mesh-proxy of its own: a fresh registry in a temporary folder (also its MESH_HOME), API and /mcp on one free port. */
export interface BenchProxy {
  readonly proc: Tracked;
  readonly base: string;
  readonly dir: string;
  readonly registryFile: string;
  /** Stops the proxy and removes its folder (idempotent). */
  stop(): Promise<void>;
}

/**
 * Spawns `mesh-proxy --port P --mcp-port 0 --registry <tmp>/registry.sqlite` (or `--registry <registry>`,
 * e.g. a postgres:// URL); ready when GET /healthz is 200.
 */
export async function startBenchProxy(nodeFlags: readonly string[] = [], extraArgs: readonly string[] = [], extraEnv: NodeJS.ProcessEnv = {}, registry?: string): Promise<BenchProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-proxy-'));
  const registryFile = registry ?? join(dir, 'registry.sqlite');
  const port = await freePort();
  const proc = spawnTracked('mesh-proxy', node, [...nodeFlags, proxyCli, '--port', String(port), '--mcp-port', '0', '--registry', registryFile, ...extraArgs], {
    env: { ...benchEnv(), MESH_HOME: dir, ...extraEnv },
  });
  const base = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= proc.stop().finally(() => rmSync(dir, { recursive: true, force: true })));
  try {
    await waitReady(proc, 'GET /healthz', async () => (await httpStatus(`${base}/healthz`)) === 200);
  } catch (error) {
    await stop();
    throw error;
  }
  return { proc, base, dir, registryFile, stop };
}

function httpStarted(proc: Tracked, url: string, role: string): StartedPath {
  return { rssPid: proc.pid, processes: [{ role, pid: proc.pid }], spawnedAt: proc.spawnedAt, url, stop: () => proc.stop() };
}

/** 1. A lean JSON-RPC driver writing lines on the server's stdin: the floor every bridge is measured against. */
const direct: BenchPath = {
  name: 'direct',
  description: 'lean driver → stdio → server-everything',
  async start() {
    const proc = spawnTracked('server-everything', node, [everything, 'stdio'], { ownStdout: true });
    return { rssPid: proc.pid, processes: [{ role: 'server', pid: proc.pid }], spawnedAt: proc.spawnedAt, openDriver: (call) => openStdioDriver(proc, call), stop: () => proc.stop() };
  },
};

/** 2. mesh-sidecar wrapping the server; ready when /healthz answers 200 (child initialized, tools read). */
const sidecar: BenchPath = {
  name: 'sidecar',
  description: 'HTTP → mesh-sidecar → stdio → server-everything',
  targets: { minThroughputVsSupergateway: 5, maxP50VsSupergateway: 0.5 },
  async start({ bridgeNodeFlags }) {
    const port = await freePort();
    const proc = spawnTracked('mesh-sidecar', node, [...bridgeNodeFlags, sidecarCli, '--name', 'bench', '--port', String(port), '--', node, everything, 'stdio'], { env: benchEnv() });
    const base = `http://127.0.0.1:${port}`;
    await waitReady(proc, 'GET /healthz', async () => (await httpStatus(`${base}/healthz`)) === 200);
    return httpStarted(proc, `${base}/mcp`, 'sidecar');
  },
};

/** 2b. The same sidecar reached by 2026-07-28 requests (stateless, no session): `lean` takes its lean path, `sdk` asks for a log level, which takes the SDK's per-request handler. */
function sidecarModern(variant: 'lean' | 'sdk'): BenchPath {
  return {
    name: variant === 'lean' ? 'sidecar-modern' : 'sidecar-modern-sdk',
    description: `HTTP 2026-07-28 (${variant === 'lean' ? 'plain tools/call: lean path' : 'with a log level: SDK createMcpHandler'}) → mesh-sidecar → stdio → server-everything`,
    noSdk: true,
    ...(variant === 'lean' && { targets: { minThroughputVsSupergateway: 5 } }),
    async start(context) {
      const started = await sidecar.start(context);
      const url = started.url!;
      const { url: _url, ...rest } = started;
      return { ...rest, openDriver: (call, connections) => openModernDriver(url, call, { connections, ...(variant === 'sdk' ? { logLevel: 'error' } : {}) }) };
    },
  };
}

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
    return httpStarted(proc, `${base}/mcp`, 'supergateway');
  },
};

/**
 * The full route: a mesh-proxy, and a mesh-sidecar wrapping the server registered with it; ready
 * when the proxy lists service "bench" as healthy. The proxy is "the bridge" of the report (its CPU
 * and RSS; --cpu-prof profiles it); the sidecar (and the server under it) are measured beside it.
 * `registry`: the proxy's --registry (default: a fresh sql.js file).
 */
export async function startMeshRoute(bridgeNodeFlags: string[], extraEnv: NodeJS.ProcessEnv = {}, after?: () => Promise<void>, registry?: string): Promise<StartedPath> {
  const proxy = await startBenchProxy(bridgeNodeFlags, [], extraEnv, registry);
  let sidecarProc: Tracked | undefined;
  const stop = async () => {
    // The sidecar first: it deregisters from a proxy that is still there.
    await sidecarProc?.stop();
    await proxy.stop();
    await after?.();
  };
  try {
    const port = await freePort();
    sidecarProc = spawnTracked('mesh-sidecar', node, [sidecarCli, '--name', 'bench', '--port', String(port), '--proxy', proxy.base, '--', node, everything, 'stdio'], {
      env: { ...benchEnv(), MESH_HOME: proxy.dir, ...extraEnv },
    });
    await waitReady([proxy.proc, sidecarProc], 'service "bench" healthy in the proxy', async () => {
      const { status, body } = await httpJson(`${proxy.base}/v1/services/bench`);
      return status === 200 && (body as { status?: unknown }).status === 'healthy';
    });
    return {
      rssPid: proxy.proc.pid,
      processes: [
        { role: 'proxy', pid: proxy.proc.pid },
        { role: 'sidecar', pid: sidecarProc.pid },
      ],
      spawnedAt: proxy.proc.spawnedAt,
      url: `${proxy.base}/mcp`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** 4. The proxy's mesh tool call_service → sidecar → server (tool named in the arguments). */
const proxyCallService: BenchPath = {
  name: 'proxy-call',
  description: 'HTTP → mesh-proxy /mcp call_service → mesh-sidecar → stdio → server-everything',
  toolCall: { name: 'call_service', arguments: { service: 'bench', tool: 'echo', arguments: { message: MESSAGE } } },
  // The SDK client adds the same client-side cost as on proxy-tool; skipping it here keeps the default run near 3 minutes.
  noSdk: true,
  targets: { minThroughputVsSupergateway: 3 },
  start: ({ bridgeNodeFlags }) => startMeshRoute(bridgeNodeFlags),
};

/** The namespaced echo of the full route's service "bench". */
export const PROXY_TOOL_CALL: ToolCall = { name: 'bench__echo', arguments: { message: MESSAGE } };

/** 5. The proxy's namespaced tool bench__echo → sidecar → server. */
const proxyNamespaced: BenchPath = {
  name: 'proxy-tool',
  description: 'HTTP → mesh-proxy /mcp bench__echo → mesh-sidecar → stdio → server-everything',
  toolCall: PROXY_TOOL_CALL,
  targets: { minThroughputVsSupergateway: 3 },
  start: ({ bridgeNodeFlags }) => startMeshRoute(bridgeNodeFlags),
};

/** 5b. The same full route for a 2026-07-28 client: stateless plain tools/call (no session) on the proxy's /mcp. */
const proxyNamespacedModern: BenchPath = {
  name: 'proxy-tool-modern',
  description: 'HTTP 2026-07-28 → mesh-proxy /mcp bench__echo → mesh-sidecar → stdio → server-everything',
  toolCall: proxyNamespaced.toolCall,
  noSdk: true,
  targets: { minThroughputVsSupergateway: 3 },
  async start({ bridgeNodeFlags }) {
    const started = await startMeshRoute(bridgeNodeFlags);
    const url = started.url!;
    const { url: _url, ...rest } = started;
    return { ...rest, openDriver: (call, connections) => openModernDriver(url, call, { connections }) };
  },
};

/**
 * 5c. proxy-tool with tracing on: OTEL_EXPORTER_OTLP_ENDPOINT names a local OTLP/HTTP receiver (a
 * process of its own, not measured as part of the route), so the proxy and the sidecar record
 * their spans and export them (JSON, batched) while the load runs. Its stop checks spans arrived.
 */
const proxyNamespacedTraced: BenchPath = {
  name: 'proxy-tool-traced',
  description: 'proxy-tool with tracing on: proxy and sidecar export spans over OTLP/HTTP to a local receiver',
  toolCall: proxyNamespaced.toolCall,
  targets: { minThroughputVsSupergateway: 3 },
  async start({ bridgeNodeFlags }) {
    const port = await freePort();
    const sink = spawnTracked('otlp-receiver', node, [otlpSink, String(port)], { env: benchEnv() });
    const endpoint = `http://127.0.0.1:${port}`;
    const stopSink = async () => {
      const stats = await httpJson(`${endpoint}/stats`).catch(() => undefined);
      await sink.stop();
      const spans = (stats?.body as { spans?: number } | undefined)?.spans ?? 0;
      if (spans === 0) process.stderr.write('proxy-tool-traced: the OTLP receiver got no spans\n');
    };
    try {
      await waitReady(sink, 'GET /stats', async () => (await httpStatus(`${endpoint}/stats`)) === 200);
    } catch (error) {
      await sink.stop();
      throw error;
    }
    // Exported every second at most (the SDK's default is 5 s), so the run includes the export work.
    return startMeshRoute(bridgeNodeFlags, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '1000' }, stopSink);
  },
};

/** Every path, in the order the report lists them. */
export const PATHS: readonly BenchPath[] = [
  direct,
  sidecar,
  sidecarModern('lean'),
  sidecarModern('sdk'),
  supergateway,
  proxyCallService,
  proxyNamespaced,
  proxyNamespacedTraced,
  proxyNamespacedModern,
];
