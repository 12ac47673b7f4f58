import { mkdirSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { createLogger, type Logger } from '../src/log.js';
import { listenOnFreePort } from '../src/http/ports.js';
import { createTokenCheck } from '../src/http/bearer-token.js';
import { createHostGuard } from '../src/http/host-guard.js';
import { DEFAULT_DRAIN_MS, Drain } from '../src/http/drain.js';
import { createFrontDoor } from '../src/http/front-door.js';
import { createProxyApp } from './app.js';
import { checkedByDashboard } from './dashboard/access.js';
import { MeshCore } from './core.js';
import { isProxyMcpUrl, ViewEndpoints } from './mcp/view-endpoints.js';
import { createProxyMetrics } from './metrics.js';
import { Registry } from './registry/registry.js';
import { isPostgresUrl } from './registry/store/pg-url.js';
import type { OutlierPolicyInput } from './router/outlier-policy.js';
import type { ServerTls } from '../src/http/tls-trust.js';
import { markPlainRemote } from './plain-http.js';
import { parseInstanceNetworks } from './registry/instance-networks.js';
import type { Views } from '../src/contract/views.js';
import type { RemoteService } from '../src/contract/remotes.js';
import { RemoteServices } from './remote/remote-services.js';

export interface ProxyOptions {
  host: string;
  port: number;
  /** Second port serving the same endpoint (the seed's MCP port); 0 or undefined disables it. */
  mcpPort?: number | undefined;
  /** @deprecated use `registry` */
  registryFile?: string | undefined;
  /** A registry file or a PostgreSQL URL (postgres://…) shared by several proxies. */
  registry?: string | undefined;
  /** Names this proxy in audit rows and logs (default hostname:port). */
  proxyId?: string | undefined;
  heartbeatTimeoutMs: number;
  heartbeatIntervalMs?: number;
  deadlineMs?: number;
  token?: string | undefined;
  allowedHosts?: string[];
  /** MCP client sessions idle this long are closed (default 30 min). */
  sessionIdleMs?: number;
  /** Cap of open MCP client sessions (default 1,000): the least recently used idle one is evicted, else 503. */
  maxSessions?: number;
  /** On stop, how long calls in flight may take to finish before connections are cut (default 15 s). */
  drainTimeoutMs?: number;
  /** Largest answer read from an instance, one JSON body or SSE event (default 32 MiB): a larger one fails its call. */
  maxResponseBytes?: number | undefined;
  version: string;
  log?: Logger;
  /** When failing instances are ejected (README, "Circuit breaking"). */
  outlier?: OutlierPolicyInput;
  /** Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`). */
  tls?: ServerTls | undefined;
  /** CAs instances are verified against (readCa: the system store plus `--ca`); default the system store. */
  ca?: string[] | undefined;
  /** Networks non-loopback instances may register from (`--allow-instances`, CIDRs); default none. */
  allowInstances?: string[] | undefined;
  /** Accept registrations over plain HTTP from other hosts (`--allow-plain-http`; default refused). */
  allowPlainHttp?: boolean | undefined;
  /** Between service and tool in the endpoint's names (default `__`; checked by checkSeparator). */
  separator?: string | undefined;
  /** Remote servers to register, health-check and route to (replaced later with PUT /v1/remotes). */
  remotes?: Record<string, RemoteService> | undefined;
  /** The named views served at /mcp/<view> (replaced later with PUT /v1/views). */
  views?: Views | undefined;
}

export interface RunningProxy {
  url: string;
  port: number;
  mcpPort: number | undefined;
  core: MeshCore;
  /** The listening servers (the API port, then the MCP port): their connections, for tests and embedders. */
  servers: readonly Server[];
  /** The MCP endpoints: /mcp, the discovery view and the named views. */
  views: ViewEndpoints;
  /** Drains (refuses new requests, lets those in flight finish up to the drain timeout), then closes. */
  stop(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return listenOnFreePort(server, host, port, { from: port, to: port });
}

/** Opens the registry, builds the apps and listens. Throws (MeshError) when the port or registry file is taken. */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const log = options.log ?? createLogger('mesh-proxy');
  const allowInstances = parseInstanceNetworks(options.allowInstances);
  const where = options.registry ?? options.registryFile;
  if (where !== undefined && !isPostgresUrl(where)) mkdirSync(dirname(where), { recursive: true });
  const registry = await Registry.open({
    allowInstances,
    registry: where,
    proxyId: options.proxyId ?? `${hostname()}:${options.port || process.pid}`,
    removeAfterMs: options.heartbeatTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    logger: log.child('registry'),
  });
  if (registry.recovered) {
    log.warn(`registry file was unreadable (${registry.recovered.reason}); moved to ${registry.recovered.movedTo}; starting empty — sidecars re-register on their next heartbeat`);
  }
  for (const row of registry.droppedRows) log.warn(`registry row ${row.id} no longer validates and was dropped on load: ${row.reason}`);
  const metrics = createProxyMetrics({
    instancesByStatus: () => registry.countByStatus(),
    circuits: () => core.router.outliers.states(),
    mcpSessions: () => views.sessionCount,
  });
  const core: MeshCore = new MeshCore({
    registry,
    deadlineMs: options.deadlineMs ?? 60_000,
    maxResponseBytes: options.maxResponseBytes,
    token: options.token,
    ca: options.ca,
    separator: options.separator,
    log,
    outlier: options.outlier,
    observe: (record) => metrics.observeCall(record),
    observeCircuit: (event) => metrics.observeCircuit(event),
    observeRetry: (service) => metrics.observeRetry(service),
  });
  const views = new ViewEndpoints(core, log, options.version, { idleMs: options.sessionIdleMs, maxSessions: options.maxSessions });
  if (options.views) await views.setViews(options.views);
  const endpoint = views.main.legacy;
  const remotes = new RemoteServices(core, log.child('remote'), options.heartbeatIntervalMs ?? 30_000);
  if (options.remotes) remotes.set(options.remotes);
  const app = createProxyApp({ core, endpoint, views, remotes, metrics, log, token: options.token, bindHost: options.host, allowedHosts: options.allowedHosts, version: options.version });
  const drain = new Drain('mesh-proxy');
  // Both ports share one front door: token, guard, body checks, then modern / lean / SDK transport.
  const front = createFrontDoor({
    checkToken: createTokenCheck(options.token),
    // The dashboard's login page and its cookie-carrying requests: the app checks those (proxy/dashboard/access.ts).
    checksOwnToken: checkedByDashboard,
    guard: createHostGuard({ bindHost: options.host, allowedHosts: options.allowedHosts }),
    isMcp: isProxyMcpUrl,
    lean: views.lean,
    modern: views.modern,
    drain,
    sdk: getRequestListener(app.fetch),
  });
  const listener = markPlainRemote(drain.wrap(front), { allowPlainHttp: options.allowPlainHttp === true || options.tls !== undefined });
  const tls = options.tls;
  const serve = (handler: RequestListener) => (tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler));
  const servers: Server[] = [];
  const sweeper = setInterval(() => registry.sweep(), 1_000);
  sweeper.unref();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const grace = options.drainTimeoutMs ?? DEFAULT_DRAIN_MS;
      if (drain.active > 0) log.info(`draining ${drain.active} request(s) in flight (up to ${grace / 1000} s); new requests get 503`);
      const drained = await drain.drain(
        servers.filter((server) => server.listening),
        grace,
      );
      if (drained.cut > 0) log.warn(`drain timeout (${grace / 1000} s) reached: cut ${drained.cut} request(s) still in flight`);
      clearInterval(sweeper);
      remotes.close();
      await views.close();
      await core.router.close();
      await registry.close();
    })());
  try {
    const main = serve(listener);
    servers.push(main);
    const port = await listen(main, options.host, options.port);
    let mcpPort: number | undefined;
    if (options.mcpPort) {
      const second = serve(listener);
      servers.push(second);
      mcpPort = await listen(second, options.host, options.mcpPort);
    }
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    return { url: `${tls ? 'https' : 'http'}://${host}:${port}`, port, mcpPort, core, servers, views, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
