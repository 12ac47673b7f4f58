/**
 * A throw-away PostgreSQL cluster in a temporary folder, with no test framework in it: the tap
 * helper (test/helpers/postgres.ts) and the bench (test/bench/) both start theirs here.
 */
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, execaSync, type ResultPromise } from 'execa';
import pg from 'pg';
import { freePort, waitFor } from './processes.js';

/** The one line a test or bench prints when PostgreSQL is not installed. */
export const PG_MISSING = 'needs PostgreSQL: install the Debian package postgresql';

/** A throw-away PostgreSQL cluster (see docs in issue12-contract). */
export interface PgCluster {
  /** postgres://mm:pw@127.0.0.1:PORT/mm */
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Fast restart on the same port and data: connections drop, committed data stays. */
  restart(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
  /** pid of the running postmaster (undefined while stopped); tests check /proc with it. */
  pid(): number | undefined;
}

/** A cluster as its owner holds it: `destroy` stops it and removes its folder. */
export interface OwnedPgCluster extends PgCluster {
  destroy(): Promise<void>;
}

const live = new Set<{ pid: () => number | undefined; dir: string }>();

/** initdb/pg_ctl/postgres from PATH, else the newest /usr/lib/postgresql/<version>/bin; undefined when not installed. */
export function findPgBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0]!, 'bin') : undefined;
}

// initdb and postgres refuse root: as root the cluster runs as the `postgres` OS user.
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const out = execaSync('id', ['-u', 'postgres'], { reject: false });
  const gid = execaSync('id', ['-g', 'postgres'], { reject: false });
  if (out.exitCode !== 0 || gid.exitCode !== 0) throw new Error('running as root needs the `postgres` OS user (Debian package postgresql)');
  return { uid: Number(out.stdout), gid: Number(gid.stdout) };
}

/**
 * Starts a cluster in a temporary folder on a free port (database `mm`, user `mm`, password `pw`;
 * fsync off). Throws PG_MISSING where PostgreSQL is not installed (test findPgBin() first to skip).
 * @example const cluster = await startPgCluster(); try { use(cluster.url) } finally { await cluster.destroy() }
 */
/** Where a cluster listens: `listen` (default 127.0.0.1); `netns`: inside that network namespace; `allow`: a CIDR let in with the password. */
export interface PgClusterOptions {
  listen?: string;
  netns?: string;
  allow?: string;
}

export async function startPgCluster(opts: PgClusterOptions = {}): Promise<OwnedPgCluster> {
  const bin = findPgBin();
  if (!bin) throw new Error(PG_MISSING);
  const host = opts.listen ?? '127.0.0.1';
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'mm-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, 'pw\n');
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  const spawnOpts = { ...(owner ?? {}), cwd: dir, env: { LANG: 'C', LC_ALL: 'C', PATH: process.env.PATH ?? '' }, extendEnv: false };
  const port = await freePort();
  const url = `postgres://mm:pw@${host.includes(':') ? `[${host}]` : host}:${port}/mm`;
  let proc: ResultPromise | undefined;
  let log = '';
  // In a network namespace (opts.netns) `listen` is only reachable from inside it: the owner's own
  // connections go through the Unix socket in `dir`, which every namespace shares.
  const via = opts.netns === undefined ? { host, port } : { host: dir, port };

  const ready = async (database: string) => {
    const client = new pg.Client({ ...via, user: 'mm', password: 'pw', database, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const entry = { pid: () => proc?.pid, dir };
  const cluster: OwnedPgCluster = {
    url,
    host,
    port,
    pid: () => proc?.pid,
    async start() {
      if (proc) return;
      const settings = ['-p', String(port), '-D', data, '-c', `listen_addresses=${host}`, '-c', `unix_socket_directories=${dir}`];
      settings.push('-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200');
      const child =
        opts.netns === undefined
          ? execa(join(bin, 'postgres'), settings, { ...spawnOpts, reject: false, detached: true, buffer: false, stdin: 'ignore' })
          : spawnInNetns(opts.netns, owner, join(bin, 'postgres'), settings, dir);
      child.catch(() => undefined);
      child.stderr?.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
      proc = child;
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${log}`);
          return ready('postgres');
        },
        'PostgreSQL answers',
        30_000,
      );
    },
    async stop() {
      const child = proc;
      if (!child) return;
      proc = undefined;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT'); // fast shutdown
      await child;
      const pid = child.pid;
      // The postmaster waits for its children; a stray one would be a leak, so insist.
      if (pid !== undefined) await waitFor(() => !existsSync(`/proc/${pid}`), `postgres ${pid} is gone`, 10_000);
    },
    async restart() {
      await cluster.stop();
      await cluster.start();
    },
    async query(sql, params = []) {
      const client = new pg.Client({ ...via, user: 'mm', password: 'pw', database: 'mm' });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as unknown[];
      } finally {
        await client.end();
      }
    },
    async destroy() {
      await cluster.stop().catch(() => undefined);
      live.delete(entry);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  live.add(entry);
  try {
    await execa(join(bin, 'initdb'), ['-D', data, '-U', 'mm', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'], spawnOpts);
    // initdb lets in loopback only; clients on other hosts (opts.allow, a CIDR) log in with the password too.
    if (opts.allow !== undefined) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${opts.allow} scram-sha-256\n`);
    await cluster.start();
    const admin = new pg.Client({ ...via, user: 'mm', password: 'pw', database: 'postgres' });
    await admin.connect();
    await admin.query('create database mm');
    await admin.end();
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

/** Last resort from a synchronous exit handler (the bench on SIGINT): immediate shutdown of every cluster still running, folders removed. */
export function stopPgClustersSync(): void {
  for (const { pid, dir } of live) {
    const postmaster = pid();
    try {
      if (postmaster !== undefined) process.kill(postmaster, 'SIGQUIT');
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

// `ip netns exec` needs root, so the switch to the postgres user happens inside it (setpriv execs in place: same pid).
function spawnInNetns(netns: string, owner: { uid: number; gid: number } | undefined, postgres: string, settings: string[], cwd: string): ResultPromise {
  const user = owner === undefined ? [] : ['setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups'];
  return execa('ip', ['netns', 'exec', netns, ...user, postgres, ...settings], {
    cwd,
    env: { LANG: 'C', LC_ALL: 'C', PATH: process.env.PATH ?? '' },
    extendEnv: false,
    reject: false,
    detached: true,
    buffer: false,
    stdin: 'ignore',
  });
}
