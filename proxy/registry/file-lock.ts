import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, realpathSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { MeshError } from '../../src/errors.js';

/** An exclusive hold on a registry file, released on close (or by the kernel when the holder dies). */
export interface FileLock {
  /** Where the lock lives, for messages (`<registry>.lock` beside the file). */
  readonly address: string;
  release(): Promise<void>;
}

interface LockAddress {
  /** The lock folder beside the registry, or the named pipe on Windows. */
  path: string;
  kind: 'folder' | 'pipe';
}

/*
 * Why a socket FILE in a folder. The lock is a listening Unix socket: the kernel closes it when its
 * holder dies, however it dies (kill -9, a zombie nobody reaps), so no pid file and no guessing
 * (pid reuse, zombies, pid 1). It is a file beside the registry, not an abstract socket, because
 * abstract names belong to one network namespace (two containers sharing the registry volume both
 * got the lock), while a socket file is found through the shared filesystem from any namespace.
 * An OS file lock (flock/fcntl) would do too, but Node has none, fs-ext is a node-gyp build that
 * can fail on install, and proper-lockfile goes by mtime (a dead holder's lock lingers, not kernel-released).
 *
 * Layout: `<registry>.lock/` holds exactly one socket, `<random>`, whose listener is the holder.
 * A taker binds its socket inside a fresh folder `<registry>.lock-<random>/` and rename()s that
 * folder onto `<registry>.lock`: the kernel replaces the target only when it is missing or EMPTY,
 * so of any number of takers exactly one wins, and a held folder (never empty) is never replaced.
 * A dead holder's socket refuses connections; a taker unlinks it by its unique name, so a slow
 * taker can never unlink a newer holder's socket (another name), only make the folder empty.
 */
export function lockAddress(file: string, platform: NodeJS.Platform = process.platform): LockAddress {
  const real = join(realpathSync(dirname(file)), basename(file));
  if (platform === 'win32') return { path: `\\\\.\\pipe\\mm-registry-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`, kind: 'pipe' };
  return { path: `${real}.lock`, kind: 'folder' };
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
    // Refused: a socket file nobody listens on (or no socket at all); EAGAIN (a full backlog) is a live holder.
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'stale' : undefined));
  });
}

function lockedError(file: string, shown: string, holder: number | undefined): MeshError {
  const who = holder === process.pid ? 'this process already has it open' : holder === undefined ? 'a process that did not answer holds it' : `process ${holder} holds it`;
  return new MeshError('INTERNAL', `registry file ${file} is in use by another mesh-proxy (${who}; lock ${shown}). Stop that proxy or use another --registry file.`, {
    context: { file, lock: shown, pid: holder, reason: 'REGISTRY_LOCKED' },
  });
}

/**
 * Takes the lock of a registry file for this process, so a second proxy on the same file fails at
 * once, naming the holder's pid, from whatever network namespace; a lock whose holder died is free again at once.
 * @throws MeshError when a live process holds the lock
 * @example const lock = await acquireLock('/home/me/.mesh/registry.db'); … await lock.release()
 */
export async function acquireLock(file: string): Promise<FileLock> {
  const address = lockAddress(file);
  try {
    return address.kind === 'pipe' ? await acquirePipe(file, address.path) : await acquireFolder(file, address.path);
  } catch (error) {
    if (error instanceof MeshError) throw error;
    throw new MeshError('INTERNAL', `cannot take the lock of registry file ${file} (${address.path}): ${(error as Error).message}`, { cause: error, context: { file, lock: address.path } });
  }
}

// Windows: a named pipe has no file to go stale; it vanishes with its holder.
async function acquirePipe(file: string, pipe: string): Promise<FileLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = await listenOn(pipe);
    if (server !== 'in-use') return held(pipe, server, () => undefined);
    const holder = await askHolder(pipe);
    if (holder !== 'stale') throw lockedError(file, pipe, holder);
  }
  throw new MeshError('INTERNAL', `could not take the lock of registry file ${file} (${pipe}): another process keeps taking it`, { context: { file, lock: pipe } });
}

// The longest socket path bind() and connect() take (sun_path less its NUL: 108 on Linux, 104 on the BSDs and macOS).
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;
// On Linux a socket in a deep folder is reached through the folder's open descriptor, so any registry path works.
const VIA_PROC = process.platform === 'linux' && existsSync('/proc/self/fd');

/** A folder opened for reaching the sockets inside it by a short path. */
interface Folder {
  path: string;
  fd: number | undefined;
}

function openFolder(path: string): Folder {
  return { path, fd: VIA_PROC ? openSync(path, constants.O_RDONLY | constants.O_DIRECTORY) : undefined };
}

function closeFolder(folder: Folder): void {
  if (folder.fd !== undefined) closeSync(folder.fd);
}

function socketIn(folder: Folder, name: string): string {
  const path = folder.fd === undefined ? join(folder.path, name) : `/proc/self/fd/${folder.fd}/${name}`;
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new MeshError('INTERNAL', `the registry lock socket path ${path} is ${Buffer.byteLength(path)} bytes, over the ${MAX_SOCKET_PATH} a Unix socket allows; use a shorter --registry path`, {
      context: { lock: folder.path },
    });
  }
  return path;
}

// Asks whoever listens on `name` inside `dir`; a folder that is gone has nobody listening.
async function askIn(dir: string, name: string): Promise<number | 'stale' | undefined> {
  let folder: Folder;
  try {
    folder = openFolder(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'stale';
    throw error;
  }
  try {
    return await askHolder(socketIn(folder, name));
  } finally {
    closeFolder(folder);
  }
}

async function acquireFolder(file: string, lock: string): Promise<FileLock> {
  const name = randomBytes(8).toString('hex');
  const staging = `${lock}-${name}`;
  mkdirSync(staging);
  // Kept open while held: after the rename it is the lock folder, and the socket stays reachable through it.
  let folder: Folder | undefined;
  let server: Server | 'in-use' | undefined;
  try {
    folder = openFolder(staging);
    server = await listenOn(socketIn(folder, name));
    if (server === 'in-use') throw new Error(`${join(staging, name)} is already bound`);
    for (let attempt = 0; attempt < 5; attempt++) {
      if (tryRename(staging, lock)) {
        const own = folder;
        return held(lock, server, () => {
          removeName(join(lock, name)); // our socket by its own name; the folder, then empty, is free to rename over
          closeFolder(own);
          removeFolder(lock);
        });
      }
      const holder = await clearStale(lock);
      if (holder !== 'stale') throw lockedError(file, lock, holder);
    }
    throw new MeshError('INTERNAL', `could not take the lock of registry file ${file} (${lock}): another process keeps taking it`, { context: { file, lock } });
  } catch (error) {
    if (server !== undefined && server !== 'in-use') await closeServer(server);
    if (folder !== undefined) closeFolder(folder);
    removeName(join(staging, name));
    removeFolder(staging);
    throw error;
  }
}

// Moves our folder (our socket inside) to the lock's name: true when we hold it now, false when the name holds something.
function tryRename(staging: string, lock: string): boolean {
  try {
    renameSync(staging, lock);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') return false;
    throw error;
  }
}

/**
 * Looks at what sits at the lock's name: a live holder's pid (or `undefined` when it does not
 * answer), or `stale` after removing every dead socket by its own name (a lock folder that is
 * then empty can be renamed over). A plain file there (a lock of an older version) is removed unless a proxy listens on it.
 */
async function clearStale(lock: string): Promise<number | 'stale' | undefined> {
  let entries: string[];
  try {
    entries = readdirSync(lock);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'stale'; // released meanwhile
    if (code !== 'ENOTDIR') throw error;
    const holder = await askIn(dirname(lock), basename(lock));
    if (holder === 'stale') removeName(lock); // unlink never removes a folder, so never a newer lock
    return holder;
  }
  for (const entry of entries) {
    const holder = await askIn(lock, entry);
    if (holder !== 'stale') return holder;
    removeName(join(lock, entry));
  }
  return 'stale';
}

function removeName(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  }
}

function removeFolder(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    /* gone, or not empty: then it is someone else's lock now */
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function held(shown: string, server: Server, cleanUp: () => void): FileLock {
  let released: Promise<void> | undefined;
  return {
    address: shown,
    release() {
      released ??= closeServer(server).then(cleanUp);
      return released;
    },
  };
}
