/**
 * Routed calls through ONE proxy on PostgreSQL and on sql.js, in interleaved rounds of the same
 * run: the full route of path proxy-tool (lean HTTP driver → mesh-proxy bench__echo → mesh-sidecar
 * → server-everything). The registry must stay off the call path, so the two should be level.
 */
import { openHttpDriver } from './http-driver.js';
import { throughput } from './measure.js';
import { PROXY_TOOL_CALL, startMeshRoute } from './paths.js';
import { median, round } from './stats.js';

export interface RoutedOptions {
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
  /** Median calls/s on PostgreSQL over sql.js (target ≥ 0.9). */
  ratio: number;
}

type Log = (line: string) => void;

async function measureRoute(store: RoutedRound['store'], round: number, registry: string | undefined, o: RoutedOptions): Promise<RoutedRound> {
  const started = await startMeshRoute([], {}, undefined, registry);
  try {
    const driver = await openHttpDriver(started.url!, PROXY_TOOL_CALL, { connections: o.concurrency });
    try {
      await driver.call();
      await throughput(driver, o.concurrency, o.warmupMs, Number.MAX_SAFE_INTEGER);
      const watch = (started.processes ?? []).map((p) => p.pid);
      const t = await throughput(driver, o.concurrency, o.windowMs, o.maxCalls, watch);
      return { store, round, callsPerSec: Math.round(t.callsPerSec), proxyCpuUsPerCall: Math.round(t.cpuMsPerCall * 1000) };
    } finally {
      await driver.close();
    }
  } finally {
    await started.stop();
  }
}

/** Each round runs both stores, starting with a different one, so drift on a shared machine spreads evenly. */
export async function compareRoutedCalls(pgUrl: string, o: RoutedOptions, log: Log): Promise<RoutedCompare> {
  const rounds: RoutedRound[] = [];
  const stores: { store: RoutedRound['store']; registry: string | undefined }[] = [
    { store: 'postgres', registry: pgUrl },
    { store: 'sql.js', registry: undefined },
  ];
  for (let r = 1; r <= o.rounds; r++) {
    const order = r % 2 === 1 ? stores : [...stores].reverse();
    for (const { store, registry } of order) {
      const result = await measureRoute(store, r, registry, o);
      rounds.push(result);
      log(`  routed calls round ${r}/${o.rounds} on ${store}: ${result.callsPerSec} calls/s, proxy ${result.proxyCpuUsPerCall} µs CPU/call`);
    }
  }
  const of = (store: RoutedRound['store']): RoutedStore => {
    const list = rounds.filter((x) => x.store === store);
    return { callsPerSec: round(median(list.map((x) => x.callsPerSec)), 0), proxyCpuUsPerCall: round(median(list.map((x) => x.proxyCpuUsPerCall)), 0) };
  };
  const postgres = of('postgres');
  const sqljs = of('sql.js');
  return { rounds, postgres, sqljs, ratio: round(postgres.callsPerSec / sqljs.callsPerSec, 3) };
}
