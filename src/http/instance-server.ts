import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerTls } from './tls-trust.js';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { Bridge } from '../bridge/bridge.js';
import { MeshError, toHttpError, toHttpJsonRpcError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { createHostGuard, type HostGuardOptions } from './host-guard.js';
import { DEFAULT_DRAIN_MS, Drain } from './drain.js';
import { createFrontDoor, type LeanPath, type ModernEndpoint, type ReadMcpPost } from './front-door.js';
import { serveHot } from './hot-path.js';
import { claimDigest } from './lease.js';
import { McpSessions, type McpSessionsOptions } from './mcp-sessions.js';
import { createTokenCheck } from './bearer-token.js';

type NodeEnv = { Bindings: { incoming: ReadMcpPost; outgoing: ServerResponse } };

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
  /** Largest request body (default MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  sessionIdleMs?: number | undefined;
  maxSessions?: number | undefined;
  eventStore?: McpSessionsOptions['eventStore'];
  /** Serves 2026-07-28 requests (src/era, the front door's modern slot); closed with the server. Without it every request takes the legacy paths. */
  modern?: ModernEndpoint | undefined;
  /** Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`). */
  tls?: ServerTls | undefined;
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
  const sessions = new McpSessions({ bridge: options.bridge, log, idleMs: options.sessionIdleMs, maxSessions: options.maxSessions, eventStore: options.eventStore });

  const app = new Hono<NodeEnv>();
  app.use('*', async (c, next) => {
    const refused = guard(c.req.header('host'), c.req.header('origin'));
    if (refused) {
      const { status, body } = toHttpJsonRpcError(new MeshError('FORBIDDEN', `Forbidden: ${refused}`));
      return c.json(body, status as 403);
    }
    await next();
  });
  app.get('/healthz', (c) => {
    const body = options.health();
    return c.json(claimSha256 === undefined ? body : { ...body, claimSha256 }, body.state === 'ready' ? 200 : 503);
  });
  app.all('/mcp', (c) => sessions.handle(c.req.raw, c.env.incoming.parsedBody));
  app.notFound((c) => {
    const { status, body } = toHttpError(new MeshError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}; MCP is served at /mcp`));
    return c.json(body, status as 404);
  });
  app.onError((error, c) => {
    const { status, body } = toHttpError(error);
    log.error(`${c.req.method} ${c.req.path}: ${body.error.message}`);
    return c.json(body, status as 500);
  });

  // The lean path of an instance: a plain call on an open session goes straight to its bridge session.
  const lean: LeanPath = {
    call(sessionId, request, _req, res) {
      const entry = sessions.get(sessionId);
      if (!entry) return false;
      serveHot(entry.session, request, res);
      return true;
    },
  };
  const drain = new Drain('this MCP server');
  const front = createFrontDoor({
    checkToken: createTokenCheck(options.token),
    checksOwnToken: (url) => url.startsWith('/control/'),
    guard,
    maxBodyBytes: options.maxBodyBytes,
    lean,
    modern: options.modern,
    drain,
    sdk: getRequestListener(app.fetch),
  });
  const listener = drain.wrap(front);
  const tls = options.tls;
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener) : createServer(listener);
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
