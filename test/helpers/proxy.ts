import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { freePort, pollJson, spawnNode, waitFor, type Spawned } from './processes.js';

export interface RunningProxy extends Spawned {
  port: number;
  base: string;
  registryFile: string;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: any }>;
}

/** A temporary folder for one test's registry files, removed at teardown. */
export function tempDir(t: Test, prefix = 'mm-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts a real mesh-proxy on a free port and waits for /healthz (with `token`, for its 401: the
 * probe carries no token). `api()` sends no token unless its headers do.
 */
export async function startProxy(t: Test, options: { registryFile?: string; port?: number; extra?: string[]; token?: string } = {}): Promise<RunningProxy> {
  const port = options.port ?? (await freePort());
  const registryFile = options.registryFile ?? join(tempDir(t), 'registry.sqlite');
  const token = options.token === undefined ? [] : ['--token', options.token];
  const spawned = spawnNode('proxy/cli.js', ['--port', String(port), '--mcp-port', '0', '--registry', registryFile, ...token, ...(options.extra ?? [])]);
  t.teardown(() => spawned.stop());
  const base = `http://127.0.0.1:${port}`;
  try {
    if (options.token === undefined) await pollJson(`${base}/healthz`, (status) => status === 200);
    else await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 401, 'the proxy answers (401 without its token)', 20_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nproxy stderr:\n${spawned.stderr()}`, { cause: error });
  }
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) } });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: response.status, body };
  };
  return { ...spawned, port, base, registryFile, api };
}
