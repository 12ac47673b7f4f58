import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where MM keeps its state (the proxy's registry, `mesh up` runs): `MESH_HOME`, else `~/.mesh`;
 * an empty MESH_HOME counts as unset.
 * @example join(meshHome(), 'registry.sqlite')
 */
export function meshHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MESH_HOME !== undefined && env.MESH_HOME !== '' ? resolve(env.MESH_HOME) : join(homedir(), '.mesh');
}
