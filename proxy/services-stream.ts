import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MeshCore } from './core.js';
import type { ServiceFilter } from './registry/index.js';

/** Services per slice of a large GET /v1/services answer (and the size under which it is built at once). */
export const SERVICES_PAGE = 200;

// At 10,000 instances GET /v1/services is a 6 MB answer that took ~150 ms of one event-loop turn:
// every heartbeat, registration and routed call arriving meanwhile waited behind it. Built and sent
// a slice of services at a time, with a turn of the event loop between slices, it delays them by
// one slice at most. Each slice reads the registry as it is then (a service that leaves meanwhile
// is not listed; one that joins after its slice is listed by the next request).
/**
 * The `{"services":[…]}` answer of GET /v1/services as a stream of slices, same shape as `c.json`.
 * @example return c.body(servicesStream(core, core.registry.serviceNames(), filter), 200, { 'content-type': 'application/json' })
 */
export function servicesStream(core: MeshCore, names: readonly string[], filter: ServiceFilter): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let at = 0;
  let first = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode('{"services":['));
    },
    // Each pull enqueues something (a stream whose pull enqueues nothing is not pulled again):
    // slices the filter empties are skipped within the same pull, a turn apart.
    async pull(controller) {
      for (;;) {
        if (at > 0) await nextTurn();
        const page = names.slice(at, at + SERVICES_PAGE);
        at += SERVICES_PAGE;
        const services = core.services({ ...filter, names: page });
        const last = at >= names.length;
        const json = services.length === 0 ? '' : `${first ? '' : ','}${JSON.stringify(services).slice(1, -1)}`;
        if (json !== '') first = false;
        if (json !== '' || last) controller.enqueue(encoder.encode(last ? `${json}]}` : json));
        if (last) controller.close();
        if (json !== '' || last) return;
      }
    },
  });
}
