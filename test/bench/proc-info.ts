import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size of a live process in MiB (from /proc/<pid>/status VmRSS); NaN if unreadable. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  zombie: boolean;
}

function readStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return stats;
  }
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.push({ pid: Number(entry), ppid: Number(fields[1]), pgrp: Number(fields[2]), zombie: fields[0] === 'Z' });
    } catch {
      // The process went away while we looked.
    }
  }
  return stats;
}

/**
 * Every live descendant of `pid` and every live member of its process group. Bridges may start
 * their children in process groups of their own (supergateway does), so the group alone is not enough.
 */
export function family(pid: number): number[] {
  const stats = readStats().filter((s) => !s.zombie);
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const found = new Set<number>();
  const queue = [pid];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    for (const child of children.get(queue[i] ?? -1) ?? []) {
      if (!found.has(child)) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  for (const s of stats) if (s.pgrp === pid && s.pid !== pid) found.add(s.pid);
  return [...found];
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Sum of the RSS of `pid` and its whole family, in MiB. */
export function treeRssMiB(pid: number): number {
  let total = rssMiB(pid);
  for (const member of family(pid)) {
    const rss = rssMiB(member);
    if (Number.isFinite(rss)) total += rss;
  }
  return total;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every mainstream Linux build). */
const USER_HZ = 100;

/** CPU time (user + system) a live process has used so far, in ms; NaN if unreadable. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After ")": state(0) ppid(1) pgrp(2) session(3) tty(4) tpgid(5) flags(6) minflt(7) cminflt(8) majflt(9) cmajflt(10) utime(11) stime(12)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/** CPU ms of `pid` plus every live member of its family (its servers). */
export function familyCpuMs(pid: number): number {
  let total = cpuMs(pid);
  for (const member of family(pid)) {
    const ms = cpuMs(member);
    if (Number.isFinite(ms)) total += ms;
  }
  return total;
}

/**
 * Time the main thread of a live process (the JS thread of a Node process) has spent runnable but
 * waiting for a CPU, in ms, from /proc/<pid>/schedstat (second field, ns); NaN if unreadable. On a
 * shared machine it tells a starved process from a slow one.
 */
export function runQueueWaitMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
    return Number(fields[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}
