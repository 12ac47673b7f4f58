import { realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { scripts } from './paths.js';

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * How to type this CLI so a printed hint works as printed: `mesh` when the `mesh` found first on
 * PATH is this very CLI (a global install, or node_modules/.bin of a project depending on it), else
 * `npx mesh` (inside this package, where npm links no bin of the package itself: `npm start`).
 * @example `${meshInvocation()} ls` // 'npx mesh ls'
 */
export function meshInvocation(path = process.env.PATH ?? '', self = scripts.mesh): string {
  const first = path
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => realpath(join(dir, 'mesh')))
    .find((found) => found !== undefined);
  return first !== undefined && first === realpath(self) ? 'mesh' : 'npx mesh';
}
