import type pg from 'pg';

/** One schema change, applied once, in version order, in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// Append only: a released migration is never edited, a change is a new version.
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'instances and audit',
    sql: `
      CREATE TABLE instances (
        id text PRIMARY KEY,
        name text NOT NULL,
        url text NOT NULL,
        host text NOT NULL,
        port integer NOT NULL,
        pid integer,
        tags text NOT NULL,
        tools text NOT NULL,
        tools_hash text NOT NULL,
        version text NOT NULL,
        kind text NOT NULL,
        state text,
        resources text,
        prompts text,
        registered_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        lease text NOT NULL,
        last_seen timestamptz NOT NULL DEFAULT now(),
        rev bigint NOT NULL DEFAULT 1,
        proxy_id text NOT NULL
      );
      CREATE INDEX instances_by_name ON instances (name);
      CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        proxy_id text NOT NULL,
        at bigint NOT NULL,
        caller text,
        service text NOT NULL,
        instance text,
        tool text NOT NULL,
        duration_ms double precision NOT NULL,
        outcome text NOT NULL,
        error_code text,
        request_bytes bigint,
        response_bytes bigint,
        hops integer,
        trace_id text
      );
      CREATE INDEX audit_by_service ON audit (service, id);`,
  },
];

// One key for every proxy of every schema: migrations are rare, so serializing them all is cheap.
const LOCK_KEY = 0x6d6d5f72; // "mm_r"

/**
 * Brings the database to the newest schema version. Runs under a session advisory lock, so two
 * proxies starting at once migrate one after the other (the second finds nothing to do).
 * @returns the versions applied by this call
 */
export async function migrate(client: pg.ClientBase): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
  }
}
