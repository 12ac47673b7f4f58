import type { HostedService, HostedStatus } from '../../host/host-spec.js';
import { refOf, stopGroup } from '../process-refs.js';
import type { ProcessRef } from '../run-state.js';
import type { Tracked } from './instance-status.js';
import type { LoggedProcess } from './spawn-logged.js';

/** The key of an instance in the sidecar host: its service, `.N` for replica N > 0 (as its log file). */
export function hostKey(tracked: Tracked): string {
  return tracked.launch.replica === 0 ? tracked.launch.service : `${tracked.launch.service}.${tracked.launch.replica}`;
}

/** What the host is given for one instance: its key, its own log file, its sidecar's options. */
export function hostedService(tracked: Tracked): HostedService {
  if (tracked.launch.hosted === undefined) throw new Error(`${hostKey(tracked)} is not a hosted sidecar`);
  return { key: hostKey(tracked), log: tracked.state.log, sidecar: tracked.launch.hosted };
}

/** A (new) host process runs every hosted instance: they are starting in it. */
export function onHostSpawn(tracked: readonly Tracked[], proc: LoggedProcess, ref: ProcessRef, inHost: (key: string) => boolean): void {
  for (const t of tracked) {
    // Not one not started (a missing path) nor one stopped meanwhile.
    if (t.launch.hosted === undefined || !inHost(hostKey(t))) continue;
    t.proc = proc;
    t.state.process = ref;
    t.startedAt = Date.now();
    t.exited = undefined;
    delete t.state.url;
    delete t.state.port;
    if (t.state.status !== 'failed') t.state.status = 'starting';
  }
}

/**
 * The host died: each of its instances is shown failed until the host is back, and the groups of
 * their children (which a SIGKILLed host could not stop) are stopped now, so none is left orphaned.
 * Each instance then prefers the port it had (`prefer`): its registration, which the proxy keeps
 * until its heartbeat times out, is taken over by the new host's sidecar on the same URL, never
 * claimed by another service (one URL serves one service).
 */
export async function onHostExit(tracked: readonly Tracked[], description: string, delayMs: number, prefer: (key: string, port: number) => void): Promise<void> {
  const children: ProcessRef[] = [];
  for (const t of tracked) {
    if (t.launch.hosted === undefined || t.proc === undefined) continue;
    t.proc = undefined;
    t.state.restarts++;
    t.state.status = 'failed';
    t.state.reason = `the sidecar host ${description} (restarting it in ${Math.round(delayMs / 1000)} s)`;
    if (t.state.port !== undefined) prefer(hostKey(t), t.state.port);
    if (t.state.child !== undefined) children.push(t.state.child);
    delete t.state.child;
  }
  await Promise.all(children.map((child) => stopGroup(child, 2_000)));
}

/** Records what the host says of each instance: its URL (how the proxy's listing is matched) and its child. */
export function applyHostStatus(tracked: readonly Tracked[], statuses: readonly HostedStatus[] | undefined): void {
  if (statuses === undefined) return;
  const byKey = new Map(statuses.map((s) => [s.key, s]));
  for (const t of tracked) {
    if (t.launch.hosted === undefined || t.proc === undefined) continue;
    const status = byKey.get(hostKey(t));
    if (status?.url !== undefined) Object.assign(t.state, { url: status.url, port: status.port });
    if (status?.childPid !== undefined && status.childPid !== t.state.child?.pid) t.state.child = refOf(status.childPid);
  }
}
