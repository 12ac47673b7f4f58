/**
 * The `mesh` suite (issue 4): one tool of the Python fs server reached (1) by the file-polling
 * pattern MM replaces and (2) by `MeshClient.call` through a real proxy and sidecar, sampled
 * alternately in one run; then `mesh up` of the demo manifest timed over several rounds.
 * Run from run.ts (`--suite mesh`, or by default after the other suites).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { text, type CallToolResult } from '../../src/client/index.js';
import { startFilePolling } from './file-polling.js';
import { startMeshRoute } from './mesh-call.js';
import { MESH_CLI_MISSING, meshCliBuilt, meshUpRound, type MeshUpRound } from './mesh-up.js';
import { benchEnv, root } from './paths.js';
import { median, percentile, round } from './stats.js';

export interface MeshSuiteOptions {
  /** Sequential calls per route (after the warm-up), alternating between the two routes. */
  samples: number;
  /** Unmeasured calls per route first (JIT, connections, the server's caches). */
  warmup: number;
  /** `mesh up` / `mesh down` rounds. */
  rounds: number;
}

export const DEFAULT_MESH_OPTIONS: MeshSuiteOptions = { samples: 100, warmup: 5, rounds: 3 };
export const QUICK_MESH_OPTIONS: MeshSuiteOptions = { samples: 30, warmup: 3, rounds: 2 };

/** The tool both routes call: a real tool of examples/fs_server.py on a chapter of examples/texts. */
const MESH_TOOL = { service: 'fs', name: 'analyze_narrative_structure', arguments: { path: 'chapter1.txt' } };
const FS_SERVER = ['python3', join(root, 'examples/fs_server.py'), '--root', join(root, 'examples/texts')];

export interface Latency {
  count: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

export interface MeshCallResult {
  filePolling: Latency;
  meshCall: Latency;
  /** The tool's own stdio round trip as the worker timed it: the floor both routes share. */
  toolInWorker: Latency;
  /** File-polling median over mesh.call median. */
  speedup: number;
  /** Worker spawn to worker.ready; proxy spawn to service healthy (proxy + sidecar + registration). */
  filePollingReadyMs: number;
  meshReadyMs: number;
  /** Both routes returned the same text (checked on every sample). */
  answerChars: number;
}

export interface MeshUpResult {
  /** Set when `mesh up` was not timed, with the reason. */
  skipped?: string;
  rounds: MeshUpRound[];
  /** Medians over the rounds that completed. */
  median?: { proxyHealthyMs: number; servicesHealthyMs: Record<string, number>; allHealthyMs: number; cliExitMs: number; downMs: number };
}

export interface MeshSuiteResult {
  options: MeshSuiteOptions;
  tool: typeof MESH_TOOL;
  call?: MeshCallResult;
  up: MeshUpResult;
  /** What failed, by part ('mesh-call' or 'mesh-up') and round (1 for mesh-call). */
  errors: { part: string; round: number; message: string }[];
}

type Log = (line: string) => void;

function latency(values: number[]): Latency {
  return { count: values.length, medianMs: round(median(values), 2), p90Ms: round(percentile(values, 0.9), 2), minMs: round(Math.min(...values), 2), maxMs: round(Math.max(...values), 2) };
}

const message = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

// Times `once` and checks its answer against the first one seen on either route.
async function timed(once: () => Promise<CallToolResult>, expected: { text?: string }, into: number[]): Promise<void> {
  const t0 = performance.now();
  const result = await once();
  into.push(performance.now() - t0);
  const got = text(result);
  expected.text ??= got;
  if (got !== expected.text) throw new Error(`the two routes answered differently: ${JSON.stringify(got.slice(0, 120))} vs ${JSON.stringify(expected.text.slice(0, 120))}`);
}

/** File polling vs mesh.call on the same tool, both routes up at once, samples alternating. */
async function runMeshCall(options: MeshSuiteOptions, log: Log): Promise<MeshCallResult> {
  const { service, name, arguments: args } = MESH_TOOL;
  const polling = await startFilePolling(FS_SERVER, benchEnv());
  try {
    const mesh = await startMeshRoute(service, FS_SERVER);
    try {
      log(`  file-polling worker ready in ${polling.readyMs.toFixed(0)} ms; proxy + sidecar "${service}" healthy in ${mesh.readyMs.toFixed(0)} ms`);
      const toolMs: number[] = [];
      const pollOnce = async () => {
        const answer = await polling.call(name, args);
        toolMs.push(answer.toolMs);
        return answer.result;
      };
      const meshOnce = () => mesh.call(name, args);
      const expected: { text?: string } = {};
      for (let i = 0; i < options.warmup; i++) {
        await timed(pollOnce, expected, []);
        await timed(meshOnce, expected, []);
      }
      toolMs.length = 0;
      const polled: number[] = [];
      const meshed: number[] = [];
      // Alternate which route goes first, so drift and after-effects fall on both evenly.
      for (let i = 0; i < options.samples; i++) {
        if (i % 2 === 0) {
          await timed(pollOnce, expected, polled);
          await timed(meshOnce, expected, meshed);
        } else {
          await timed(meshOnce, expected, meshed);
          await timed(pollOnce, expected, polled);
        }
      }
      const filePolling = latency(polled);
      const meshCall = latency(meshed);
      return {
        filePolling,
        meshCall,
        toolInWorker: latency(toolMs),
        speedup: round(filePolling.medianMs / meshCall.medianMs, 1),
        filePollingReadyMs: round(polling.readyMs, 0),
        meshReadyMs: round(mesh.readyMs, 0),
        answerChars: expected.text?.length ?? 0,
      };
    } finally {
      await mesh.stop();
    }
  } finally {
    await polling.stop();
  }
}

/** `mesh up` rounds; skipped with a reason when the mesh CLI is not built, stops at the first failed round. */
async function runMeshUp(options: MeshSuiteOptions, log: Log, errors: MeshSuiteResult['errors']): Promise<MeshUpResult> {
  if (!meshCliBuilt()) return { skipped: MESH_CLI_MISSING, rounds: [] };
  const rounds: MeshUpRound[] = [];
  for (let r = 1; r <= options.rounds; r++) {
    try {
      const result = await meshUpRound(r);
      rounds.push(result);
      const services = Object.entries(result.servicesHealthyMs)
        .map(([n, ms]) => `${n} ${ms.toFixed(0)}`)
        .join(', ');
      log(
        `  mesh up round ${r}/${options.rounds}: proxy healthy ${result.proxyHealthyMs.toFixed(0)} ms, ${services}; all ${result.allHealthyMs.toFixed(0)} ms; CLI returned ${result.cliExitMs.toFixed(0)} ms; down ${result.downMs.toFixed(0)} ms; ${result.leftovers.length} left over`,
      );
      if (result.leftovers.length > 0)
        errors.push({
          part: 'mesh-up',
          round: r,
          message: `mesh down left ${result.leftovers.length} process(es) running (killed by the bench): ${result.leftovers.map((p) => `${p.pid} ${p.command}`).join('; ')}`,
        });
    } catch (error) {
      errors.push({ part: 'mesh-up', round: r, message: message(error) });
      log(`  mesh up round ${r} FAILED: ${message(error)}`);
      break;
    }
  }
  if (rounds.length === 0) return { rounds };
  const m = (f: (r: MeshUpRound) => number) => round(median(rounds.map(f)), 0);
  const names = Object.keys(rounds[0]?.servicesHealthyMs ?? {});
  return {
    rounds,
    median: {
      proxyHealthyMs: m((r) => r.proxyHealthyMs),
      servicesHealthyMs: Object.fromEntries(names.map((n) => [n, m((r) => r.servicesHealthyMs[n] ?? Number.NaN)])),
      allHealthyMs: m((r) => r.allHealthyMs),
      cliExitMs: m((r) => r.cliExitMs),
      downMs: m((r) => r.downMs),
    },
  };
}

/** The whole suite; failures are collected in `errors`, never thrown, so one part cannot hide the other. */
export async function runMeshSuite(options: MeshSuiteOptions, log: Log): Promise<MeshSuiteResult> {
  const errors: MeshSuiteResult['errors'] = [];
  let call: MeshCallResult | undefined;
  log(`mesh: ${MESH_TOOL.service} ${MESH_TOOL.name} ${JSON.stringify(MESH_TOOL.arguments)}, file polling vs mesh.call, ${options.samples} calls each after ${options.warmup} warm-up`);
  try {
    call = await runMeshCall(options, log);
    log(`  file polling median ${call.filePolling.medianMs} ms, mesh.call median ${call.meshCall.medianMs} ms (${call.speedup}x)`);
  } catch (error) {
    errors.push({ part: 'mesh-call', round: 1, message: message(error) });
    log(`  FAILED: ${message(error)}`);
  }
  log(`mesh up: configs/demo.yaml, ${options.rounds} round(s)`);
  const up = await runMeshUp(options, log, errors);
  if (up.skipped) log(`  skipped: ${up.skipped}`);
  return { options, tool: MESH_TOOL, ...(call ? { call } : {}), up, errors };
}
