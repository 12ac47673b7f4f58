import type { Database } from 'sql.js';
import { AuditLog } from './audit-log.js';
import { InstanceStore } from './instance-store.js';
import type { ResolvedRegistryOptions } from './options.js';
import { CoalescedWriter } from './persist.js';

/** The registry's persistent parts over one database. */
export interface Storage {
  store: InstanceStore;
  auditLog: AuditLog;
  /** Absent for a memory-only registry. */
  writer: CoalescedWriter | undefined;
}

const AUDIT_BATCH_SIZE = 256;

// Instance changes reach the file within flushDelayMs; audit-only changes ride along or wait longer.
/** Wires the instance table, the audit log and the coalescing file writer to one database. */
export function createStorage(db: Database, options: ResolvedRegistryOptions): Storage {
  const { file, logger, now } = options;
  const writer = file === undefined ? undefined : new CoalescedWriter({ file, delayMs: options.flushDelayMs, snapshot: () => db.export(), now, logger });
  const auditLog = new AuditLog(db, {
    retention: options.auditRetention,
    batchDelayMs: options.auditBatchDelayMs,
    batchSize: AUDIT_BATCH_SIZE,
    now,
    onInsert: () => writer?.markDirty(options.auditFlushDelayMs),
    onError: (error) => logger.error(`audit batch dropped: ${String(error)}`),
  });
  return { store: new InstanceStore(db), auditLog, writer };
}
