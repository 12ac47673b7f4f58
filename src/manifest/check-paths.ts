import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { ResolvedManifest } from './resolve-paths.js';

/** A path of an enabled service that `mesh up` would fail on. */
export interface PathProblem {
  service: string;
  field: 'cwd' | 'command';
  path: string;
  message: string;
}

async function kind(path: string): Promise<'dir' | 'file' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

/**
 * Checks what `mesh validate` can know before starting anything: every enabled service's cwd is
 * a folder and a command given as a path exists. Disabled services are not checked.
 * @example for (const p of await checkManifestPaths(manifest)) console.error(`${p.service}.${p.field}: ${p.message}`)
 */
export async function checkManifestPaths(manifest: ResolvedManifest): Promise<PathProblem[]> {
  const problems: PathProblem[] = [];
  for (const [service, config] of Object.entries(manifest.services)) {
    if (!config.enabled) continue;
    if ((await kind(config.cwd)) !== 'dir') problems.push({ service, field: 'cwd', path: config.cwd, message: `no such folder: ${config.cwd}` });
    if (isAbsolute(config.command) && (await kind(config.command)) !== 'file') {
      problems.push({ service, field: 'command', path: config.command, message: `no such program: ${config.command}` });
    }
  }
  return problems;
}
