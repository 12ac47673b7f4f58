import { Hono, type Context, type Env, type Input } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { MeshError, toHttpError, toMeshError } from '../src/errors.js';
import { createTokenCheck, unauthorizedBody } from '../src/http/bearer-token.js';
import { createHostGuard, type HostGuardOptions } from '../src/http/host-guard.js';
import { tooDeepMessage } from '../src/http/json-depth.js';
import { MAX_BODY_BYTES } from '../src/http/read-body.js';
import { silentLogger, type Logger } from '../src/log.js';
import type { MeshCore } from './core.js';
import type { MeshEndpoint } from './mcp/endpoint.js';
import type { ViewEndpoints } from './mcp/view-endpoints.js';
import { ViewsBodySchema, type ViewsAnswer } from '../src/contract/views.js';
import { RemotesBodySchema, type RemotesAnswer } from '../src/contract/remotes.js';
import type { RemoteServices } from './remote/remote-services.js';
import type { ProxyMetrics } from './metrics.js';
import { AuditQuerySchema, type AuditAnswer } from '../src/contract/audit.js';
import { CallBodySchema, CallHeadersSchema } from '../src/contract/call.js';
import { EventsQuerySchema, RecentEventsQuerySchema, type HelloEvent, type RecentEventsAnswer } from '../src/contract/events.js';
import { SeriesQuerySchema, type SeriesAnswer } from '../src/contract/load.js';
import { carrierFrom } from '../src/tracing/trace-context.js';
import { HeartbeatSchema, type HeartbeatAnswer } from '../src/contract/heartbeat.js';
import { LEASE_HEADER, LeaseSchema } from '../src/contract/lease.js';
import type { RegistrationAnswer } from '../src/contract/registration.js';
import { ServicesQuerySchema, type ServiceDetail, type ServicesAnswer, type ToolsAnswer } from '../src/contract/services.js';
import { parseOrThrow } from '../src/contract/zod-message.js';
import { refusePlainRemote } from './plain-http.js';
import { createDashboard } from './dashboard/dashboard.js';
import { SERVICES_PAGE, servicesStream } from './services-stream.js';

export interface ProxyAppOptions extends HostGuardOptions {
  core: MeshCore;
  endpoint: MeshEndpoint;
  /** The views' endpoints (/mcp/<view>, GET and PUT /v1/views); without it only /mcp is served. */
  views?: ViewEndpoints;
  /** The remote servers (GET and PUT /v1/remotes); without it they are not configurable here. */
  remotes?: RemoteServices;
  metrics: ProxyMetrics;
  log?: Logger;
  /** Required as a bearer token on every request when set (always set when bound beyond loopback). */
  token?: string | undefined;
  maxBodyBytes?: number;
  startedAt?: number;
  /** Shown on the dashboard. */
  version?: string;
}

// The lease header, if any; a malformed one is refused naming the header (its value is never echoed).
function leaseOf(c: Context): string | undefined {
  return parseOrThrow(LeaseSchema.optional(), c.req.header(LEASE_HEADER), `${LEASE_HEADER} header`);
}

// Every error answer of the API, from src/errors.ts: `{ error: { code, message, ...context } }` and the code's status.
function failed<E extends Env, P extends string, I extends Input>(c: Context<E, P, I>, error: unknown): Response {
  const { status, body } = toHttpError(error);
  return c.json(body, status as ContentfulStatusCode);
}

/** Reads a JSON body, naming what is wrong when it is not JSON. */
async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  const tooDeep = tooDeepMessage(text);
  if (tooDeep) throw new MeshError('BAD_REQUEST', tooDeep);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MeshError('BAD_REQUEST', `malformed JSON body: ${(error as Error).message}`);
  }
}

/** Call events queued for one /v1/events reader that does not keep up; past this, its call events are dropped (a stalled `mesh watch --calls` or a background tab must not grow the proxy). */
const MAX_QUEUED_CALL_EVENTS = 1_000;

/**
 * The proxy's HTTP surface as a Hono app (tested in-process with app.request()): the /v1 JSON
 * API, the MCP endpoint, health, metrics and the event stream. Nothing listens here.
 */
export function createProxyApp(options: ProxyAppOptions): Hono {
  const { core, endpoint, metrics } = options;
  const log = options.log ?? silentLogger;
  const guard = createHostGuard(options);
  const startedAt = options.startedAt ?? Date.now();
  const app = new Hono();

  app.use('*', async (c, next) => {
    const refused = guard(c.req.header('host'), c.req.header('origin'));
    if (refused) return failed(c, new MeshError('FORBIDDEN', `Forbidden: ${refused}`));
    await next();
  });
  // The dashboard's page, login and assets check its login themselves (proxy/dashboard/).
  const dashboard = createDashboard({ core, token: options.token, version: options.version, routes: () => app.routes });
  app.route('/', dashboard.app);
  // The same check as the listening front door (proxy/hot-path.ts), for every route of the app; a
  // dashboard login (its cookie) passes where proxy/dashboard/access.ts says it may.
  const checkToken = createTokenCheck(options.token);
  app.use('*', async (c, next) => {
    const refused = checkToken(c.req.header('authorization'));
    const login = refused && dashboard.admits({ method: c.req.method, path: c.req.path, header: (name) => c.req.header(name) });
    if (typeof login === 'string') return failed(c, new MeshError('FORBIDDEN', `Forbidden: ${login}`));
    if (refused && login !== true) return c.json(unauthorizedBody(c.req.path, refused), 401, { 'www-authenticate': refused.challenge });
    await next();
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes ?? MAX_BODY_BYTES,
      onError: (c) => failed(c, new MeshError('PAYLOAD_TOO_LARGE', `request body exceeds ${options.maxBodyBytes ?? MAX_BODY_BYTES} bytes`)),
    }),
  );

  app.get('/healthz', (c) => {
    const services = core.registry.services({});
    // 200 while this proxy routes (from memory even without its store); `degraded` names a store problem.
    const registry = core.registry.stats();
    const status = registry.store.state === 'ok' ? 'ok' : 'degraded';
    return c.json({ status, uptime: Math.round((Date.now() - startedAt) / 1000), services: services.length, registry });
  });
  app.get('/metrics', async (c) => c.text(await metrics.render(), 200, { 'content-type': metrics.contentType }));

  // The answer to a registration is the only place an instance's lease ever appears.
  // The registry checks the body (its schema carries the proxy's host policy, --allow-instances).
  app.post('/v1/instances', async (c) => {
    refusePlainRemote('registration');
    const { instance, created, lease } = await core.registerInstance(await jsonBody(c), leaseOf(c));
    // Acknowledged means stored (PostgreSQL: committed), unless the store is out of reach: then it is queued.
    await core.registry.durable();
    return c.json({ instance, lease } satisfies RegistrationAnswer, created ? 201 : 200);
  });
  app.put('/v1/instances/:id/heartbeat', async (c) => {
    refusePlainRemote('heartbeat');
    const beat = parseOrThrow(HeartbeatSchema, await jsonBody(c), 'heartbeat');
    const instance = core.registry.heartbeat(c.req.param('id'), beat, leaseOf(c));
    if (!instance) return failed(c, new MeshError('INSTANCE_NOT_FOUND', `no instance "${c.req.param('id')}": register again`));
    return c.json({ ok: true, status: instance.status } satisfies HeartbeatAnswer);
  });
  app.delete('/v1/instances/:id', async (c) => {
    refusePlainRemote('deregistration');
    if (!core.registry.deregister(c.req.param('id'), { lease: leaseOf(c) })) return failed(c, new MeshError('INSTANCE_NOT_FOUND', `no instance "${c.req.param('id')}"`));
    await core.registry.durable();
    return c.body(null, 204);
  });

  app.get('/v1/services', (c) => {
    const { status, tag } = parseOrThrow(ServicesQuerySchema, c.req.query(), 'query');
    const filter = { status: status === 'all' ? undefined : status, tag };
    const names = core.registry.serviceNames();
    if (names.length <= SERVICES_PAGE) return c.json({ services: core.services(filter) } satisfies ServicesAnswer);
    return c.body(servicesStream(core, names, filter), 200, { 'content-type': 'application/json' });
  });
  app.get('/v1/services/:name', (c) => c.json(core.serviceOrThrow(c.req.param('name')) satisfies ServiceDetail));
  app.get('/v1/services/:name/series', (c) => {
    const { minutes } = parseOrThrow(SeriesQuerySchema, c.req.query(), 'query');
    return c.json(core.seriesOrThrow(c.req.param('name'), minutes) satisfies SeriesAnswer);
  });
  app.get('/v1/services/:name/tools', (c) => c.json({ tools: core.serviceOrThrow(c.req.param('name')).tools } satisfies ToolsAnswer));
  app.post('/v1/services/:name/tools/:tool/call', async (c) => {
    const body = parseOrThrow(CallBodySchema, await jsonBody(c), 'call body');
    const headers = parseOrThrow(CallHeadersSchema, { 'x-mesh-hops': c.req.header('x-mesh-hops'), 'x-mesh-caller': c.req.header('x-mesh-caller') }, 'headers');
    const hops = headers['x-mesh-hops'];
    const caller = headers['x-mesh-caller'];
    // A caller that goes away (an app's timeout, a native handler cancelled) cancels the call upstream.
    const relay = { signal: c.req.raw.signal };
    const trace = carrierFrom(undefined, (name) => c.req.header(name));
    const result = await core.router.call(c.req.param('name'), c.req.param('tool'), body.arguments, { caller, hops, deadlineMs: body.deadlineMs, relay, trace });
    return c.json(result);
  });

  // The audit trail, newest first: who called which tool, how long it took, how it ended.
  app.get('/v1/audit', async (c) => {
    const query = parseOrThrow(AuditQuerySchema, c.req.query(), 'query');
    return c.json({ entries: await core.registry.recentAudit(query) } satisfies AuditAnswer);
  });

  // The registry's last events (memory only), for a view that opens late.
  app.get('/v1/events/recent', (c) => {
    const query = parseOrThrow(RecentEventsQuerySchema, c.req.query(), 'query');
    return c.json({ events: core.history.recent(query) } satisfies RecentEventsAnswer);
  });

  // With ?calls=1, each routed call too, as event `call` (its AuditEntry, id included: sent when its batch is stored).
  app.get('/v1/events', (c) => {
    const { calls } = parseOrThrow(EventsQuerySchema, c.req.query(), 'query');
    return streamSSE(c, async (stream) => {
      // The end is heard before anything is written: a client gone during the first write leaves no listener behind.
      const ended = new Promise<void>((resolve) => stream.onAbort(resolve));
      // Writes still queued for a reader that does not keep up; past the cap, call events are dropped (registry events never are).
      let queued = 0;
      const send = (event: string) => (data: unknown) => {
        if (event === 'call' && queued >= MAX_QUEUED_CALL_EVENTS) return;
        queued++;
        void stream.writeSSE({ event, data: JSON.stringify(data) }).finally(() => queued--);
      };
      const handlers = (['joined', 'left', 'status', 'tools'] as const).map((event) => [event, send(event)] as const);
      for (const [event, handler] of handlers) core.registry.events.on(event, handler);
      const offCalls = calls === '1' || calls === 'true' ? core.registry.onAudit(send('call')) : undefined;
      try {
        if (!stream.aborted) await stream.writeSSE({ event: 'hello', data: JSON.stringify({ services: core.registry.services({}).length } satisfies HelloEvent) });
        if (!stream.aborted) await ended;
      } finally {
        for (const [event, handler] of handlers) core.registry.events.off(event, handler);
        offCalls?.();
      }
    });
  });

  app.all('/mcp', (c) => endpoint.handle(c.req.raw));
  const views = options.views;
  if (views) {
    app.all('/mcp/:view', (c) => views.handle(c.req.param('view'), c.req.raw));
    app.get('/v1/views', (c) => c.json({ views: views.describe() } satisfies ViewsAnswer));
    // The whole set at once (`mesh up` sends its manifest's): views left out stop serving.
    app.put('/v1/views', async (c) => {
      const body = parseOrThrow(ViewsBodySchema, await jsonBody(c), 'views');
      await views.setViews(body.views);
      return c.json({ views: views.describe() } satisfies ViewsAnswer);
    });
  }

  const remotes = options.remotes;
  if (remotes) {
    app.get('/v1/remotes', (c) => c.json({ remotes: remotes.describe() } satisfies RemotesAnswer));
    // The whole set at once (`mesh up` sends its manifest's); the headers are kept in memory only and never answered.
    app.put('/v1/remotes', async (c) => {
      // Remote servers' headers are their secrets: never accepted in clear from another host.
      refusePlainRemote('remote servers (their headers are secrets)');
      const body = parseOrThrow(RemotesBodySchema, await jsonBody(c), 'remotes');
      remotes.set(body.remotes);
      return c.json({ remotes: remotes.describe() } satisfies RemotesAnswer);
    });
  }

  app.notFound((c) => failed(c, new MeshError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}; the API is under /v1, MCP at /mcp and /mcp/<view>`)));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    const mesh = toMeshError(error);
    if (mesh.code === 'INTERNAL') log.error(`${c.req.method} ${c.req.path}: ${mesh.stack ?? mesh.message}`);
    return failed(c, mesh);
  });
  return app;
}
