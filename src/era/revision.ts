import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';

/** The 2026-07-28 revision: what MM speaks statelessly (to children, instances and clients). */
export const MODERN_REVISION = '2026-07-28';

/**
 * The modern revisions served here. The SDK serves exactly these on its modern path but does not
 * export its list, so the lean path (which must never claim a revision the SDK would refuse) names it.
 */
export const MODERN_REVISIONS: readonly string[] = [MODERN_REVISION];

/** The per-request envelope keys the SDK lifts out of `_meta` before a handler runs; a legacy child never sees them. */
const ENVELOPE_KEYS = [PROTOCOL_VERSION_META_KEY, CLIENT_INFO_META_KEY, CLIENT_CAPABILITIES_META_KEY, LOG_LEVEL_META_KEY];

/** `params` without the envelope keys (and without `_meta` when nothing else was in it), as the lean path forwards them. */
export function withoutEnvelope(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta as Record<string, unknown> | undefined;
  if (meta === undefined) return params;
  const rest: Record<string, unknown> = {};
  let kept = false;
  for (const key in meta) {
    if (ENVELOPE_KEYS.includes(key)) continue;
    rest[key] = meta[key];
    kept = true;
  }
  const { _meta: _dropped, ...others } = params;
  return kept ? { ...others, _meta: rest } : others;
}
