/**
 * Routed calls through ONE proxy on PostgreSQL and on sql.js in the same run: the full route of
 * path proxy-tool (lean HTTP driver → mesh-proxy bench__echo → mesh-sidecar → server-everything).
 * The registry must stay off the call path, so the two should be level. Both routes run side by
 * side and are measured in alternating short windows, so drift on a shared machine hits both alike.
 */
import type { StartedPath } from './bench-path.js';
import type { Driver } from './driver.js';
import { openHttpDriver } from './http-driver.js';
import { throughput } from './measure.js';
import { PROXY_TOOL_CALL, startMeshRoute } from './paths.js';
import { median, round } from './stats.js';

export interface RoutedOptions {
  /** Pairs of windows (one on each store, the order alternating). */
  rounds: number;
  concurrency: number;
  warmupMs: number;
  windowMs: number;
  maxCalls: number;
}

export interface RoutedRound {
  store: 'postgres' | 'sql.js';
  round: number;
  callsPerSec: number;
  /** The proxy's own CPU µs per call in the window. */
  proxyCpuUsPerCall: number;
}

export interface RoutedStore {
  callsPerSec: number;
  proxyCpuUsPerCall: number;
}

export interface RoutedCompare {
  rounds: RoutedRound[];
  postgres: RoutedStore;
  sqljs: RoutedStore;
  /** Median over the pairs of PostgreSQL calls/s over sql.js calls/s (target ≥ 0.9). */
  ratio: number;
  /** The same for the proxy's CPU per call (PostgreSQL over sql.js). */
  cpuRatio: number;
}

type Log = (line: string) => void;

/** Unmeasured turns of load on each route before the pairs (seen on a loaded 2-core machine: about 6 s until the proxy's CPU per call settles). */
const WARM_TURNS = 4;

interface Route {
  store: RoutedRound['store'];
  started: StartedPath;
  driver: Driver;
}

async function openRoute(store: RoutedRound['store'], registry: string | undefined, o: RoutedOptions): Promise<Route> {
  const started = await startMeshRoute([], {}, undefined, registry);
  try {
    const driver = await openHttpDriver(started.url!, PROXY_TOOL_CALL, { connections: o.concurrency });
    await driver.call();
    return { store, started, driver };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

async function measure(route: Route, round: number, o: RoutedOptions): Promise<RoutedRound> {
  const proxyPid = route.started.processes?.[0]?.pid ?? route.started.rssPid;
  const t = await throughput(route.driver, o.concurrency, o.windowMs, o.maxCalls, [proxyPid]);
  return { store: route.store, round, callsPerSec: Math.round(t.callsPerSec), proxyCpuUsPerCall: Math.round(t.cpuMsPerCall * 1000) };
}

/** Opens both routes, warms both, then measures `rounds` pairs of windows, alternating which store goes first. */
export async function compareRoutedCalls(pgUrl: string, o: RoutedOptions, log: Log): Promise<RoutedCompare> {
  const routes: Route[] = [];
  try {
    routes.push(await openRoute('postgres', pgUrl, o));
    routes.push(await openRoute('sql.js', undefined, o));
    // Fresh proxies are cold: their CPU per call keeps falling for several seconds of load (JIT), so both warm in turns first.
    for (let w = 0; w < WARM_TURNS; w++) for (const route of routes) await throughput(route.driver, o.concurrency, o.warmupMs * 1.5, Number.MAX_SAFE_INTEGER);
    const rounds: RoutedRound[] = [];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      const order = r % 2 === 1 ? routes : [...routes].reverse();
      const pair: RoutedRound[] = [];
      for (const route of order) pair.push(await measure(route, r, o));
      rounds.push(...pair);
      const pg = pair.find((x) => x.store === 'postgres');
      const sq = pair.find((x) => x.store === 'sql.js');
      if (pg && sq) {
        ratios.push(pg.callsPerSec / sq.callsPerSec);
        cpuRatios.push(pg.proxyCpuUsPerCall / sq.proxyCpuUsPerCall);
        log(`  routed calls pair ${r}/${o.rounds}: PostgreSQL ${pg.callsPerSec}/s (proxy ${pg.proxyCpuUsPerCall} µs CPU/call), sql.js ${sq.callsPerSec}/s (${sq.proxyCpuUsPerCall} µs)`);
      }
    }
    const of = (store: RoutedRound['store']): RoutedStore => {
      const list = rounds.filter((x) => x.store === store);
      return { callsPerSec: round(median(list.map((x) => x.callsPerSec)), 0), proxyCpuUsPerCall: round(median(list.map((x) => x.proxyCpuUsPerCall)), 0) };
    };
    return { rounds, postgres: of('postgres'), sqljs: of('sql.js'), ratio: round(median(ratios), 3), cpuRatio: round(median(cpuRatios), 3) };
  } finally {
    for (const route of routes) {
      await route.driver.close().catch(() => undefined);
      await route.started.stop();
    }
  }
}
