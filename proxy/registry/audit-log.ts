import type { Database, SqlValue, Statement } from 'sql.js';
import type { AuditOutcome, Since } from '../../src/contract/audit.js';
import { jsonBytes } from '../../src/contract/json-bytes.js';
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
  /** Mesh hops made before this call (0: from a client). */
  hops?: number | undefined;
  /** The W3C trace id of the call (32 hex digits). */
  traceId?: string | undefined;
  /** The arguments and result, when the sizes are still to be measured (when the batch is stored, off the call's path). */
  request?: unknown;
  response?: unknown;
}

/** One stored audit row. */
export interface AuditEntry {
  id: number;
  at: number;
  caller?: string;
  service: string;
  instance?: string;
  tool: string;
  durationMs: number;
  outcome: AuditOutcome;
  errorCode?: string;
  requestBytes?: number;
  responseBytes?: number;
  hops?: number;
  traceId?: string;
}

/** GET /v1/audit's filters, `since` resolved against the proxy's clock by the log. */
export interface AuditFilter {
  service?: string | undefined;
  tool?: string | undefined;
  caller?: string | undefined;
  outcome?: AuditOutcome | undefined;
  /** Only calls that did not end ok. */
  errors?: boolean | undefined;
  since?: Since | undefined;
  limit?: number | undefined;
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

/** The live `call` events' subscriber: each stored row, in order, as soon as its batch is inserted. */
export type AuditListener = (entry: AuditEntry) => void;

const INSERT = `INSERT INTO audit (id, at, caller, service, instance, tool, duration_ms, outcome, error_code, request_bytes, response_bytes, hops, trace_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// SQL NULL for an absent optional field.
function orNull<T extends SqlValue>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

/** A stored row (sql.js or PostgreSQL) back into the shape callers gave, dropping NULL columns. */
export function toEntry(row: Record<string, unknown>): AuditEntry {
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
  if (row.hops !== null && row.hops !== undefined) entry.hops = Number(row.hops);
  if (row.trace_id !== null && row.trace_id !== undefined) entry.traceId = String(row.trace_id);
  return entry;
}

/** A record as its stored row reads back (the live `call` event), without a second query. */
export function entryOf(id: number, r: AuditRecord, at: number): AuditEntry {
  const entry: AuditEntry = { id, at, service: r.service, tool: r.tool, durationMs: r.durationMs, outcome: r.outcome };
  if (r.caller !== undefined) entry.caller = r.caller;
  if (r.instance !== undefined) entry.instance = r.instance;
  if (r.errorCode !== undefined) entry.errorCode = r.errorCode;
  if (r.requestBytes !== undefined) entry.requestBytes = r.requestBytes;
  if (r.responseBytes !== undefined) entry.responseBytes = r.responseBytes;
  if (r.hops !== undefined) entry.hops = r.hops;
  if (r.traceId !== undefined) entry.traceId = r.traceId;
  return entry;
}

/** Measures the sizes of a record whose arguments and result were kept for it, once, and drops the references. */
export function measure(r: AuditRecord): void {
  if (r.requestBytes === undefined && r.request !== undefined) r.requestBytes = jsonBytes(r.request);
  if (r.responseBytes === undefined && r.response !== undefined) r.responseBytes = jsonBytes(r.response);
  r.request = undefined;
  r.response = undefined;
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
  private readonly listeners = new Set<AuditListener>();

  constructor(
    private readonly db: Database,
    private readonly options: AuditLogOptions,
  ) {
    this.insertStatement = db.prepare(INSERT);
  }

  /**
   * Subscribes to every row as it is stored (batched: within the batch delay of its call); returns the unsubscribe function.
   * @example const off = auditLog.onEntry((entry) => sse.send('call', entry))
   */
  onEntry(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records one call; cheap and synchronous (its sizes are measured when its batch is stored). */
  add(record: AuditRecord): void {
    // The record is the router's own, made for this: stamped in place rather than copied.
    record.at ??= this.options.now();
    this.buffer.push(record);
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
    // Ids are given here (one past the largest), so the live `call` events carry them without a query per row.
    let id = Number(this.db.exec('SELECT MAX(id) FROM audit')[0]?.values[0]?.[0] ?? 0);
    const firstId = id + 1;
    inTransaction(this.db, () => {
      for (const r of batch) {
        measure(r);
        this.insertStatement.run([
          ++id,
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
          orNull(r.hops),
          orNull(r.traceId),
        ]);
      }
      this.db.run('DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?', [this.options.retention]);
    });
    this.options.onInsert();
    if (this.listeners.size > 0) this.announce(batch, firstId);
    return batch.length;
  }

  // A throwing listener (a closed stream) must not break the batch nor the other listeners.
  private announce(batch: readonly AuditRecord[], firstId: number): void {
    batch.forEach((record, index) => {
      const entry = entryOf(firstId + index, record, record.at ?? this.options.now());
      for (const listener of [...this.listeners]) {
        try {
          listener(entry);
        } catch (error) {
          this.options.onError(error);
        }
      }
    });
  }

  /** Newest first, filtered, including records not yet inserted. */
  recent(filter: AuditFilter = {}): AuditEntry[] {
    this.drain();
    const limit = Math.max(1, Math.min(filter.limit ?? 100, this.options.retention));
    const where: string[] = [];
    const values: SqlValue[] = [];
    const equal = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      values.push(value);
    };
    equal('service', filter.service);
    equal('tool', filter.tool);
    equal('caller', filter.caller);
    equal('outcome', filter.outcome);
    if (filter.errors === true) where.push("outcome <> 'ok'");
    if (filter.since !== undefined) {
      where.push('at >= ?');
      values.push('at' in filter.since ? filter.since.at : this.options.now() - filter.since.agoMs);
    }
    const sql = `SELECT * FROM audit${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const statement = this.db.prepare(sql);
    try {
      statement.bind([...values, limit]);
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
