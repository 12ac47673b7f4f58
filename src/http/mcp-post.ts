import type { IncomingMessage, ServerResponse } from 'node:http';
import { MeshError, toHttpJsonRpcError } from '../errors.js';
import type { HostGuard } from './host-guard.js';
import { tooDeepMessage } from './json-depth.js';
import { readBody } from './read-body.js';

/** How long an oversized request body is read and dropped before its error is answered anyway. */
const DRAIN_MS = 5_000;

/**
 * True for the MCP endpoint's URL: `/mcp`, with or without a query (the one place it is matched).
 * @example isMcpUrl('/mcp?x=1') // true
 */
export function isMcpUrl(url: string | undefined): boolean {
  return url === '/mcp' || (url !== undefined && url.startsWith('/mcp?'));
}

/** Writes a JSON answer with its length. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Answers a request refused as a whole (no id read yet): the status and JSON-RPC body of its mesh code. */
export function sendRefusal(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  const { status, body } = toHttpJsonRpcError(error);
  sendJson(res, status, body, headers);
}

/**
 * The front of every POST /mcp path: refuses a foreign Host/Origin (403), an oversized body (413),
 * JSON nested deeper than MAX_JSON_DEPTH and an empty batch (400, -32600), then hands over the raw
 * body and its JSON (undefined when it is not JSON: the SDK transport behind answers that parse error).
 */
export function receiveMcpPost(req: IncomingMessage, res: ServerResponse, guard: HostGuard, maxBodyBytes: number, onBody: (body: Buffer, parsed: unknown) => void): void {
  const refused = guard(req.headers.host, req.headers.origin);
  if (refused) return sendRefusal(res, new MeshError('FORBIDDEN', `Forbidden: ${refused}`));
  readBody(req, maxBodyBytes).then(
    (body) => {
      const text = body.toString('utf8');
      const tooDeep = tooDeepMessage(text);
      if (tooDeep) return sendRefusal(res, new MeshError('BAD_REQUEST', tooDeep));
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (Array.isArray(parsed) && parsed.length === 0) return sendRefusal(res, new MeshError('BAD_REQUEST', 'empty JSON-RPC batch: a batch must hold at least one message'));
      onBody(body, parsed);
    },
    (error: unknown) => {
      const answer = () => {
        if (res.headersSent || res.destroyed) return;
        sendRefusal(res, error, { connection: 'close' });
      };
      // Closing while the client still uploads makes it see EPIPE instead of the 413: the rest of
      // the body (readBody resumed the stream) is dropped first, for at most DRAIN_MS.
      if (req.complete || req.destroyed) return answer();
      const timer = setTimeout(answer, DRAIN_MS);
      req.once('end', () => {
        clearTimeout(timer);
        answer();
      });
      req.once('close', () => clearTimeout(timer));
    },
  );
}
