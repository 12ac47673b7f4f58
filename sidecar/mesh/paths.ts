import { createHash } from 'node:crypto';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { meshHome } from '../../src/mesh-home.js';

/** The folder holding every `mesh up` run's state and logs. */
export function runsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(meshHome(env), 'runs');
}

// One folder per manifest: readable name plus a hash of the absolute path (two demo.yaml files never share one).
/**
 * The run folder of a manifest: `$MESH_HOME/runs/<name>-<hash>`.
 * @example runDirFor('configs/demo.yaml') // '/home/me/.mesh/runs/demo-3f2a9c1b'
 */
export function runDirFor(manifestFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const absolute = resolve(manifestFile);
  const name =
    basename(absolute, extname(absolute))
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .slice(0, 40) || 'manifest';
  const hash = createHash('sha256').update(absolute).digest('hex').slice(0, 8);
  return join(runsDir(env), `${name}-${hash}`);
}

/**
 * The log file of one process of a run (`proxy`, `up`, a service or `service.N`); without a name, the logs folder.
 * @example runLog(runDir, 'proxy') // '<runDir>/logs/proxy.log'
 */
export function runLog(runDir: string, name?: string): string {
  return name === undefined ? join(runDir, 'logs') : join(runDir, 'logs', `${name}.log`);
}

// dist/sidecar/mesh/paths.js → dist/sidecar/cli.js, dist/proxy/cli.js, dist/sidecar/mesh/cli.js.
/** The compiled CLIs `mesh up` starts. */
export const scripts = {
  sidecar: fileURLToPath(new URL('../cli.js', import.meta.url)),
  host: fileURLToPath(new URL('../host.js', import.meta.url)),
  proxy: fileURLToPath(new URL('../../proxy/cli.js', import.meta.url)),
  mesh: fileURLToPath(new URL('./cli.js', import.meta.url)),
};
