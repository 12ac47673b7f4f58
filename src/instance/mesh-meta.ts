// The proxy puts `_meta["mesh/caller"]`, `["mesh/hops"]` and `["mesh/deadlineMs"]` on every call it
// routes; these read them back, on a native instance and on the proxy's own endpoint alike.

/** Reads the deadline (ms) the proxy gave this call in `_meta['mesh/deadlineMs']` (undefined when absent or not positive). */
export function deadlineOf(meta: Record<string, unknown> | undefined): number | undefined {
  const deadline = meta?.['mesh/deadlineMs'];
  return typeof deadline === 'number' && Number.isFinite(deadline) && deadline > 0 ? deadline : undefined;
}

/** Reads the hop count the proxy forwarded in `_meta['mesh/hops']` (0 when absent or not a count). */
export function hopsOf(meta: unknown): number {
  const hops = (meta as Record<string, unknown> | undefined)?.['mesh/hops'];
  return typeof hops === 'number' && Number.isInteger(hops) && hops >= 0 ? hops : 0;
}
