import { refOf } from '../process-refs.js';
import type { InstanceState, ServiceState } from '../run-state.js';
import { classify, serviceVerdict, type ListedInstance, type Verdict } from './classify.js';
import { sidecarHealth } from './observe.js';
import type { Launch } from './plan.js';
import type { LoggedProcess } from './spawn-logged.js';

/** One process a run started, with what it knows about it. */
export interface Tracked {
  launch: Launch;
  state: InstanceState;
  proc: LoggedProcess | undefined;
  startedAt: number;
  exited: { description: string; logTail: string } | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  backoffMs: number;
}

/**
 * Updates an instance's status from the proxy's listing and (for a sidecar) its own /healthz.
 * @example await observeInstance(tracked, await listInstances(proxyUrl), 60_000)
 */
export async function observeInstance(tracked: Tracked, listed: Map<string, ListedInstance[]> | undefined, startTimeoutMs: number): Promise<void> {
  const { launch, state } = tracked;
  if (tracked.proc === undefined || state.process === undefined) return;
  const pid = state.process.pid;
  const candidates = listed?.get(launch.service) ?? [];
  // Hosted instances share the host's pid: they are told apart by the URL the host reports.
  const mine = (i: ListedInstance) => (launch.hosted === undefined ? i.pid === pid : state.url !== undefined && i.url === state.url);
  const instance = candidates.find(mine) ?? (launch.kind === 'native' && launch.replica === 0 && candidates.length === 1 ? candidates[0] : undefined);
  const health = instance !== undefined && launch.kind === 'sidecar' ? await sidecarHealth(instance.url) : undefined;
  if (instance !== undefined) Object.assign(state, { port: instance.port, url: instance.url });
  if (health?.pid !== undefined && health.pid !== state.child?.pid) state.child = refOf(health.pid);
  const verdict = classify({ listed: instance, health, elapsedMs: Date.now() - tracked.startedAt, timeoutMs: startTimeoutMs });
  // After a restart, keep showing the failure until the new process is healthy.
  if (verdict.status === 'starting' && state.restarts > 0 && state.status === 'failed') return;
  applyVerdict(tracked, verdict);
}

/** Records a verdict on an instance; a healthy one resets its restart backoff. */
export function applyVerdict(tracked: Tracked, verdict: Verdict): void {
  const { state } = tracked;
  state.status = verdict.status;
  if (verdict.reason === undefined) delete state.reason;
  else state.reason = verdict.reason;
  if (verdict.tools !== undefined) state.tools = verdict.tools;
  if (verdict.status === 'healthy') tracked.backoffMs = 1_000;
}

/** The services of a run, in launch order, each with its instances and overall verdict. */
export function servicesOf(tracked: readonly Tracked[]): Record<string, ServiceState> {
  const services: Record<string, ServiceState> = {};
  for (const t of tracked) {
    const name = t.launch.service;
    services[name] ??= { kind: t.launch.kind, status: 'pending', instances: [] };
    services[name].instances.push(t.state);
  }
  for (const service of Object.values(services)) {
    const verdict = serviceVerdict(service.instances.map((i) => ({ status: i.status, ...(i.reason === undefined ? {} : { reason: i.reason }), ...(i.tools === undefined ? {} : { tools: i.tools }) })));
    service.status = verdict.status;
    if (verdict.reason !== undefined) service.reason = verdict.reason;
    if (verdict.tools !== undefined) service.tools = verdict.tools;
  }
  return services;
}
