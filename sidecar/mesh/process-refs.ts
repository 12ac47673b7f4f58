import { readFileSync } from 'node:fs';
import { groupAlive, procStat, terminateGroup, waitUntil } from '../../src/stdio/process-group.js';
import type { ProcessRef } from './run-state.js';

/** This boot's id: pids recorded before a reboot mean nothing after it. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

// A process's start time (clock ticks since boot, from /proc), undefined when it is gone.
function startTimeOf(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat === undefined || stat.state === 'Z' || !Number.isFinite(stat.startTime) ? undefined : stat.startTime;
}

/** A reference to a running process that survives pid reuse (pid plus start time). */
export function refOf(pid: number): ProcessRef {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? { pid } : { pid, startTime };
}

/** True while the very process `ref` names is alive (not another that reused its pid). */
export function isAlive(ref: ProcessRef): boolean {
  const start = startTimeOf(ref.pid);
  if (start !== undefined) return ref.startTime === undefined || ref.startTime === start;
  try {
    process.kill(ref.pid, 0);
    return ref.startTime === undefined;
  } catch {
    return false;
  }
}

// A group's pid cannot be reused while any member lives, so live members of a group whose leader
// died are still ours; a live leader with another start time is a stranger that reused the pid.
/**
 * Stops the process group led by `ref` (SIGTERM, then SIGKILL after `graceMs`); skips a pid now
 * used by another process.
 * @example await stopGroup(instance.process, 10_000)
 */
export async function stopGroup(ref: ProcessRef, graceMs: number): Promise<'clean' | 'term' | 'kill' | 'skipped'> {
  if (pidReused(ref)) return 'skipped';
  if (!groupAlive(ref.pid)) return 'clean';
  return terminateGroup(ref.pid, graceMs);
}

/** True while any live process remains in the group led by `ref` (and the leader is not a stranger). */
export function groupStillAlive(ref: ProcessRef): boolean {
  return !pidReused(ref) && groupAlive(ref.pid);
}

// The pid now names a live process with another start time: a stranger, not the one `ref` recorded.
function pidReused(ref: ProcessRef): boolean {
  const start = startTimeOf(ref.pid);
  return start !== undefined && ref.startTime !== undefined && start !== ref.startTime;
}

/**
 * Stops the one process `ref` names (SIGTERM, then SIGKILL after `graceMs`), not its group: a
 * foreground `mesh up` may lead no group, or lead a shell pipeline's (`mesh up | tee`).
 * @example await stopProcess(state.supervisor, 2_000)
 */
export async function stopProcess(ref: ProcessRef, graceMs: number): Promise<'clean' | 'term' | 'kill'> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(ref.pid, name);
    } catch {
      // gone meanwhile
    }
  };
  if (!isAlive(ref)) return 'clean';
  signal('SIGTERM');
  if (await waitUntil(() => !isAlive(ref), graceMs)) return 'term';
  signal('SIGKILL');
  await waitUntil(() => !isAlive(ref), 2_000);
  return 'kill';
}
