import type { ResolvedRegistryOptions } from '../options.js';
import { PgStore } from './pg-store.js';
import { SqljsStore } from './sqljs-store.js';
import type { RegistryStore } from './store-types.js';

/** The store the options name: PostgreSQL for a postgres:// URL, else sql.js (a file, or memory only). */
export function openStore(options: ResolvedRegistryOptions): Promise<RegistryStore> {
  if (options.url !== undefined) return PgStore.open(options, { url: options.url, proxyId: options.proxyId });
  return SqljsStore.open(options);
}
