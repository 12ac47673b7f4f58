import type { StoreHealth } from './store/store-types.js';
import type { LeftEvent, StatusEvent } from './events.js';
import type { InstanceStatus } from '../../src/contract/states.js';
import type { InstanceView } from './views.js';

/** The outcome of `register()`. */
export interface RegisterResult {
  instance: InstanceView;
  /** False when the id was already registered (the call updated it). */
  created: boolean;
  /** The instance's lease, for its registrant only: its heartbeats and deregistration carry it. */
  lease: string;
}

/** What one `sweep()` changed. */
export interface SweepResult {
  changed: StatusEvent[];
  removed: LeftEvent[];
}

/** Filters for `services()`. */
export interface ServiceFilter {
  status?: InstanceStatus | undefined;
  tag?: string | undefined;
  /** Only these names (a page of serviceNames(), for answers built a slice at a time). */
  names?: readonly string[] | undefined;
}

/** Sizes and write counters, for /metrics and the registry-scale benchmark. */
export interface RegistryStats {
  instances: number;
  services: number;
  healthyInstances: number;
  fileWrites: number;
  fileBytes: number;
  lastWriteAt: number | undefined;
  writeErrors: number;
  /** True while a change waits for the next coalesced write (what a kill -9 now would lose). */
  writePending: boolean;
  auditRows: number;
  auditPending: number;
  /** Silent instances this proxy evicted (on PostgreSQL, one proxy evicts each: the winner of its conditional delete). */
  evictions: number;
  /** The store's kind, location (password redacted) and state. */
  store: StoreHealth;
}
