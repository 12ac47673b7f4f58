/**
 * `node dist/test/bench/proxy-eras.js [rounds] [seconds] [concurrency]`: echo calls/s through the
 * full route (mesh-proxy /mcp bench__echo → mesh-sidecar → server-everything), a legacy session
 * beside stateless 2026-07-28 requests, in interleaved rounds; medians and the proxy's CPU per call.
 */
import { openHttpDriver } from './http-driver.js';
import { throughput } from './measure.js';
import { openModernDriver } from './modern-driver.js';
import { PATHS } from './paths.js';
import { median } from './stats.js';

const [rounds = 3, seconds = 5, concurrency = 8] = process.argv.slice(2).map(Number);
const route = PATHS.find((path) => path.name === 'proxy-tool');
if (!route?.toolCall) throw new Error('no proxy-tool path in paths.ts');
const started = await route.start({ bridgeNodeFlags: [] });
const proxyPid = started.processes?.[0]?.pid ?? started.rssPid;
const results: Record<string, { callsPerSec: number; proxyUsPerCall: number }[]> = { legacy: [], modern: [] };
try {
  const url = started.url!;
  const drivers = {
    legacy: () => openHttpDriver(url, route.toolCall!, { connections: concurrency }),
    modern: () => openModernDriver(url, route.toolCall!, { connections: concurrency }),
  };
  for (let round = 0; round < rounds; round++) {
    for (const era of round % 2 === 0 ? (['legacy', 'modern'] as const) : (['modern', 'legacy'] as const)) {
      const driver = await drivers[era]();
      try {
        await throughput(driver, concurrency, 1_000, 1e9); // warm-up
        const result = await throughput(driver, concurrency, seconds * 1_000, 1e9, [proxyPid]);
        results[era]!.push({ callsPerSec: result.callsPerSec, proxyUsPerCall: result.cpuMsPerCall * 1_000 });
        process.stderr.write(`round ${round + 1} ${era}: ${result.callsPerSec.toFixed(0)} calls/s, proxy ${(result.cpuMsPerCall * 1_000).toFixed(0)} µs CPU/call (${driver.answerType})\n`);
      } finally {
        await driver.close();
      }
    }
  }
} finally {
  await started.stop();
}
for (const [era, runs] of Object.entries(results)) {
  console.log(`${era.padEnd(7)} median ${median(runs.map((r) => r.callsPerSec)).toFixed(0)} calls/s, proxy ${median(runs.map((r) => r.proxyUsPerCall)).toFixed(0)} µs CPU/call (${runs.length} rounds, concurrency ${concurrency})`);
}
