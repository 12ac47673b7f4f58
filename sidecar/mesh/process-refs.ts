import { readFileSync } from 'node:fs';
import { groupAlive, terminateGroup } from '../../src/stdio/process-group.js';
import type { ProcessRef } from './run-state.js';

/** This boot's id: pids recorded before a reboot mean nothing after it. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** A process's start time (clock ticks since boot, from /proc), undefined when it is gone. */
export function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
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
  const leaderStart = startTimeOf(ref.pid);
  if (leaderStart !== undefined && ref.startTime !== undefined && leaderStart !== ref.startTime) return 'skipped';
  if (!groupAlive(ref.pid)) return 'clean';
  return terminateGroup(ref.pid, graceMs);
}

/** True while any live process remains in the group led by `ref` (and the leader is not a stranger). */
export function groupStillAlive(ref: ProcessRef): boolean {
  const leaderStart = startTimeOf(ref.pid);
  if (leaderStart !== undefined && ref.startTime !== undefined && leaderStart !== ref.startTime) return false;
  return groupAlive(ref.pid);
}
