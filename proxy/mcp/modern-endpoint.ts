import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggingLevelSchema } from '@modelcontextprotocol/core';
import {
  LOG_LEVEL_META_KEY,
  createMcpHandler,
  InMemoryServerEventBus,
  McpServer,
  type Implementation,
  type ServerOptions,
  type McpHttpHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { sdkHandlerListener, type ModernRoute } from '../../src/http/front-door.js';
import { sendJson } from '../../src/http/mcp-post.js';
import { toJsonRpcError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { Relay } from '../router/relay.js';
import type { Router } from '../router/router.js';
import type { ListKind, MeshEndpoint } from './endpoint.js';
import { installMeshHandlers, MESH_CAPABILITIES, type EraHooks } from './mesh-handlers.js';
import { installCompletion } from './relay-handlers.js';
import { relayFor } from './relay-session.js';
import { answerPlainCall, callerNamed, declaredBy, plainModernCall } from './modern-lean.js';

// A modern request names its client in its own envelope (the SDK lifted and checked it); there is no session to remember it.
const callerOf = (ctx: ServerContext) => callerNamed(ctx.mcpReq.envelope);

// No session, so nothing relayed but the request's own progress and cancellation (its own stream).
const MODERN_HOOKS: EraHooks = {
  callerOf,
  relayed: (ctx, meta, handle) => handle({ ...relayFor(undefined, ctx, meta), declared: declaredBy(ctx.mcpReq.envelope), modern: true, ...logRelay(ctx) }),
};

const LevelSchema = LoggingLevelSchema.optional().catch(undefined);

// A request that asked for a log level hears the instances' log lines for it on its own stream, named by service.
function logRelay(ctx: ServerContext): Pick<Relay, 'logLevel' | 'onLog'> {
  const logLevel = LevelSchema.parse((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY]);
  if (!logLevel) return {};
  return {
    logLevel,
    onLog: (service, params) => {
      const logger = params.logger ? `${service}/${params.logger}` : service;
      ctx.mcpReq.notify({ method: 'notifications/message', params: { ...params, logger } }).catch(() => undefined);
    },
  };
}

/**
 * The per-request McpServer of the modern endpoint: no tool of its own (the aggregating handlers
 * are installed on its low-level Server), but the namespaced tools' inputSchemas, so the SDK's
 * handler checks a tools/call's Mcp-Param-* headers against its arguments (SEP-2243: -32020, HTTP
 * 400) before dispatch, as it does for an McpServer's registered tools.
 */
class MeshRequestServer extends McpServer {
  constructor(
    info: Implementation,
    options: ServerOptions,
    private readonly schemaOf: (name: string) => Record<string, unknown> | undefined,
  ) {
    super(info, options);
  }

  override toolInputSchemaJson(name: string): Record<string, unknown> | undefined {
    return this.schemaOf(name);
  }
}

/**
 * The mesh endpoint for 2026-07-28 clients: the SDK's per-request handler (`createMcpHandler`,
 * legacy refused: the legacy era keeps its sessions in MeshEndpoint) over a per-request Server
 * with the same aggregating handlers as the legacy sessions' Servers. Its `subscriptions/listen`
 * streams hear the list changes the legacy sessions hear as list_changed.
 */
export class ModernMeshEndpoint {
  private readonly handler: McpHttpHandler;
  private readonly bus = new InMemoryServerEventBus();
  private readonly toSdk: (req: IncomingMessage, res: ServerResponse, parsed: unknown) => void;
  private readonly unwatch: () => void;

  constructor(
    private readonly surface: MeshEndpoint,
    private readonly router: Router,
    private readonly version: string,
    log: Logger,
  ) {
    this.handler = createMcpHandler(() => this.buildServer(), {
      legacy: 'reject',
      bus: this.bus,
      onerror: (error) => log.debug(`modern /mcp: ${error.message}`),
    });
    const notify = this.handler.notify;
    const publish: Record<ListKind, () => void> = { tools: () => notify.toolsChanged(), resources: () => notify.resourcesChanged(), prompts: () => notify.promptsChanged() };
    this.unwatch = surface.watchLists({ listening: () => this.bus.listenerCount > 0, changed: (kind) => publish[kind]() });
    this.toSdk = sdkHandlerListener(this.handler);
  }

  private get serverInfo() {
    return { name: 'mesh-proxy', version: this.version };
  }

  private buildServer(): McpServer {
    const options = { capabilities: { ...MESH_CAPABILITIES, logging: {} }, requestState: { verify: this.surface.mrtr.verify } };
    const mcp = new MeshRequestServer(this.serverInfo, options, (name) => this.surface.paramHeaderSchema(name));
    installMeshHandlers(mcp.server, this.surface, MODERN_HOOKS);
    installCompletion(mcp.server, { router: this.router, catalog: () => this.surface.catalog(), callerOf, check: (service, what) => this.surface.assertShows(service, what) });
    return mcp;
  }

  /**
   * `route`: the front door's classification of this request (classified once there). A plain
   * tools/call takes the lean path (no per-request Server, no session lookup).
   */
  serve(req: IncomingMessage, res: ServerResponse, parsed: unknown, route: ModernRoute): void {
    const plain = plainModernCall(req, route, (name) => this.surface.mirrorsParamHeaders(name));
    if (plain) {
      answerPlainCall(res, plain, this.surface, this.serverInfo).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 200, toJsonRpcError(plain.id, error));
      });
      return;
    }
    this.toSdk(req, res, parsed);
  }

  async close(): Promise<void> {
    this.unwatch();
    await this.handler.close();
  }
}
