import { performance } from 'node:perf_hooks';
import type { PgCluster } from '../helpers/pg-cluster.js';
import { round } from './stats.js';

/** Cumulative counters of the registry database (pg_stat_database) and of the WAL (pg_stat_wal). */
export interface PgCounters {
  at: number;
  commits: number;
  rowsWritten: number;
  walBytes: number;
}

/** What PostgreSQL did between two readings, per second. */
export interface PgRates {
  seconds: number;
  commitsPerSec: number;
  /** tup_inserted + tup_updated + tup_deleted per second. */
  rowsWrittenPerSec: number;
  walKiBPerSec: number;
}

/**
 * Reads the counters now. Backends publish their statistics about once a second, so a phase's
 * figures are right to about a second at each end; commits include read-only transactions.
 */
export async function readPgCounters(cluster: PgCluster, database = 'mm'): Promise<PgCounters> {
  const [row] = (await cluster.query(
    `SELECT d.xact_commit AS commits, d.tup_inserted + d.tup_updated + d.tup_deleted AS rows, w.wal_bytes AS wal
       FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1`,
    [database],
  )) as { commits: string; rows: string; wal: string }[];
  if (!row) throw new Error(`pg_stat_database has no row for database ${database}`);
  return { at: performance.now(), commits: Number(row.commits), rowsWritten: Number(row.rows), walBytes: Number(row.wal) };
}

export function pgRates(from: PgCounters, to: PgCounters): PgRates {
  const seconds = (to.at - from.at) / 1000;
  return {
    seconds: round(seconds, 1),
    commitsPerSec: round((to.commits - from.commits) / seconds, 0),
    rowsWrittenPerSec: round((to.rowsWritten - from.rowsWritten) / seconds, 0),
    walKiBPerSec: round((to.walBytes - from.walBytes) / 1024 / seconds, 0),
  };
}
