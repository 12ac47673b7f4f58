import { readFile, rename, stat } from 'node:fs/promises';
import type { Database } from 'sql.js';
import { MeshError } from '../../src/errors.js';
import { sqliteHeaderProblem } from './sqlite-header.js';
import { checkSchema, createSchema, loadSqlJs, migrateSchema, tuneConnection } from './sqlite.js';

/** What happened to a registry file that could not be used. */
export interface Recovery {
  /** Where the unusable file now lies (`<file>.corrupt-<time>`). */
  movedTo: string;
  /** Why it could not be used: "truncated: 3 of 4 pages present", "file is not a database"… */
  reason: string;
}

/** An opened registry database. */
export interface OpenedDatabase {
  db: Database;
  /** True when the database came from an existing file. */
  fromFile: boolean;
  /** Set when the file was unusable, moved aside, and the registry started empty. */
  recovered?: Recovery;
}

// A quarantine name that sorts by time and never overwrites an earlier quarantined file.
async function quarantineName(file: string, at: number): Promise<string> {
  const stamp = new Date(at).toISOString().replace(/:/g, '-');
  for (let n = 0; ; n++) {
    const candidate = `${file}.corrupt-${stamp}${n === 0 ? '' : `-${n}`}`;
    try {
      await stat(candidate);
    } catch {
      return candidate;
    }
  }
}

// Moves an unusable file out of the way so the registry can start empty and say so.
async function quarantine(file: string, reason: string, at: number): Promise<Recovery> {
  const movedTo = await quarantineName(file, at);
  try {
    await rename(file, movedTo);
  } catch (cause) {
    throw new MeshError('REGISTRY_CORRUPT', `registry file ${file} is unusable (${reason}) and could not be moved aside: ${String(cause)}`, {
      cause,
      context: { file, reason },
    });
  }
  return { movedTo, reason };
}

// Opens bytes as a registry, or explains why they are not one.
function tryOpen(SQL: Awaited<ReturnType<typeof loadSqlJs>>, bytes: Uint8Array): { db: Database } | { reason: string } {
  const headerProblem = sqliteHeaderProblem(bytes);
  if (headerProblem) return { reason: headerProblem };
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    migrateSchema(db);
    const schemaProblem = checkSchema(db);
    if (schemaProblem) {
      db.close();
      return { reason: schemaProblem };
    }
    tuneConnection(db);
    return { db };
  } catch (error) {
    db?.close();
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Opens the registry database: empty in memory without a file, empty for a missing file, loaded
 * from a good file; a truncated, corrupt or unreadable file is moved aside and the result says so.
 * @example const { db, recovered } = await openDatabase('/home/me/.mesh/registry.db', Date.now)
 */
export async function openDatabase(file: string | undefined, now: () => number): Promise<OpenedDatabase> {
  const SQL = await loadSqlJs();
  const fresh = (): Database => {
    const db = new SQL.Database();
    tuneConnection(db);
    createSchema(db);
    return db;
  };
  if (file === undefined) return { db: fresh(), fromFile: false };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { db: fresh(), fromFile: false };
    const reason = `unreadable: ${(error as Error).message}`;
    return { db: fresh(), fromFile: false, recovered: await quarantine(file, reason, now()) };
  }
  const opened = tryOpen(SQL, bytes);
  if ('db' in opened) return { db: opened.db, fromFile: true };
  return { db: fresh(), fromFile: false, recovered: await quarantine(file, opened.reason, now()) };
}
