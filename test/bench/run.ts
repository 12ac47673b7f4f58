/**
 * `npm run bench`: the echo tool of server-everything reached by every path (direct stdio,
 * mesh-sidecar, supergateway, ...) in interleaved rounds, medians reported. See --help.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchPath, StartedPath } from './bench-path.js';
import { killAllSync, stopAll } from './child-processes.js';
import { summarizeCpuProfile, type ProfileSummary } from './cpu-profile.js';
import type { Driver } from './driver.js';
import { openHttpDriver } from './http-driver.js';
import { machineInfo } from './machine-info.js';
import { sequential, throughput } from './measure.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { ECHO, PATHS, root } from './paths.js';
import { formatTable, ratios, summarize, writeResults, type PathSummary, type ResultsFile, type RoundResult } from './report.js';
import { rssMiB, treeRssMiB } from './proc-info.js';
import { formatMeshTable } from './mesh-report.js';
import { runMeshSuite, type MeshSuiteResult } from './mesh-suite.js';
import { formatViewsTable, runViewsSuite, type ViewsResult } from './views-suite.js';
import { formatFaultsTable, runFaultsSuite, type FaultsResult } from './faults-suite.js';
import { DEFAULT_HOST_OPTIONS, formatHostTable, runHostSuite, type HostSuiteResult } from './host-suite.js';
import { formatDashboardTable, runDashboardSuite, type DashboardResult } from './dashboard.js';
import { formatRegistryTable, runRegistryScale, type RegistryScaleResult } from './registry-scale.js';
import { openSdkDriver } from './sdk-driver.js';
import { runMultiProxy, type MultiProxyOutcome } from './multi-proxy.js';
import { formatMultiProxyTable } from './multi-proxy-report.js';
import { stopPgClustersSync } from '../helpers/pg-cluster.js';

const resultsDir = join(root, 'test/bench/results');
const log = (line: string) => process.stderr.write(`${line}\n`);

interface ProfileRequest {
  dir: string;
  path: string;
  round: number;
}

async function withDriver<T>(open: Promise<Driver>, use: (driver: Driver) => Promise<T>): Promise<T> {
  const driver = await open;
  try {
    return await use(driver);
  } finally {
    await driver.close();
  }
}

/** Starts one path, measures it with the lean driver, then with the SDK client, and stops it. */
async function runPath(path: BenchPath, round: number, options: BenchOptions, profile?: ProfileRequest): Promise<RoundResult> {
  const bridgeNodeFlags = profile
    ? ['--cpu-prof', '--cpu-prof-interval', String(options.cpuProfIntervalUs), '--cpu-prof-dir', profile.dir, '--cpu-prof-name', `${profile.path}-round${profile.round}.cpuprofile`]
    : [];
  const phases: string[] = [];
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases.push(`${name} ${((now - mark) / 1000).toFixed(1)}`);
    mark = now;
  };
  const started: StartedPath = await path.start({ bridgeNodeFlags });
  phase('start');
  try {
    const readyMs = performance.now() - started.spawnedAt;
    const toolCall = path.toolCall ?? ECHO;
    const open = started.url
      ? openHttpDriver(started.url, toolCall, { connections: options.concurrency })
      : started.openDriver
        ? started.openDriver(toolCall, options.concurrency)
        : Promise.reject(new Error(`path ${path.name} has neither url nor openDriver`));
    const processes = started.processes ?? [{ role: 'bridge', pid: started.rssPid }];
    const watch = processes.map((p) => p.pid);
    const lean = await withDriver(open, async (driver) => {
      await driver.call();
      const spawnToFirstAnswerMs = performance.now() - started.spawnedAt;
      // Warm both ends (JIT, sockets) at full concurrency first: sequential figures of a cold bridge are mostly its JIT.
      await throughput(driver, options.concurrency, options.throughputWarmupMs, Number.MAX_SAFE_INTEGER);
      const seq = await sequential(driver, options.warmupCalls, options.sequentialCalls, options.sequentialMaxMs);
      const tput = await throughput(driver, options.concurrency, options.throughputMs, options.throughputMaxCalls, watch);
      const perProcess = processes.map((p, i) => ({
        role: p.role,
        cpuUsPerCall: (tput.processCpuMsPerCall[i] ?? Number.NaN) * 1000,
        cpuWaitPct: tput.processRunQueueWaitPct[i] ?? Number.NaN,
        rssMiB: rssMiB(p.pid),
        treeRssMiB: treeRssMiB(p.pid),
      }));
      return { initializeMs: driver.initializeMs, spawnToFirstAnswerMs, seq, tput, perProcess, answerType: driver.answerType };
    });
    phase('lean');
    const result: RoundResult = {
      round,
      readyMs,
      initializeMs: lean.initializeMs,
      spawnToFirstAnswerMs: lean.spawnToFirstAnswerMs,
      sequential: lean.seq,
      throughput: lean.tput,
      rssMiB: lean.perProcess[0]?.rssMiB ?? Number.NaN,
      treeRssMiB: lean.perProcess.reduce((total, p) => total + p.treeRssMiB, 0),
      processes: lean.perProcess,
      ...(lean.answerType ? { answerType: lean.answerType } : {}),
    };
    if (started.url && options.sdk && !path.noSdk && (options.sdkEveryRound || round === options.rounds)) {
      result.sdk = await withDriver(openSdkDriver(started.url, toolCall), async (driver) => {
        await throughput(driver, options.concurrency, options.throughputWarmupMs / 2, Number.MAX_SAFE_INTEGER);
        const seq = await sequential(driver, options.sdkWarmupCalls, options.sdkSequentialCalls, options.sdkSequentialMaxMs);
        const tput = await throughput(driver, options.concurrency, options.sdkThroughputMs, options.sdkThroughputMaxCalls, watch);
        return { initializeMs: driver.initializeMs, sequential: seq, throughput: tput };
      });
    }
    if (result.sdk) phase('sdk');
    return result;
  } finally {
    await started.stop();
    phase('stop');
    log(`  seconds: ${phases.join(', ')}`);
  }
}

function selectPaths(names: string[]): BenchPath[] {
  if (names.length === 0) return [...PATHS];
  const unknown = names.filter((n) => !PATHS.some((p) => p.name === n));
  if (unknown.length > 0) throw new Error(`unknown path(s) ${unknown.join(', ')}; known: ${PATHS.map((p) => p.name).join(', ')}`);
  return PATHS.filter((p) => names.includes(p.name));
}

function brief(r: RoundResult): string {
  const sdk = r.sdk ? `; SDK p50 ${r.sdk.sequential.p50Ms.toFixed(3)} ms, ${r.sdk.throughput.callsPerSec.toFixed(0)}/s` : '';
  return `${r.answerType ? `${r.answerType} answers, ` : ''}ready ${r.readyMs.toFixed(0)} ms, p50 ${r.sequential.p50Ms.toFixed(3)} ms, p99 ${r.sequential.p99Ms.toFixed(3)} ms, ${r.throughput.callsPerSec.toFixed(0)} calls/s (${(r.throughput.cpuMsPerCall * 1000).toFixed(0)} µs CPU/call), RSS ${r.rssMiB.toFixed(1)} MiB${sdk}`;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\npaths: ${PATHS.map((p) => `${p.name} (${p.description})`).join('; ')}\n`);
    return 0;
  }
  const options = parsed;
  const runs = (suite: Exclude<BenchOptions['suite'], 'all'>) => options.suite === 'all' || options.suite === suite;
  const paths = runs('echo') ? selectPaths(options.paths) : [];
  for (const cli of ['dist/sidecar/cli.js', 'dist/proxy/cli.js']) if (!existsSync(join(root, cli))) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const profileDir = options.cpuProf ? join(resultsDir, `prof-${startedAt.replace(/[:.]/g, '-')}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const suites = [
    paths.length > 0 ? `${paths.map((p) => p.name).join(', ')}; ${options.rounds} round(s), ${options.concurrency} in flight` : '',
    runs('registry') ? `registry scale (${options.registry.instances} instances)` : '',
    runs('mesh') ? 'mesh (file polling vs mesh.call, mesh up)' : '',
    runs('faults') ? 'faults (session flood, drain)' : '',
    runs('host') ? 'sidecar host (eleven fs_server.py services: RSS, start-up, hosted vs isolated calls/s)' : '',
    runs('dashboard') ? `dashboard (${options.dashboard.services} services in chromium)` : '',
    runs('views') ? 'views (tools/list size per endpoint of configs/factory.yaml)' : '',
    runs('multi-proxy')
      ? `multi-proxy (${options.multiProxy.proxies} proxies on ${options.multiProxy.store === 'postgres' ? 'one PostgreSQL' : 'sql.js files'}, ${options.multiProxy.instances} instances)`
      : '',
  ].filter(Boolean);
  log(`mm-bench: ${suites.join('; then ')}; ${machine.cpus} cpu(s) ${machine.cpuModel}, node ${machine.node}`);

  if ((machine.loadavg[0] ?? 0) > machine.cpus * 0.5)
    log(`warning: load average ${machine.loadavg.join(' ')} on ${machine.cpus} cpus: other work shares the machine, absolute figures will be low and noisy (compare ratios and CPU/call)`);
  const rounds: Record<string, RoundResult[]> = Object.fromEntries(paths.map((p) => [p.name, []]));
  const errors: ResultsFile['errors'] = [];
  const profiles: ProfileSummary[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    // Interleave: each round starts with a different path, so drift (thermal, other load) spreads evenly.
    const order = paths.map((_, i) => paths[(i + round - 1) % paths.length]).filter((p): p is BenchPath => p !== undefined);
    for (const path of order) {
      log(`round ${round}/${options.rounds} ${path.name}: ${path.description}`);
      const profile = profileDir && path.name !== 'direct' ? { dir: profileDir, path: path.name, round } : undefined;
      try {
        const t0 = performance.now();
        const result = await runPath(path, round, options, profile);
        rounds[path.name]?.push(result);
        log(`  ${brief(result)} [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
        if (profile) {
          const file = join(profile.dir, `${profile.path}-round${profile.round}.cpuprofile`);
          if (existsSync(file)) profiles.push(summarizeCpuProfile(file, root, result.throughput.windowUs));
          else errors.push({ path: path.name, round, message: `no CPU profile written at ${file}` });
        }
      } catch (error) {
        if (interrupted) return 130;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        errors.push({ path: path.name, round, message });
        log(`  FAILED: ${message}`);
        await stopAll();
      }
    }
  }

  // A suite that throws is one failed run in the report; the other suites still run.
  const guarded = async <R>(name: string, run: () => Promise<R>): Promise<R | undefined> => {
    const t0 = performance.now();
    try {
      const result = await run();
      log(`  ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return result;
    } catch (error) {
      if (interrupted) return undefined;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      errors.push({ path: name, round: 1, message });
      log(`  FAILED: ${message}`);
      await stopAll();
      return undefined;
    }
  };

  let registry: RegistryScaleResult | undefined;
  if (runs('registry')) {
    log(`registry scale: ${options.registry.instances} instances, ${options.registry.services} services, ${options.registry.toolsPerInstance} tools each`);
    registry = await guarded('registry-scale', () => runRegistryScale(options.registry, log));
    if (interrupted) return 130;
  }

  let mesh: MeshSuiteResult | undefined;
  if (runs('mesh')) {
    const t0 = performance.now();
    mesh = await runMeshSuite(options.mesh, log);
    if (interrupted) return 130;
    for (const e of mesh.errors) errors.push({ path: e.part, round: e.round, message: e.message });
    log(`  mesh suite done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  let faults: FaultsResult | undefined;
  if (runs('faults')) {
    const t0 = performance.now();
    faults = await runFaultsSuite(options.faults, log);
    if (interrupted) return 130;
    errors.push(...faults.errors.map((e) => ({ path: e.part, round: e.round, message: e.message })));
    log(`  faults suite done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  let host: HostSuiteResult | undefined;
  if (runs('host')) {
    log('sidecar host: mesh up of eleven fs_server.py services plus one isolated');
    host = await guarded('sidecar-host', () => runHostSuite(DEFAULT_HOST_OPTIONS, log));
    if (interrupted) return 130;
    if (host) process.stdout.write(`\n${formatHostTable(host)}\n`);
  }

  let dashboard: DashboardResult | undefined;
  if (runs('dashboard')) {
    dashboard = await guarded('dashboard', () => runDashboardSuite(options.dashboard, log));
    if (interrupted) return 130;
  }

  let views: ViewsResult | undefined;
  if (runs('views')) {
    views = await guarded('views', () => runViewsSuite(log));
    if (interrupted) return 130;
  }

  let multiProxy: MultiProxyOutcome | undefined;
  if (runs('multi-proxy')) {
    const routed = { concurrency: options.concurrency, warmupMs: options.throughputWarmupMs, windowMs: options.throughputMs / 2, maxCalls: options.throughputMaxCalls };
    const multiOptions = options.cpuProf ? { ...options.multiProxy, cpuProfDir: join(resultsDir, `prof-multi-${startedAt.replace(/[:.]/g, '-')}`) } : options.multiProxy;
    multiProxy = await guarded('multi-proxy', () => runMultiProxy(multiOptions, routed, log));
    if (interrupted) return 130;
  }

  const summaries: PathSummary[] = paths.flatMap((p) => {
    const list = rounds[p.name] ?? [];
    return list.length > 0 ? [summarize(p, list)] : [];
  });
  const ratioList = ratios(paths, summaries);
  if (paths.length > 0) {
    process.stdout.write(`\n${formatTable(summaries, ratioList, options.rounds, options.concurrency, options.sdkEveryRound || options.rounds === 1 ? 'every round' : 'last round only')}\n`);
    if (options.quick) process.stdout.write('(--quick: a smoke run with cold JIT and short windows; judge targets on a full run)\n');
  }
  for (const p of profiles) process.stdout.write(`\n${formatProfile(p)}\n`);
  if (registry) process.stdout.write(`\n${formatRegistryTable(registry)}\n`);
  if (mesh) process.stdout.write(`\n${formatMeshTable(mesh)}\n`);
  if (faults) process.stdout.write(`\n${formatFaultsTable(faults)}\n`);
  if (dashboard) process.stdout.write(`\n${formatDashboardTable(dashboard)}\n`);
  if (views) process.stdout.write(`\n${formatViewsTable(views)}\n`);
  if (multiProxy) process.stdout.write(`\n${formatMultiProxyTable(multiProxy)}\n`);
  for (const p of multiProxy && 'profiles' in multiProxy ? (multiProxy.profiles ?? []) : []) process.stdout.write(`\n${formatProfile(p)}\n`);
  const file = writeResults(resultsDir, {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    loadavgEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    options,
    summaries,
    ratios: ratioList,
    rounds,
    errors,
    ...(profiles.length > 0 ? { cpuProfiles: profiles } : {}),
    ...(registry ? { registry } : {}),
    ...(mesh ? { mesh } : {}),
    ...(faults ? { faults } : {}),
    ...(dashboard ? { dashboard } : {}),
    ...(views ? { views } : {}),
    ...(multiProxy ? { multiProxy } : {}),
  });
  process.stdout.write(`\nresults: ${file} (run took ${((Date.now() - Date.parse(startedAt)) / 1000).toFixed(0)} s)\n`);
  if (errors.length > 0) {
    process.stdout.write(`${errors.length} path run(s) failed:\n${errors.map((e) => `  ${e.path} round ${e.round}: ${e.message.split('\n')[0]}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

function formatProfile(p: ProfileSummary): string {
  const lines = [
    `CPU profile ${p.file}`,
    `  ${p.samples} samples over ${p.sampledMs.toFixed(0)} ms ${p.windowed ? 'inside the throughput window' : '(whole run: window not found)'}; idle ${p.idlePct.toFixed(1)}%; shares below are of busy time`,
    '  top self time:',
  ];
  p.topSelf.forEach((s, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${s.selfPct.toFixed(1).padStart(5)}%  ${s.where}${s.via ? `   <- ${s.via}` : ''}`));
  lines.push('  self time by area:');
  for (const a of p.byArea) lines.push(`      ${a.selfPct.toFixed(1).padStart(5)}%  ${a.area}`);
  lines.push('  project functions, inclusive time:');
  for (const s of p.topProjectInclusive) lines.push(`      ${s.selfPct.toFixed(1).padStart(5)}%  ${s.where}`);
  lines.push('  package functions, inclusive time:');
  for (const s of p.topPackageInclusive) lines.push(`      ${s.selfPct.toFixed(1).padStart(5)}%  ${s.where}`);
  return lines.join('\n');
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`\n${signal}: stopping every spawned process`);
    void stopAll().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  killAllSync();
  stopPgClustersSync();
});

main().then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (error: unknown) => {
    log(`mm-bench: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll();
    process.exit(1);
  },
);
