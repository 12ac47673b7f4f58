import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Test } from 'tap';
import { pidAlive } from '../../src/stdio/process-group.js';
import { dist } from './processes.js';

export { pidAlive };

/**
 * Writes `DIR/mesh.yaml`: a proxy on `proxyPort` (no second MCP port, registry in DIR) and the
 * given `services:` body (YAML indented by two spaces); returns its path.
 */
export function writeManifest(dir: string, proxyPort: number, services: string): string {
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, `version: 1\nproxy: { port: ${proxyPort}, mcpPort: 0, registry: ./registry.sqlite }\nservices:\n${services}`);
  return file;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mesh ARGS` (dist/sidecar/mesh/cli.js) to its end; piped, so output is plain text. */
export async function runMesh(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [dist('sidecar/mesh/cli.js'), ...args], {
    // MESH_PROXY_URL of the machine must not leak into the proxy lookup under test.
    env: { MESH_PROXY_URL: '', NO_COLOR: '1', ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    reject: false,
    stdin: 'ignore',
    timeout: options.timeoutMs ?? 120_000,
    killSignal: 'SIGKILL',
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Live (non-zombie) processes other than this one whose command line or environment contains `marker`. */
export function processesNaming(marker: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (!pidAlive(Number(entry))) continue;
    const cmdline = read(`/proc/${entry}/cmdline`);
    if (cmdline.includes(marker) || read(`/proc/${entry}/environ`).includes(marker)) found.push({ pid: Number(entry), command: cmdline.split('\0').join(' ').trim() });
  }
  return found;
}

/**
 * When the test ends, whatever it started under `dir` is gone: `mesh down` of each manifest (the
 * list is read then, so a test may add to it), then a SIGKILL to anything still naming the folder.
 */
export function tearDownMeshes(t: Test, dir: string, env: Record<string, string>, files: string[] | (() => string[])): void {
  t.teardown(async () => {
    for (const file of typeof files === 'function' ? files() : files) await runMesh(['down', file], { env, timeoutMs: 60_000 });
    for (const p of processesNaming(dir)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  });
}
