import type { ResolvedRegistryOptions } from '../options.js';
import type { RegistryStore } from './store-types.js';

/**
 * The store the options name: PostgreSQL for a postgres:// URL, else sql.js (a file, or memory only).
 * Each is imported only when chosen: a proxy on a file never loads `pg`, one on PostgreSQL never loads sql.js's wasm.
 */
export async function openStore(options: ResolvedRegistryOptions): Promise<RegistryStore> {
  if (options.url !== undefined) {
    const { PgStore } = await import('./pg-store.js');
    return PgStore.open(options, { url: options.url, proxyId: options.proxyId });
  }
  const { SqljsStore } = await import('./sqljs-store.js');
  return SqljsStore.open(options);
}
