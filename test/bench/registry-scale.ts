/**
 * The registry-scale suite: one real mesh-proxy, N synthetic instances (loopback URLs nobody serves,
 * small tool schemas) registering through POST /v1/instances, then heartbeating through
 * PUT /v1/instances/:id/heartbeat, while GET /v1/services and the MCP tool list_services are timed.
 * Time is compressed: the real load is N beats per 30 s; the paced phase sends them `compression`
 * times faster. Run from run.ts (`--suite registry`, or by default after the echo paths).
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { RegisteredAnswerSchema } from '../../src/contract/registration.js';
import { checkAnswer } from './driver.js';
import { openMcpSession, type McpSession } from './http-driver.js';
import { startBenchProxy, type BenchProxy } from './paths.js';
import { cpuMs, rssMiB, runQueueWaitMs } from './proc-info.js';
import { round } from './stats.js';
import { registrationBody, runBounded, sample, send, serviceName, stats, type LatencyStats, type SampledRequest } from './registry-load.js';

export type { LatencyStats, SampledRequest } from './registry-load.js';

export interface RegistryScaleOptions {
  /** Instances to register (replicas spread over `services` names). */
  instances: number;
  services: number;
  toolsPerInstance: number;
  /** Requests in flight for registrations and heartbeats. */
  concurrency: number;
  /** Heartbeat rate of the paced phase, as a multiple of the real one (instances / 30 s). */
  compression: number;
  /** Rounds of all instances' heartbeats in the paced phase (each round is 30 s of mesh time). */
  rounds: number;
  /** Sequential samples of GET /v1/services and of list_services with no load. */
  idleSamples: number;
  /** Under load each listing is sampled one at a time with this pause between an answer and the next call, so the probes stay probes (not the load). */
  sampleGapMs: number;
  /** Fewer samples than this under load earn a note (the phase's length is set by rounds and compression). */
  loadSamples: number;
}

export const DEFAULT_REGISTRY_OPTIONS: RegistryScaleOptions = {
  instances: 1000,
  services: 250,
  toolsPerInstance: 10,
  concurrency: 16,
  compression: 10,
  rounds: 3,
  idleSamples: 20,
  sampleGapMs: 50,
  loadSamples: 100,
};

/** The real heartbeat interval the compression is relative to (DESIGN: every 30 s). */
const REAL_INTERVAL_S = 30;

export interface RegistryFileStats {
  instances: number;
  fileWrites: number;
  /** Bytes of the last write (GET /healthz registry.fileBytes). */
  fileBytes: number;
  /** Size of the registry file on disk. */
  fileSizeOnDisk: number;
}

export interface RegistryScaleResult {
  options: RegistryScaleOptions;
  proxyReadyMs: number;
  registration: {
    seconds: number;
    perSec: number;
    latency: LatencyStats;
    /** Proxy CPU ms per registration (the whole phase's proxy CPU / N). */
    proxyCpuMsPerCall: number;
    /** Proxy CPU used, and time its main thread waited for a CPU, as shares of the phase (%). */
    proxyCpuPct: number;
    proxyCpuWaitPct: number;
    /** After the writes settled. */
    file: RegistryFileStats;
    proxyRssMiB: number;
  };
  idle: { services: SampledRequest; listServices: SampledRequest; toolsList: SampledRequest & { tools: number } };
  /** One round of every instance's heartbeat, unpaced at `concurrency` in flight: the proxy's heartbeat capacity. */
  capacity: {
    beats: number;
    seconds: number;
    perSec: number;
    latency: LatencyStats;
    proxyCpuMsPerCall: number;
    instancesAtRealRate: number;
    fileWritesDuring: number;
    proxyCpuPct: number;
    proxyCpuWaitPct: number;
  };
  /** Paced heartbeats with both samplers running back to back beside them. */
  underLoad: {
    targetPerSec: number;
    achievedPerSec: number;
    beats: number;
    seconds: number;
    /** Mesh time the phase stands for: beats / (instances / 30 s). */
    meshSeconds: number;
    heartbeat: LatencyStats;
    services: SampledRequest;
    listServices: SampledRequest;
    /** Share of one core the proxy used during the phase, and share of the phase its main thread waited for a CPU. */
    proxyCpuPct: number;
    proxyCpuWaitPct: number;
    fileWritesDuring: number;
    proxyRssMiB: number;
  };
  /** GET /healthz registry figures at the end. */
  final: RegistryFileStats & { healthyInstances: number; writeErrors: number };
}

type Log = (line: string) => void;

async function registryFigures(proxy: BenchProxy, pool: Pool): Promise<RegistryFileStats & { healthyInstances: number; writeErrors: number }> {
  const answer = await send(pool, 'GET', '/healthz');
  if (answer.status !== 200) throw new Error(`GET /healthz: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
  const registry = (JSON.parse(answer.text) as { registry?: Record<string, number> }).registry ?? {};
  let fileSizeOnDisk = Number.NaN;
  try {
    fileSizeOnDisk = statSync(proxy.registryFile).size;
  } catch {
    // Not written yet.
  }
  return {
    instances: registry.instances ?? Number.NaN,
    healthyInstances: registry.healthyInstances ?? Number.NaN,
    fileWrites: registry.fileWrites ?? Number.NaN,
    fileBytes: registry.fileBytes ?? Number.NaN,
    writeErrors: registry.writeErrors ?? Number.NaN,
    fileSizeOnDisk,
  };
}

/** Polls /healthz until the write count stayed the same for `quietMs` (the writer coalesces over ~200 ms). */
async function settledFigures(proxy: BenchProxy, pool: Pool, quietMs = 600, timeoutMs = 15_000): Promise<RegistryFileStats & { healthyInstances: number; writeErrors: number }> {
  const end = Date.now() + timeoutMs;
  let last = await registryFigures(proxy, pool);
  let since = Date.now();
  while (Date.now() < end) {
    await delay(100);
    const now = await registryFigures(proxy, pool);
    if (now.fileWrites !== last.fileWrites || now.fileSizeOnDisk !== last.fileSizeOnDisk) since = Date.now();
    last = now;
    if (Date.now() - since >= quietMs) break;
  }
  return last;
}

function listServicesCall(session: McpSession): () => Promise<number> {
  const params = JSON.stringify({ name: 'list_services', arguments: {} });
  return async () => {
    const answer = await session.request('tools/call', params);
    checkAnswer(answer, 'list_services');
    const text = (answer as { result: { content?: { text?: string }[] } }).result.content?.[0]?.text ?? '';
    return text.length;
  };
}

function servicesCall(pool: Pool, expected: number): () => Promise<number> {
  return async () => {
    const answer = await send(pool, 'GET', '/v1/services');
    if (answer.status !== 200) throw new Error(`GET /v1/services: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    if (expected > 0 && !answer.text.includes(`"svc-${String(expected - 1).padStart(4, '0')}"`)) throw new Error(`GET /v1/services: service svc-${expected - 1} missing`);
    return Buffer.byteLength(answer.text);
  };
}

export async function runRegistryScale(options: RegistryScaleOptions, log: Log): Promise<RegistryScaleResult> {
  const n = options.instances;
  const services = Math.min(options.services, n);
  const opts = { ...options, services };
  const bodies = Array.from({ length: n }, (_, i) => registrationBody(i, opts));
  const t0 = performance.now();
  const proxy = await startBenchProxy();
  const proxyReadyMs = performance.now() - t0;
  const pid = proxy.proc.pid;
  const pool = new Pool(proxy.base, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const samplerPool = new Pool(proxy.base, { connections: 1, pipelining: 1, keepAliveTimeout: 60_000 });
  let session: McpSession | undefined;
  try {
    // 1. Registration, unpaced.
    log(`  registering ${n} instances (${services} services, ${options.toolsPerInstance} tools each), ${options.concurrency} in flight`);
    let cpu0 = cpuMs(pid);
    let wait0 = runQueueWaitMs(pid);
    let w0 = performance.now();
    // Each instance's lease, which its heartbeats carry (as a sidecar's do).
    const leases: string[] = [];
    const regLatencies = await runBounded(n, options.concurrency, async (i) => {
      const answer = await send(pool, 'POST', '/v1/instances', bodies[i]?.body);
      if (answer.status !== 201 && answer.status !== 200) throw new Error(`POST /v1/instances #${i}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
      leases[i] = RegisteredAnswerSchema.parse(JSON.parse(answer.text)).lease;
    });
    const regSeconds = (performance.now() - w0) / 1000;
    const regCpu = cpuMs(pid) - cpu0;
    const regWait = runQueueWaitMs(pid) - wait0;
    const afterRegistration = await settledFigures(proxy, pool);
    if (afterRegistration.instances !== n) throw new Error(`after registering ${n} instances the proxy reports ${afterRegistration.instances}`);
    const registration = {
      seconds: round(regSeconds),
      perSec: round(n / regSeconds, 0),
      latency: stats(regLatencies),
      proxyCpuMsPerCall: round(regCpu / n),
      proxyCpuPct: round((100 * regCpu) / (regSeconds * 1000), 0),
      proxyCpuWaitPct: round((100 * regWait) / (regSeconds * 1000), 0),
      file: { instances: afterRegistration.instances, fileWrites: afterRegistration.fileWrites, fileBytes: afterRegistration.fileBytes, fileSizeOnDisk: afterRegistration.fileSizeOnDisk },
      proxyRssMiB: round(rssMiB(pid), 1),
    };
    log(`  ${registration.perSec} registrations/s, p99 ${registration.latency.p99Ms} ms; ${registration.file.fileWrites} file writes, ${(registration.file.fileSizeOnDisk / 1024).toFixed(0)} KiB`);

    // 2. No load: the listings alone. The MCP session opens only now, so joins never had a session to notify.
    session = await openMcpSession(`${proxy.base}/mcp`, { connections: 1 });
    const listServices = listServicesCall(session);
    const getServices = servicesCall(samplerPool, services);
    const idleDeadline = performance.now() + 60_000;
    const idleServices = await sample(getServices, options.idleSamples, () => true, idleDeadline);
    const idleList = await sample(listServices, options.idleSamples, () => true, idleDeadline);
    let tools = 0;
    const toolsListSession = session;
    const idleToolsList = await sample(
      async () => {
        const answer = (await toolsListSession.request('tools/list', '{}')) as { result?: { tools?: unknown[] }; error?: { message?: string } };
        if (!answer.result?.tools) throw new Error(`tools/list: ${answer.error?.message ?? 'no tools in the answer'}`);
        tools = answer.result.tools.length;
        return JSON.stringify(answer.result).length;
      },
      Math.max(3, Math.ceil(options.idleSamples / 6)),
      () => true,
      idleDeadline,
    );
    const idle = { services: idleServices, listServices: idleList, toolsList: { ...idleToolsList, tools } };

    const beat = async (i: number) => {
      const b = bodies[i % n];
      if (!b) return;
      const answer = await send(pool, 'PUT', `/v1/instances/${encodeURIComponent(b.id)}/heartbeat`, `{"state":"ready","toolsHash":"h-${serviceName(i % n, services)}"}`, leases[i % n]);
      if (answer.status !== 200) throw new Error(`PUT heartbeat ${b.id}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    };

    // 3. Capacity: one round of every heartbeat, unpaced.
    cpu0 = cpuMs(pid);
    wait0 = runQueueWaitMs(pid);
    w0 = performance.now();
    const capLatencies = await runBounded(n, options.concurrency, beat);
    const capSeconds = (performance.now() - w0) / 1000;
    const capCpu = cpuMs(pid) - cpu0;
    const capWait = runQueueWaitMs(pid) - wait0;
    const before = await settledFigures(proxy, pool);
    const capacity = {
      beats: n,
      seconds: round(capSeconds),
      perSec: round(n / capSeconds, 0),
      latency: stats(capLatencies),
      proxyCpuMsPerCall: round(capCpu / n),
      instancesAtRealRate: round((n / capSeconds) * REAL_INTERVAL_S, 0),
      fileWritesDuring: before.fileWrites - afterRegistration.fileWrites,
      proxyCpuPct: round((100 * capCpu) / (capSeconds * 1000), 0),
      proxyCpuWaitPct: round((100 * capWait) / (capSeconds * 1000), 0),
    };
    log(`  heartbeat capacity ${capacity.perSec}/s unpaced (p99 ${capacity.latency.p99Ms} ms)`);

    // 4. Paced heartbeats at `compression` x the real rate, both listings sampled back to back beside them.
    const targetPerSec = (n / REAL_INTERVAL_S) * options.compression;
    const beats = n * options.rounds;
    log(
      `  ${beats} heartbeats paced at ${targetPerSec.toFixed(0)}/s (${options.compression}x ${n} instances per ${REAL_INTERVAL_S} s) with GET /v1/services and list_services sampled beside them (${options.sampleGapMs} ms between calls)`,
    );
    cpu0 = cpuMs(pid);
    wait0 = runQueueWaitMs(pid);
    w0 = performance.now();
    let beating = true;
    const phaseDeadline = w0 + (beats / targetPerSec) * 1000 * 3 + 30_000;
    const heartbeats = runBounded(
      beats,
      options.concurrency,
      beat,
      (i) => w0 + (i * 1000) / targetPerSec,
      () => performance.now() > phaseDeadline,
    ).finally(() => (beating = false));
    const stillBeating = () => !beating;
    const [hbLatencies, loadServices, loadList] = await Promise.all([
      heartbeats,
      sample(getServices, 5, stillBeating, phaseDeadline, options.sampleGapMs),
      sample(listServices, 5, stillBeating, phaseDeadline, options.sampleGapMs),
    ]);
    const hbSeconds = (performance.now() - w0) / 1000;
    const loadCpu = cpuMs(pid) - cpu0;
    const loadWait = runQueueWaitMs(pid) - wait0;
    const after = await settledFigures(proxy, pool);
    const underLoad = {
      targetPerSec: round(targetPerSec, 0),
      achievedPerSec: round(hbLatencies.length / hbSeconds, 0),
      beats: hbLatencies.length,
      seconds: round(hbSeconds),
      meshSeconds: round((hbLatencies.length / n) * REAL_INTERVAL_S, 0),
      heartbeat: stats(hbLatencies),
      services: loadServices,
      listServices: loadList,
      proxyCpuPct: round((100 * loadCpu) / (hbSeconds * 1000), 0),
      proxyCpuWaitPct: round((100 * loadWait) / (hbSeconds * 1000), 0),
      fileWritesDuring: after.fileWrites - before.fileWrites,
      proxyRssMiB: round(rssMiB(pid), 1),
    };
    if (loadServices.count < options.loadSamples || loadList.count < options.loadSamples) {
      log(`  note: ${loadServices.count} GET /v1/services and ${loadList.count} list_services samples while heartbeats ran (asked for ${options.loadSamples}; raise --registry-rounds for more)`);
    }
    return { options: opts, proxyReadyMs: round(proxyReadyMs, 1), registration, idle, capacity, underLoad, final: after };
  } finally {
    await session?.close().catch(() => undefined);
    await pool.close().catch(() => undefined);
    await samplerPool.close().catch(() => undefined);
    await proxy.stop();
  }
}

function fmt(value: number | undefined, digits: number): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return 'n/a';
  return value.toFixed(digits);
}

/** The suite's table, for stdout. */
export function formatRegistryTable(r: RegistryScaleResult): string {
  const o = r.options;
  const header = ['operation', 'count', 'p50 ms', 'p99 ms', 'max ms', 'rate/s', 'answer KiB', 'note'];
  const row = (name: string, l: LatencyStats, rate?: number, bytes?: number, note = '') => [
    name,
    String(l.count),
    fmt(l.p50Ms, 2),
    fmt(l.p99Ms, 2),
    fmt(l.maxMs, 2),
    rate === undefined ? '' : fmt(rate, 0),
    bytes === undefined ? '' : fmt(bytes / 1024, 0),
    note,
  ];
  const u = r.underLoad;
  const rows = [
    row('register POST /v1/instances', r.registration.latency, r.registration.perSec, undefined, `${o.concurrency} in flight; proxy ${fmt(r.registration.proxyCpuMsPerCall * 1000, 0)} µs CPU each`),
    row('GET /v1/services, idle', r.idle.services, undefined, r.idle.services.bytes),
    row('list_services (MCP), idle', r.idle.listServices, undefined, r.idle.listServices.bytes, 'tool result text'),
    row('tools/list (MCP), idle', r.idle.toolsList, undefined, r.idle.toolsList.bytes, `${r.idle.toolsList.tools} tools`),
    row(
      'heartbeat, unpaced',
      r.capacity.latency,
      r.capacity.perSec,
      undefined,
      `${o.concurrency} in flight; proxy ${fmt(r.capacity.proxyCpuMsPerCall * 1000, 0)} µs CPU each; ≈${fmt(r.capacity.instancesAtRealRate, 0)} instances at 1 beat/${REAL_INTERVAL_S} s`,
    ),
    row(
      `heartbeat, paced ${o.compression}x`,
      u.heartbeat,
      u.achievedPerSec,
      undefined,
      `target ${fmt(u.targetPerSec, 0)}/s = ${o.compression}x ${o.instances}/${REAL_INTERVAL_S} s; ${fmt(u.meshSeconds, 0)} s of mesh time in ${fmt(u.seconds, 1)} s`,
    ),
    row('GET /v1/services, under load', u.services, undefined, u.services.bytes, `beside the paced heartbeats, ${o.sampleGapMs} ms between calls`),
    row('list_services (MCP), under load', u.listServices, undefined, u.listServices.bytes, `beside the paced heartbeats, ${o.sampleGapMs} ms between calls`),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => (x[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const f = r.registration.file;
  return [
    `registry scale: ${o.instances} instances (${o.services} services × ${Math.ceil(o.instances / o.services)} replicas, ${o.toolsPerInstance} tools each, loopback URLs never served); one mesh-proxy, ready in ${fmt(r.proxyReadyMs, 0)} ms`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `registry file: ${f.fileWrites} writes while ${o.instances} instances registered in ${fmt(r.registration.seconds, 2)} s; ${u.fileWritesDuring} writes during ${u.beats} paced heartbeats, ${r.capacity.fileWritesDuring} during ${r.capacity.beats} unpaced ones; size ${fmt(f.fileSizeOnDisk / 1024, 0)} KiB on disk (last write ${fmt(r.final.fileBytes / 1024, 0)} KiB), ${r.final.fileWrites} writes in all, ${r.final.writeErrors} errors`,
    `proxy: RSS ${fmt(r.registration.proxyRssMiB, 1)} MiB after registration, ${fmt(u.proxyRssMiB, 1)} MiB at the end; ${r.final.healthyInstances}/${r.final.instances} instances healthy at the end`,
    `proxy CPU (share of a core) / waiting for a CPU (share of the phase; high = starved by other load): registration ${fmt(r.registration.proxyCpuPct, 0)}% / ${fmt(r.registration.proxyCpuWaitPct, 0)}%, unpaced heartbeats ${fmt(r.capacity.proxyCpuPct, 0)}% / ${fmt(r.capacity.proxyCpuWaitPct, 0)}%, paced phase ${fmt(u.proxyCpuPct, 0)}% / ${fmt(u.proxyCpuWaitPct, 0)}%`,
  ].join('\n');
}
