/**
 * `node dist/test/bench/proxy-eras.js [rounds] [seconds] [concurrency]`: echo calls/s through the
 * proxy's /mcp for a legacy session and for stateless 2026-07-28 requests, in interleaved rounds,
 * on two routes: to a mesh-sidecar (legacy hop, server-everything) and to a 2026-07-28-only
 * instance (test/fixtures/modern-echo.js: the stateless hop). Medians and the proxy's CPU per call.
 */
import type { StartedPath } from './bench-path.js';
import type { ToolCall } from './driver.js';
import { spawnTracked, type Tracked } from './child-processes.js';
import { openHttpDriver } from './http-driver.js';
import { throughput } from './measure.js';
import { openModernDriver } from './modern-driver.js';
import { PATHS, root, startBenchProxy } from './paths.js';
import { median } from './stats.js';
import { httpJson, waitReady } from './wait-ready.js';

const [rounds = 3, seconds = 5, concurrency = 8] = process.argv.slice(2).map(Number);

interface Route {
  name: string;
  toolCall: ToolCall;
  start(): Promise<StartedPath>;
}

// The proxy, and the 2026-07-28-only fixture registered with it as service "bench".
async function startModernRoute(): Promise<StartedPath> {
  const proxy = await startBenchProxy();
  let instance: Tracked | undefined;
  const stop = async () => {
    await instance?.stop();
    await proxy.stop();
  };
  try {
    instance = spawnTracked('modern-echo', process.execPath, [`${root}dist/test/fixtures/modern-echo.js`], { env: { ...process.env, MESH_SERVICE_NAME: 'bench', MESH_PROXY_URL: proxy.base, MESH_PORT: '0' } });
    await waitReady([proxy.proc, instance], 'service "bench" healthy in the proxy', async () => {
      const { status, body } = await httpJson(`${proxy.base}/v1/services/bench`);
      return status === 200 && (body as { status?: unknown }).status === 'healthy';
    });
    return { rssPid: proxy.proc.pid, processes: [{ role: 'proxy', pid: proxy.proc.pid }], spawnedAt: proxy.proc.spawnedAt, url: `${proxy.base}/mcp`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const sidecarRoute = PATHS.find((path) => path.name === 'proxy-tool');
if (!sidecarRoute?.toolCall) throw new Error('no proxy-tool path in paths.ts');
const routes: Route[] = [
  { name: 'to sidecar (legacy hop)', toolCall: sidecarRoute.toolCall, start: () => sidecarRoute.start({ bridgeNodeFlags: [] }) },
  { name: 'to 2026-07-28 instance (stateless hop)', toolCall: { name: 'bench__echo', arguments: { text: 'hello' } }, start: startModernRoute },
];

for (const route of routes) {
  const started = await route.start();
  const proxyPid = started.processes?.[0]?.pid ?? started.rssPid;
  const results: Record<string, { callsPerSec: number; proxyUsPerCall: number }[]> = { legacy: [], modern: [] };
  try {
    const url = started.url!;
    const drivers = {
      legacy: () => openHttpDriver(url, route.toolCall, { connections: concurrency }),
      modern: () => openModernDriver(url, route.toolCall, { connections: concurrency }),
    };
    for (let round = 0; round < rounds; round++) {
      for (const era of round % 2 === 0 ? (['legacy', 'modern'] as const) : (['modern', 'legacy'] as const)) {
        const driver = await drivers[era]();
        try {
          await throughput(driver, concurrency, 1_000, 1e9); // warm-up
          const result = await throughput(driver, concurrency, seconds * 1_000, 1e9, [proxyPid]);
          results[era]!.push({ callsPerSec: result.callsPerSec, proxyUsPerCall: result.cpuMsPerCall * 1_000 });
          process.stderr.write(`${route.name} round ${round + 1} ${era}: ${result.callsPerSec.toFixed(0)} calls/s, proxy ${(result.cpuMsPerCall * 1_000).toFixed(0)} µs CPU/call\n`);
        } finally {
          await driver.close();
        }
      }
    }
  } finally {
    await started.stop();
  }
  for (const [era, runs] of Object.entries(results)) {
    console.log(`${route.name}: ${era} client: median ${median(runs.map((r) => r.callsPerSec)).toFixed(0)} calls/s, proxy ${median(runs.map((r) => r.proxyUsPerCall)).toFixed(0)} µs CPU/call (${runs.length} rounds, concurrency ${concurrency})`);
  }
}
