import type { IncomingMessage } from 'node:http';
import { classifyInboundRequest, type InboundClassificationOutcome } from '@modelcontextprotocol/server';

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

/** True when the SDK's classification sends this POST to the modern path (2026-07-28, or a ladder rejection that path answers). */
export function isModernPost(req: IncomingMessage, body: unknown): boolean {
  return classifyPost(req, body).kind !== 'legacy';
}
