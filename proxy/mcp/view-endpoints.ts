import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LeanPath, ModernEndpoint, ModernRoute } from '../../src/http/front-door.js';
import { sendRefusal } from '../../src/http/mcp-post.js';
import { MeshError, toHttpJsonRpcError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { SessionLimitsOptions } from '../../src/http/session-limits.js';
import { DISCOVERY_VIEW, type Views, type ViewsAnswer } from '../../src/contract/views.js';
import type { MeshCore } from '../core.js';
import { createProxyLeanPath } from '../hot-path.js';
import { MeshEndpoint } from './endpoint.js';
import { ModernMeshEndpoint } from './modern-endpoint.js';
import { isProxyMcpUrl, VIEW_PATH, ViewScope } from './view-scope.js';

/** One MCP endpoint of the proxy in both eras: the legacy sessions, the modern per-request handler, the lean path. */
interface Endpoint {
  scope: ViewScope;
  legacy: MeshEndpoint;
  modern: ModernMeshEndpoint;
  lean: LeanPath;
}

export { isProxyMcpUrl };

/**
 * The proxy's MCP endpoints: `/mcp` (everything), the built-in discovery view `/mcp/discovery`
 * (the mesh's discovery tools only) and one endpoint per named view `/mcp/<view>`, each a
 * MeshEndpoint (legacy sessions) with its ModernMeshEndpoint (2026-07-28) and lean path, all
 * sharing the core. The front door and the app dispatch on the request's path; an unknown view
 * is a 404 naming the known ones. `setViews` replaces the named views while the proxy runs.
 */
export class ViewEndpoints {
  private readonly endpoints = new Map<string, Endpoint>();
  readonly main: Endpoint;

  constructor(
    private readonly core: MeshCore,
    private readonly log: Logger,
    private readonly version: string,
    private readonly limits: SessionLimitsOptions = {},
  ) {
    this.main = this.create(ViewScope.all());
    this.endpoints.set(DISCOVERY_VIEW, this.create(ViewScope.discovery()));
  }

  private create(scope: ViewScope): Endpoint {
    const legacy = new MeshEndpoint(this.core, this.log, this.version, this.limits, scope);
    return { scope, legacy, modern: new ModernMeshEndpoint(legacy, this.core.router, this.version, this.log), lean: createProxyLeanPath(legacy) };
  }

  /** Open client sessions over every endpoint. */
  get sessionCount(): number {
    let count = this.main.legacy.sessionCount;
    for (const endpoint of this.endpoints.values()) count += endpoint.legacy.sessionCount;
    return count;
  }

  /** Replaces the named views: new ones start serving, removed ones close, changed ones tell their clients what changed. */
  async setViews(views: Views): Promise<void> {
    const closing: Endpoint[] = [];
    for (const [name, endpoint] of this.endpoints) {
      if (name === DISCOVERY_VIEW || name in views) continue;
      this.endpoints.delete(name);
      closing.push(endpoint);
    }
    for (const [name, view] of Object.entries(views)) {
      const known = this.endpoints.get(name);
      if (!known) this.endpoints.set(name, this.create(ViewScope.named(name, view)));
      else if (known.scope.update(view)) known.legacy.scopeChanged();
    }
    if (closing.length > 0) this.log.info(`views removed: ${closing.map((e) => e.scope.name).join(', ')}`);
    await Promise.all(closing.map((endpoint) => closeEndpoint(endpoint)));
  }

  /** The views as GET /v1/views shows them, the discovery view first. */
  describe(): ViewsAnswer['views'] {
    return [...this.endpoints.values()].map(({ scope }) => ({ name: scope.name ?? '', path: scope.path, builtIn: scope.kind === 'discovery', ...(scope.view && { view: scope.view }) }));
  }

  /** The endpoint of `/mcp` (view undefined) or `/mcp/<view>`. @throws MeshError NOT_FOUND naming the known views */
  endpoint(view: string | undefined): Endpoint {
    if (view === undefined) return this.main;
    const found = this.endpoints.get(view);
    if (found) return found;
    const known = [...this.endpoints.keys()].join(', ');
    throw new MeshError('NOT_FOUND', `no view "${view}" on this proxy; known views: ${known} (at /mcp/<view>; /mcp shows every service)`, { context: { view } });
  }

  // The endpoint a request's path names.
  private endpointOf(url: string | undefined): Endpoint {
    const match = url === undefined ? null : VIEW_PATH.exec(url);
    return this.endpoint(match?.[1] === undefined ? undefined : decodeURIComponent(match[1]));
  }

  /** The legacy side for the app's routes (`/mcp`, `/mcp/:view`): the SDK transport of the endpoint's sessions. */
  handle(view: string | undefined, request: Request): Promise<Response> {
    let endpoint: Endpoint;
    try {
      endpoint = this.endpoint(view);
    } catch (error) {
      const { status, body } = toHttpJsonRpcError(error);
      return Promise.resolve(Response.json(body, { status }));
    }
    return endpoint.legacy.handle(request);
  }

  /** The front door's lean path: plain calls on a session of the endpoint the path names; anything else goes on to `handle`. */
  readonly lean: LeanPath = {
    call: (sessionId, request, req, res) => {
      let endpoint: Endpoint;
      try {
        endpoint = this.endpointOf(req.url);
      } catch {
        return false;
      }
      return endpoint.lean.call(sessionId, request, req, res);
    },
    cancel: (sessionId, requestId, reason) => [this.main, ...this.endpoints.values()].some((endpoint) => endpoint.lean.cancel?.(sessionId, requestId, reason) === true),
  };

  /** The front door's 2026-07-28 side: the modern endpoint the path names. */
  readonly modern: ModernEndpoint = {
    serve: (req: IncomingMessage, res: ServerResponse, parsed: unknown, route: ModernRoute) => {
      let endpoint: Endpoint;
      try {
        endpoint = this.endpointOf(req.url);
      } catch (error) {
        return sendRefusal(res, error);
      }
      endpoint.modern.serve(req, res, parsed, route);
    },
    close: () => this.close(),
  };

  async close(): Promise<void> {
    const all = [this.main, ...this.endpoints.values()];
    this.endpoints.clear();
    await Promise.all(all.map((endpoint) => closeEndpoint(endpoint)));
  }
}

async function closeEndpoint(endpoint: Endpoint): Promise<void> {
  await endpoint.modern.close();
  await endpoint.legacy.close();
}
