import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { alive, family } from './proc-info.js';

/** A process the bench started: own process group, output tails kept for error messages, always torn down. */
export interface Tracked {
  readonly label: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  /** Last few KiB of stdout and stderr (stdout only when it is not handed to a driver). */
  tail(): string;
  /** Why the process ended, or undefined while it runs. */
  exit(): string | undefined;
  /** Close stdin, SIGTERM, wait, then SIGKILL whatever is left of its group and descendants. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Keep stdout for a driver (stdio JSON-RPC) instead of collecting it into the tail. */
  ownStdout?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long SIGTERM may take before SIGKILL. */
  graceMs?: number;
}

const TAIL_BYTES = 4096;
const live = new Set<Tracked>();

/** Spawns `command args` (argv, never a shell) in its own process group and tracks it for teardown. */
export function spawnTracked(label: string, command: string, args: string[], options: SpawnOptions = {}): Tracked {
  const spawnedAt = performance.now();
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  if (child.pid === undefined) throw new Error(`${label}: could not spawn ${command}`);
  const pid = child.pid;
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail += chunk.toString('utf8');
    if (tail.length > TAIL_BYTES * 2) tail = tail.slice(-TAIL_BYTES);
  };
  child.stderr?.on('data', keep);
  if (!options.ownStdout) child.stdout?.on('data', keep);
  child.stdin?.on('error', () => undefined); // EPIPE after the child died is reported through exit()
  let exitReason: string | undefined;
  child.on('exit', (code, signal) => (exitReason = signal ? `killed by ${signal}` : `exited with code ${code}`));
  child.on('error', (error) => (exitReason = `spawn error: ${error.message}`));

  let stopping: Promise<void> | undefined;
  const tracked: Tracked = {
    label,
    child,
    pid,
    spawnedAt,
    tail: () => tail.slice(-TAIL_BYTES),
    exit: () => exitReason,
    stop() {
      stopping ??= terminate(pid, child, options.graceMs ?? 5_000).finally(() => live.delete(tracked));
      return stopping;
    },
  };
  live.add(tracked);
  return tracked;
}

async function terminate(pid: number, child: ChildProcess, graceMs: number): Promise<void> {
  // Snapshot the family first: once the leader is gone, orphans are re-parented and harder to find.
  const members = new Set(family(pid));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  if (!exited()) {
    child.stdin?.end();
    signal(pid, 'SIGTERM');
    const end = Date.now() + graceMs;
    while (!exited() && Date.now() < end) await delay(20);
  }
  for (const member of family(pid)) members.add(member);
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  for (const member of members) signal(member, 'SIGKILL');
  const end = Date.now() + 3_000;
  while ([...members].some(alive) && Date.now() < end) await delay(20);
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.stdin?.destroy();
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Stops every tracked process (on error, SIGINT, or at the end of the run). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((t) => t.stop()));
}

/** Last resort from a synchronous 'exit' handler: SIGKILL every tracked group and descendant. */
export function killAllSync(): void {
  for (const tracked of live) {
    for (const member of family(tracked.pid)) signal(member, 'SIGKILL');
    signal(-tracked.pid, 'SIGKILL');
    signal(tracked.pid, 'SIGKILL');
  }
  live.clear();
}

/** The error for a tracked process that exited when it should be serving: its exit status and output tail. */
export function exitedError(tracked: Tracked): Error {
  return new Error(`${tracked.label} (pid ${tracked.pid}) ${tracked.exit() ?? 'is running'}; output tail:\n${tracked.tail()}`);
}
