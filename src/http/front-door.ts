import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { JSONRPCRequest, RequestId } from '@modelcontextprotocol/server';
import { MeshError, toJsonRpcError } from '../errors.js';
import { unauthorizedBody, type TokenCheck } from './bearer-token.js';
import type { Drain } from './drain.js';
import type { HostGuard } from './host-guard.js';
import { isPlainCall } from './hot-path.js';
import { isMcpUrl, receiveMcpPost, sendJson, sendRefusal } from './mcp-post.js';
import { MAX_BODY_BYTES } from './read-body.js';
import { modernRoute, type ModernRoute } from './modern-route.js';

/**
 * What a server serves plain calls with, beside the SDK transport: the proxy's router, an
 * instance's bridge session. The front door only offers it requests `isPlainCall` accepts, on an
 * MCP session the client named.
 */
export interface LeanPath {
  /** Serves `request` on session `sessionId` and returns true, or returns false to leave it to the SDK transport. */
  call(sessionId: string, request: JSONRPCRequest, req: IncomingMessage, res: ServerResponse): boolean;
  /** Stops a call this lean path serves, named by a notifications/cancelled; true when it was one of its own (answered 202). */
  cancel?(sessionId: string, requestId: RequestId, reason: string): boolean;
}

/** The 2026-07-28 side of a server (src/era for instances, proxy/mcp/modern-endpoint.ts for the proxy). */
export interface ModernEndpoint {
  /** Serves one POST the SDK classified as 2026-07-28 (or refused on the modern ladder): body already read, parsed and checked. */
  serve(req: IncomingMessage, res: ServerResponse, parsed: unknown, route: ModernRoute): void;
  close(): Promise<void>;
}

export interface FrontDoorOptions {
  /** The bearer-token check of every request (createTokenCheck). */
  checkToken: TokenCheck;
  /** Requests the server checks the credentials of itself instead (an instance's `/control/*`, the proxy's dashboard login). */
  checksOwnToken?: ((url: string, req: IncomingMessage) => boolean) | undefined;
  /** The paths served as MCP endpoints (default `/mcp`; the proxy adds its views, `/mcp/<view>`). */
  isMcp?: ((url: string | undefined) => boolean) | undefined;
  /** The Host/Origin guard of POST /mcp (other paths guard themselves in `sdk`). */
  guard: HostGuard;
  /** Largest request body read (default MAX_BODY_BYTES); a larger one is answered 413. */
  maxBodyBytes?: number | undefined;
  /** The plain-call path; without it every request goes to `sdk`. */
  lean?: LeanPath | undefined;
  /** The 2026-07-28 path; without it, modern requests go where legacy ones go. */
  modern?: ModernEndpoint | undefined;
  /** The server's drain: a `subscriptions/listen` stream is long-lived, like a GET stream, and not waited for at stop. */
  drain?: Pick<Drain, 'release'> | undefined;
  /**
   * Everything else: the Hono app with the SDK transport (its listener returns a promise it handles
   * itself, errors become answers). A POST /mcp arrives with its body read: `rawBody` (Buffer, which
   * @hono/node-server reads instead of the stream) and `parsedBody`.
   */
  sdk: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

/**
 * Serves a POST the front door already read with an SDK handler's web-standard face (`createMcpHandler`'s
 * `fetch`): the parsed body rides on the request, so the handler reads nothing twice.
 */
export function sdkHandlerListener(handler: { fetch(request: Request, options?: { parsedBody?: unknown }): Promise<Response> }): (req: IncomingMessage, res: ServerResponse, parsed: unknown) => void {
  const listener = getRequestListener((request, env) => handler.fetch(request, { parsedBody: (env as { incoming: ReadMcpPost }).incoming.parsedBody }));
  return (req, res, parsed) => {
    Object.assign(req, { parsedBody: parsed });
    void listener(req, res);
  };
}

/** The request a POST /mcp becomes for `sdk`: its body already read and parsed (undefined when not JSON). */
export type ReadMcpPost = IncomingMessage & { rawBody?: Buffer; parsedBody?: unknown };

export { isMcpUrl, modernRoute, type ModernRoute };

/**
 * The one front door of every MM HTTP server (the proxy's two ports, every sidecar and native
 * instance). In order: the bearer token (401), then for POST /mcp the Host/Origin guard (403), the
 * body limit (413), the depth check and empty batch (400); then the SDK's era classification sends
 * 2026-07-28 requests to `modern` (when given); legacy ones meet the tools/call arguments check
 * (-32602 when not an object), then plain calls on a session go to `lean`, and everything else to `sdk`.
 * @example createServer(drain.wrap(createFrontDoor({ checkToken, guard, lean, sdk: getRequestListener(app.fetch) })))
 */
export function createFrontDoor(options: FrontDoorOptions): RequestListener {
  const { checkToken, checksOwnToken, guard, lean, modern, drain, sdk } = options;
  const isMcp = options.isMcp ?? isMcpUrl;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  return (req, res) => {
    const url = req.url;
    // The router (Hono's URL) resolves dot segments; a target it would read as another path than ours is refused.
    if (!isNormalTarget(url))
      return sendRefusal(
        res,
        new MeshError('BAD_REQUEST', `request target ${JSON.stringify(url?.slice(0, 200))} is not in normal form (dot segments or encoded dots); send the path itself, e.g. /mcp`),
      );
    const refused = url !== undefined && checksOwnToken?.(url, req) ? undefined : checkToken(req.headers.authorization);
    if (refused) return sendJson(res, 401, unauthorizedBody(url, refused), { 'www-authenticate': refused.challenge });
    if (req.method !== 'POST' || !isMcp(url)) return void sdk(req, res);
    receiveMcpPost(req, res, guard, maxBodyBytes, (body, parsed) => {
      const route = modern && modernRoute(req, parsed);
      if (route) {
        if (route.kind === 'modern' && route.messageKind === 'request' && route.message.method === 'subscriptions/listen') drain?.release(res);
        return modern.serve(req, res, parsed, route);
      }
      // Refused here for both legacy paths (the SDK transport would answer -32603 with a zod dump, or pass it on).
      const badArguments = nonObjectArguments(parsed);
      if (badArguments) return sendJson(res, 200, badArguments);
      const sessionId = req.headers['mcp-session-id'];
      if (lean && typeof sessionId === 'string') {
        const cancelled = cancelledId(parsed);
        if (cancelled !== undefined && lean.cancel?.(sessionId, cancelled.id, cancelled.reason)) {
          res.writeHead(202).end();
          return;
        }
        if (isPlainCall(req, parsed) && lean.call(sessionId, parsed, req, res)) return;
      }
      Object.assign(req, { rawBody: body, parsedBody: parsed });
      void sdk(req, res);
    });
  };
}

// True for an origin-form target whose path a URL parser leaves as it is (no `.`/`..` segments, no encoded dots).
function isNormalTarget(url: string | undefined): boolean {
  if (url === undefined || !url.startsWith('/')) return false;
  const path = url.split('?', 1)[0] ?? '';
  if (!path.includes('.') && !path.includes('%')) return true;
  try {
    return new URL(path, 'http://h').pathname === path && !/%2e/i.test(path);
  } catch {
    return false;
  }
}

// The -32602 answer to a tools/call request whose `arguments` is not an object (a string, an array…).
function nonObjectArguments(message: unknown): object | undefined {
  const { id, method, params } = (message ?? {}) as { id?: unknown; method?: unknown; params?: { arguments?: unknown } };
  if (method !== 'tools/call' || (typeof id !== 'string' && typeof id !== 'number') || typeof params !== 'object' || params === null) return undefined;
  const args = params.arguments;
  if (args === undefined || (typeof args === 'object' && args !== null && !Array.isArray(args))) return undefined;
  const got = args === null ? 'null' : Array.isArray(args) ? 'an array' : `a ${typeof args}`;
  return toJsonRpcError(id, new MeshError('INVALID_PARAMS', `tools/call params.arguments must be an object of the tool's arguments, got ${got}`, { context: { field: 'params.arguments' } }));
}

// The request a notifications/cancelled names, with its reason.
function cancelledId(message: unknown): { id: RequestId; reason: string } | undefined {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: { requestId?: unknown; reason?: unknown } };
  if (method !== 'notifications/cancelled') return undefined;
  const id = params?.requestId;
  if (typeof id !== 'string' && typeof id !== 'number') return undefined;
  return { id, reason: typeof params?.reason === 'string' ? params.reason : 'the client cancelled the call' };
}
