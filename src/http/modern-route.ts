import type { IncomingMessage } from 'node:http';
import { classifyInboundRequest, PROTOCOL_VERSION_META_KEY, type InboundHttpRequest, type InboundLadderRejection, type InboundModernRoute, type JSONRPCRequest } from '@modelcontextprotocol/server';

/** The SDK's verdict on a POST the 2026-07-28 path answers: served modern, or refused on the modern ladder. */
export type ModernRoute = InboundModernRoute | InboundLadderRejection;

/**
 * The SDK classifier's verdict when it routes a POST to the 2026-07-28 path: classified modern, or
 * refused on the modern ladder (an envelope or header mismatch); undefined for legacy. A body that
 * is no JSON-RPC message at all, or a batch, stays where it goes today (the legacy transport answers it).
 */
export function modernRoute(req: IncomingMessage, parsed: unknown): ModernRoute | undefined {
  if (Array.isArray(parsed)) return undefined;
  const { headers } = req;
  const version = headers['mcp-protocol-version'];
  // The classifier costs ~7 µs; a body with no envelope claim under no modern version header can only be legacy.
  if (!hasEnvelopeClaim(parsed) && (typeof version !== 'string' || legacyVersionHeader(version))) return undefined;
  const key = verdictKey(req, parsed);
  const known = key === undefined ? undefined : verdicts.get(key);
  if (known) return { ...known, message: parsed as JSONRPCRequest };
  const inbound: InboundHttpRequest = {
    httpMethod: req.method ?? 'POST',
    ...(typeof version === 'string' && { protocolVersionHeader: version }),
    ...(typeof headers['mcp-method'] === 'string' && { mcpMethodHeader: headers['mcp-method'] }),
    ...(typeof headers['mcp-name'] === 'string' && { mcpNameHeader: headers['mcp-name'] }),
    body: parsed,
  };
  const outcome = classifyInboundRequest(inbound);
  if (key !== undefined && outcome.kind === 'modern' && outcome.messageKind === 'request') remember(key, outcome);
  if (outcome.kind === 'modern' || (outcome.kind === 'reject' && outcome.rung !== 'jsonrpc-shape')) return outcome;
  return undefined;
}

// The classifier's modern verdicts on plain tools/call requests, by what decides them. Its three
// zod checks (two of them failing, which builds their error objects) cost ~7 µs and their garbage
// on every request, while a client repeats the same envelope and headers on every call.
type RequestRoute = Extract<InboundModernRoute, { messageKind: 'request' }>;
const verdicts = new Map<string, RequestRoute>();
const MAX_VERDICTS = 256;

function remember(key: string, outcome: RequestRoute): void {
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
  verdicts.set(key, outcome);
}

/**
 * What the classifier's verdict on a tools/call request depends on: the request's shape (its four
 * members, the id's kind), its `_meta` (the envelope, checked whole, but for its trace context) and the
 * POST's MCP headers; never the tool's name or arguments (the Mcp-Name check is the endpoints' own). Undefined
 * for anything else, which is classified every time: other methods, a progress token (unique per
 * request), anything not shaped like a plain request.
 */
export function verdictKey(req: IncomingMessage, parsed: unknown): string | undefined {
  const body = parsed as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: { _meta?: unknown } } | null;
  if (typeof body !== 'object' || body === null || body.method !== 'tools/call' || body.jsonrpc !== '2.0') return undefined;
  const idKind = typeof body.id === 'string' ? 's' : Number.isSafeInteger(body.id) ? 'i' : undefined;
  const params = body.params;
  const meta = typeof params === 'object' && params !== null && !Array.isArray(params) ? params._meta : undefined;
  if (idKind === undefined || typeof meta !== 'object' || meta === null || Array.isArray(meta) || 'progressToken' in meta) return undefined;
  let members = 0;
  for (const _ in body) members++;
  if (members !== 4) return undefined;
  const { headers } = req;
  // The trace context differs on every call (the classifier reads it as any loose _meta key): it is no part of the verdict.
  const { traceparent: _parent, tracestate: _state, ...decisive } = meta as Record<string, unknown>;
  return `${req.method ?? ''}\n${idKind}\n${String(headers['mcp-protocol-version'])}\n${String(headers['mcp-method'])}\n${JSON.stringify(decisive)}`;
}

// The per-request envelope's claim: the protocol-version key in params._meta (what the classifier looks for first).
function hasEnvelopeClaim(message: unknown): boolean {
  const meta = (message as { params?: { _meta?: unknown } } | undefined)?.params?._meta;
  return typeof meta === 'object' && meta !== null && PROTOCOL_VERSION_META_KEY in meta;
}

const legacyHeaders = new Map<string, boolean>();

// Whether the SDK routes a claim-less request under this MCP-Protocol-Version header to legacy
// serving, asked once per header value (a client sends the same one on every request).
function legacyVersionHeader(version: string): boolean {
  let legacy = legacyHeaders.get(version);
  if (legacy === undefined) {
    legacy = classifyInboundRequest({ httpMethod: 'POST', protocolVersionHeader: version, body: { jsonrpc: '2.0', id: 0, method: 'ping' } }).kind === 'legacy';
    if (legacyHeaders.size < 64) legacyHeaders.set(version, legacy);
  }
  return legacy;
}
