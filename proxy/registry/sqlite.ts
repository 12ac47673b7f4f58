import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic } from 'sql.js';

/** The registry file's schema version (`PRAGMA user_version`). */
export const SCHEMA_VERSION = 3;

const DDL = `
CREATE TABLE IF NOT EXISTS instances (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  pid INTEGER,
  tags TEXT NOT NULL,
  tools TEXT NOT NULL,
  tools_hash TEXT NOT NULL,
  version TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT,
  resources TEXT,
  prompts TEXT,
  registered_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  lease TEXT
);
CREATE INDEX IF NOT EXISTS instances_by_name ON instances(name);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  caller TEXT,
  service TEXT NOT NULL,
  instance TEXT,
  tool TEXT NOT NULL,
  duration_ms REAL NOT NULL,
  outcome TEXT NOT NULL,
  error_code TEXT,
  request_bytes INTEGER,
  response_bytes INTEGER,
  hops INTEGER,
  trace_id TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_service ON audit(service, id);
PRAGMA user_version = ${SCHEMA_VERSION};
`;

const expectedColumns: Record<string, readonly string[]> = {
  instances: ['id', 'name', 'url', 'host', 'port', 'pid', 'tags', 'tools', 'tools_hash', 'version', 'kind', 'state', 'resources', 'prompts', 'registered_at', 'updated_at', 'lease'],
  audit: ['id', 'at', 'caller', 'service', 'instance', 'tool', 'duration_ms', 'outcome', 'error_code', 'request_bytes', 'response_bytes', 'hops', 'trace_id'],
};

let sqlJs: Promise<SqlJsStatic> | undefined;

// The wasm module is loaded once per process, on first use, never at import time.
/** The sql.js module (loaded lazily and shared). */
export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs();
  return sqlJs;
}

// A new database and an opened file must end up with exactly the same tables.
/** Creates the registry tables if they are missing. */
export function createSchema(db: Database): void {
  db.exec(DDL);
}

// The database lives in wasm memory and reaches disk only through whole-file atomic exports, so a
// rollback journal on the in-memory file system would only cost time (and one copy per commit).
/** Per-connection settings for the in-memory registry database. */
export function tuneConnection(db: Database): void {
  db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;');
}

// Version 1 files predate leases: their rows gain an empty lease column and are dropped on load
// (their instances get 404 on the next beat and register again, receiving a lease). Version 2
// files predate the audit's hop count and trace id: their rows keep NULL there.
/** Brings an older registry database to the current schema version in place, one version at a time. */
export function migrateSchema(db: Database): void {
  const version = () => db.exec('PRAGMA user_version')[0]?.values[0]?.[0];
  if (version() === 1) db.exec('ALTER TABLE instances ADD COLUMN lease TEXT; PRAGMA user_version = 2;');
  if (version() === 2) {
    const present = new Set((db.exec('PRAGMA table_info(audit)')[0]?.values ?? []).map((row) => row[1]));
    if (!present.has('hops')) db.exec('ALTER TABLE audit ADD COLUMN hops INTEGER');
    if (!present.has('trace_id')) db.exec('ALTER TABLE audit ADD COLUMN trace_id TEXT');
    db.exec('PRAGMA user_version = 3');
  }
}

// A file that opens but holds something else (another app's db, an older layout) is not ours.
/**
 * Checks integrity, version and tables of an opened registry database.
 * @returns a reason when the database is unusable, undefined when it is fine
 */
export function checkSchema(db: Database): string | undefined {
  const integrity = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
  if (integrity !== 'ok') return `integrity check failed: ${String(integrity)}`;
  const version = db.exec('PRAGMA user_version')[0]?.values[0]?.[0];
  if (version !== SCHEMA_VERSION) return `schema version ${String(version)}, expected ${SCHEMA_VERSION}`;
  for (const [table, columns] of Object.entries(expectedColumns)) {
    const present = new Set((db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).map((row) => row[1]));
    if (present.size === 0) return `table "${table}" is missing`;
    const missing = columns.filter((column) => !present.has(column));
    if (missing.length > 0) return `table "${table}" lacks columns ${missing.join(', ')}`;
  }
  return undefined;
}

// Several statements must land together or not at all (a batch of audit rows, a replace).
/** Runs `work` inside one transaction, rolling back if it throws. */
export function inTransaction<T>(db: Database, work: () => T): T {
  db.exec('BEGIN');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
