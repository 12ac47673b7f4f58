import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from 'sql.js';
import type { AuditFilter } from '../audit-log.js';
import { acquireLock, type FileLock } from '../file-lock.js';
import type { InstanceRecord } from '../instance-store.js';
import { openDatabase, type Recovery } from '../open-database.js';
import type { ResolvedRegistryOptions } from '../options.js';
import { createStorage, type Storage } from '../storage.js';
import type { RegistrationSchema } from '../../../src/contract/registration.js';
import type { ChildState } from '../../../src/contract/states.js';
import type { AuditStore, LoadResult, RegistryStore, StoreHealth } from './store-types.js';

/**
 * The embedded default: a sql.js database in memory, written to one file (locked, coalesced,
 * crash-safe), or memory only without a file. Heartbeats stay in memory.
 */
export class SqljsStore implements RegistryStore {
  readonly kind = 'sqljs';
  readonly evictions = 0;
  readonly audit: AuditStore;
  private readonly storage: Storage;

  /**
   * Takes the file's lock and opens (or quarantines) it.
   * @throws MeshError when another live process holds the registry file
   */
  static async open(options: ResolvedRegistryOptions): Promise<SqljsStore> {
    const { file } = options;
    if (file !== undefined) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const lock = file === undefined ? undefined : await acquireLock(file);
    try {
      const opened = await openDatabase(file, options.now);
      return new SqljsStore(options, opened.db, lock, opened.recovered);
    } catch (error) {
      await lock?.release();
      throw error;
    }
  }

  private constructor(
    private readonly options: ResolvedRegistryOptions,
    private readonly db: Database,
    private readonly lock: FileLock | undefined,
    readonly recovered: Recovery | undefined,
  ) {
    this.storage = createStorage(db, options);
    const log = this.storage.auditLog;
    this.audit = {
      add: (record) => log.add(record),
      recent: (filter: AuditFilter) => Promise.resolve(log.recent(filter)),
      onEntry: (listener) => log.onEntry(listener),
      count: () => log.count(),
      get pending() {
        return log.pending;
      },
    };
  }

  load(schema: typeof RegistrationSchema): Promise<LoadResult> {
    const { records, dropped } = this.storage.store.loadAll(schema);
    if (this.recovered !== undefined || dropped.length > 0) this.storage.writer?.markDirty();
    return Promise.resolve({ records: records.map((record) => ({ record, ageMs: 0 })), dropped });
  }

  upsert(record: InstanceRecord): void {
    this.storage.store.upsert(record);
    this.storage.writer?.markDirty();
  }

  delete(id: string): void {
    this.storage.store.delete(id);
    this.storage.writer?.markDirty();
  }

  setState(id: string, state: ChildState, at: number): void {
    this.storage.store.setState(id, state, at);
    this.storage.writer?.markDirty();
  }

  // Heartbeat times live in memory: a restart starts them fresh and never mass-expires live services.
  beat(): void {}

  // Changes are in the database at once; the file follows within flushDelayMs (coalesced).
  durable(): Promise<void> {
    return Promise.resolve();
  }

  // One proxy per file: nobody else changes it.
  listen(): void {}

  writeStats() {
    return this.storage.writer?.stats();
  }

  health(): StoreHealth {
    const writes = this.storage.writer?.stats();
    const location = this.options.file ?? ':memory:';
    return { kind: 'sqljs', state: writes && writes.errors > 0 && writes.dirty ? 'degraded' : 'ok', location, queued: this.storage.auditLog.pending };
  }

  async flush(): Promise<void> {
    this.storage.auditLog.drain();
    await this.storage.writer?.flush();
  }

  async close(): Promise<void> {
    try {
      this.storage.auditLog.drain();
      await this.storage.writer?.close();
    } finally {
      this.storage.auditLog.stop();
      this.db.close();
      await this.lock?.release();
    }
  }
}
