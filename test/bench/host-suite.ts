/**
 * The sidecar host (issue 13): `mesh up` of eleven copies of examples/fs_server.py in the shared
 * host, plus a twelfth copy with `isolate: true` (its own mesh-sidecar, as before the host). Times
 * `mesh up` to all healthy, reads the RSS of MM's own processes (supervisor, proxy, host) and of
 * the children once idle, then the routed-call throughput through a hosted service and through the
 * isolated one, in interleaved windows of the same run.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { spawnTracked } from './child-processes.js';
import { freePort } from './free-port.js';
import { leftovers } from './leftovers.js';
import { benchEnv, root } from './paths.js';
import { rssMiB } from './proc-info.js';
import { httpJson } from './wait-ready.js';

const MESH_CLI = join(root, 'dist/sidecar/mesh/cli.js');
const HOSTED = Array.from({ length: 11 }, (_, i) => `fs${String(i + 1).padStart(2, '0')}`);
const ISOLATED = 'fsiso';

export interface HostSuiteOptions {
  /** Seconds idle after all healthy before RSS is read. */
  settleSeconds: number;
  /** Throughput windows per route (interleaved), each this long, with this many calls in flight. */
  windows: number;
  windowSeconds: number;
  concurrency: number;
}
// Short windows, alternating, many of them: the machine's load drifts between windows, not within a pair.
export const DEFAULT_HOST_OPTIONS: HostSuiteOptions = { settleSeconds: 5, windows: 9, windowSeconds: 1.5, concurrency: 8 };

export interface HostSuiteResult {
  allHealthyMs: number;
  rss: { supervisor: number; proxy: number; host: number; ownTotal: number; isolatedSidecar: number; children: number; childCount: number };
  /** ratio: the median of the hosted/isolated ratios of adjacent windows (each pair shares the load of its moment). */
  throughput: { hosted: number[]; isolated: number[]; hostedMedian: number; isolatedMedian: number; ratio: number };
}

interface RunState {
  supervisor: { pid: number };
  proxy: { process?: { pid: number } };
  services: Record<string, { status: string; instances: { process?: { pid: number }; child?: { pid: number } }[] }>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function readState(home: string): RunState | undefined {
  try {
    const runs = join(home, 'runs');
    return JSON.parse(readFileSync(join(runs, readdirSync(runs)[0] ?? '', 'state.json'), 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

// Calls `read_text` through the proxy's /v1 API with `concurrency` calls in flight for `seconds`.
async function callRate(pool: Pool, service: string, seconds: number, concurrency: number): Promise<number> {
  const body = JSON.stringify({ arguments: { path: 'chapter1.txt' } });
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const answer = await pool.request({ method: 'POST', path: `/v1/services/${service}/tools/read_text/call`, headers: { 'content-type': 'application/json' }, body });
      await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`${service}: HTTP ${answer.statusCode}`);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - t0) / 1000);
}

/** Runs the suite once in a fresh folder (MESH_HOME, manifest, registry, free proxy port). */
export async function runHostSuite(options: HostSuiteOptions, log: (line: string) => void): Promise<HostSuiteResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-host-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  const proxyPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const server = (name: string, extra = '') => `  ${name}:\n    command: python3\n    args: [${join(root, 'examples/fs_server.py')}, --root, ${join(root, 'examples/texts')}]\n${extra}`;
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    `version: 1\nproxy: { port: ${proxyPort}, mcpPort: 0, registry: ./registry.sqlite }\nservices:\n${HOSTED.map((n) => server(n)).join('')}${server(ISOLATED, '    isolate: true\n')}`,
  );
  const env = { ...benchEnv(), MESH_HOME: home };
  const cli = (label: string, args: string[]) => spawnTracked(label, process.execPath, [MESH_CLI, ...args], { env, cwd: dir });
  const up = cli('mesh up', ['up', file, '--detach']);
  const pool = new Pool(proxyUrl, { connections: options.concurrency });
  try {
    let allHealthyMs = Number.NaN;
    const names = [...HOSTED, ISOLATED];
    while (Number.isNaN(allHealthyMs)) {
      if (performance.now() - up.spawnedAt > 60_000) throw new Error(`not all healthy 60 s after mesh up; output tail:\n${up.tail()}`);
      const answer = await httpJson(`${proxyUrl}/v1/services`).catch(() => undefined);
      const listed = (answer?.body as { services?: { name: string; status: string }[] } | undefined)?.services ?? [];
      if (names.every((n) => listed.some((s) => s.name === n && s.status === 'healthy'))) allHealthyMs = performance.now() - up.spawnedAt;
      else await delay(20);
    }
    log(`  all ${names.length} services healthy ${Math.round(allHealthyMs)} ms after mesh up; idle ${options.settleSeconds} s before reading RSS`);
    await delay(options.settleSeconds * 1000);
    const state = readState(home);
    if (state === undefined) throw new Error('no run state');
    const pidOf = (name: string) => state.services[name]?.instances[0]?.process?.pid ?? Number.NaN;
    const hostPid = pidOf(HOSTED[0]!);
    const children = names.map((n) => state.services[n]?.instances[0]?.child?.pid).filter((p): p is number => p !== undefined);
    const rss = {
      supervisor: rssMiB(state.supervisor.pid),
      proxy: rssMiB(state.proxy.process?.pid ?? Number.NaN),
      host: rssMiB(hostPid),
      ownTotal: 0,
      isolatedSidecar: rssMiB(pidOf(ISOLATED)),
      children: children.reduce((sum, pid) => sum + rssMiB(pid), 0),
      childCount: children.length,
    };
    // MM's own processes for the eleven hosted services; the isolated sidecar is reported on its own.
    rss.ownTotal = rss.supervisor + rss.proxy + rss.host;
    const hosted: number[] = [];
    const isolated: number[] = [];
    await callRate(pool, HOSTED[0]!, 1, options.concurrency); // warm-up of both routes
    await callRate(pool, ISOLATED, 1, options.concurrency);
    for (let w = 0; w < options.windows; w++) {
      // Alternating which goes first, so neither always follows the other.
      const first = w % 2 === 0 ? HOSTED[0]! : ISOLATED;
      const rates = new Map<string, number>();
      rates.set(first, await callRate(pool, first, options.windowSeconds, options.concurrency));
      const second = first === ISOLATED ? HOSTED[0]! : ISOLATED;
      rates.set(second, await callRate(pool, second, options.windowSeconds, options.concurrency));
      hosted.push(rates.get(HOSTED[0]!)!);
      isolated.push(rates.get(ISOLATED)!);
    }
    const hostedMedian = median(hosted);
    const isolatedMedian = median(isolated);
    const ratio = median(hosted.map((h, i) => h / (isolated[i] ?? Number.NaN)));
    return { allHealthyMs, rss, throughput: { hosted, isolated, hostedMedian, isolatedMedian, ratio } };
  } finally {
    await pool.close();
    const down = cli('mesh down', ['down', file]);
    await new Promise((resolve) => down.child.once('exit', resolve));
    const left = await leftovers(dir, proxyUrl, 2_000);
    if (left.length > 0) log(`  leftovers after mesh down: ${left.map((l) => JSON.stringify(l)).join(', ')}`);
    await up.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mark = (ok: boolean) => (ok ? 'ok ' : 'MISS');

/** The suite's table, each figure beside its target. */
export function formatHostTable(r: HostSuiteResult): string {
  const m = (v: number) => `${v.toFixed(0)} MiB`;
  const { rss, throughput: t } = r;
  return [
    'sidecar host: eleven copies of examples/fs_server.py in one host, a twelfth isolated (own mesh-sidecar)',
    `  ${mark(rss.ownTotal <= 250)} MM's own processes (supervisor ${m(rss.supervisor)} + proxy ${m(rss.proxy)} + host ${m(rss.host)}) = ${m(rss.ownTotal)}   target <= 250 MiB (before the host: 1,120)`,
    `  ${mark(rss.isolatedSidecar <= 60)} standalone mesh-sidecar, idle: ${m(rss.isolatedSidecar)}   target <= 60 MiB`,
    `       children (${rss.childCount} python servers): ${m(rss.children)}`,
    `  ${mark(r.allHealthyMs < 2000)} mesh up -> all healthy: ${Math.round(r.allHealthyMs)} ms   target < 2000 ms (before: 4,900)`,
    `  ${mark(t.ratio >= 0.9)} routed read_text calls/s: hosted ${t.hostedMedian.toFixed(0)} vs isolated ${t.isolatedMedian.toFixed(0)} (median ratio of paired windows ${t.ratio.toFixed(2)}; windows ${t.hosted.map((v) => v.toFixed(0)).join('/')} vs ${t.isolated.map((v) => v.toFixed(0)).join('/')})   target ratio >= 0.90`,
  ].join('\n');
}
