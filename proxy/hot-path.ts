import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestListener } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { CallCancel } from './router/call-cancel.js';
import { jsonRpcCodeFor, toMeshError } from '../src/errors.js';
import { unauthorizedBody, type TokenCheck } from '../src/http/bearer-token.js';
import type { HostGuard } from '../src/http/host-guard.js';
import { isHotRequest } from '../src/http/hot-path.js';
import { receiveMcpPost, sendJson } from '../src/http/mcp-post.js';
import { classifyPost, type ModernMeshEndpoint } from './mcp/modern-endpoint.js';

/** What the hot path needs from the MCP endpoint. */
export interface HotEndpoint {
  /** True for a live session that needs nothing relayed (no log level set, no sampling/elicitation/roots declared). */
  isLeanSession(id: string): boolean;
  /** Runs tools/call as the SDK handler would, tool errors as results; throws protocol errors. */
  callToolForSession(sessionId: string, name: string, args: Record<string, unknown>, cancel?: CallCancel, meta?: unknown): Promise<CallToolResult>;
}

/**
 * The proxy's lean path for `tools/call` on an established MCP session: straight to the router,
 * answered as plain JSON, without the SDK server transport's per-request cost. Everything else
 * (and any request this path is unsure of) goes to `fallback`, the Hono app with the SDK transport:
 * requests with a progress token, and every request of a session that needs relaying (it set a log
 * level, or declared sampling, elicitation or roots), whose answers may carry a stream first.
 * A call it serves is cancelled upstream when the client sends notifications/cancelled for it or
 * closes the request before the answer.
 *
 * It is the front door of both ports: every request, on any path, passes the token check here,
 * and every POST /mcp the body checks of receiveMcpPost (depth, empty batch), before either path.
 */
export function createProxyFrontHandler(endpoint: HotEndpoint, guard: HostGuard, fallback: RequestListener, maxBodyBytes: number, checkToken: TokenCheck, modern?: ModernMeshEndpoint): RequestListener {
  // Calls this path is serving, by session and request id, so a cancellation can find them.
  const inflight = new Map<string, CallCancel>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const refused = checkToken(req.headers.authorization);
    if (refused) return sendJson(res, 401, unauthorizedBody(req.url, refused), { 'www-authenticate': refused.challenge });
    if (req.method !== 'POST' || (req.url !== '/mcp' && !req.url?.startsWith('/mcp?'))) {
      fallback(req, res);
      return;
    }
    receiveMcpPost(req, res, guard, maxBodyBytes, async (body, parsed) => {
      const route = modern && classifyPost(req, parsed);
      if (modern && route && route.kind !== 'legacy') return modern.serve(req, res, parsed, route);
      // Refused here for both paths (the SDK transport would answer -32603 with a zod dump).
      const badArguments = nonObjectArguments(parsed);
      if (badArguments) return sendJson(res, 200, badArguments);
      const sessionId = req.headers['mcp-session-id'];
      if (req.url !== '/mcp' || typeof sessionId !== 'string' || !endpoint.isLeanSession(sessionId)) {
        Object.assign(req, { rawBody: body });
        fallback(req, res);
        return;
      }
      const cancelled = inflight.get(cancelKey(sessionId, parsed));
      if (cancelled) {
        cancelled.cancel(new Error('the client cancelled the call'));
        res.writeHead(202).end();
        return;
      }
      if (!isHotRequest(req, parsed) || parsed.method !== 'tools/call' || typeof parsed.params?.name !== 'string') {
        Object.assign(req, { rawBody: body });
        fallback(req, res);
        return;
      }
      const { id, params } = parsed;
      const key = callKey(sessionId, id);
      const cancel = new CallCancel();
      inflight.set(key, cancel);
      res.once('close', () => {
        inflight.delete(key);
        if (!res.writableFinished) cancel.cancel(new Error('the client closed the request'));
      });
      try {
        const args = (params.arguments ?? {}) as Record<string, unknown>;
        const result = await endpoint.callToolForSession(sessionId, params.name as string, args, cancel, params._meta);
        sendJson(res, 200, { jsonrpc: '2.0', id, result });
      } catch (error) {
        const mesh = toMeshError(error);
        sendJson(res, 200, { jsonrpc: '2.0', id, error: { code: jsonRpcCodeFor(mesh.code), message: mesh.message, data: { code: mesh.code, ...mesh.context } } });
      }
    });
  };
}

// The -32602 answer to a tools/call request whose `arguments` is not an object (a string, an array…).
function nonObjectArguments(message: unknown): object | undefined {
  const { id, method, params } = (message ?? {}) as { id?: unknown; method?: unknown; params?: { arguments?: unknown } };
  if (method !== 'tools/call' || (typeof id !== 'string' && typeof id !== 'number') || typeof params !== 'object' || params === null) return undefined;
  const args = params.arguments;
  if (args === undefined || (typeof args === 'object' && args !== null && !Array.isArray(args))) return undefined;
  const got = args === null ? 'null' : Array.isArray(args) ? 'an array' : `a ${typeof args}`;
  return { jsonrpc: '2.0', id, error: { code: -32602, message: `tools/call params.arguments must be an object of the tool's arguments, got ${got}` } };
}

const callKey = (sessionId: string, id: string | number) => `${sessionId} ${typeof id} ${id}`;

// The in-flight key a notifications/cancelled names (an impossible key for any other message).
function cancelKey(sessionId: string, message: unknown): string {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: { requestId?: unknown } };
  if (method !== 'notifications/cancelled') return '';
  const id = params?.requestId;
  return typeof id === 'string' || typeof id === 'number' ? callKey(sessionId, id) : '';
}
