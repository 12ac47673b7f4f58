import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/server';
import type { BridgeSession } from '../bridge/bridge-session.js';
import type { Reply } from '../bridge/types.js';
import { prefersJsonOverSse } from './media-type.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

/**
 * True for a plain call, a POST a lean path may answer without the SDK transport: one JSON-RPC
 * request (not initialize, no progress token) sent as JSON by a client that accepts SSE but prefers
 * JSON, at a protocol version we speak. Everything else goes through the SDK transport, which owns
 * the protocol's edge cases (and answers a wrong Content-Type or Accept with 415 / 406).
 */
export function isPlainCall(req: IncomingMessage, body: unknown): body is JSONRPCRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const message = body as Record<string, unknown>;
  if (message.jsonrpc !== '2.0' || typeof message.method !== 'string' || message.method === 'initialize') return false;
  if (typeof message.id !== 'string' && typeof message.id !== 'number') return false;
  const params = message.params as { _meta?: { progressToken?: unknown } } | undefined;
  if (params !== undefined && (typeof params !== 'object' || params === null || params._meta?.progressToken !== undefined)) return false;
  // A client that ranks SSE first prefers a stream: the SDK transport serves it one.
  if (!prefersJsonOverSse(req.headers.accept) || !isJsonContentType(req.headers['content-type'])) return false;
  const version = req.headers['mcp-protocol-version'];
  return version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version));
}

/**
 * An instance's lean path: forwards one plain call to its bridge session and answers with plain JSON. If the server sends something that belongs
 * to the request before answering (a log message, a sampling request), the response becomes an
 * SSE stream at that moment, as the Streamable HTTP spec allows.
 */
export function serveHot(session: BridgeSession, request: JSONRPCRequest, res: ServerResponse): void {
  res.on('close', () => {
    if (res.writableFinished) return;
    // The client went away before the answer: the child should stop working on it.
    const childId = session.inflight.get(request.id);
    if (childId !== undefined) session.cancelChild(childId, 'the HTTP client disconnected');
  });
  session.receive(request, replyOn(res));
}

/**
 * The answer of one forwarded request as an HTTP response: plain JSON, or an SSE stream from the
 * moment the server sends something that belongs to the request first (progress, a log message).
 */
export function replyOn(res: ServerResponse): Reply {
  let streaming = false;
  return {
    respond(message) {
      const body = JSON.stringify(message);
      if (streaming) {
        res.end(`event: message\ndata: ${body}\n\n`);
      } else {
        res.writeHead(res.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }
    },
    related(message: JSONRPCMessage) {
      if (!streaming) {
        streaming = true;
        res.writeHead(200, SSE_HEADERS);
      }
      res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    },
  };
}
