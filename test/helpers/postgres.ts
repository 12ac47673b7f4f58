import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, chownSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, execaSync, type ResultPromise } from 'execa';
import pg from 'pg';
import type { Test } from 'tap';
import { freePort, waitFor } from './processes.js';

/** A throw-away PostgreSQL cluster owned by one test (see docs in issue12-contract). */
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

// initdb/pg_ctl/postgres from PATH, else the newest /usr/lib/postgresql/*/bin.
function findBinDir(): string | undefined {
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
 * Starts a PostgreSQL cluster in a temporary folder on a free loopback port, torn down with `t`.
 * Returns undefined (after one skip line) when PostgreSQL is not installed.
 */
export async function startPostgres(t: Test, opts: { listen?: string; netns?: string; allow?: string } = {}): Promise<PgCluster | undefined> {
  const bin = findBinDir();
  if (!bin) {
    t.skip('needs PostgreSQL: install the Debian package postgresql', () => undefined);
    return undefined;
  }
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
  await execa(join(bin, 'initdb'), ['-D', data, '-U', 'mm', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'], spawnOpts);
  // initdb lets in loopback only; clients on other hosts (opts.allow, a CIDR) log in with the password too.
  if (opts.allow !== undefined) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${opts.allow} scram-sha-256\n`);
  const port = await freePort();
  const url = `postgres://mm:pw@${host.includes(':') ? `[${host}]` : host}:${port}/mm`;
  let proc: ResultPromise | undefined;
  let log = '';
  // In a network namespace (opts.netns) `listen` is only reachable from inside it: the test's own
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

  const cluster: PgCluster = {
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
  };

  t.teardown(async () => {
    await cluster.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await cluster.start();
  const admin = new pg.Client({ ...via, user: 'mm', password: 'pw', database: 'postgres' });
  await admin.connect();
  await admin.query('create database mm');
  await admin.end();
  return cluster;
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
