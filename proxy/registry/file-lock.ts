import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { MeshError } from '../../src/errors.js';

/** An exclusive hold on a registry file, released on close. */
export interface FileLock {
  /** The lock file (`<file>.lock`). */
  readonly path: string;
  /** True when a dead process's lock was taken over. */
  readonly tookOver: boolean;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

// `kill(pid, 0)` probes without signalling: ESRCH means gone, EPERM means alive but not ours.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// The pid written in a lock file, or undefined when the file is empty or garbled.
function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// O_EXCL makes creation the test: exactly one opener can create the file.
function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new MeshError('INTERNAL', `cannot create registry lock ${path}: ${(error as Error).message}`, { cause: error, context: { lock: path } });
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes `<file>.lock` for this process, so a second proxy on the same registry file fails at once;
 * a lock left by a process that no longer exists is taken over.
 * @throws MeshError when a live process holds the lock
 * @example const lock = acquireLock('/home/me/.mesh/registry.db'); … lock.release()
 */
export function acquireLock(file: string): FileLock {
  const path = `${file}.lock`;
  let tookOver = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path)) return { path, tookOver, release: () => release(path) };
    const holder = readHolder(path);
    if (holder !== undefined && isAlive(holder)) {
      const who = holder === process.pid ? 'this process already has it open' : `process ${holder} holds it`;
      throw new MeshError('INTERNAL', `registry file ${file} is in use by another mesh-proxy (${who}; lock ${path}). Stop that proxy or use another --registry file.`, {
        context: { file, lock: path, pid: holder, reason: 'REGISTRY_LOCKED' },
      });
    }
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    tookOver = true;
  }
  throw new MeshError('INTERNAL', `could not take registry lock ${path}: another process keeps recreating it`, { context: { file, lock: path } });
}

// Only our own lock is removed: a lock taken over by someone else after a stall stays theirs.
function release(path: string): void {
  if (readHolder(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
