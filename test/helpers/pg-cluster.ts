/**
 * A throwaway PostgreSQL cluster in a temporary folder (initdb, pg_ctl), with no test framework in
 * it: the tap helper (test/helpers/postgres.ts) and the bench (test/bench/) both start theirs here.
 */
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The one line a test or bench prints when PostgreSQL is not installed. */
export const PG_MISSING = 'needs PostgreSQL: install the Debian package postgresql';

/** A running cluster: database `mm`, owned by the superuser `mm` (password `pw`), on loopback or `listen`. */
export interface PgCluster {
  /** postgres://mm:pw@HOST:PORT/mm */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Fast shutdown; the data folder is removed (idempotent). */
  stop(): Promise<void>;
  /** Starts a stopped cluster again (same port, same data). */
  start(): Promise<void>;
  /** Immediate stop (no checkpoint, clients cut) and start again. */
  restart(): Promise<void>;
  /** One statement on a fresh connection as the superuser; its rows. */
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
}

export interface PgClusterOptions {
  /** Address to listen on (default 127.0.0.1). */
  listen?: string;
}

const USER = 'mm';
const PASSWORD = 'pw';
const live = new Set<{ data: string; bin: string; owner: Owner | undefined }>();

interface Owner {
  uid: number;
  gid: number;
}

/** The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/<version>/bin; undefined when absent. */
export function findPgBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(base, versions[0], 'bin');
}

// initdb refuses to run as root: then the cluster belongs to the `postgres` OS user.
function clusterOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function pgTool(bin: string, owner: Owner | undefined, cwd: string, tool: string, args: string[]): Promise<void> {
  try {
    await run(join(bin, tool), args, { cwd, env: { ...process.env, LC_ALL: 'C' }, ...(owner ?? {}) });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`, { cause: error });
  }
}

/**
 * initdb + pg_ctl start on a free port, fsync off; database `mm` created. Throws PG_MISSING when
 * the binaries are not installed (callers that skip test findPgBin() first).
 * @example const pg = await startPgCluster(); try { … pg.url … } finally { await pg.stop(); }
 */
export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = findPgBin();
  if (bin === undefined) throw new Error(PG_MISSING);
  const host = options.listen ?? '127.0.0.1';
  const owner = clusterOwner();
  const dir = mkdtempSync(join(tmpdir(), 'mm-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, `${PASSWORD}\n`);
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwFile, owner.uid, owner.gid);
  }
  const entry = { data, bin, owner };
  const port = await freePort(host);
  const ctl = (args: string[]) => pgTool(bin, owner, dir, 'pg_ctl', ['-D', data, ...args]);
  let removed = false;
  const remove = () => {
    removed = true;
    live.delete(entry);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pgTool(bin, owner, dir, 'initdb', ['-D', data, '-U', USER, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync']);
    appendFileSync(
      join(data, 'postgresql.conf'),
      [`port = ${port}`, `listen_addresses = '${host}'`, `unix_socket_directories = '${dir}'`, 'fsync = off', 'synchronous_commit = off', 'full_page_writes = off', 'max_connections = 200', ''].join(
        '\n',
      ),
    );
    if (host !== '127.0.0.1' && host !== 'localhost') appendFileSync(join(data, 'pg_hba.conf'), 'host all all 0.0.0.0/0 scram-sha-256\n');
    await ctl(['-l', logFile, '-w', '-t', '60', 'start']);
    live.add(entry);
  } catch (error) {
    remove();
    throw error;
  }
  const url = `postgres://${USER}:${PASSWORD}@${host}:${port}/mm`;
  const query = async (sql: string, params: unknown[] = [], database = 'mm') => {
    const client = new pg.Client({ host, port, user: USER, password: PASSWORD, database });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as unknown[];
    } finally {
      await client.end();
    }
  };
  await query('CREATE DATABASE mm', [], 'postgres');
  return {
    url,
    host,
    port,
    query: (sql, params) => query(sql, params),
    start: () => ctl(['-l', logFile, '-w', '-t', '60', 'start']),
    restart: () => ctl(['-l', logFile, '-w', '-t', '60', '-m', 'immediate', 'restart']),
    async stop() {
      if (removed) return;
      await ctl(['-w', '-t', '30', '-m', 'fast', 'stop']).catch(() => undefined);
      remove();
    },
  };
}

/** Last resort from a synchronous exit handler: immediate stop of every cluster still running, folders removed. */
export function stopPgClustersSync(): void {
  for (const { data, bin, owner } of live) {
    try {
      execFileSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore', ...(owner ?? {}) });
    } catch {
      // Already stopped.
    }
    rmSync(join(data, '..'), { recursive: true, force: true });
  }
  live.clear();
}
