import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { meshHome } from '../../src/mesh-home.js';
import { bootId, isAlive } from './process-refs.js';
import { ProcessRefSchema, type ProcessRef } from './run-state.js';

/*
 * A proxy started by `mesh up` is shared by every run that uses its port: `$MESH_HOME/proxies/<port>/`
 * holds `proxy.json` (its process, restarted by whichever run notices it died) and `users/<run>.json`
 * (one per run using it, with that run's supervisor). The last run to leave stops the proxy.
 */

const ProxyRecordSchema = z.object({ url: z.string(), bootId: z.string(), process: ProcessRefSchema, log: z.string(), startedBy: z.string() });
export type ProxyRecord = z.infer<typeof ProxyRecordSchema>;

const UserSchema = z.object({ run: z.string(), manifest: z.string(), supervisor: ProcessRefSchema, since: z.string() });
export type ProxyUser = z.infer<typeof UserSchema>;

/** The folder of the shared proxy on `port`. */
export function proxyDir(port: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(meshHome(env), 'proxies', String(port));
}

/** The port a proxy URL names (80 when it names none). */
export function proxyPort(url: string): number {
  return Number(new URL(url).port || 80);
}

function readJson<T>(file: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

// Written whole (temp file, rename): a reader never sees half a record.
function writeJson(file: string, value: unknown): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/** The recorded mesh-up proxy on `port` while its process is alive, else undefined. */
export function liveProxy(port: number): ProxyRecord | undefined {
  const record = readJson(join(proxyDir(port), 'proxy.json'), ProxyRecordSchema);
  return record !== undefined && record.bootId === bootId() && isAlive(record.process) ? record : undefined;
}

/** Records the proxy a run just started (or started again) on `port`. */
export function recordProxy(port: number, record: Omit<ProxyRecord, 'bootId'>): void {
  mkdirSync(join(proxyDir(port), 'users'), { recursive: true, mode: 0o700 });
  writeJson(join(proxyDir(port), 'proxy.json'), { ...record, bootId: bootId() });
}

/** Forgets the proxy on `port` (it was stopped). */
export function forgetProxy(port: number): void {
  rmSync(join(proxyDir(port), 'proxy.json'), { force: true });
}

/** Adds a run (its run folder's name) to the users of the proxy on `port`. */
export function addProxyUser(port: number, runDir: string, manifest: string, supervisor: ProcessRef): void {
  mkdirSync(join(proxyDir(port), 'users'), { recursive: true, mode: 0o700 });
  const run = basename(runDir);
  writeJson(join(proxyDir(port), 'users', `${run}.json`), { run, manifest, supervisor, since: new Date().toISOString() });
}

/** Removes a run from the users of the proxy on `port`. */
export function removeProxyUser(port: number, runDir: string): void {
  rmSync(join(proxyDir(port), 'users', `${basename(runDir)}.json`), { force: true });
}

/** The runs using the proxy on `port` whose supervisor is alive, oldest first (stale entries are removed). */
export function liveProxyUsers(port: number): ProxyUser[] {
  const dir = join(proxyDir(port), 'users');
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const users: ProxyUser[] = [];
  for (const name of names) {
    const user = readJson(join(dir, name), UserSchema);
    if (user !== undefined && isAlive(user.supervisor)) users.push(user);
    else rmSync(join(dir, name), { force: true });
  }
  return users.sort((a, b) => a.since.localeCompare(b.since) || a.run.localeCompare(b.run));
}
