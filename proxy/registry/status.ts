import type { ChildState, InstanceStatus } from '../../src/contract/states.js';

/**
 * The thresholds that turn heartbeat ages into a status. Failing calls are the router's circuit
 * breakers' business (proxy/router/outlier-detector.ts), not a status.
 */
export interface HealthPolicy {
  heartbeatIntervalMs: number;
  unhealthyAfterMisses: number;
  removeAfterMs: number;
}

/** What the registry knows, in memory, about an instance's liveness. */
export interface Liveness {
  lastHeartbeat: number;
  state: ChildState;
}

// Pure, so health transitions are tested with a number instead of a clock.
/**
 * An instance's status at `now`: a stale heartbeat makes it unhealthy whatever the child does;
 * otherwise the child's state decides.
 * @example instanceStatus({ lastHeartbeat: 0, state: 'ready' }, 100_000, policy) // 'unhealthy'
 */
export function instanceStatus(live: Liveness, now: number, policy: HealthPolicy): InstanceStatus {
  if (!isLive(live, now, policy)) return 'unhealthy';
  switch (live.state) {
    case 'starting':
      return 'starting';
    case 'restarting':
      return 'restarting';
    case 'crashloop':
      return 'crashloop';
    case 'ready':
      return 'healthy';
  }
}

/** True while an instance beats in time (it still owns its id and url against other services). */
export function isLive(live: Liveness, now: number, policy: HealthPolicy): boolean {
  return now - live.lastHeartbeat < policy.heartbeatIntervalMs * policy.unhealthyAfterMisses;
}

/** True once an instance has been silent long enough to be removed. */
export function isExpired(live: Liveness, now: number, policy: HealthPolicy): boolean {
  return now - live.lastHeartbeat >= policy.removeAfterMs;
}

const preference: readonly InstanceStatus[] = ['healthy', 'starting', 'restarting', 'unhealthy', 'crashloop'];

// A service is as good as its best replica: one healthy replica makes it routable.
/**
 * A service's status from its replicas' statuses.
 * @example serviceStatus(['unhealthy', 'healthy']) // 'healthy'
 */
export function serviceStatus(statuses: Iterable<InstanceStatus>): InstanceStatus {
  let best = preference.length - 1;
  for (const status of statuses) best = Math.min(best, preference.indexOf(status));
  return preference[best] ?? 'crashloop';
}
