/**
 * `mesh up FILE --detach` of the demo manifest, timed from the outside: spawn the CLI, then poll the
 * proxy every ~20 ms (GET /healthz, GET /v1/services) and note when the proxy and each service are
 * first seen healthy, so the figures do not depend on when the CLI itself returns. Then
 * `mesh down FILE`, and a check that nothing the round started is still running.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { spawnTracked, type Tracked } from './child-processes.js';
import { writeBenchManifest, type BenchManifest } from './demo-manifest.js';
import { freePort } from './free-port.js';
import { leftovers, type Leftover } from './leftovers.js';
import { benchEnv, root } from './paths.js';
import { httpJson, httpStatus } from './wait-ready.js';

const MESH_CLI = join(root, 'dist/sidecar/mesh/cli.js');
export const MESH_CLI_MISSING = 'mesh CLI not built (dist/sidecar/mesh/cli.js missing)';

/** Whether the suite can time `mesh up` in this tree. */
export const meshCliBuilt = (): boolean => existsSync(MESH_CLI);

/** One round; every time is ms since `mesh up` was spawned, as first observed by the ~20 ms poll. */
export interface MeshUpRound {
  round: number;
  proxyHealthyMs: number;
  servicesHealthyMs: Record<string, number>;
  allHealthyMs: number;
  /** When the `mesh up --detach` process exited, and its exit code. */
  cliExitMs: number;
  cliExitCode: number | null;
  /** `mesh down FILE`: spawn to exit, and its exit code. */
  downMs: number;
  downExitCode: number | null;
  /** Processes of this round still running after `mesh down` (killed by the bench, reported as an error). */
  leftovers: Leftover[];
}

interface Exit {
  code: number | null;
  at: number;
}

const POLL_MS = 20;

function exitOf(proc: Tracked): Promise<Exit> {
  return new Promise((resolve) => proc.child.once('exit', (code) => resolve({ code, at: performance.now() })));
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no exit after ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Polls until the proxy and every service were seen healthy; fails at once if `mesh up` exits non-zero.
async function watchUp(up: Tracked, upExit: { value?: Exit }, manifest: BenchManifest, timeoutMs: number) {
  const t0 = up.spawnedAt;
  let proxyHealthyMs = Number.NaN;
  const servicesHealthyMs: Record<string, number> = {};
  const end = t0 + timeoutMs;
  let last = 'no answer yet';
  while (performance.now() < end) {
    if (Number.isNaN(proxyHealthyMs)) {
      const status = await httpStatus(`${manifest.proxyUrl}/healthz`).catch(() => 0);
      if (status === 200) proxyHealthyMs = performance.now() - t0;
    }
    if (!Number.isNaN(proxyHealthyMs)) {
      const answer = await httpJson(`${manifest.proxyUrl}/v1/services`).catch(() => undefined);
      const at = performance.now() - t0;
      const listed = (answer?.body as { services?: { name: string; status: string; healthyCount?: number }[] } | undefined)?.services ?? [];
      for (const { name, replicas } of manifest.services) {
        const s = listed.find((x) => x.name === name);
        if (s && servicesHealthyMs[name] === undefined && s.status === 'healthy' && (s.healthyCount ?? 1) >= replicas) servicesHealthyMs[name] = at;
      }
      last = listed.map((s) => `${s.name} ${s.status}`).join(', ') || 'no services listed';
      if (manifest.services.every((s) => servicesHealthyMs[s.name] !== undefined)) {
        // In manifest order, whatever order they came up in.
        return { proxyHealthyMs, servicesHealthyMs: Object.fromEntries(manifest.services.map((s) => [s.name, servicesHealthyMs[s.name] ?? Number.NaN])) };
      }
    }
    const exit = upExit.value;
    if (exit && exit.code !== 0) throw new Error(`mesh up exited with code ${exit.code} before every service was healthy (seen: ${last}); output tail:\n${up.tail()}`);
    // Exit 0 means "all healthy": allow a few polls to observe it, no more.
    if (exit && performance.now() - exit.at > 3_000) throw new Error(`mesh up exited 0 but the proxy does not list every service healthy 3 s later (seen: ${last}); output tail:\n${up.tail()}`);
    await delay(POLL_MS);
  }
  throw new Error(`not every service healthy ${timeoutMs} ms after mesh up (proxy ${Number.isNaN(proxyHealthyMs) ? 'never answered' : 'healthy'}; seen: ${last}); output tail:\n${up.tail()}`);
}

/** One round in a fresh folder (MESH_HOME, manifest, registry) with the proxy on a fresh free port. */
export async function meshUpRound(round: number, timeoutMs = 60_000): Promise<MeshUpRound> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-meshup-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  const manifest = writeBenchManifest(dir, await freePort());
  const env = { ...benchEnv(), MESH_HOME: home, MEMORY_FILE_PATH: join(dir, 'memory.jsonl') };
  const cli = (label: string, args: string[]) => spawnTracked(label, process.execPath, [MESH_CLI, ...args], { env, cwd: dir });
  let up: Tracked | undefined;
  let down: Tracked | undefined;
  let downDone = false;
  try {
    up = cli('mesh up', ['up', manifest.file, '--detach']);
    const upExit: { value?: Exit } = {};
    const upExited = exitOf(up).then((exit) => (upExit.value = exit));
    const seen = await watchUp(up, upExit, manifest, timeoutMs);
    const exit = await within(upExited, timeoutMs, 'mesh up --detach (every service was already healthy)');
    if (exit.code !== 0) throw new Error(`mesh up exited with code ${exit.code} although every service was healthy; output tail:\n${up.tail()}`);
    down = cli('mesh down', ['down', manifest.file]);
    const downExit = await within(exitOf(down), timeoutMs, 'mesh down');
    downDone = true;
    if (downExit.code !== 0) throw new Error(`mesh down exited with code ${downExit.code}; output tail:\n${down.tail()}`);
    const left = await leftovers(dir, manifest.proxyUrl);
    return {
      round,
      ...seen,
      allHealthyMs: Math.max(...Object.values(seen.servicesHealthyMs)),
      cliExitMs: exit.at - up.spawnedAt,
      cliExitCode: exit.code,
      downMs: downExit.at - down.spawnedAt,
      downExitCode: downExit.code,
      leftovers: left,
    };
  } finally {
    if (!downDone && up) {
      await down?.stop();
      down = cli('mesh down (cleanup)', ['down', manifest.file]);
      await within(exitOf(down), 30_000, 'mesh down (cleanup)').catch(() => undefined);
    }
    await leftovers(dir, manifest.proxyUrl, 2_000);
    await down?.stop();
    await up?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
