import { existsSync } from 'node:fs';
import { CliError } from './errors.js';
import { runDirFor } from './paths.js';
import { bootId, isAlive } from './process-refs.js';
import { listRuns, readRunState, type RunState } from './run-state.js';

/** True while the `mesh up` that owns this state is alive (same boot, same process). */
export function isRunActive(state: RunState): boolean {
  return state.bootId === bootId() && ['starting', 'running', 'stopping'].includes(state.phase) && isAlive(state.supervisor);
}

/** The manifest given positionally or with -f (the same one if both), else undefined. */
export function givenManifest(positional: string | undefined, flag: string | undefined, command: string): string | undefined {
  if (positional !== undefined && flag !== undefined && positional !== flag) throw new CliError(`give the manifest once: \`mesh ${command} FILE\` or \`mesh ${command} -f FILE\``);
  return positional ?? flag;
}

/** The manifest given positionally or with -f, else ./mesh.yaml when it exists. */
export function manifestArgument(positional: string | undefined, flag: string | undefined, command: string): string {
  const file = givenManifest(positional, flag, command);
  if (file !== undefined) return file;
  if (existsSync('mesh.yaml')) return 'mesh.yaml';
  throw new CliError(`mesh ${command} needs a manifest: \`mesh ${command} configs/mesh.yaml\` (or -f FILE; ./mesh.yaml is used when it exists)`);
}

/**
 * The run a command is about: the manifest's when one is given, else the only active run (or,
 * for `logs`, the newest run that has the service).
 */
export function findRun(file: string | undefined, service?: string): { dir: string; state: RunState } {
  if (file !== undefined) {
    const dir = runDirFor(file);
    const state = readRunState(dir);
    if (state === undefined) throw new CliError(`no \`mesh up\` run of ${file} is recorded (looked in ${dir})`, 1);
    return { dir, state };
  }
  const runs = listRuns().filter((run) => service === undefined || run.state.services[service] !== undefined);
  const active = runs.filter((run) => isRunActive(run.state));
  const pool = active.length > 0 ? active : service !== undefined ? runs : [];
  if (pool.length === 0) {
    throw new CliError(
      service === undefined ? 'no mesh is running (started by `mesh up`); give the manifest with -f FILE' : `no \`mesh up\` run has a service "${service}"; give the manifest with -f FILE`,
      1,
    );
  }
  if (service === undefined && pool.length > 1) {
    throw new CliError(`${pool.length} meshes are running (${pool.map((r) => r.state.manifest).join(', ')}); say which with -f FILE`);
  }
  return pool.sort((a, b) => b.state.startedAt.localeCompare(a.state.startedAt))[0]!;
}

/**
 * Services of `names` that another active run on the same proxy already runs (each with that
 * run's manifest): the same name from two manifests would silently become replicas of one service.
 * @example serviceClashes(runDir, 'http://127.0.0.1:6001', ['fs', 'memory'])
 */
export function serviceClashes(runDir: string, proxyUrl: string, names: readonly string[]): { service: string; manifest: string }[] {
  const others = listRuns().filter((run) => run.dir !== runDir && run.state.proxy.url === proxyUrl && isRunActive(run.state));
  return names.flatMap((service) => {
    const other = others.find((run) => run.state.services[service] !== undefined);
    return other === undefined ? [] : [{ service, manifest: other.state.manifest }];
  });
}

/** The refusal of a clash, naming the other manifests and the ways out. */
export function clashMessage(file: string, clashes: readonly { service: string; manifest: string }[]): string {
  const list = clashes.map((c) => `"${c.service}" (already run by the mesh of ${c.manifest})`).join(', ');
  return `${file}: service${clashes.length === 1 ? '' : 's'} ${list} on the same proxy; rename or disable ${clashes.length === 1 ? 'it' : 'them'} here, or pass --share to run both as replicas of one service`;
}
