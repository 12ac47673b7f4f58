import { randomUUID } from 'node:crypto';
import { Server, WebStandardStreamableHTTPServerTransport, ProtocolErrorCode, type CallToolResult, type Tool } from '@modelcontextprotocol/server';
import { paramHeadersOf } from '../../src/era/param-headers.js';
import { MeshError, toHttpJsonRpcError, toMeshError, type MeshErrorCode } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { hopsOf } from '../../src/instance/mesh-meta.js';
import { carrierFrom, type TraceCarrier } from '../../src/tracing/trace-context.js';
import type { MeshCore } from '../core.js';
import { buildCatalog, type Catalog } from './catalog.js';
import type { CallCancel } from '../router/call-cancel.js';
import type { Relay } from '../router/relay.js';
import { callMeshTool, meshToolNames, meshTools } from './mesh-tools.js';
import { ToolNameIndex } from './namespacing.js';
import { scopedTools } from './scoped-lists.js';
import { ViewScope } from './view-scope.js';
import { installRelayHandlers, newSessionState, relayTargetOf, releaseSession, type SessionState } from './relay-handlers.js';
import { relayFor, type Extra } from './relay-session.js';
import { InputRequired, type InputRetry } from '../router/modern-hop.js';
import { MrtrRelay } from './mrtr-relay.js';
import { installMeshHandlers, MESH_CAPABILITIES, type MeshSurface } from './mesh-handlers.js';
import { meshContent, meshPromptResult, meshReadResult } from './resource-uris.js';
import { meshUriOrThrow, rpcError, toRpcError, unknownPrompt } from './rpc-error.js';
import { SessionLimits, type SessionActivity, type SessionLimitsOptions } from '../../src/http/session-limits.js';

const PROTOCOL_ERRORS = new Set<MeshErrorCode>(['TOOL_NOT_FOUND', 'SERVICE_NOT_FOUND', 'BAD_REQUEST', 'LOOP_DETECTED']);

/** A catalog that left out a service that could not be listed is rebuilt on demand after this long. */
const RETRY_MISSING_MS = 5_000;

export type ListKind = 'tools' | 'resources' | 'prompts';

/** Hears when an advertised list changed, as the legacy sessions hear list_changed. */
export interface ListWatcher {
  /** True while someone listens (else the catalog is not rebuilt just to compare it). */
  listening(): boolean;
  changed(kind: ListKind): void;
}

interface Session extends SessionActivity {
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
  state: SessionState;
}

/**
 * The mesh's one MCP endpoint: the seven mesh tools plus every healthy service's tools as
 * `service__tool`, resources as `mesh://service/uri` and prompts as `service__prompt`. Each client
 * session is an SDK Server on an SDK Streamable HTTP transport; sessions hear list_changed for
 * tools, resources and prompts whenever what the endpoint advertises changes. What the services
 * send during a call is relayed back: progress with the client's own token, and for sessions that
 * declared sampling/elicitation/roots or set a log level, the instances' requests and log lines on
 * upstream sessions of their own (relay-handlers.ts, relay-session.ts); cancellation is forwarded.
 */
export class MeshEndpoint implements MeshSurface {
  private readonly sessions = new Map<string, Session>();
  private index = new ToolNameIndex([]);
  private tools: Tool[] = meshTools;
  /** The inputSchemas of the advertised tools that mirror arguments into Mcp-Param-* headers, by advertised name. */
  private paramHeaderTools = new Map<string, Tool['inputSchema']>();
  private toolsKey = '';
  private toolsDirty = false;
  private changeTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  /** How long the last tool-list rebuild held the event loop (ms): the next refresh waits at least 4× that, a fifth of the time at most. */
  private lastRebuildMs = 0;
  private catalogPromise: Promise<Catalog> | undefined;
  private catalogBuilt: Catalog | undefined;
  private catalogKeys = { resources: '[[],[]]', prompts: '[]' };
  /** What sessions were last told about (list_changed is sent when the current lists differ). */
  private announced = { tools: '', resources: '[[],[]]', prompts: '[]' };
  private closed = false;
  /** The lists instances announced as changed since the last refresh (passed on even when the aggregate looks the same). */
  private readonly instanceAnnounced = new Set<ListKind>();
  private readonly watchers: ListWatcher[] = [];
  /** MRTR between clients and instances (the proxy's signed requestState), for both eras. */
  readonly mrtr = new MrtrRelay();
  private readonly limits: SessionLimits;
  private readonly offChange: () => void;

  /**
   * `limits`: idle timeout and cap of the client sessions (defaults 30 min, 1,000), and the clock they read.
   * `scope`: what this endpoint shows (default everything: `/mcp`; a named view or the discovery view otherwise).
   */
  constructor(
    private readonly core: MeshCore,
    private readonly log: Logger,
    private readonly version: string,
    limits: SessionLimitsOptions = {},
    readonly scope: ViewScope = ViewScope.all(),
  ) {
    this.rebuildTools();
    this.announced.tools = this.toolsKey;
    this.offChange = core.onChange((announced) => this.changed(announced));
    this.limits = new SessionLimits(limits);
    this.limits.startSweeping(
      () => this.sessions.entries(),
      (id) => this.expire(id, 'idle'),
    );
  }

  /** Open client sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  // An expired or evicted session is closed for good: its next request gets 404 and its client initializes again.
  private expire(id: string, why: 'idle' | 'evicted'): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.log.debug(this.limits.closedMessage(id, why));
    this.dropSession(id);
    session.server.close().catch(() => undefined);
  }

  /** Recomputes the advertised tools from the healthy services. */
  private rebuildTools(): void {
    this.toolsDirty = false; // first: a status change noticed while rebuilding marks it dirty again
    const started = performance.now();
    const { refs, tools } = scopedTools(this.core, this.scope);
    this.index = this.core.namer.index(refs);
    this.tools = tools;
    this.paramHeaderTools = new Map(tools.filter((tool) => paramHeadersOf(tool).length > 0).map((tool) => [tool.name, tool.inputSchema]));
    this.toolsKey = JSON.stringify(tools);
    this.lastRebuildMs = performance.now() - started;
  }

  // Lists are rebuilt on first use after a change, so a list right after a change is never stale.
  listTools(): Tool[] {
    if (this.toolsDirty) this.rebuildTools();
    return this.tools;
  }

  /** True when tool `name` designates arguments mirrored into Mcp-Param-* headers (2026-07-28 clients send and the SDK checks them). */
  mirrorsParamHeaders(name: string): boolean {
    this.listTools();
    return this.paramHeaderTools.has(name);
  }

  /** The inputSchema of tool `name` when it mirrors arguments into Mcp-Param-* headers (the SDK's handler checks them against it), else undefined. */
  paramHeaderSchema(name: string): Record<string, unknown> | undefined {
    this.listTools();
    return this.paramHeaderTools.get(name);
  }

  /** The current resources/prompts catalog, built (from cached per-instance lists) when stale. */
  catalog(): Promise<Catalog> {
    const built = this.catalogBuilt;
    if (built && built.missing.length > 0 && Date.now() - built.builtAt > RETRY_MISSING_MS) this.catalogPromise = undefined;
    if (!this.catalogPromise) {
      const building: Promise<Catalog> = buildCatalog(this.core, this.log, this.scope).then((catalog) => {
        if (this.catalogPromise === building) {
          this.catalogBuilt = catalog;
          this.catalogKeys = { resources: JSON.stringify([catalog.resources, catalog.templates]), prompts: JSON.stringify(catalog.prompts) };
        }
        return catalog;
      });
      this.catalogPromise = building;
    }
    return this.catalogPromise;
  }

  /** The view's selection was replaced (a re-applied manifest): its lists are recomputed and its clients hear what changed. */
  scopeChanged(): void {
    this.changed();
  }

  // `announced`: an instance said this list changed; its clients hear it even if the aggregate looks the same.
  private changed(announced?: ListKind): void {
    if (announced) this.instanceAnnounced.add(announced);
    this.toolsDirty = true;
    this.catalogPromise = undefined;
    this.catalogBuilt = undefined;
    // Coalesce bursts (a manifest starting eleven services) into one round of notifications.
    if (this.changeTimer || this.closed) return;
    this.changeTimer = setTimeout(
      () => {
        this.changeTimer = undefined;
        this.refreshing = this.refreshing.then(() => this.refresh()).catch((error) => this.log.warn(`refreshing the endpoint's lists failed: ${String(error)}`));
      },
      Math.max(50, 4 * this.lastRebuildMs),
    );
    this.changeTimer.unref();
  }

  // Recomputes what is advertised and tells every session what changed. With nobody to tell, the
  // lists stay dirty until first asked for (10,000 instances cost nothing per heartbeat then).
  private async refresh(): Promise<void> {
    if (this.sessions.size === 0 && !this.watchers.some((watcher) => watcher.listening())) return;
    const forced = new Set(this.instanceAnnounced);
    this.instanceAnnounced.clear();
    this.listTools();
    if (this.toolsKey !== this.announced.tools || forced.has('tools')) this.broadcast('tools', (server) => server.sendToolListChanged());
    this.announced.tools = this.toolsKey;
    await this.catalog();
    const { resources, prompts } = this.catalogKeys;
    if (resources !== this.announced.resources || forced.has('resources')) this.broadcast('resources', (server) => server.sendResourceListChanged());
    if (prompts !== this.announced.prompts || forced.has('prompts')) this.broadcast('prompts', (server) => server.sendPromptListChanged());
    this.announced = { ...this.announced, resources, prompts };
  }

  private broadcast(kind: ListKind, send: (server: Server) => Promise<void>): void {
    if (this.closed) return;
    for (const { server } of this.sessions.values()) send(server).catch(() => undefined);
    for (const watcher of this.watchers) watcher.changed(kind);
  }

  /** Tells `watcher` (the modern endpoint's subscriptions/listen streams) what the sessions are told; returns its removal. */
  watchLists(watcher: ListWatcher): () => void {
    this.watchers.push(watcher);
    return () => {
      const at = this.watchers.indexOf(watcher);
      if (at >= 0) this.watchers.splice(at, 1);
    };
  }

  /** Calls an endpoint tool by its advertised name; `relay` carries what must flow back during the call. */
  async callTool(name: string, args: Record<string, unknown>, caller: string, hops = 0, relay?: Relay, retry?: InputRetry, trace?: TraceCarrier): Promise<CallToolResult> {
    if (meshToolNames.has(name)) {
      if (this.scope.showsMeshTool(name)) return callMeshTool(this.core, name, args, caller, hops, relay, trace);
      throw this.scope.outside(`mesh tool "${name}"`);
    }
    this.listTools();
    const ref = this.index.resolve(name);
    if (!ref)
      throw new MeshError(
        'TOOL_NOT_FOUND',
        `unknown tool "${name}": mesh tools are ${[...meshToolNames].join(', ')}; service tools are named service${this.core.namer.separator}tool (see tools/list)`,
      );
    this.assertShows(ref.service, `tool "${name}"`, ref.tool);
    const result = await this.core.router.call(ref.service, ref.tool, args, { caller, hops, trace, ...(relay && { relay }), ...(retry && { retry }) });
    const content = meshContent(ref.service, result.content);
    return content === result.content ? result : { ...result, content };
  }

  /** @throws MeshError naming the view when this endpoint does not show `service` (or its `tool`): a view selects it by name or its instances' tags. */
  assertShows(service: string, what: string, tool?: string, as: (error: MeshError) => Error = (error) => error): void {
    const tags = () => this.core.registry.service(service)?.tags ?? [];
    if (this.scope.kind !== 'all' && !(this.scope.showsService(service, tags()) && (tool === undefined || this.scope.showsTool(service, tool)))) throw as(this.scope.outside(what));
  }

  /**
   * tools/call as a client sees it: the tool's result, or an isError result when the call failed on
   * its way (timeout, crash, nothing healthy: a tool error the model can read and act on).
   * `meta` is the request's `_meta`: the hop count it carries (every routed call has one) is kept,
   * so a server that calls back into the mesh and passes its `_meta` on stays under the loop guard;
   * its `traceparent`/`tracestate` are the trace the call continues.
   * @throws MeshError when asking for something that does not exist (a protocol error)
   * @throws InputRequired when the instance asked for the client's input (MRTR; `retry` carries the answers back)
   */
  async answerToolCall(name: string, args: Record<string, unknown>, caller: string, relay?: Relay, meta?: unknown, retry?: InputRetry): Promise<CallToolResult> {
    try {
      return await this.callTool(name, args, caller, hopsOf(meta), relay, retry, carrierFrom(meta));
    } catch (error) {
      if (error instanceof InputRequired) throw error;
      const mesh = toMeshError(error);
      // For a 2026-07-28 client, a capability it did not declare (-32021 from the instance) is its protocol error, not the tool's.
      if (PROTOCOL_ERRORS.has(mesh.code) || (relay?.modern && mesh.context?.rpcCode === ProtocolErrorCode.MissingRequiredClientCapability)) throw mesh;
      return { isError: true, content: [{ type: 'text', text: `${mesh.code}: ${mesh.message}` }] };
    }
  }

  /** True when `id` is a live session that needs nothing relayed (the proxy's hot path serves only those). */
  isLeanSession(id: string): boolean {
    return this.sessions.get(id)?.state.lean === true;
  }

  /** tools/call on an established session, for the hot path that bypasses the SDK transport; same answers as the SDK handler. */
  callToolForSession(sessionId: string, name: string, args: Record<string, unknown>, cancel?: CallCancel, meta?: unknown): Promise<CallToolResult> {
    const session = this.sessions.get(sessionId);
    const caller = session?.server.getClientVersion()?.name ?? 'mcp-client';
    // A lean session declared no elicitation, sampling or roots: an instance's request for input gets a clear tool error.
    const call = () =>
      this.answerToolCall(name, args, caller, cancel && { cancel }, meta).catch((error: unknown) => {
        if (!(error instanceof InputRequired)) throw error;
        const kinds = Object.values(error.inputRequests ?? {}).map((request) => String((request as { method?: unknown }).method));
        return {
          isError: true,
          content: [
            {
              type: 'text' as const,
              text: `INPUT_REQUIRED: tool "${name}" needs the client's input (${kinds.join(', ') || 'unspecified'}), and this client declared no elicitation, sampling or roots capability`,
            },
          ],
        };
      });
    return session ? this.limits.track(session, call) : call();
  }

  /** Reads a resource by its endpoint uri (`mesh://service/uri`). */
  async readResource(uri: string, caller: string, relay?: Relay, retry?: InputRetry, trace?: TraceCarrier) {
    const target = meshUriOrThrow(uri);
    try {
      this.assertShows(target.service, `resource "${uri}"`);
      return meshReadResult(target.service, await this.core.router.readResource(target.service, target.uri, { caller, trace, ...(relay && { relay }), ...(retry && { retry }) }));
    } catch (error) {
      if (error instanceof InputRequired) throw error;
      throw toRpcError(error);
    }
  }

  /** Gets a prompt by its endpoint name (`service__prompt`). */
  async getPrompt(name: string, args: Record<string, string> | undefined, caller: string, relay?: Relay, retry?: InputRetry, trace?: TraceCarrier) {
    const ref = (this.catalogBuilt ?? (await this.catalog())).promptIndex.resolve(name);
    if (!ref) throw unknownPrompt(name);
    this.assertShows(ref.service, `prompt "${name}"`, undefined, toRpcError);
    // Name the real prompts when the service is known to lack this one (its lists are cached).
    const listings = await this.core.router.listingsOf(ref.service).catch(() => undefined);
    if (listings && !listings.prompts.some((p) => p.name === ref.tool)) {
      const names = listings.prompts.map((p) => this.core.namer.name(ref.service, p.name));
      throw rpcError(ProtocolErrorCode.InvalidParams, `service "${ref.service}" has no prompt "${ref.tool}"; its prompts: ${names.length ? names.join(', ') : '(none)'}`, {
        code: 'PROMPT_NOT_FOUND',
        service: ref.service,
        prompt: ref.tool,
      });
    }
    try {
      return meshPromptResult(ref.service, await this.core.router.getPrompt(ref.service, ref.tool, args, { caller, trace, ...(relay && { relay }), ...(retry && { retry }) }));
    } catch (error) {
      if (error instanceof InputRequired) throw error;
      throw toRpcError(error);
    }
  }

  // A plain request carries only its cancellation; one of a relay session runs as that session's request in flight.
  private relayed<T>(state: SessionState, extra: Extra, meta: { progressToken?: string | number } | undefined, handle: (relay: Relay) => Promise<T>): Promise<T> {
    const target = relayTargetOf(state);
    const relay = relayFor(target, extra, meta);
    const run = () => (target ? target.run(extra, () => handle(relay)) : handle(relay));
    const session = extra.sessionId === undefined ? undefined : this.sessions.get(extra.sessionId);
    return session ? this.limits.track(session, run) : run();
  }

  private createServer(transport: { sessionId?: string | undefined }): { server: Server; state: SessionState } {
    const server = new Server(
      { name: 'mesh-proxy', version: this.version },
      { capabilities: { ...MESH_CAPABILITIES, resources: { ...MESH_CAPABILITIES.resources, subscribe: true }, logging: {} }, requestState: { verify: this.mrtr.verify } },
    );
    const state = newSessionState(server, () => transport.sessionId);
    const callerOf = () => server.getClientVersion()?.name ?? 'mcp-client';
    server.oninitialized = () => void relayTargetOf(state);
    installMeshHandlers(server, this, { callerOf, relayed: (ctx, meta, handle) => this.relayed(state, ctx, meta, handle) });
    installRelayHandlers(state, { router: this.core.router, catalog: () => this.catalog(), callerOf, check: (service, what) => this.assertShows(service, what) });
    return { server, state };
  }

  /** Handles any request to /mcp. */
  async handle(request: Request, parsedBody?: unknown): Promise<Response> {
    const id = request.headers.get('mcp-session-id');
    const options = parsedBody === undefined ? undefined : { parsedBody };
    if (id) {
      const session = this.sessions.get(id);
      if (session) {
        session.lastActive = this.limits.now();
        return session.transport.handleRequest(request, options);
      }
      const { status, body } = toHttpJsonRpcError(new MeshError('SESSION_NOT_FOUND', `Session not found: ${id} (expired or the proxy restarted; initialize again)`));
      return Response.json(body, { status });
    }
    const room = this.limits.admit(this.sessions.size, this.sessions.entries());
    if (room === 'full') return this.limits.fullResponse('mesh-proxy');
    if (room !== undefined) this.expire(room, 'evicted');
    // The transport is created first: the session's state reads its id.
    let created: { server: Server; state: SessionState } | undefined;
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sid) => {
        if (created) this.sessions.set(sid, { ...created, transport, lastActive: this.limits.now(), busy: 0 });
      },
      onsessionclosed: (sid) => this.dropSession(sid),
    });
    created = this.createServer(transport);
    const { server, state } = created;
    transport.onclose = () => {
      if (transport.sessionId) this.dropSession(transport.sessionId);
      releaseSession(state, this.core.router);
    };
    await server.connect(transport);
    return transport.handleRequest(request, options);
  }

  // A session ends (DELETE, or its transport closed): its relay sessions upstream and its subscriptions go with it.
  private dropSession(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    releaseSession(session.state, this.core.router);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.offChange();
    this.limits.stop();
    if (this.changeTimer) clearTimeout(this.changeTimer);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const { state } of all) releaseSession(state, this.core.router);
    await Promise.all(all.map(({ server }) => server.close().catch(() => undefined)));
    this.log.debug('mesh endpoint closed');
  }
}
