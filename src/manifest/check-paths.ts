import { stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
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

// What execvp would find: the first executable file named `command` in a PATH folder.
async function onPath(command: string, path: string): Promise<boolean> {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    try {
      await access(join(dir, command), constants.X_OK);
      if ((await kind(join(dir, command))) === 'file') return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/**
 * Checks what `mesh validate` can know before starting anything: every enabled service's cwd is
 * a folder, a command given as a path exists, and a bare command is an executable on PATH (the
 * service's own env PATH if it sets one). Disabled services are not checked.
 * @example for (const p of await checkManifestPaths(manifest)) console.error(`${p.service}.${p.field}: ${p.message}`)
 */
export async function checkManifestPaths(manifest: ResolvedManifest, env: Readonly<Record<string, string | undefined>> = process.env): Promise<PathProblem[]> {
  const problems: PathProblem[] = [];
  for (const [service, config] of Object.entries(manifest.services)) {
    if (!config.enabled) continue;
    if ((await kind(config.cwd)) !== 'dir') problems.push({ service, field: 'cwd', path: config.cwd, message: `no such folder: ${config.cwd}` });
    if (isAbsolute(config.command) && (await kind(config.command)) !== 'file') {
      problems.push({ service, field: 'command', path: config.command, message: `no such program: ${config.command}` });
    } else if (!config.command.includes('/') && !(await onPath(config.command, config.env.PATH ?? env.PATH ?? ''))) {
      problems.push({ service, field: 'command', path: config.command, message: `command not found on PATH: ${config.command}` });
    }
  }
  return problems;
}
