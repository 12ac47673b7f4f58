/**
 * The faults suite: a session flood (sessions opened and abandoned on the proxy and on a sidecar:
 * RSS before, at peak and after the idle sessions expired) and a drain (calls in flight when the
 * proxy gets SIGTERM: how many complete). `--faults-build DIR` runs it against another build (an
 * older checkout) with `--faults-legacy` leaving out the flags that build does not know.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { spawnTracked, type Tracked } from './child-processes.js';
import { freePort } from './free-port.js';
import { root } from './paths.js';
import { rssMiB } from './proc-info.js';
import { httpJson, waitReady } from './wait-ready.js';

export interface FaultsOptions {
  /** Sessions opened and abandoned per target. */
  sessions: number;
  /** Idle timeout given to the proxy and the sidecar (seconds). */
  idleSeconds: number;
  /** How long after expiry RSS is read again (the heap shrinks at the next major GCs). */
  settleSeconds: number;
  /** Calls in flight when the proxy is told to stop, and how long each takes. */
  drainCalls: number;
  callMs: number;
  /** Folder holding dist/ (default: this checkout). */
  build: string;
  /** The build predates the options of this suite: do not pass them. */
  legacy: boolean;
}

export const DEFAULT_FAULTS_OPTIONS: FaultsOptions = { sessions: 4_000, idleSeconds: 5, settleSeconds: 30, drainCalls: 8, callMs: 400, build: root, legacy: false };

export interface FloodFigures {
  target: 'proxy' | 'sidecar';
  sessions: number;
  openSeconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** After every abandoned session expired (or, when they never do, after the wait ran out). */
  rssAfterMiB: number;
  /** Seconds from the end of the flood until no session was left; undefined when some were still open. */
  expiredAfterSeconds: number | undefined;
  sessionsLeft: number;
  /** `settleSeconds` after expiry. */
  rssSettledMiB: number;
  /** At the peak of a second, identical flood (memory of expired sessions reused, not leaked: close to the first peak). */
  rssSecondPeakMiB: number;
}

export interface DrainFigures {
  calls: number;
  callMs: number;
  completed: number;
  failed: number;
  /** SIGTERM to process exit. */
  stopSeconds: number;
  exitCode: number | null;
}

export interface FaultsResult {
  options: FaultsOptions;
  flood: FloodFigures[];
  drain: DrainFigures | undefined;
  errors: { part: string; round: number; message: string }[];
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } });

// One client that initializes and vanishes (no DELETE), as a crashed IDE or a script would.
async function openAndAbandon(url: string): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: HEADERS, body: INIT });
  await response.arrayBuffer();
  if (!response.headers.get('mcp-session-id')) throw new Error(`initialize answered ${response.status} without a session id`);
}

async function flood(url: string, count: number, concurrency = 32): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await openAndAbandon(url);
      }
    }),
  );
}

function cli(options: FaultsOptions, which: 'proxy' | 'sidecar'): string {
  return join(options.build, `dist/${which}/cli.js`);
}

async function startProxy(options: FaultsOptions, extra: string[] = []): Promise<{ proc: Tracked; base: string }> {
  const port = await freePort();
  const registry = join(tmpdir(), `mm-bench-faults-${process.pid}-${port}.sqlite`);
  const limits = options.legacy ? [] : ['--session-idle-timeout', String(options.idleSeconds)];
  const proc = spawnTracked('mesh-proxy', process.execPath, [
    cli(options, 'proxy'),
    '--port',
    String(port),
    '--mcp-port',
    '0',
    '--registry',
    registry,
    '--heartbeat-interval',
    '1',
    '--heartbeat-timeout',
    '5',
    ...limits,
    ...extra,
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitReady(proc, 'proxy /healthz', async () => (await httpJson(`${base}/healthz`)).status === 200);
  return { proc, base };
}

async function startEchoSidecar(options: FaultsOptions, proxy: string | undefined): Promise<{ proc: Tracked; base: string }> {
  const port = await freePort();
  const limits = options.legacy ? [] : ['--session-idle-timeout', String(options.idleSeconds)];
  const join_ = proxy ? ['--proxy', proxy, '--heartbeat', '1'] : ['--no-proxy'];
  const proc = spawnTracked('mesh-sidecar', process.execPath, [
    cli(options, 'sidecar'),
    '--name',
    'echo',
    '--port',
    String(port),
    ...join_,
    ...limits,
    '--',
    'python3',
    join(root, 'test/fixtures/echo_server.py'),
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitReady(proc, 'sidecar /healthz', async () => (await httpJson(`${base}/healthz`)).status === 200);
  return { proc, base };
}

async function proxySessions(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = /^mesh_mcp_sessions (\d+)$/m.exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

async function sidecarSessions(base: string): Promise<number> {
  return Number(((await httpJson(`${base}/healthz`)).body as { sessions?: number }).sessions ?? Number.NaN);
}

// Waits for expiry (idle timeout plus a sweep), at most the timeout plus 60 s; a build without expiry runs the wait out.
async function untilExpired(count: () => Promise<number>, options: FaultsOptions): Promise<{ left: number; seconds: number | undefined }> {
  const start = performance.now();
  const end = start + (options.idleSeconds + 60) * 1000;
  let left = await count();
  while ((left > 0 || Number.isNaN(left)) && performance.now() < end) {
    await delay(250);
    left = await count();
  }
  return { left, seconds: left === 0 ? (performance.now() - start) / 1000 : undefined };
}

async function floodOne(target: 'proxy' | 'sidecar', options: FaultsOptions, log: (line: string) => void): Promise<FloodFigures> {
  const started = target === 'proxy' ? await startProxy(options) : await startEchoSidecar(options, undefined);
  try {
    const count = target === 'proxy' ? () => proxySessions(started.base) : () => sidecarSessions(started.base);
    const rssBeforeMiB = rssMiB(started.proc.pid);
    const t0 = performance.now();
    await flood(`${started.base}/mcp`, options.sessions);
    const openSeconds = (performance.now() - t0) / 1000;
    const rssPeakMiB = rssMiB(started.proc.pid);
    log(`  ${target}: ${options.sessions} sessions opened in ${openSeconds.toFixed(1)} s; RSS ${rssBeforeMiB.toFixed(0)} → ${rssPeakMiB.toFixed(0)} MiB; waiting for expiry`);
    const { left, seconds } = await untilExpired(count, options);
    const rssAfterMiB = rssMiB(started.proc.pid);
    await delay(options.settleSeconds * 1000);
    const rssSettledMiB = rssMiB(started.proc.pid);
    await flood(`${started.base}/mcp`, options.sessions);
    const rssSecondPeakMiB = rssMiB(started.proc.pid);
    log(
      `  ${target}: expired after ${seconds === undefined ? '-' : seconds.toFixed(1)} s (${left} left); RSS ${rssAfterMiB.toFixed(0)}, ${options.settleSeconds} s later ${rssSettledMiB.toFixed(0)}, second flood ${rssSecondPeakMiB.toFixed(0)} MiB`,
    );
    return { target, sessions: options.sessions, openSeconds, rssBeforeMiB, rssPeakMiB, rssAfterMiB, expiredAfterSeconds: seconds, sessionsLeft: left, rssSettledMiB, rssSecondPeakMiB };
  } finally {
    await started.proc.stop();
  }
}

async function drain(options: FaultsOptions, log: (line: string) => void): Promise<DrainFigures> {
  const proxy = await startProxy(options);
  const sidecar = await startEchoSidecar(options, proxy.base);
  try {
    await waitReady([proxy.proc, sidecar.proc], 'echo registered', async () => {
      const { status, body } = await httpJson(`${proxy.base}/v1/services/echo`);
      return status === 200 && (body as { status?: string }).status === 'healthy';
    });
    const call = () =>
      fetch(`${proxy.base}/v1/services/echo/tools/sleep/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ arguments: { ms: options.callMs } }) })
        .then(async (r) => r.status === 200 && (await r.text()).includes(`slept ${options.callMs}`))
        .catch(() => false);
    const calls = Array.from({ length: options.drainCalls }, call);
    // SIGTERM mid-way: once every call reached the child.
    await waitReady(sidecar.proc, 'calls in flight', async () => ((await httpJson(`${sidecar.base}/healthz`)).body as { inflight: number }).inflight >= options.drainCalls, 10_000, 5);
    const t0 = performance.now();
    process.kill(proxy.proc.pid, 'SIGTERM');
    const results = await Promise.all(calls);
    while (proxy.proc.exit() === undefined && performance.now() - t0 < 30_000) await delay(10);
    const stopSeconds = (performance.now() - t0) / 1000;
    const completed = results.filter(Boolean).length;
    log(`  drain: ${completed} of ${options.drainCalls} calls of ${options.callMs} ms completed after SIGTERM; proxy ${proxy.proc.exit() ?? 'still running'} after ${stopSeconds.toFixed(2)} s`);
    return { calls: options.drainCalls, callMs: options.callMs, completed, failed: options.drainCalls - completed, stopSeconds, exitCode: proxy.proc.child.exitCode };
  } finally {
    await sidecar.proc.stop();
    await proxy.proc.stop();
  }
}

/** Runs the session flood on the proxy and on a sidecar, then the drain test. */
export async function runFaultsSuite(options: FaultsOptions, log: (line: string) => void): Promise<FaultsResult> {
  const result: FaultsResult = { options, flood: [], drain: undefined, errors: [] };
  log(
    `faults: ${options.sessions} abandoned sessions per target (idle timeout ${options.idleSeconds} s${options.legacy ? ', not passed: legacy build' : ''}); drain of ${options.drainCalls} calls of ${options.callMs} ms; build ${options.build}`,
  );
  for (const target of ['proxy', 'sidecar'] as const) {
    try {
      result.flood.push(await floodOne(target, options, log));
    } catch (error) {
      result.errors.push({ part: `flood-${target}`, round: 1, message: error instanceof Error ? error.message : String(error) });
      log(`  FAILED flood ${target}: ${String(error)}`);
    }
  }
  try {
    result.drain = await drain(options, log);
  } catch (error) {
    result.errors.push({ part: 'drain', round: 1, message: error instanceof Error ? error.message : String(error) });
    log(`  FAILED drain: ${String(error)}`);
  }
  return result;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

/** The suite's table. */
export function formatFaultsTable(r: FaultsResult): string {
  const lines = [
    `Session flood: ${r.options.sessions} sessions opened and abandoned, idle timeout ${r.options.idleSeconds} s${r.options.legacy ? ' (legacy build: not set)' : ''}`,
    `target   | open (s) | RSS before | RSS peak | expired after (s) | sessions left | RSS at expiry | RSS ${r.options.settleSeconds} s later | RSS 2nd flood peak`,
    '---------|----------|------------|----------|-------------------|---------------|---------------|----------------|-------------------',
  ];
  for (const f of r.flood) {
    const mib = (n: number, width: number) => `${fmt(n)} MiB`.padStart(width);
    lines.push(
      `${f.target.padEnd(8)} | ${fmt(f.openSeconds, 1).padStart(8)} | ${mib(f.rssBeforeMiB, 10)} | ${mib(f.rssPeakMiB, 8)} | ${fmt(f.expiredAfterSeconds, 1).padStart(17)} | ${fmt(f.sessionsLeft).padStart(13)} | ${mib(f.rssAfterMiB, 13)} | ${mib(f.rssSettledMiB, 14)} | ${mib(f.rssSecondPeakMiB, 18)}`,
    );
  }
  if (r.drain) {
    const d = r.drain;
    lines.push(
      '',
      `Drain: ${d.calls} calls of ${d.callMs} ms in flight, SIGTERM to the proxy`,
      'completed | failed | SIGTERM to exit (s) | exit code',
      '----------|--------|---------------------|----------',
    );
    lines.push(`${String(d.completed).padStart(9)} | ${String(d.failed).padStart(6)} | ${fmt(d.stopSeconds, 2).padStart(19)} | ${String(d.exitCode).padStart(9)}`);
  }
  return lines.join('\n');
}
