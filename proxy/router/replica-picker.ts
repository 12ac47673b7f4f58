import type { Tool } from '@modelcontextprotocol/client';
import { MeshError } from '../../src/errors.js';
import type { OutlierDetector } from './outlier-detector.js';

export interface RoutableInstance {
  id: string;
  url: string;
  status: string;
  /** The registered tool-list hash; part of the key under which the instance's listings are cached. */
  toolsHash?: string;
}

/** What the router needs from the registry. */
export interface RouteTable {
  /** Every instance of a service, whatever its status; empty when the service is unknown. */
  instancesOf(name: string): RoutableInstance[];
  toolsOf(name: string): Tool[];
  serviceNames(): string[];
}

/**
 * Chooses the replica a request goes to: healthy by its heartbeats, not ejected by its circuit
 * breaker, then the fewest requests in flight (round-robin among equals).
 */
export class ReplicaPicker {
  private turn = 0;

  constructor(
    private readonly table: RouteTable,
    private readonly outliers: OutlierDetector,
    private readonly inflight: (instanceId: string) => number,
  ) {}

  /**
   * The replicas a request may go to: the healthy ones, less those their breakers eject (never all of them).
   * @throws MeshError SERVICE_NOT_FOUND naming the known services, SERVICE_UNAVAILABLE naming each replica's status
   */
  routable(service: string): RoutableInstance[] {
    const all = this.table.instancesOf(service);
    if (all.length === 0) {
      const known = this.table.serviceNames();
      throw new MeshError('SERVICE_NOT_FOUND', `unknown service "${service}"; known services: ${known.length ? known.join(', ') : '(none registered)'}`, {
        context: { service },
      });
    }
    const healthy = all.filter((i) => i.status === 'healthy');
    if (healthy.length === 0) {
      const states = all.map((i) => `${i.id} ${i.status}`).join(', ');
      throw new MeshError('SERVICE_UNAVAILABLE', `service "${service}" has no healthy instance (${states})`, { context: { service } });
    }
    return this.outliers.routable(service, healthy);
  }

  /** A replica for a first try: there always is one when routable() does not throw. */
  first(service: string): RoutableInstance {
    return this.pick(service) as RoutableInstance;
  }

  /** A replica other than those `tried`, or undefined when none is left. */
  pick(service: string, tried?: ReadonlySet<string>): RoutableInstance | undefined {
    const routable = this.routable(service);
    const candidates = tried ? routable.filter((i) => !tried.has(i.id)) : routable;
    if (candidates.length === 0) return undefined;
    this.turn = (this.turn + 1) % 1_000_000;
    let best = candidates[this.turn % candidates.length] as RoutableInstance;
    for (const candidate of candidates) if (this.inflight(candidate.id) < this.inflight(best.id)) best = candidate;
    return best;
  }
}
