import type { Logger } from '../../src/log.js';
import type { JoinedEvent, LeftEvent, RegistryEvent, StatusEvent, ToolsEvent } from '../../src/contract/events.js';

// The events are sent on GET /v1/events as they are: their shapes are the wire contract's.
export type { JoinedEvent, LeftEvent, LeftReason, RegistryEvent, StatusEvent, ToolsEvent } from '../../src/contract/events.js';

/** Every registry event by name; each payload carries its `type` so it can be sent as SSE as is. */
export interface RegistryEvents {
  joined: JoinedEvent;
  left: LeftEvent;
  status: StatusEvent;
  tools: ToolsEvent;
}

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
