import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestListener } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { httpStatusFor, jsonRpcCodeFor, toMeshError } from '../src/errors.js';
import type { HostGuard } from '../src/http/host-guard.js';
import { isHotRequest } from '../src/http/hot-path.js';
import { readBody } from '../src/http/read-body.js';

/** What the hot path needs from the MCP endpoint. */
export interface HotEndpoint {
  hasSession(id: string): boolean;
  /** Runs tools/call as the SDK handler would, tool errors as results; throws protocol errors. */
  callToolForSession(sessionId: string, name: string, args: Record<string, unknown>): Promise<CallToolResult>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The proxy's lean path for `tools/call` on an established MCP session: straight to the router,
 * answered as plain JSON, without the SDK server transport's per-request cost. Everything else
 * (and any request this path is unsure of) goes to `fallback`, the Hono app with the SDK transport.
 */
export function createProxyFrontHandler(endpoint: HotEndpoint, guard: HostGuard, fallback: RequestListener, maxBodyBytes: number): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const sessionId = req.headers['mcp-session-id'];
    if (req.method !== 'POST' || req.url !== '/mcp' || typeof sessionId !== 'string' || !endpoint.hasSession(sessionId)) {
      fallback(req, res);
      return;
    }
    const refused = guard(req.headers.host, req.headers.origin);
    if (refused) return send(res, 403, { jsonrpc: '2.0', id: null, error: { code: -32600, message: `Forbidden: ${refused}` } });
    readBody(req, maxBodyBytes).then(
      async (body) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          parsed = undefined;
        }
        if (!isHotRequest(req, parsed) || parsed.method !== 'tools/call' || typeof parsed.params?.name !== 'string') {
          Object.assign(req, { rawBody: body });
          fallback(req, res);
          return;
        }
        const { id, params } = parsed;
        try {
          const args = (params.arguments ?? {}) as Record<string, unknown>;
          const result = await endpoint.callToolForSession(sessionId, params.name as string, args);
          send(res, 200, { jsonrpc: '2.0', id, result });
        } catch (error) {
          const mesh = toMeshError(error);
          send(res, 200, { jsonrpc: '2.0', id, error: { code: jsonRpcCodeFor(mesh.code), message: mesh.message, data: { code: mesh.code, ...mesh.context } } });
        }
      },
      (error: unknown) => {
        const mesh = toMeshError(error);
        send(res, httpStatusFor(mesh.code), { jsonrpc: '2.0', id: null, error: { code: -32600, message: mesh.message } });
      },
    );
  };
}
