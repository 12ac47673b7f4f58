import { createHash } from 'node:crypto';
import { realpathSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { MeshError } from '../../src/errors.js';

/** An exclusive hold on a registry file, released on close (or by the kernel when the holder dies). */
export interface FileLock {
  /** Where the lock lives, for messages (`@mm-registry-<hash>` on Linux). */
  readonly address: string;
  release(): Promise<void>;
}

interface LockAddress {
  /** What `listen()` takes. */
  listen: string;
  /** How messages name it. */
  shown: string;
  /** A socket file that outlives a killed holder (the fallback beyond Linux and Windows). */
  onDisk: boolean;
}

/**
 * Where the lock of `file` lives. The lock is a listening socket: the kernel closes it when its
 * holder dies, however it dies (kill -9, a zombie nobody reaps), so a pid recorded in a file and
 * the guessing that goes with it (pid reuse, zombies, pid 1) are not needed. On Linux it is a
 * socket in the abstract namespace, named after the file's real path (nothing on disk); on
 * Windows a named pipe; elsewhere a socket file beside the registry, stale when a connect is refused.
 */
export function lockAddress(file: string, platform: NodeJS.Platform = process.platform): LockAddress {
  const real = join(realpathSync(dirname(file)), basename(file));
  const name = `mm-registry-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
  if (platform === 'linux') return { listen: `\0${name}`, shown: `@${name}`, onDisk: false };
  if (platform === 'win32') return { listen: `\\\\.\\pipe\\${name}`, shown: `\\\\.\\pipe\\${name}`, onDisk: false };
  return { listen: `${file}.lock`, shown: `${file}.lock`, onDisk: true };
}

// The holder answers every connection with its pid, so a refusal can name it.
function listenOn(address: string): Promise<Server | 'in-use'> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(`${process.pid}\n`);
    });
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve('in-use') : reject(error)));
    server.listen(address, () => {
      server.unref(); // the lock never keeps the process alive
      resolve(server);
    });
  });
}

/** Asks the holder for its pid: a number, `undefined` when it does not say in time, `stale` when nobody listens. */
function askHolder(address: string, timeoutMs = 1_000): Promise<number | 'stale' | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(address);
    const done = (value: number | 'stale' | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('end', () => {
      const pid = Number.parseInt(text.trim(), 10);
      done(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'stale' : undefined));
  });
}

/**
 * Takes the lock of a registry file for this process, so a second proxy on the same file fails at
 * once, naming the holder's pid; a lock whose holder died is free again at once.
 * @throws MeshError when a live process holds the lock
 * @example const lock = await acquireLock('/home/me/.mesh/registry.db'); … await lock.release()
 */
export async function acquireLock(file: string): Promise<FileLock> {
  const address = lockAddress(file);
  for (let attempt = 0; attempt < 3; attempt++) {
    let server: Server | 'in-use';
    try {
      server = await listenOn(address.listen);
    } catch (error) {
      throw new MeshError('INTERNAL', `cannot take the lock of registry file ${file} (${address.shown}): ${(error as Error).message}`, { cause: error, context: { file, lock: address.shown } });
    }
    if (server !== 'in-use') return held(server, address);
    const holder = await askHolder(address.listen);
    if (holder === 'stale' && address.onDisk) {
      removeStale(address.listen);
      continue;
    }
    if (holder === 'stale') continue; // the holder ended between the two steps
    const who = holder === process.pid ? 'this process already has it open' : holder === undefined ? 'a process that did not answer holds it' : `process ${holder} holds it`;
    throw new MeshError('INTERNAL', `registry file ${file} is in use by another mesh-proxy (${who}; lock ${address.shown}). Stop that proxy or use another --registry file.`, {
      context: { file, lock: address.shown, pid: holder, reason: 'REGISTRY_LOCKED' },
    });
  }
  throw new MeshError('INTERNAL', `could not take the lock of registry file ${file} (${address.shown}): another process keeps taking it`, { context: { file, lock: address.shown } });
}

function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function held(server: Server, address: LockAddress): FileLock {
  let released: Promise<void> | undefined;
  return {
    address: address.shown,
    release() {
      // Closing the listener removes its socket file too (and frees an abstract name at once).
      released ??= new Promise((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}
