import type { Test } from 'tap';
import type { RegistryOptions } from '../../proxy/registry/options.js';
import { startPostgres, type PgCluster } from './postgres.js';

/** Options that put a registry on one store: {} (sql.js in memory) or a PostgreSQL URL. */
export type StoreOptions = () => Promise<RegistryOptions>;

/** The URL of `cluster` with every table in `schema` (its own tables and NOTIFY channel). */
export function schemaUrl(cluster: PgCluster, schema: string): string {
  return `${cluster.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/**
 * Runs `suite` once per registry store: sql.js always, PostgreSQL when it is installed (one
 * cluster for the suite; each call of `storeOptions` gives a fresh, empty schema), else one skip line.
 * @example eachStore(t, (t, storeOptions) => { t.test('…', async (t) => { const r = await Registry.open(await storeOptions()); … }) })
 */
export function eachStore(t: Test, suite: (t: Test, storeOptions: StoreOptions) => void): void {
  t.test('sql.js store', async (t) => suite(t, () => Promise.resolve({})));
  t.test('PostgreSQL store', async (t) => {
    t.setTimeout(300_000);
    const cluster = await startPostgres(t);
    if (!cluster) return;
    let n = 0;
    suite(t, async () => {
      const schema = `suite_${++n}`;
      await cluster.query(`CREATE SCHEMA ${schema}`);
      return { registry: schemaUrl(cluster, schema) };
    });
  });
}
