import type { IncomingMessage } from 'node:http';
import { classifyInboundRequest, PROTOCOL_VERSION_META_KEY, SUPPORTED_PROTOCOL_VERSIONS, type InboundClassificationOutcome } from '@modelcontextprotocol/server';

/** Each POST is classified once: the front door's decision is what the modern endpoint serves by. */
const outcomes = new WeakMap<IncomingMessage, InboundClassificationOutcome>();

/** The SDK's era classification of one POST (body already parsed), computed once per request. */
export function classifyPost(req: IncomingMessage, body: unknown): InboundClassificationOutcome {
  let outcome = outcomes.get(req);
  if (outcome === undefined) {
    const h = req.headers;
    outcome = classifyInboundRequest({
      httpMethod: 'POST',
      protocolVersionHeader: typeof h['mcp-protocol-version'] === 'string' ? h['mcp-protocol-version'] : undefined,
      mcpMethodHeader: typeof h['mcp-method'] === 'string' ? h['mcp-method'] : undefined,
      mcpNameHeader: typeof h['mcp-name'] === 'string' ? h['mcp-name'] : undefined,
      body,
    });
    outcomes.set(req, outcome);
  }
  return outcome;
}

/**
 * True when the SDK's classification sends this POST to the modern path (2026-07-28, or a ladder
 * rejection that path answers). The classifier (its zod guards walk the whole body) runs only for a
 * POST that claims the per-request envelope or names a revision other than a legacy one: the SDK
 * routes every other well-formed POST to legacy serving, and a malformed one keeps the legacy
 * transport's own answer, as before. That keeps the legacy hot path free of it.
 */
export function isModernPost(req: IncomingMessage, body: unknown): boolean {
  const version = req.headers['mcp-protocol-version'];
  const legacyHeader = version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version));
  if (legacyHeader && !claimsEnvelope(body)) return false;
  return classifyPost(req, body).kind !== 'legacy';
}

// The SDK's envelope claim: the protocol-version key in a message's params._meta (any message of a batch).
function claimsEnvelope(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(claimsEnvelope);
  const params = (body as { params?: { _meta?: unknown } } | null)?.params;
  const meta = typeof params === 'object' && params !== null ? params._meta : undefined;
  return typeof meta === 'object' && meta !== null && PROTOCOL_VERSION_META_KEY in meta;
}

/** True for a modern `subscriptions/listen`: its response is a stream that stays open until the client or the server ends it. */
export function isListenPost(req: IncomingMessage, body: unknown): boolean {
  const outcome = classifyPost(req, body);
  return outcome.kind === 'modern' && outcome.message.method === 'subscriptions/listen';
}
