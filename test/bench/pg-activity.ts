import { performance } from 'node:perf_hooks';
import type { PgCluster } from '../helpers/pg-cluster.js';
import { round } from './stats.js';

/** Cumulative counters of the registry database (pg_stat_database, pg_stat_user_tables), the WAL (pg_stat_wal) and the transaction ids. */
export interface PgCounters {
  at: number;
  commits: number;
  /** Transaction ids assigned so far: one per transaction that wrote anything (cluster-wide). */
  xids: number;
  rowsWritten: number;
  walBytes: number;
  /** Rows inserted + updated + deleted, per table. */
  tables: Record<string, number>;
}

/** What PostgreSQL did between two readings, per second. */
export interface PgRates {
  seconds: number;
  /** Every commit, read-only transactions included. */
  commitsPerSec: number;
  /** Transactions that wrote (a transaction id was assigned). */
  writeTransactionsPerSec: number;
  /** tup_inserted + tup_updated + tup_deleted per second. */
  rowsWrittenPerSec: number;
  walKiBPerSec: number;
  /** Rows written per second by table, busiest first. */
  tables: { table: string; rowsPerSec: number }[];
}

/**
 * Reads the counters now. Backends publish their statistics about once a second, so a phase's
 * figures are right to about a second at each end.
 */
export async function readPgCounters(cluster: PgCluster, database = 'mm'): Promise<PgCounters> {
  const [row] = (await cluster.query(
    `SELECT d.xact_commit AS commits, d.tup_inserted + d.tup_updated + d.tup_deleted AS rows, w.wal_bytes AS wal,
            pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xids
       FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1`,
    [database],
  )) as { commits: string; rows: string; wal: string; xids: string }[];
  if (!row) throw new Error(`pg_stat_database has no row for database ${database}`);
  const tableRows = (await cluster.query('SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS rows FROM pg_stat_user_tables')) as { relname: string; rows: string }[];
  const tables = Object.fromEntries(tableRows.map((t) => [t.relname, Number(t.rows)]));
  return { at: performance.now(), commits: Number(row.commits), xids: Number(row.xids), rowsWritten: Number(row.rows), walBytes: Number(row.wal), tables };
}

export function pgRates(from: PgCounters, to: PgCounters): PgRates {
  const seconds = (to.at - from.at) / 1000;
  const perSec = (a: number, b: number) => round((b - a) / seconds, 0);
  const tables = Object.entries(to.tables)
    .map(([table, rows]) => ({ table, rowsPerSec: perSec(from.tables[table] ?? 0, rows) }))
    .filter((t) => t.rowsPerSec > 0)
    .sort((a, b) => b.rowsPerSec - a.rowsPerSec);
  return {
    seconds: round(seconds, 1),
    commitsPerSec: perSec(from.commits, to.commits),
    writeTransactionsPerSec: perSec(from.xids, to.xids),
    rowsWrittenPerSec: perSec(from.rowsWritten, to.rowsWritten),
    walKiBPerSec: round((to.walBytes - from.walBytes) / 1024 / seconds, 0),
    tables,
  };
}
