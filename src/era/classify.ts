import type { IncomingMessage } from 'node:http';
import { classifyInboundRequest } from '@modelcontextprotocol/server';

/** True when the SDK's classification sends this POST to the modern path (2026-07-28, or a ladder rejection that path answers). */
export function isModernPost(req: IncomingMessage, body: unknown): boolean {
  const h = req.headers;
  return classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: typeof h['mcp-protocol-version'] === 'string' ? h['mcp-protocol-version'] : undefined,
    mcpMethodHeader: typeof h['mcp-method'] === 'string' ? h['mcp-method'] : undefined,
    mcpNameHeader: typeof h['mcp-name'] === 'string' ? h['mcp-name'] : undefined,
    body,
  }).kind !== 'legacy';
}
