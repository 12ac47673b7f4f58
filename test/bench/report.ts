import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchPath } from './bench-path.js';
import type { MachineInfo } from './machine-info.js';
import type { LatencyResult, ThroughputResult } from './measure.js';
import type { BenchOptions } from './options.js';
import { median, round } from './stats.js';

/** One process of a route: e.g. the proxy, or the sidecar (its server is in treeRssMiB). */
export interface ProcessFigures {
  role: string;
  cpuUsPerCall: number;
  /** Share of the throughput window its main thread waited for a CPU (run queue): high means starved by other load. */
  cpuWaitPct: number;
  rssMiB: number;
  treeRssMiB: number;
}

/** Everything measured on one path in one round. */
export interface RoundResult {
  round: number;
  /** Spawn until the path accepts traffic (sidecar: /healthz 200; supergateway: listening). */
  readyMs: number;
  /** MCP initialize + initialized of the lean driver. */
  initializeMs: number;
  /** Spawn until the first tools/call answer: the comparable "time to first call". */
  spawnToFirstAnswerMs: number;
  sequential: LatencyResult;
  throughput: ThroughputResult;
  /** RSS of the bridge (or of the server on the direct path) after the load. */
  rssMiB: number;
  /** RSS of the bridge plus every descendant (its servers); on a proxy route, of every process of the route. */
  treeRssMiB: number;
  /** HTTP paths: how the lean driver's tools/call answers came ('json' or 'sse'). */
  answerType?: string;
  /** Each process of the route on its own: own CPU µs per call in the throughput window, RSS after it (alone and with descendants). */
  processes?: ProcessFigures[];
  sdk?: { initializeMs: number; sequential: LatencyResult; throughput: ThroughputResult };
}

export interface PathSummary {
  name: string;
  description: string;
  readyMs: number;
  initializeMs: number;
  spawnToFirstAnswerMs: number;
  p50Ms: number;
  p99Ms: number;
  callsPerSec: number;
  /** CPU µs the bridge (server on direct) spent per call at full concurrency. */
  cpuUsPerCall: number;
  /** Bridge + server CPU µs per call. */
  familyCpuUsPerCall: number;
  /** Load generator CPU µs per call. */
  clientCpuUsPerCall: number;
  /** Share of the throughput window the load generator waited for a CPU. */
  clientCpuWaitPct: number;
  rssMiB: number;
  treeRssMiB: number;
  /** HTTP paths: how tools/call answers came in each round ('json', 'sse', or both joined by '/'). */
  answerType?: string;
  /** Medians per process of the route (same order as the path lists them). */
  processes?: ProcessFigures[];
  sdkInitializeMs?: number;
  sdkP50Ms?: number;
  sdkP99Ms?: number;
  sdkCallsPerSec?: number;
}

export interface Ratio {
  path: string;
  versus: string;
  throughput: number;
  p50: number;
  /** Bridge CPU per call, this path over the other. */
  cpuPerCall: number;
  sdkThroughput?: number;
  sdkP50?: number;
  target?: { minThroughput?: number; maxP50?: number; met: boolean };
}

/** Medians over rounds, per path. */
export function summarize(path: BenchPath, rounds: RoundResult[]): PathSummary {
  const m = (f: (r: RoundResult) => number) => round(median(rounds.map(f)));
  const summary: PathSummary = {
    name: path.name,
    description: path.description,
    readyMs: m((r) => r.readyMs),
    initializeMs: m((r) => r.initializeMs),
    spawnToFirstAnswerMs: m((r) => r.spawnToFirstAnswerMs),
    p50Ms: m((r) => r.sequential.p50Ms),
    p99Ms: m((r) => r.sequential.p99Ms),
    callsPerSec: round(median(rounds.map((r) => r.throughput.callsPerSec)), 0),
    cpuUsPerCall: round(median(rounds.map((r) => r.throughput.cpuMsPerCall * 1000)), 0),
    familyCpuUsPerCall: round(median(rounds.map((r) => r.throughput.familyCpuMsPerCall * 1000)), 0),
    clientCpuUsPerCall: round(median(rounds.map((r) => r.throughput.clientCpuMsPerCall * 1000)), 0),
    clientCpuWaitPct: round(median(rounds.map((r) => r.throughput.clientRunQueueWaitPct)), 0),
    rssMiB: round(median(rounds.map((r) => r.rssMiB)), 1),
    treeRssMiB: round(median(rounds.map((r) => r.treeRssMiB)), 1),
  };
  const types = [...new Set(rounds.flatMap((r) => (r.answerType ? [r.answerType] : [])))];
  if (types.length > 0) summary.answerType = types.join('/');
  const roles = rounds[0]?.processes?.map((p) => p.role) ?? [];
  if (roles.length > 0) {
    summary.processes = roles.map((role, i) => {
      const of = (f: (p: ProcessFigures) => number) =>
        median(
          rounds.map((r) => {
            const p = r.processes?.[i];
            return p ? f(p) : Number.NaN;
          }),
        );
      return {
        role,
        cpuUsPerCall: round(
          of((p) => p.cpuUsPerCall),
          0,
        ),
        cpuWaitPct: round(
          of((p) => p.cpuWaitPct),
          0,
        ),
        rssMiB: round(
          of((p) => p.rssMiB),
          1,
        ),
        treeRssMiB: round(
          of((p) => p.treeRssMiB),
          1,
        ),
      };
    });
  }
  const sdk = rounds.flatMap((r) => (r.sdk ? [r.sdk] : []));
  if (sdk.length > 0) {
    summary.sdkInitializeMs = round(median(sdk.map((s) => s.initializeMs)));
    summary.sdkP50Ms = round(median(sdk.map((s) => s.sequential.p50Ms)));
    summary.sdkP99Ms = round(median(sdk.map((s) => s.sequential.p99Ms)));
    summary.sdkCallsPerSec = round(median(sdk.map((s) => s.throughput.callsPerSec)), 0);
  }
  return summary;
}

/** Every path against supergateway (with the path's targets) and against direct stdio. */
export function ratios(paths: readonly BenchPath[], summaries: readonly PathSummary[]): Ratio[] {
  const byName = new Map(summaries.map((s) => [s.name, s]));
  const out: Ratio[] = [];
  for (const versus of ['supergateway', 'direct']) {
    const base = byName.get(versus);
    if (!base) continue;
    for (const s of summaries) {
      if (s.name === versus) continue;
      const ratio: Ratio = {
        path: s.name,
        versus,
        throughput: round(s.callsPerSec / base.callsPerSec, 2),
        p50: round(s.p50Ms / base.p50Ms, 2),
        cpuPerCall: round(s.cpuUsPerCall / base.cpuUsPerCall, 2),
      };
      if (s.sdkCallsPerSec !== undefined && base.sdkCallsPerSec !== undefined) ratio.sdkThroughput = round(s.sdkCallsPerSec / base.sdkCallsPerSec, 2);
      if (s.sdkP50Ms !== undefined && base.sdkP50Ms !== undefined) ratio.sdkP50 = round(s.sdkP50Ms / base.sdkP50Ms, 2);
      const targets = paths.find((p) => p.name === s.name)?.targets;
      if (versus === 'supergateway' && targets) {
        const met =
          (targets.minThroughputVsSupergateway === undefined || ratio.throughput >= targets.minThroughputVsSupergateway) &&
          (targets.maxP50VsSupergateway === undefined || ratio.p50 <= targets.maxP50VsSupergateway);
        ratio.target = { minThroughput: targets.minThroughputVsSupergateway, maxP50: targets.maxP50VsSupergateway, met };
      }
      out.push(ratio);
    }
  }
  return out;
}

function fmt(value: number | undefined, digits: number): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return 'n/a';
  return value.toFixed(digits);
}

/** Aligned text table of the medians, then the ratios. */
export function formatTable(summaries: readonly PathSummary[], ratioList: readonly Ratio[], rounds: number, concurrency: number, sdkRounds = 'every round'): string {
  const header = [
    'path',
    'ready ms',
    'init ms',
    '1st answer ms',
    'p50 ms',
    'p99 ms',
    `calls/s @${concurrency}`,
    'CPU µs/call',
    '+server',
    'client',
    'RSS MiB',
    '+children',
    'SDK init ms',
    'SDK p50',
    'SDK p99',
    `SDK calls/s`,
  ];
  const rows = summaries.map((s) => [
    s.name,
    fmt(s.readyMs, 1),
    fmt(s.initializeMs, 1),
    fmt(s.spawnToFirstAnswerMs, 1),
    fmt(s.p50Ms, 3),
    fmt(s.p99Ms, 3),
    fmt(s.callsPerSec, 0),
    fmt(s.cpuUsPerCall, 0),
    fmt(s.familyCpuUsPerCall, 0),
    fmt(s.clientCpuUsPerCall, 0),
    fmt(s.rssMiB, 1),
    fmt(s.treeRssMiB, 1),
    fmt(s.sdkInitializeMs, 1),
    fmt(s.sdkP50Ms, 3),
    fmt(s.sdkP99Ms, 3),
    fmt(s.sdkCallsPerSec, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out = [
    `medians of ${rounds} round(s) (SDK columns: ${sdkRounds}); lean load generator unless marked SDK. CPU µs/call at ${concurrency} in flight: bridge (server on direct; the proxy on proxy-*), whole route (bridge(s) + server), load generator. RSS: bridge, whole route.`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
  ];
  const multi = summaries.filter((s) => (s.processes?.length ?? 0) > 1);
  if (multi.length > 0) {
    out.push(`per process of the multi-hop routes (own CPU µs/call at ${concurrency} in flight, RSS MiB; the last hop's RSS with its server in parentheses):`);
    for (const s of multi) {
      const parts = (s.processes ?? []).map((p, i, all) => `${p.role} ${fmt(p.cpuUsPerCall, 0)} µs, ${fmt(p.rssMiB, 1)} MiB${i === all.length - 1 ? ` (${fmt(p.treeRssMiB, 1)} with server)` : ''}`);
      const rest = s.familyCpuUsPerCall - (s.processes ?? []).reduce((t, p) => t + p.cpuUsPerCall, 0);
      out.push(`  ${s.name.padEnd(widths[0] ?? 0)}  ${parts.join(' | ')} | server ${fmt(rest, 0)} µs`);
    }
    out.push('');
  }
  const typed = summaries.filter((s) => s.answerType);
  if (typed.length > 0) out.push(`tools/call answered as: ${typed.map((s) => `${s.name} ${s.answerType === 'sse' ? 'SSE' : s.answerType === 'json' ? 'JSON' : s.answerType}`).join(', ')}`, '');
  const waits = summaries.map((s) => `${s.name}: ${[...(s.processes ?? []).map((p) => `${p.role} ${fmt(p.cpuWaitPct, 0)}%`), `load generator ${fmt(s.clientCpuWaitPct, 0)}%`].join(', ')}`);
  if (waits.length > 0)
    out.push(`waiting for a CPU during the throughput window (main thread runnable but not running, share of the window; high = starved by other load):`, `  ${waits.join('; ')}`, '');
  for (const r of ratioList) {
    const sdk = r.sdkThroughput !== undefined ? `   (SDK client: throughput ${fmt(r.sdkThroughput, 2)}x, p50 ${fmt(r.sdkP50, 2)}x)` : '';
    const goals = r.target
      ? [r.target.minThroughput !== undefined ? `throughput ≥${r.target.minThroughput}x` : '', r.target.maxP50 !== undefined ? `p50 ≤${r.target.maxP50}x` : ''].filter(Boolean).join(', ')
      : '';
    const target = r.target ? `   target ${goals}: ${r.target.met ? 'MET' : 'NOT MET'}` : '';
    out.push(`${r.path} / ${r.versus}: throughput ${fmt(r.throughput, 2)}x, p50 ${fmt(r.p50, 2)}x, CPU/call ${fmt(r.cpuPerCall, 2)}x${sdk}${target}`);
  }
  return out.join('\n');
}

export interface ResultsFile {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** Load average when the run ended (machine.loadavg is at its start). */
  loadavgEnd: number[];
  options: BenchOptions;
  summaries: PathSummary[];
  ratios: Ratio[];
  rounds: Record<string, RoundResult[]>;
  errors: { path: string; round: number; message: string }[];
  cpuProfiles?: unknown[];
  /** The registry-scale suite (registry-scale.ts), when it ran. */
  registry?: unknown;
  /** The mesh suite (mesh-suite.ts), when it ran. */
  mesh?: unknown;
  /** The faults suite (faults-suite.ts), when it ran. */
  faults?: unknown;
  /** The views suite (views-suite.ts), when it ran. */
  views?: unknown;
  /** The dashboard suite (dashboard.ts), when it ran. */
  dashboard?: unknown;
}

/** Writes bench-<timestamp>.json and latest.json under `dir`; returns the timestamped file. */
export function writeResults(dir: string, results: ResultsFile): string {
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const file = join(dir, `bench-${stamp}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}
