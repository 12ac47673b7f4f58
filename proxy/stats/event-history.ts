import type { RegistryEvent } from '../../src/contract/events.js';
import type { RegistryEmitter } from '../registry/events.js';

/** Events kept by default (GET /v1/events/recent). */
export const EVENT_HISTORY_SIZE = 1_000;

/**
 * The registry's last events in a fixed ring (memory only; a proxy restart starts it empty), so a
 * view that opens late (the dashboard, `mesh watch`) can show what happened before it connected.
 */
export class EventHistory {
  private readonly ring: (RegistryEvent | undefined)[];
  private next = 0;

  constructor(
    events: RegistryEmitter,
    readonly size = EVENT_HISTORY_SIZE,
  ) {
    this.ring = new Array<RegistryEvent | undefined>(size).fill(undefined);
    const keep = (event: RegistryEvent) => this.push(event);
    for (const name of ['joined', 'left', 'status', 'tools'] as const) events.on(name, keep);
  }

  /** Adds an event (the oldest is dropped once the ring is full). */
  push(event: RegistryEvent): void {
    this.ring[this.next] = event;
    this.next = (this.next + 1) % this.size;
  }

  /**
   * Newest first, optionally one service's only.
   * @example history.recent({ service: 'fs', limit: 20 })
   */
  recent(query: { service?: string | undefined; limit?: number | undefined } = {}): RegistryEvent[] {
    const limit = query.limit ?? 100;
    const found: RegistryEvent[] = [];
    for (let i = 1; i <= this.size && found.length < limit; i++) {
      const event = this.ring[(this.next - i + this.size) % this.size];
      if (event === undefined) break;
      if (query.service === undefined || event.service === query.service) found.push(event);
    }
    return found;
  }
}
