import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { Bridge } from '../bridge/bridge.js';
import { httpStatusFor, toMeshError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { createHostGuard, type HostGuardOptions } from './host-guard.js';
import { DEFAULT_DRAIN_MS, Drain } from './drain.js';
import { isHotRequest, serveHot } from './hot-path.js';
import { claimDigest } from './lease.js';
import { McpSessions, type McpSessionsOptions } from './mcp-sessions.js';
import { receiveMcpPost, rpcErrorBody, sendJson } from './mcp-post.js';
import { createTokenCheck, unauthorizedBody } from './bearer-token.js';
import { isListenPost, isModernPost } from '../era/classify.js';
import type { ModernEndpoint } from '../era/modern-endpoint.js';

type NodeEnv = { Bindings: { incoming: IncomingMessage & { parsedBody?: unknown }; outgoing: ServerResponse } };

export interface InstanceServerOptions extends HostGuardOptions {
  bridge: Bridge;
  /** Body of GET /healthz. */
  health: () => { state: string };
  /**
   * The mesh token (--token / MESH_TOKEN): when set, every request on every path needs
   * `Authorization: Bearer <token>` (401 otherwise, as on the proxy), except `/control/*`, which
   * checks its own token (`mesh up`'s control token).
   */
  token?: string | undefined;
  /** The instance's claim (lease.ts): /healthz shows its SHA-256 as claimSha256, never the claim. */
  claim?: string | undefined;
  log?: Logger;
  maxBodyBytes?: number;
  sessionIdleMs?: number | undefined;
  maxSessions?: number | undefined;
  eventStore?: McpSessionsOptions['eventStore'];
  /** Serves 2026-07-28 requests (src/era); without it every request takes the legacy paths. */
  modern?: ModernEndpoint;
}

export interface InstanceServer {
  app: Hono<NodeEnv>;
  server: Server;
  sessions: McpSessions;
  /** Refuses new requests (503), lets those in flight finish up to `drainMs` (default 15 s), then closes sessions and connections. */
  close(drainMs?: number): Promise<void>;
}

/**
 * The HTTP face of an instance: MCP Streamable HTTP at /mcp and GET /healthz, Host/Origin and
 * (with a token) the bearer token checked on every request. Forwarded requests on established sessions take a lean path straight to the
 * bridge; everything else is the Hono app with the SDK's transport.
 */
export function createInstanceServer(options: InstanceServerOptions): InstanceServer {
  const log = options.log ?? silentLogger;
  const guard = createHostGuard(options);
  const claimSha256 = options.claim === undefined ? undefined : claimDigest(options.claim);
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessions = new McpSessions({ bridge: options.bridge, log, idleMs: options.sessionIdleMs, maxSessions: options.maxSessions, eventStore: options.eventStore });

  const app = new Hono<NodeEnv>();
  app.use('*', async (c, next) => {
    const refused = guard(c.req.header('host'), c.req.header('origin'));
    if (refused) return c.json(rpcErrorBody(`Forbidden: ${refused}`), 403);
    await next();
  });
  app.get('/healthz', (c) => {
    const body = options.health();
    return c.json(claimSha256 === undefined ? body : { ...body, claimSha256 }, body.state === 'ready' ? 200 : 503);
  });
  app.all('/mcp', (c) => sessions.handle(c.req.raw, c.env.incoming.parsedBody));
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}; MCP is served at /mcp` } }, 404));
  app.onError((error, c) => {
    const mesh = toMeshError(error);
    log.error(`${c.req.method} ${c.req.path}: ${mesh.message}`);
    return c.json({ error: { code: mesh.code, message: mesh.message } }, httpStatusFor(mesh.code) as 500);
  });

  const listener = getRequestListener(app.fetch);
  const drain = new Drain('this MCP server');
  const checkToken = createTokenCheck(options.token);
  const server = createServer(drain.wrap((req, res) => {
    const refused = req.url?.startsWith('/control/') ? undefined : checkToken(req.headers.authorization);
    if (refused) {
      sendJson(res, 401, unauthorizedBody(req.url, refused), { 'www-authenticate': refused.challenge });
      return;
    }
    if (req.method !== 'POST' || (req.url !== '/mcp' && !req.url?.startsWith('/mcp?'))) {
      listener(req, res);
      return;
    }
    receiveMcpPost(req, res, guard, maxBody, (body, parsed) => {
      if (options.modern && isModernPost(req, parsed)) {
        if (isListenPost(req, parsed)) drain.release(res);
        return options.modern.serve(req, res, parsed);
      }
      const sessionId = req.headers['mcp-session-id'];
      const entry = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (entry && isHotRequest(req, parsed)) {
        serveHot(entry.session, parsed, res);
        return;
      }
      Object.assign(req, { rawBody: body, parsedBody: parsed });
      listener(req, res);
    });
  }));
  server.keepAliveTimeout = 65_000;

  return {
    app,
    server,
    sessions,
    async close(drainMs = DEFAULT_DRAIN_MS) {
      if (drain.active > 0) log.info(`draining ${drain.active} request(s) in flight (up to ${drainMs / 1000} s)`);
      const drained = server.listening ? await drain.drain([server], drainMs) : { cut: 0 };
      if (drained.cut > 0) log.warn(`drain timeout (${drainMs / 1000} s) reached: cut ${drained.cut} request(s) still in flight`);
      await sessions.closeAll();
      await options.modern?.close();
    },
  };
}
