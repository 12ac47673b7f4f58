import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** The fields of /proc/<pid>/stat that process handling reads. */
export interface ProcStat {
  /** R, S, D, Z (zombie), T… */
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks after boot; with the pid, names a process across pid reuse. */
  startTime: number;
}

/**
 * Reads /proc/<pid>/stat; undefined when there is no such process (or no /proc).
 * @example procStat(process.pid)?.pgrp
 */
export function procStat(pid: number | string): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command (which may itself hold spaces and ')'): state ppid pgrp …, starttime 20th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime: Number(fields[19]) };
}

/** True while `pid` is a live process; a zombie counts as gone (without /proc: whether it can be signalled). */
export function pidAlive(pid: number): boolean {
  const stat = procStat(pid);
  if (stat !== undefined) return stat.state !== 'Z';
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Live (non-zombie) members of a process group. Reads /proc because kill(-pgid, 0) also counts zombies,
 * and an orphaned grandchild's zombie lingers wherever PID 1 does not reap.
 */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalProbe(pgid) ? [pgid] : [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = procStat(entry);
    if (stat !== undefined && stat.state !== 'Z' && stat.pgrp === pgid) members.push(Number(entry));
  }
  return members;
}

function signalProbe(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while any live process remains in the group led by `pgid`. */
export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** Sends a signal to the whole group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Resolves true once `check` holds, false if `timeoutMs` passes first (polls: process death has no event for grandchildren). */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() >= end) return false;
    await delay(stepMs);
  }
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`, for every process left in the group (grandchildren included). */
export async function terminateGroup(pgid: number, graceMs: number): Promise<'clean' | 'term' | 'kill'> {
  if (!groupAlive(pgid)) return 'clean';
  signalGroup(pgid, 'SIGTERM');
  if (await waitUntil(() => !groupAlive(pgid), graceMs)) return 'term';
  signalGroup(pgid, 'SIGKILL');
  await waitUntil(() => !groupAlive(pgid), 2_000);
  return 'kill';
}
