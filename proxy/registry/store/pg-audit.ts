import type pg from 'pg';
import { entryOf, measure, toEntry, type AuditEntry, type AuditFilter, type AuditListener, type AuditRecord } from '../audit-log.js';
import type { PgWriteQueue } from './pg-queue.js';
import type { AuditStore } from './store-types.js';

const COLUMNS = ['proxy_id', 'at', 'caller', 'service', 'instance', 'tool', 'duration_ms', 'outcome', 'error_code', 'request_bytes', 'response_bytes', 'hops', 'trace_id'] as const;
const TYPES = ['text', 'int8', 'text', 'text', 'text', 'text', 'float8', 'text', 'text', 'int8', 'int8', 'int4', 'text'] as const;
const INSERT = `INSERT INTO audit (${COLUMNS.join(', ')})
  SELECT * FROM unnest(${TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')}) RETURNING id`;
const BATCH_SIZE = 256;
// Trimming to the retention cap is one range delete; every few batches is enough.
const TRIM_EVERY = 16;

/**
 * The audit trail in PostgreSQL: every proxy's rows in one table (a proxy_id column), inserted in
 * batches through the store's write queue (one multi-row INSERT), trimmed to the retention cap.
 */
export class PgAuditStore implements AuditStore {
  private buffer: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<AuditListener>();
  private rows = 0;
  private batches = 0;
  private queued = 0;
  /** Records refused because `retention` of them already waited for the unreachable database. */
  dropped = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly queue: PgWriteQueue,
    private readonly options: { proxyId: string; retention: number; batchDelayMs: number; now: () => number; onError: (error: unknown) => void },
  ) {}

  add(record: AuditRecord): void {
    // While PostgreSQL is out of reach, at most `retention` records wait in memory (later ones are counted, not kept).
    if (this.queue.state.down && this.queued + this.buffer.length >= this.options.retention) {
      this.dropped++;
      return;
    }
    record.at ??= this.options.now();
    this.buffer.push(record);
    if (this.buffer.length >= BATCH_SIZE) this.drain();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.drain(), this.options.batchDelayMs);
      this.timer.unref();
    }
  }

  get pending(): number {
    return this.buffer.length + this.queued;
  }

  count(): number {
    return this.rows;
  }

  onEntry(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hands the buffered records to the write queue as one batch. */
  drain(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.queued += batch.length;
    for (const r of batch) measure(r);
    const trim = ++this.batches % TRIM_EVERY === 1;
    this.queue.push({
      ids: [],
      dropped: () => (this.queued -= batch.length),
      run: async (client) => {
        const columns = COLUMNS.map(() => [] as unknown[]);
        for (const r of batch) {
          const values = [this.options.proxyId, r.at, r.caller, r.service, r.instance, r.tool, r.durationMs, r.outcome, r.errorCode, r.requestBytes, r.responseBytes, r.hops, r.traceId];
          values.forEach((value, i) => columns[i]!.push(value ?? null));
        }
        const ids = (await client.query<{ id: string }>(INSERT, columns)).rows.map((row) => Number(row.id));
        if (trim) await client.query('DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - $1', [this.options.retention]);
        const total = trim ? Number((await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM audit')).rows[0]?.n ?? 0) : undefined;
        return {
          after: () => {
            this.queued -= batch.length;
            this.rows = total ?? Math.min(this.options.retention, this.rows + batch.length);
            this.announce(batch, ids);
          },
        };
      },
    });
  }

  /** Newest first, filtered, every proxy's rows, including this proxy's records not yet inserted. */
  async recent(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    this.drain();
    await this.queue.durable();
    const limit = Math.max(1, Math.min(filter.limit ?? 100, this.options.retention));
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: (n: string) => string, value: unknown) => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (filter.service !== undefined) add((n) => `service = ${n}`, filter.service);
    if (filter.tool !== undefined) add((n) => `tool = ${n}`, filter.tool);
    if (filter.caller !== undefined) add((n) => `caller = ${n}`, filter.caller);
    if (filter.outcome !== undefined) add((n) => `outcome = ${n}`, filter.outcome);
    if (filter.errors === true) where.push("outcome <> 'ok'");
    if (filter.since !== undefined) add((n) => `at >= ${n}`, 'at' in filter.since ? filter.since.at : this.options.now() - filter.since.agoMs);
    values.push(limit);
    const sql = `SELECT * FROM audit${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.length}`;
    return (await this.pool.query(sql, values)).rows.map((row: Record<string, unknown>) => toEntry(row));
  }

  /** Stops the batch timer (close). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  // A throwing listener (a closed stream) must not break the batch nor the other listeners.
  private announce(batch: readonly AuditRecord[], ids: readonly number[]): void {
    if (this.listeners.size === 0) return;
    batch.forEach((record, index) => {
      const entry = entryOf(ids[index] ?? 0, record, record.at ?? this.options.now());
      for (const listener of [...this.listeners]) {
        try {
          listener(entry);
        } catch (error) {
          this.options.onError(error);
        }
      }
    });
  }
}
