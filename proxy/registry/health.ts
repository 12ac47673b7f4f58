import type { RegistryEmitter, StatusEvent } from './events.js';
import type { InstanceIndex } from './instance-index.js';
import type { InstanceRecord } from './instance-store.js';
import type { InstanceStatus } from '../../src/contract/states.js';
import { instanceStatus, type HealthPolicy } from './status.js';
import type { Entry } from './views.js';

/** The fields every registry event shares. */
export interface EventBase {
  service: string;
  instance: string;
  status: InstanceStatus;
  serviceStatus: InstanceStatus | undefined;
  at: number;
}

/**
 * Keeps stored statuses in step with the clock: status is a function of time, so every read
 * re-derives it and announces any change as a `status` event.
 */
export class HealthTracker {
  constructor(
    private readonly policy: HealthPolicy,
    private readonly index: InstanceIndex,
    private readonly events: RegistryEmitter,
  ) {}

  /** A live entry for a record just registered or loaded: heard from `now`. */
  newEntry(record: InstanceRecord, now: number): Entry {
    const entry: Entry = { record, lastHeartbeat: now, state: record.state ?? 'ready', status: 'starting', inflight: undefined, calls: undefined, restarts: undefined };
    entry.status = instanceStatus(entry, now, this.policy);
    return entry;
  }

  /** Re-derives an entry's status; emits and returns the change, if any. */
  refresh(entry: Entry, now: number, reason: string): StatusEvent | undefined {
    const status = instanceStatus(entry, now, this.policy);
    if (status === entry.status) return undefined;
    const previous = entry.status;
    entry.status = status;
    const event: StatusEvent = { type: 'status', ...this.eventBase(entry, now), previous, reason };
    this.events.emit(event);
    return event;
  }

  /** A service's replicas with statuses brought up to date. */
  replicas(name: string, now: number): Entry[] {
    const replicas = this.index.replicasOf(name);
    for (const entry of replicas) this.refresh(entry, now, 'heartbeat-timeout');
    return replicas;
  }

  /** The shared fields of an event about `entry`. */
  eventBase(entry: Entry, at: number): EventBase {
    const { name, id } = entry.record;
    return { service: name, instance: id, status: entry.status, serviceStatus: this.index.serviceStatusOf(name), at };
  }
}
