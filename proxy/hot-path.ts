import type { CallToolResult } from '@modelcontextprotocol/server';
import { toJsonRpcError } from '../src/errors.js';
import type { LeanPath } from '../src/http/front-door.js';
import { sendJson } from '../src/http/mcp-post.js';
import { CallCancel } from './router/call-cancel.js';
import { metaWithHeaderTrace } from '../src/tracing/trace-context.js';

/** What the lean path needs from the MCP endpoint. */
export interface HotEndpoint {
  /** True for a live session that needs nothing relayed (no log level set, no sampling/elicitation/roots declared). */
  isLeanSession(id: string): boolean;
  /** Runs tools/call as the SDK handler would, tool errors as results; throws protocol errors. */
  callToolForSession(sessionId: string, name: string, args: Record<string, unknown>, cancel?: CallCancel, meta?: unknown): Promise<CallToolResult>;
}

/**
 * The proxy's lean path (plugged into the front door, src/http/front-door.ts): a plain `tools/call`
 * on an established MCP session goes straight to the router, answered as plain JSON, without the
 * SDK server transport's per-request cost. Anything else it declines, and the front door gives it to
 * the SDK transport: every request of a session that needs relaying (it set a log level, or declared
 * sampling, elicitation or roots), whose answers may carry a stream first.
 * A call it serves is cancelled upstream when the client sends notifications/cancelled for it or
 * closes the request before the answer.
 */
export function createProxyLeanPath(endpoint: HotEndpoint): LeanPath {
  // Calls this path is serving, by session and request id, so a cancellation can find them.
  const inflight = new Map<string, CallCancel>();
  return {
    call(sessionId, request, req, res) {
      const { id, method, params } = request;
      if (method !== 'tools/call' || typeof params?.name !== 'string' || !endpoint.isLeanSession(sessionId)) return false;
      const name = params.name;
      const key = callKey(sessionId, id);
      const cancel = new CallCancel();
      inflight.set(key, cancel);
      res.once('close', () => {
        inflight.delete(key);
        if (!res.writableFinished) cancel.cancel(new Error('the client closed the request'));
      });
      const args = (params.arguments ?? {}) as Record<string, unknown>;
      // The trace context of the call: its _meta, else the traceparent/tracestate headers.
      const meta = metaWithHeaderTrace(params._meta, (header) => req.headers[header]);
      endpoint.callToolForSession(sessionId, name, args, cancel, meta).then(
        (result) => sendJson(res, 200, { jsonrpc: '2.0', id, result }),
        (error: unknown) => sendJson(res, 200, toJsonRpcError(id, error)),
      );
      return true;
    },
    cancel(sessionId, requestId, reason) {
      const running = inflight.get(callKey(sessionId, requestId));
      running?.cancel(new Error(reason));
      return running !== undefined;
    },
  };
}

const callKey = (sessionId: string, id: string | number) => `${sessionId} ${typeof id} ${id}`;
