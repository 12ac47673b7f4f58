import type { AuditEntry, AuditFilter, AuditListener, AuditRecord } from '../audit-log.js';
import type { LeftReason } from '../events.js';
import type { DroppedRow, InstanceRecord } from '../instance-store.js';
import type { Recovery } from '../open-database.js';
import type { WriteStats } from '../persist.js';
import type { RegistrationSchema } from '../../../src/contract/registration.js';
import type { ChildState } from '../../../src/contract/states.js';

/** A stored instance as loaded: its record and how long ago it was last heard from (0: just now). */
export interface LoadedRecord {
  record: InstanceRecord;
  ageMs: number;
}

/** What a store loads when the registry opens. */
export interface LoadResult {
  records: LoadedRecord[];
  dropped: DroppedRow[];
}

/** How the registry's store is doing, for /healthz: `unavailable` while its database cannot be reached. */
export interface StoreHealth {
  kind: 'sqljs' | 'postgres';
  /** ok; degraded (reachable, but a change is being retried); unavailable (connection lost, retrying). */
  state: 'ok' | 'degraded' | 'unavailable';
  /** Where it lives: the file, or the URL with its password replaced by ***. */
  location: string;
  /** Why it is not ok (the last error). */
  reason?: string;
  /** Since when it is not ok (ms since epoch). */
  since?: number;
  /** Changes waiting to be stored. */
  queued: number;
}

/**
 * A change made by another proxy sharing the store, to be applied to this proxy's in-memory table
 * (with the same events as a local change, never written back).
 */
export type RemoteChange =
  | { kind: 'upsert'; loaded: LoadedRecord }
  | { kind: 'delete'; id: string; reason: LeftReason; by?: string | undefined }
  | { kind: 'beat'; ids: string[] }
  /** The whole table after a reconnect; `pending` ids have local changes not yet stored (local wins). */
  | { kind: 'reload'; records: LoadedRecord[]; pending: ReadonlySet<string> };

/** The audit trail as a store keeps it. */
export interface AuditStore {
  add(record: AuditRecord): void;
  recent(filter: AuditFilter): Promise<AuditEntry[]>;
  onEntry(listener: AuditListener): () => void;
  /** Rows stored (as far as this proxy knows: cheap, no query). */
  count(): number;
  readonly pending: number;
}

/**
 * The registry's persistence. The registry's in-memory index is authoritative for reads; a store
 * only receives changes (in order) and hands back the table on open. Writes never block a caller:
 * `durable()` says when what was changed so far is stored.
 */
export interface RegistryStore {
  readonly kind: StoreHealth['kind'];
  readonly recovered: Recovery | undefined;
  readonly audit: AuditStore;
  /** Every stored instance that still passes `schema`; failing rows are deleted and reported. */
  load(schema: typeof RegistrationSchema): Promise<LoadResult>;
  upsert(record: InstanceRecord): void;
  /** Deletes an instance; `expired` is an eviction (on PostgreSQL, only one proxy's eviction wins). */
  delete(id: string, reason: LeftReason, by?: string): void;
  setState(id: string, state: ChildState, at: number): void;
  /** A heartbeat (sql.js: memory only; PostgreSQL: batched last_seen updates). */
  beat(id: string): void;
  /** Resolves once every change made so far is stored (or failed for good). */
  durable(): Promise<void>;
  /** Starts delivering other proxies' changes. */
  listen(apply: (change: RemoteChange) => void): void;
  writeStats(): WriteStats | undefined;
  health(): StoreHealth;
  /** Instances this proxy evicted (won the conditional delete). */
  readonly evictions: number;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Waits until what the store was given so far is stored, at most `timeoutMs`.
 * @returns true when stored, false when the wait timed out (the changes stay queued)
 */
export async function storedWithin(store: Pick<RegistryStore, 'durable'>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([store.durable().then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
