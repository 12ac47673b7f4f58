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
import { openSdkDriver } from './sdk-driver.js';

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
  const bridgeNodeFlags = profile ? ['--cpu-prof', '--cpu-prof-interval', String(options.cpuProfIntervalUs), '--cpu-prof-dir', profile.dir, '--cpu-prof-name', `${profile.path}-round${profile.round}.cpuprofile`] : [];
  const started: StartedPath = await path.start({ bridgeNodeFlags });
  try {
    const readyMs = performance.now() - started.spawnedAt;
    const toolCall = path.toolCall ?? ECHO;
    const open = started.url
      ? openHttpDriver(started.url, toolCall, { connections: options.concurrency })
      : started.openDriver
        ? started.openDriver(toolCall)
        : Promise.reject(new Error(`path ${path.name} has neither url nor openDriver`));
    const lean = await withDriver(open, async (driver) => {
      await driver.call();
      const spawnToFirstAnswerMs = performance.now() - started.spawnedAt;
      // Warm both ends (JIT, sockets) at full concurrency first: sequential figures of a cold bridge are mostly its JIT.
      await throughput(driver, options.concurrency, options.throughputWarmupMs, Number.MAX_SAFE_INTEGER);
      const seq = await sequential(driver, options.warmupCalls, options.sequentialCalls);
      const tput = await throughput(driver, options.concurrency, options.throughputMs, options.throughputMaxCalls, started.rssPid);
      return { initializeMs: driver.initializeMs, spawnToFirstAnswerMs, seq, tput, rss: rssMiB(started.rssPid), treeRss: treeRssMiB(started.rssPid) };
    });
    const result: RoundResult = {
      round,
      readyMs,
      initializeMs: lean.initializeMs,
      spawnToFirstAnswerMs: lean.spawnToFirstAnswerMs,
      sequential: lean.seq,
      throughput: lean.tput,
      rssMiB: lean.rss,
      treeRssMiB: lean.treeRss,
    };
    if (started.url && options.sdk) {
      result.sdk = await withDriver(openSdkDriver(started.url, toolCall), async (driver) => {
        await throughput(driver, options.concurrency, options.throughputWarmupMs / 2, Number.MAX_SAFE_INTEGER);
        const seq = await sequential(driver, options.sdkWarmupCalls, options.sdkSequentialCalls);
        const tput = await throughput(driver, options.concurrency, options.sdkThroughputMs, options.sdkThroughputMaxCalls, started.rssPid);
        return { initializeMs: driver.initializeMs, sequential: seq, throughput: tput };
      });
    }
    return result;
  } finally {
    await started.stop();
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
  return `ready ${r.readyMs.toFixed(0)} ms, p50 ${r.sequential.p50Ms.toFixed(3)} ms, p99 ${r.sequential.p99Ms.toFixed(3)} ms, ${r.throughput.callsPerSec.toFixed(0)} calls/s (${(r.throughput.cpuMsPerCall * 1000).toFixed(0)} µs CPU/call), RSS ${r.rssMiB.toFixed(1)} MiB${sdk}`;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\npaths: ${PATHS.map((p) => `${p.name} (${p.description})`).join('; ')}\n`);
    return 0;
  }
  const options = parsed;
  const paths = selectPaths(options.paths);
  if (paths.some((p) => p.name === 'sidecar') && !existsSync(join(root, 'dist/sidecar/cli.js'))) throw new Error('dist/sidecar/cli.js is missing: run `npm run build` first');
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const profileDir = options.cpuProf ? join(resultsDir, `prof-${startedAt.replace(/[:.]/g, '-')}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  log(`mm-bench: ${paths.map((p) => p.name).join(', ')}; ${options.rounds} round(s), ${options.concurrency} in flight; ${machine.cpus} cpu(s) ${machine.cpuModel}, node ${machine.node}`);

  if ((machine.loadavg[0] ?? 0) > machine.cpus * 0.5) log(`warning: load average ${machine.loadavg.join(' ')} on ${machine.cpus} cpus: other work shares the machine, absolute figures will be low and noisy (compare ratios and CPU/call)`);
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
        const result = await runPath(path, round, options, profile);
        rounds[path.name]?.push(result);
        log(`  ${brief(result)}`);
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

  const summaries: PathSummary[] = paths.flatMap((p) => {
    const list = rounds[p.name] ?? [];
    return list.length > 0 ? [summarize(p, list)] : [];
  });
  const ratioList = ratios(paths, summaries);
  process.stdout.write(`\n${formatTable(summaries, ratioList, options.rounds, options.concurrency)}\n`);
  if (options.quick) process.stdout.write('(--quick: a smoke run with cold JIT and short windows; judge targets on a full run)\n');
  for (const p of profiles) process.stdout.write(`\n${formatProfile(p)}\n`);
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
  });
  process.stdout.write(`\nresults: ${file}\n`);
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
process.on('exit', killAllSync);

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
