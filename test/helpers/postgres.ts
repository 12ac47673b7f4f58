import type { Test } from 'tap';
import { findPgBin, PG_MISSING, startPgCluster, type PgCluster, type PgClusterOptions } from './pg-cluster.js';

export type { PgCluster } from './pg-cluster.js';

/**
 * Starts a PostgreSQL cluster in a temporary folder on a free loopback port, torn down with `t`.
 * Returns undefined (after one skip line) when PostgreSQL is not installed. The cluster itself
 * (no tap in it, also used by the bench) is in pg-cluster.ts.
 */
export async function startPostgres(t: Test, opts: PgClusterOptions = {}): Promise<PgCluster | undefined> {
  if (!findPgBin()) {
    t.skip(PG_MISSING, () => undefined);
    return undefined;
  }
  const cluster = await startPgCluster(opts);
  t.teardown(() => cluster.destroy());
  return cluster;
}
