import type { Database, Statement } from 'sql.js';
import { LeaseSchema } from '../../src/contract/lease.js';
import type { Registration, RegistrationSchema } from '../../src/contract/registration.js';
import type { ChildState } from '../../src/contract/states.js';
import { formatZodError } from '../../src/contract/zod-message.js';

/**
 * A registration as stored: the validated body, when it arrived, and its lease (the secret its
 * heartbeats and deregistration must carry; never part of a view, an event or a log line).
 */
export type InstanceRecord = Registration & {
  registeredAt: number;
  updatedAt: number;
  lease: string;
};

/** A stored row that no longer passes validation, and was deleted on load. */
export interface DroppedRow {
  id: string;
  reason: string;
}

const UPSERT = `INSERT OR REPLACE INTO instances
  (id, name, url, host, port, pid, tags, tools, tools_hash, version, kind, state, resources, prompts, registered_at, updated_at, lease)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// JSON text for an optional column; NULL when the field is absent.
function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

// Parses a JSON column, leaving undefined for NULL so the schema sees a missing field.
function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : undefined;
}

/**
 * The `instances` table: upserts, deletes, state updates and a validated load. Only mutations
 * touch SQL; reads are served from the registry's in-memory index.
 */
export class InstanceStore {
  private readonly upsertStatement: Statement;
  private readonly deleteStatement: Statement;
  private readonly stateStatement: Statement;

  constructor(private readonly db: Database) {
    this.upsertStatement = db.prepare(UPSERT);
    this.deleteStatement = db.prepare('DELETE FROM instances WHERE id = ?');
    this.stateStatement = db.prepare('UPDATE instances SET state = ?, updated_at = ? WHERE id = ?');
  }

  /** Inserts or replaces one instance row. */
  upsert(record: InstanceRecord): void {
    this.upsertStatement.run([
      record.id,
      record.name,
      record.url,
      record.host,
      record.port,
      record.pid ?? null,
      JSON.stringify(record.tags),
      JSON.stringify(record.tools),
      record.toolsHash,
      record.version,
      record.kind,
      record.state ?? null,
      jsonOrNull(record.resources),
      jsonOrNull(record.prompts),
      record.registeredAt,
      record.updatedAt,
      record.lease,
    ]);
  }

  /** Deletes one instance row (no-op when absent). */
  delete(id: string): void {
    this.deleteStatement.run([id]);
  }

  /** Records a child state change reported by a sidecar. */
  setState(id: string, state: ChildState, at: number): void {
    this.stateStatement.run([state, at, id]);
  }

  // Rows are re-validated on load: a file edited by hand or by an older build must not inject.
  /** Every stored instance that still passes `schema`; failing rows are deleted and reported. */
  loadAll(schema: typeof RegistrationSchema): { records: InstanceRecord[]; dropped: DroppedRow[] } {
    const records: InstanceRecord[] = [];
    const dropped: DroppedRow[] = [];
    const statement = this.db.prepare('SELECT * FROM instances ORDER BY registered_at, id');
    try {
      while (statement.step()) {
        const row = statement.getAsObject();
        const id = String(row.id);
        const outcome = recordFromRow(schema, row);
        if (typeof outcome === 'string') dropped.push({ id, reason: outcome });
        else records.push(outcome);
      }
    } finally {
      statement.free();
    }
    for (const row of dropped) this.delete(row.id);
    return { records, dropped };
  }
}

/** One stored row (sql.js or PostgreSQL) back into a record, or the reason it is unusable. */
export function recordFromRow(schema: typeof RegistrationSchema, row: Record<string, unknown>): InstanceRecord | string {
  let candidate: Record<string, unknown>;
  try {
    candidate = {
      id: row.id,
      name: row.name,
      url: row.url,
      host: row.host,
      port: row.port,
      pid: row.pid ?? undefined,
      tags: parseJson(row.tags),
      tools: parseJson(row.tools),
      toolsHash: row.tools_hash,
      version: row.version,
      kind: row.kind,
      state: row.state ?? undefined,
      resources: parseJson(row.resources),
      prompts: parseJson(row.prompts),
    };
  } catch (error) {
    return `bad JSON: ${(error as Error).message}`;
  }
  for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key];
  const parsed = schema.safeParse(candidate);
  if (!parsed.success) return formatZodError(parsed.error);
  const registeredAt = Number(row.registered_at);
  const updatedAt = Number(row.updated_at);
  if (!Number.isFinite(registeredAt) || !Number.isFinite(updatedAt)) return 'bad timestamps';
  const lease = LeaseSchema.safeParse(row.lease);
  if (!lease.success) return 'no valid lease (stored by an older proxy): the instance registers again on its next heartbeat';
  return { ...parsed.data, registeredAt, updatedAt, lease: lease.data };
}
