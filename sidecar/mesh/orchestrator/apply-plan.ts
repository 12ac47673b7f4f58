import { isDeepStrictEqual } from 'node:util';
import type { Launch } from './plan.js';

/** What applying a changed manifest does to one service. */
export type ServiceChange = 'started' | 'stopped' | 'restarted' | 'unchanged';

function byService(launches: readonly Launch[]): Map<string, Launch[]> {
  const grouped = new Map<string, Launch[]>();
  for (const launch of launches) grouped.set(launch.service, [...(grouped.get(launch.service) ?? []), launch]);
  return grouped;
}

// A service is changed when any of its processes would start differently (command, args, cwd, env,
// kind, port, the replica count): what `docker compose up` compares, at the level of what we spawn.
/**
 * The change per service between the processes running and those a new manifest asks for, in the
 * new manifest's order, then the removed services.
 * @example diffLaunches(running, planLaunches(next, options)) // { a: 'stopped', b: 'restarted', c: 'started' }
 */
export function diffLaunches(current: readonly Launch[], next: readonly Launch[]): Map<string, ServiceChange> {
  const before = byService(current);
  const after = byService(next);
  const changes = new Map<string, ServiceChange>();
  for (const [name, launches] of after) {
    const old = before.get(name);
    changes.set(name, old === undefined ? 'started' : isDeepStrictEqual(old, launches) ? 'unchanged' : 'restarted');
  }
  for (const name of before.keys()) if (!after.has(name)) changes.set(name, 'stopped');
  return changes;
}
