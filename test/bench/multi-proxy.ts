/**
 * The multi-proxy suite (issue 12): several real mesh-proxy processes on one PostgreSQL, N synthetic
 * instances (loopback URLs nobody serves) registering spread over them and heart-beating at the
 * real rate (N per 30 s, optionally compressed), while every proxy's /v1/events is read to time
 * registration-to-visible-everywhere; then routed calls through one proxy on PostgreSQL vs sql.js.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { RegisteredAnswerSchema } from '../../src/contract/registration.js';
import { findPgBin, PG_MISSING, startPgCluster, type OwnedPgCluster } from '../helpers/pg-cluster.js';
import { watchJoins, type JoinWatch } from './join-watch.js';
import { pgRates, readPgCounters, type PgCounters, type PgRates } from './pg-activity.js';
import { proxyCli, root, startBenchProxy, type BenchProxy } from './paths.js';
import { summarizeCpuProfile, type ProfileSummary } from './cpu-profile.js';
import { cpuMs, runQueueWaitMs } from './proc-info.js';
import { heartbeatBody, registrationBody, runBounded, send, stats, type LatencyStats, type SampledRequest } from './registry-load.js';
import { compareRoutedCalls, type RoutedCompare, type RoutedOptions } from './routed-compare.js';
import { round } from './stats.js';

export interface MultiProxyOptions {
  proxies: number;
  instances: number;
  /** Service names the instances spread over as replicas. */
  services: number;
  toolsPerInstance: number;
  /** Registrations and heartbeats in flight, over all proxies. */
  concurrency: number;
  /** Registrations per second in the first phase, over all proxies; 0 = unpaced (as fast as `concurrency` allows). */
  registerPerSec: number;
  /** Heartbeat rate as a multiple of the real one (instances / 30 s); 1 = the real rate. */
  compression: number;
  /** Rounds of every instance's heartbeat (each is 30 s of mesh time). */
  rounds: number;
  /** While the heartbeats run, a new instance registers this often (rotating over the proxies): visibility under load. */
  probeEveryMs: number;
  /** GET /v1/services is sampled on one proxy at a time, round robin, with at least this pause between an answer and the next call (and 4 times the answer's time when longer: at 10,000 instances it is MiBs, and the probe must not become the load). */
  sampleGapMs: number;
  /** How long a registration may take to show on every proxy before it counts as missing. */
  visibleTimeoutMs: number;
  /** Pairs of alternating routed-call windows (one on each store). */
  callRounds: number;
  /**
   * The proxies' --heartbeat-timeout (s). Above the default 120 s, so instances registered first in
   * a slow burst are not removed before the paced heartbeats reach them (a real sidecar beats from its
   * own registration on).
   */
  removeAfterS: number;
  /** Run the proxies under node --cpu-prof into this folder; their profiles are summarized over the heartbeat phase. */
  cpuProfDir?: string | undefined;
  /** 'sqljs': every proxy on a file of its own, nothing shared (to try the machinery without PostgreSQL). */
  store: 'postgres' | 'sqljs';
}

export const DEFAULT_MULTI_OPTIONS: MultiProxyOptions = {
  proxies: 3,
  instances: 10_000,
  services: 2_500,
  toolsPerInstance: 3,
  concurrency: 48,
  registerPerSec: 0,
  compression: 1,
  rounds: 2,
  probeEveryMs: 250,
  sampleGapMs: 500,
  visibleTimeoutMs: 30_000,
  callRounds: 8,
  removeAfterS: 600,
  store: 'postgres',
};

export const QUICK_MULTI_OPTIONS: MultiProxyOptions = { ...DEFAULT_MULTI_OPTIONS, instances: 600, services: 150, compression: 3, rounds: 1, callRounds: 2 };

const REAL_INTERVAL_S = 30;

export interface VisibleStats extends LatencyStats {
  /** Registrations some proxy had not announced within visibleTimeoutMs. */
  missing: number;
}

export interface MultiProxyResult {
  options: MultiProxyOptions;
  proxyReadyMs: number;
  registration: {
    seconds: number;
    perSec: number;
    latency: LatencyStats;
    visible: VisibleStats;
    pg?: PgRates;
    proxyCpuPct: number;
    /** The proxies' CPU (all of them) per registration. */
    proxyCpuMsEach: number;
    proxyCpuWaitPct: number;
  };
  heartbeats: {
    targetPerSec: number;
    achievedPerSec: number;
    beats: number;
    seconds: number;
    meshSeconds: number;
    latency: LatencyStats;
    /** Heartbeats answered neither 200 nor 404, by status. */
    failures: Record<string, number>;
    /** Heartbeats answered 404 (the instance was removed), after which the instance registered again. */
    reregistered: number;
    /** The proxies' CPU (all of them) per heartbeat, the rest of the phase's work included (listings, probes). */
    proxyCpuMsEach: number;
    pg?: PgRates;
    proxyCpuPct: number;
    proxyCpuWaitPct: number;
  };
  /** Registrations made while the heartbeats ran. */
  probes: VisibleStats;
  /** GET /v1/services on each proxy while the heartbeats ran. */
  services: SampledRequest[];
  /** GET /healthz registry.instances of each proxy at the end (all equal on a shared store). */
  instancesPerProxy: number[];
  routed?: RoutedCompare;
  /** With cpuProfDir: each proxy's CPU profile over the heartbeat phase. */
  profiles?: ProfileSummary[];
}

export type MultiProxyOutcome = { skipped: string } | MultiProxyResult;

type Log = (line: string) => void;

// A build without the PostgreSQL store would take a postgres:// URL for a file name.
function proxyHasPostgres(): boolean {
  return /postgres(ql)?:\/\//.test(execFileSync(process.execPath, [proxyCli, '--help'], { encoding: 'utf8' }));
}

/** For each registration answered at answeredAt[i], the time until the last watch announced it (negative clamps to 0). */
function visibility(ids: readonly string[], answeredAt: readonly number[], watches: readonly JoinWatch[]): VisibleStats {
  const latencies: number[] = [];
  let missing = 0;
  ids.forEach((id, i) => {
    let last = Number.NEGATIVE_INFINITY;
    for (const w of watches) last = Math.max(last, w.joined.get(id) ?? Number.NaN);
    if (Number.isNaN(last)) missing++;
    else latencies.push(Math.max(0, last - (answeredAt[i] ?? Number.NaN)));
  });
  return { ...stats(latencies), missing };
}

async function untilVisible(ids: readonly string[], watches: readonly JoinWatch[], timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end && !watches.every((w) => ids.every((id) => w.joined.has(id)))) {
    const broken = watches.find((w) => w.broken !== undefined);
    if (broken) throw new Error(`GET ${broken.base}/v1/events broke: ${broken.broken}`);
    await delay(50);
  }
}

// The answer is counted, not decoded: the bench's own CPU stays with the load it generates.
async function getSize(pool: Pool, path: string): Promise<number> {
  const response = await pool.request({ path, method: 'GET' });
  let bytes = 0;
  for await (const chunk of response.body) bytes += (chunk as Buffer).length;
  if (response.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${response.statusCode}`);
  return bytes;
}

/**
 * GET /v1/services on one proxy at a time, round robin, until `done()` (at least 3 samples per
 * proxy). The pause after an answer is `gapMs` or 4 times that answer's time, whichever is longer:
 * at 10,000 instances the answer is MiBs, and the probe must stay a fifth of one proxy's time at most.
 */
async function sampleServices(pools: readonly Pool[], done: () => boolean, deadline: number, gapMs: number): Promise<SampledRequest[]> {
  const latencies: number[][] = pools.map(() => []);
  const bytes: number[] = pools.map(() => 0);
  for (let k = 0; (k < pools.length * 3 || !done()) && performance.now() < deadline; k++) {
    const p = k % pools.length;
    const t0 = performance.now();
    bytes[p] = await getSize(pools[p] as Pool, '/v1/services');
    const took = performance.now() - t0;
    latencies[p]?.push(took);
    await delay(Math.max(gapMs, 4 * took));
  }
  return latencies.map((l, p) => ({ ...stats(l), bytes: bytes[p] ?? 0 }));
}

async function healthInstances(pool: Pool): Promise<number> {
  const answer = await send(pool, 'GET', '/healthz');
  return (JSON.parse(answer.text) as { registry?: { instances?: number } }).registry?.instances ?? Number.NaN;
}

/** Runs the suite; skipped (with the package to install) where PostgreSQL is missing. */
export async function runMultiProxy(o: MultiProxyOptions, routedOptions: Omit<RoutedOptions, 'rounds'>, log: Log): Promise<MultiProxyOutcome> {
  if (o.store === 'postgres') {
    if (findPgBin() === undefined) return { skipped: PG_MISSING };
    if (!proxyHasPostgres()) return { skipped: 'this build of mesh-proxy has no PostgreSQL registry (--registry postgres://…)' };
  }
  const { result, hbWindowUs } = await runPhases(o, routedOptions, log);
  const dir = o.cpuProfDir;
  if (dir === undefined) return result;
  // Written by each proxy as it exits, i.e. once runPhases stopped them.
  const profiles = Array.from({ length: o.proxies }, (_, i) => join(dir, `proxy-${i + 1}.cpuprofile`))
    .filter((file) => existsSync(file))
    .map((file) => summarizeCpuProfile(file, root, hbWindowUs));
  return { ...result, profiles };
}

async function runPhases(o: MultiProxyOptions, routedOptions: Omit<RoutedOptions, 'rounds'>, log: Log): Promise<{ result: MultiProxyResult; hbWindowUs: [number, number] }> {
  let cluster: OwnedPgCluster | undefined;
  const proxies: BenchProxy[] = [];
  const pools: Pool[] = [];
  const watches: JoinWatch[] = [];
  try {
    if (o.store === 'postgres') {
      cluster = await startPgCluster();
      log(`  PostgreSQL at ${cluster.host}:${cluster.port} (a cluster of its own in a temporary folder, fsync off)`);
    }
    const routed = cluster ? await compareRoutedCalls(cluster.url, { ...routedOptions, rounds: o.callRounds }, log) : undefined;

    const t0 = performance.now();
    proxies.push(
      ...(await Promise.all(
        Array.from({ length: o.proxies }, (_, i) =>
          startBenchProxy(
            o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir, '--cpu-prof-name', `proxy-${i + 1}.cpuprofile`] : [],
            ['--heartbeat-timeout', String(o.removeAfterS), ...(o.store === 'postgres' ? ['--proxy-id', `bench-${i + 1}`] : [])],
            {},
            cluster?.url,
          ),
        ),
      )),
    );
    const proxyReadyMs = round(performance.now() - t0, 0);
    for (const p of proxies) pools.push(new Pool(p.base, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 60_000 }));
    watches.push(...(await Promise.all(proxies.map((p) => watchJoins(p.base)))));
    const pids = proxies.map((p) => p.proc.pid);
    const proxyCpu = () => pids.reduce((total, pid) => total + cpuMs(pid), 0);
    const proxyWait = () => pids.reduce((total, pid) => total + runQueueWaitMs(pid), 0);
    // Share of the phase the proxies' main threads waited for a CPU (mean over proxies): high = starved by other load.
    const waitPct = (waited: number, seconds: number) => round((100 * waited) / (seconds * 1000 * pids.length), 0);
    const pgNow = async (): Promise<PgCounters | undefined> => (cluster ? readPgCounters(cluster) : undefined);
    const rates = (a: PgCounters | undefined, b: PgCounters | undefined) => (a && b ? pgRates(a, b) : undefined);
    const n = o.instances;
    const shape = { services: Math.min(o.services, n), toolsPerInstance: o.toolsPerInstance };
    const poolOf = (i: number) => pools[i % pools.length] as Pool;
    const leases: string[] = [];
    const answeredAt: number[] = [];
    const register = async (i: number, body: string) => {
      const answer = await send(poolOf(i), 'POST', '/v1/instances', body);
      answeredAt[i] = performance.now();
      if (answer.status !== 201 && answer.status !== 200) throw new Error(`POST /v1/instances #${i} on proxy ${i % pools.length}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
      leases[i] = RegisteredAnswerSchema.parse(JSON.parse(answer.text)).lease;
    };

    // 1. Every instance registers once, unpaced, instance i on proxy i mod P.
    log(`  ${o.proxies} proxies ready in ${proxyReadyMs} ms; registering ${n} instances over them (${shape.services} services, ${o.toolsPerInstance} tools each), ${o.concurrency} in flight`);
    const bodies = Array.from({ length: n }, (_, i) => registrationBody(i, shape));
    let pg0 = await pgNow();
    let cpu0 = proxyCpu();
    let wait0 = proxyWait();
    let w0 = performance.now();
    const regStart = w0;
    const pace = o.registerPerSec > 0 ? (i: number) => regStart + (i * 1000) / o.registerPerSec : undefined;
    const regLatencies = await runBounded(n, o.concurrency, (i) => register(i, bodies[i]?.body ?? ''), pace);
    const regSeconds = (performance.now() - w0) / 1000;
    const regCpu = proxyCpu() - cpu0;
    const regWait = proxyWait() - wait0;
    const regPg = rates(pg0, await pgNow());
    const ids = bodies.map((b) => b.id);
    await untilVisible(ids, watches, o.visibleTimeoutMs);
    const registration = {
      seconds: round(regSeconds, 1),
      perSec: round(n / regSeconds, 0),
      latency: stats(regLatencies),
      visible: visibility(ids, answeredAt, watches),
      ...(regPg ? { pg: regPg } : {}),
      proxyCpuPct: round((100 * regCpu) / (regSeconds * 1000), 0),
      proxyCpuMsEach: round(regCpu / n, 2),
      proxyCpuWaitPct: waitPct(regWait, regSeconds),
    };
    log(`  ${registration.perSec} registrations/s; visible on every proxy p50 ${registration.visible.p50Ms} ms, p99 ${registration.visible.p99Ms} ms, ${registration.visible.missing} missing`);

    // 2. Heartbeats at the (compressed) real rate; beside them, GET /v1/services on each proxy and new instances joining.
    const targetPerSec = (n / REAL_INTERVAL_S) * o.compression;
    const beats = n * o.rounds;
    log(
      `  ${beats} heartbeats paced at ${targetPerSec.toFixed(0)}/s (${o.compression === 1 ? 'the real rate' : `${o.compression}x the real rate, time-compressed`}: ${n} instances, one beat each per ${REAL_INTERVAL_S} s); GET /v1/services on each proxy and a new instance every ${o.probeEveryMs} ms beside them`,
    );
    const failures: Record<string, number> = {};
    const putLatencies: number[] = [];
    let reregistered = 0;
    // As a sidecar does: a 404 (the registry forgot the instance) is answered by registering again.
    const beat = async (k: number) => {
      const i = k % n;
      const t = performance.now();
      const answer = await send(poolOf(i), 'PUT', `/v1/instances/${encodeURIComponent(bodies[i]?.id ?? '')}/heartbeat`, heartbeatBody(i, shape), leases[i]);
      putLatencies.push(performance.now() - t);
      if (answer.status === 404) {
        reregistered++;
        await register(i, bodies[i]?.body ?? '');
      } else if (answer.status !== 200) failures[`HTTP ${answer.status}`] = (failures[`HTTP ${answer.status}`] ?? 0) + 1;
    };
    pg0 = await pgNow();
    cpu0 = proxyCpu();
    wait0 = proxyWait();
    w0 = performance.now();
    const hbWindowUs: [number, number] = [Number(process.hrtime.bigint() / 1000n), 0];
    let beating = true;
    const deadline = w0 + (beats / targetPerSec) * 3000 + 30_000;
    const heartbeats = runBounded(
      beats,
      o.concurrency,
      beat,
      (k) => w0 + (k * 1000) / targetPerSec,
      () => performance.now() > deadline,
    ).finally(() => (beating = false));
    const probeIds: string[] = [];
    const probeAnsweredAt: number[] = [];
    const probing = (async () => {
      for (let k = 0; beating; k++) {
        const i = n + k;
        const b = registrationBody(i, shape);
        await register(i, b.body);
        probeIds.push(b.id);
        probeAnsweredAt.push(answeredAt[i] ?? Number.NaN);
        await delay(o.probeEveryMs);
      }
    })();
    const listings = sampleServices(pools, () => !beating, deadline, o.sampleGapMs);
    const [beatsDone, services] = await Promise.all([heartbeats, listings, probing]);
    const hbSeconds = (performance.now() - w0) / 1000;
    hbWindowUs[1] = Number(process.hrtime.bigint() / 1000n);
    const hbCpu = proxyCpu() - cpu0;
    const hbWait = proxyWait() - wait0;
    const hbPg = rates(pg0, await pgNow());
    await untilVisible(probeIds, watches, o.visibleTimeoutMs);
    const heartbeatFigures = {
      targetPerSec: round(targetPerSec, 0),
      achievedPerSec: round(beatsDone.length / hbSeconds, 0),
      beats: beatsDone.length,
      seconds: round(hbSeconds, 1),
      meshSeconds: round((beatsDone.length / n) * REAL_INTERVAL_S, 0),
      latency: stats(putLatencies),
      failures,
      reregistered,
      proxyCpuMsEach: round(hbCpu / beatsDone.length, 2),
      ...(hbPg ? { pg: hbPg } : {}),
      proxyCpuPct: round((100 * hbCpu) / (hbSeconds * 1000), 0),
      proxyCpuWaitPct: waitPct(hbWait, hbSeconds),
    };
    const probes = visibility(probeIds, probeAnsweredAt, watches);
    log(`  heartbeat p99 ${heartbeatFigures.latency.p99Ms} ms at ${heartbeatFigures.achievedPerSec}/s; ${probeIds.length} registrations under load visible everywhere p99 ${probes.p99Ms} ms`);
    const instancesPerProxy = await Promise.all(pools.map(healthInstances));
    return { result: { options: o, proxyReadyMs, registration, heartbeats: heartbeatFigures, probes, services, instancesPerProxy, ...(routed ? { routed } : {}) }, hbWindowUs };
  } finally {
    for (const w of watches) w.close();
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
    await Promise.all(proxies.map((p) => p.stop()));
    await cluster?.destroy();
  }
}
