import type { Logger } from '../../src/log.js';
import type { InstanceStatus } from './schemas.js';

interface EventBase {
  service: string;
  instance: string;
  /** The instance's status after the change (its last status for `left`). */
  status: InstanceStatus;
  /** The service's status after the change; undefined when its last instance left. */
  serviceStatus: InstanceStatus | undefined;
  at: number;
}

/** A new instance registered (or an instance re-registered under another name). */
export interface JoinedEvent extends EventBase {
  type: 'joined';
  url: string;
}

/** Why an instance left the registry. */
export type LeftReason = 'deregistered' | 'expired' | 'replaced' | 'renamed';

/** An instance was removed. */
export interface LeftEvent extends EventBase {
  type: 'left';
  reason: LeftReason;
  /** The operator (MCP client) that removed it with deregister_service, when one did. */
  by?: string;
}

/** An instance's status changed. */
export interface StatusEvent extends EventBase {
  type: 'status';
  previous: InstanceStatus;
  /** What caused the change: heartbeat, heartbeat-timeout, child-state, register… */
  reason: string;
}

/** An instance's tool list changed (new tools hash on re-registration). */
export interface ToolsEvent extends EventBase {
  type: 'tools';
  toolsHash: string;
  previousHash: string;
  toolCount: number;
}

/** Every registry event by name; each payload carries its `type` so it can be sent as SSE as is. */
export interface RegistryEvents {
  joined: JoinedEvent;
  left: LeftEvent;
  status: StatusEvent;
  tools: ToolsEvent;
}

/** Any registry event. */
export type RegistryEvent = RegistryEvents[keyof RegistryEvents];

type Listener<K extends keyof RegistryEvents> = (event: RegistryEvents[K]) => void;

/**
 * A typed listener set. A throwing listener is logged and never breaks the registry operation
 * that emitted the event, nor the other listeners.
 */
export class RegistryEmitter {
  private readonly listeners = new Map<keyof RegistryEvents, Set<Listener<never>>>();

  constructor(private readonly logger: Logger) {}

  /**
   * Subscribes to one event; returns the unsubscribe function.
   * @example const off = emitter.on('left', (e) => console.log(e.instance, e.reason))
   */
  on<K extends keyof RegistryEvents>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => this.off(name, listener);
  }

  /** Removes a listener added with `on`. */
  off<K extends keyof RegistryEvents>(name: K, listener: Listener<K>): void {
    this.listeners.get(name)?.delete(listener);
  }

  /** Delivers an event to its listeners, in subscription order. */
  emit(event: RegistryEvent): void {
    const set = this.listeners.get(event.type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (e: RegistryEvent) => void)(event);
      } catch (error) {
        this.logger.error(`registry '${event.type}' listener threw: ${String(error)}`);
      }
    }
  }
}
