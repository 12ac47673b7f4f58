import type { Database, SqlValue, Statement } from 'sql.js';
import type { AuditOutcome } from '../../src/contract/audit.js';
import { inTransaction } from './sqlite.js';

/** One routed call, as the router reports it. */
export interface AuditRecord {
  /** When the call started (ms since epoch); the registry clock's now when absent. */
  at?: number;
  caller?: string | undefined;
  service: string;
  instance?: string | undefined;
  tool: string;
  durationMs: number;
  outcome: AuditOutcome;
  errorCode?: string | undefined;
  requestBytes?: number | undefined;
  responseBytes?: number | undefined;
  /** The W3C trace id of the call (32 hex digits). */
  traceId?: string | undefined;
}

/** One stored audit row. */
export interface AuditEntry extends AuditRecord {
  id: number;
  at: number;
}

/** What the audit log needs. */
export interface AuditLogOptions {
  /** Rows kept; older rows are deleted after each batch. */
  retention: number;
  /** How long a record may wait in memory before its batch is inserted. */
  batchDelayMs: number;
  /** A batch is inserted at once when this many records wait. */
  batchSize: number;
  now: () => number;
  /** Called after each inserted batch (the registry marks its file dirty). */
  onInsert: () => void;
  /** Called when a background batch insert fails (the batch is dropped). */
  onError: (error: unknown) => void;
}

const INSERT = `INSERT INTO audit (at, caller, service, instance, tool, duration_ms, outcome, error_code, request_bytes, response_bytes)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// SQL NULL for an absent optional field.
function orNull<T extends SqlValue>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

// A stored row back into the shape callers gave, dropping NULL columns.
function toEntry(row: Record<string, SqlValue>): AuditEntry {
  const entry: AuditEntry = {
    id: Number(row.id),
    at: Number(row.at),
    service: String(row.service),
    tool: String(row.tool),
    durationMs: Number(row.duration_ms),
    outcome: String(row.outcome) as AuditOutcome,
  };
  if (row.caller !== null && row.caller !== undefined) entry.caller = String(row.caller);
  if (row.instance !== null && row.instance !== undefined) entry.instance = String(row.instance);
  if (row.error_code !== null && row.error_code !== undefined) entry.errorCode = String(row.error_code);
  if (row.request_bytes !== null && row.request_bytes !== undefined) entry.requestBytes = Number(row.request_bytes);
  if (row.response_bytes !== null && row.response_bytes !== undefined) entry.responseBytes = Number(row.response_bytes);
  return entry;
}

/**
 * The audit trail: `add()` only pushes to memory (the call's hot path); batches are inserted in one
 * transaction later and the table is trimmed to the retention cap.
 */
export class AuditLog {
  private buffer: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;
  private readonly insertStatement: Statement;

  constructor(
    private readonly db: Database,
    private readonly options: AuditLogOptions,
  ) {
    this.insertStatement = db.prepare(INSERT);
  }

  /** Records one call; cheap and synchronous. */
  add(record: AuditRecord): void {
    this.buffer.push(record.at === undefined ? { ...record, at: this.options.now() } : record);
    if (this.stopped) return;
    if (this.buffer.length >= this.options.batchSize) {
      if (this.immediate === undefined) this.immediate = setImmediate(() => this.drainInBackground());
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.drainInBackground(), this.options.batchDelayMs);
      this.timer.unref();
    }
  }

  // A failing background insert must not become an uncaught exception in a timer.
  private drainInBackground(): void {
    try {
      this.drain();
    } catch (error) {
      this.options.onError(error);
    }
  }

  /** Records waiting to be inserted. */
  get pending(): number {
    return this.buffer.length;
  }

  // Off the hot path: one transaction per batch, then one range delete for the retention cap.
  /** Inserts every waiting record now; returns how many were inserted. */
  drain(): number {
    this.clearTimer();
    if (this.stopped || this.buffer.length === 0) return 0;
    const batch = this.buffer;
    this.buffer = [];
    inTransaction(this.db, () => {
      for (const r of batch) {
        this.insertStatement.run([
          r.at ?? this.options.now(),
          orNull(r.caller),
          r.service,
          orNull(r.instance),
          r.tool,
          r.durationMs,
          r.outcome,
          orNull(r.errorCode),
          orNull(r.requestBytes),
          orNull(r.responseBytes),
        ]);
      }
      this.db.run('DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?', [this.options.retention]);
    });
    this.options.onInsert();
    return batch.length;
  }

  /** Newest first, optionally for one service, including records not yet inserted. */
  recent(query: { service?: string | undefined; limit?: number | undefined } = {}): AuditEntry[] {
    this.drain();
    const limit = Math.max(1, Math.min(query.limit ?? 100, this.options.retention));
    const sql = query.service === undefined ? 'SELECT * FROM audit ORDER BY id DESC LIMIT ?' : 'SELECT * FROM audit WHERE service = ? ORDER BY id DESC LIMIT ?';
    const statement = this.db.prepare(sql);
    try {
      statement.bind(query.service === undefined ? [limit] : [query.service, limit]);
      const entries: AuditEntry[] = [];
      while (statement.step()) entries.push(toEntry(statement.getAsObject()));
      return entries;
    } finally {
      statement.free();
    }
  }

  /** Rows stored (not counting pending records). */
  count(): number {
    return Number(this.db.exec('SELECT COUNT(*) FROM audit')[0]?.values[0]?.[0] ?? 0);
  }

  /** Stops batching for good (call `drain()` first to keep pending records). */
  stop(): void {
    this.clearTimer();
    this.stopped = true;
    this.buffer = [];
  }

  // Both the delay timer and the batch-full immediate end up in drain(); cancel whichever is set.
  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
