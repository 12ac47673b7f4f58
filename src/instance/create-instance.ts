import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/server';
import { Bridge } from '../bridge/bridge.js';
import { createLogger, type Logger } from '../log.js';
import { resolveInstanceOptions, type InstanceOptions, type ResolvedInstanceOptions } from './instance-options.js';
import { connectNativeServer, type NativeServer } from './native-server.js';
import { NativeTools, type ArgsOf, type ToolHandler, type ToolInput, type ToolSpec } from './native-tools.js';
import { bridgeHealth, InstanceRuntime } from './instance-runtime.js';
import { installStopSignals } from './stop-signals.js';
import { flushTracing, startTracing } from '../tracing/tracing.js';

/** Lifecycle of a native instance; `ready` is what the registry routes to. */
export type NativeState = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped';

/** GET /healthz of a native instance (the sidecar's shape, minus the child). */
export interface NativeHealth {
  name: string;
  kind: 'native';
  state: NativeState;
  url: string;
  pid: number;
  tools: number;
  toolsHash: string;
  uptime: number;
  sessions: number;
  inflight: number;
  calls: { forwarded: number; failed: number; timeouts: number };
  tags: string[];
  proxy: { url: string; registered: boolean; lastError: string | undefined } | undefined;
}

/**
 * A TypeScript MCP server that is a mesh service itself: the same endpoint (MCP Streamable HTTP
 * at /mcp, /healthz), registration and heartbeat as a sidecar, with no child process. Tools are
 * declared with zod; handlers get `ctx.mesh` to call other services.
 * @example
 * const cmc = createInstance({ name: 'cmc' })
 *   .tool('shout', { text: z.string() }, ({ text }) => text.toUpperCase());
 * await cmc.start(); // listens on 5000-5099, registers with MESH_PROXY_URL
 */
export class NativeInstance {
  readonly options: ResolvedInstanceOptions;
  state: NativeState = 'created';
  url = '';
  port = 0;
  private readonly tools = new NativeTools();
  private readonly log: Logger;
  private bridge: Bridge | undefined;
  private native: NativeServer | undefined;
  private runtime: InstanceRuntime | undefined;
  private startedAt = Date.now();
  private starting: Promise<{ url: string; port: number }> | undefined;
  private stopping: Promise<void> | undefined;
  private removeSignals: (() => void) | undefined;

  constructor(options: InstanceOptions = {}) {
    this.options = resolveInstanceOptions(options);
    this.log = options.log ?? createLogger(this.options.name);
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * Adds a tool: a name, optionally a description (or `{ description, title, annotations }`), a zod
   * object schema or shape for the arguments (listed as JSON Schema; checked before the handler
   * runs, a bad call answered with an error naming each wrong field), and the handler.
   * @example instance.tool('add', 'Adds two numbers', { a: z.number(), b: z.number() }, ({ a, b }) => String(a + b))
   */
  tool<S extends ToolInput>(name: string, input: S, handler: ToolHandler<ArgsOf<S>>): this;
  tool<S extends ToolInput>(name: string, spec: string | ToolSpec, input: S, handler: ToolHandler<ArgsOf<S>>): this;
  tool(name: string, ...rest: unknown[]): this {
    const [spec, input, handler] = rest.length >= 3 ? rest : [{}, ...rest];
    this.tools.add(name, typeof spec === 'string' ? { description: spec } : (spec as ToolSpec), input, handler);
    if (this.state === 'ready') {
      this.native?.toolsChanged();
      this.runtime?.registration?.refresh();
    }
    return this;
  }

  /**
   * Serves the endpoint and joins the mesh (unless standalone). Resolves once listening; a missing
   * proxy only delays registration (retried in the background), as for a sidecar.
   * @example const { url } = await instance.start()
   */
  start(): Promise<{ url: string; port: number }> {
    if (this.state !== 'created') return Promise.reject(new Error(`${this.name}: start() was already called (state ${this.state})`));
    this.state = 'starting';
    this.starting = this.launch();
    return this.starting;
  }

  // start()'s work; stop() waits for it, so a stop during start never leaves a socket or heartbeat behind.
  private async launch(): Promise<{ url: string; port: number }> {
    this.startedAt = Date.now();
    const o = this.options;
    // Spans when OTEL_EXPORTER_OTLP_ENDPOINT is set (once per process; the OTel SDK is loaded only then).
    await startTracing(o.name);
    const bridge = new Bridge({ name: o.name, deadlineMs: o.deadlineMs, log: this.log.child('bridge') });
    this.bridge = bridge;
    try {
      this.native = await connectNativeServer({
        info: { name: o.name, version: o.version, ...(o.description ? { description: o.description } : {}) },
        instructions: o.description,
        tools: this.tools,
        client: { caller: o.name, proxyUrl: o.proxyUrls, ca: o.ca, token: o.token, timeoutMs: o.deadlineMs },
      });
      bridge.attach(this.native.transport);
      bridge.serverInit = await bridge.request('initialize', {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: `mesh-native/${o.name}`, version: o.version },
      });
      bridge.notify('notifications/initialized');
      this.runtime = await InstanceRuntime.listen({
        name: o.name,
        kind: 'native',
        version: o.version,
        tags: o.tags,
        host: o.host,
        port: o.port,
        portRange: o.portRange,
        allowedHosts: o.allowedHosts,
        token: o.token,
        sessionIdleMs: o.sessionIdleMs,
        maxSessions: o.maxSessions,
        log: this.log,
        bridge,
        health: () => this.health(),
        tools: () => this.tools.list(),
        tls: o.tls,
        ca: o.ca,
        advertiseUrl: o.advertiseUrl,
      });
    } catch (error) {
      await this.release();
      this.state = 'stopped';
      throw error;
    }
    this.url = this.runtime.url;
    this.port = this.runtime.port;
    if (this.stopping) return { url: this.url, port: this.port };
    this.state = 'ready';
    if (o.register) this.runtime.join(o.proxyUrls, () => ({ tools: this.tools.list(), toolsHash: this.tools.hash(), state: 'ready' }), o.heartbeatMs);
    if (o.handleSignals) this.removeSignals = installStopSignals(() => this.stop(), this.log);
    this.log.info(`${o.name} ready at ${this.url} (${this.tools.size} tools${o.register ? `, joining ${o.proxyUrls.join(', ')}` : ', standalone'})`);
    return { url: this.url, port: this.port };
  }

  /** Deregisters, drains the endpoint (new requests get 503, calls in flight finish up to the drain timeout), and forgets the signal handlers. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      await this.starting?.catch(() => undefined);
      this.removeSignals?.();
      await this.release();
      await flushTracing();
      this.state = 'stopped';
    })();
    return this.stopping;
  }

  /** What GET /healthz answers. */
  health(): NativeHealth {
    return {
      name: this.name,
      kind: 'native',
      state: this.state,
      url: this.url,
      pid: process.pid,
      tools: this.tools.size,
      toolsHash: this.tools.hash(),
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      ...bridgeHealth(this.bridge),
      tags: this.options.tags,
      proxy: this.runtime?.proxyStatus(),
    };
  }

  // Deregisters and drains the endpoint (when it was listening), then stops the in-process server.
  private async release(): Promise<void> {
    await this.runtime?.stop(this.options.drainTimeoutMs).catch(() => undefined);
    await this.native?.close();
    this.bridge?.close();
  }

  /** `await using instance = createInstance(...)` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Creates a native mesh instance; options default from MESH_SERVICE_NAME, MESH_PROXY_URL,
 * MESH_PORT, MESH_TAGS, MESH_TOKEN, MESH_NO_PROXY (see InstanceOptions), so `mesh up` can run it.
 * @example
 * import { createInstance } from 'mm-mesh';
 * import { z } from 'zod';
 * await createInstance({ name: 'greeter' })
 *   .tool('greet', { who: z.string() }, ({ who }) => `hello ${who}`)
 *   .start();
 */
export function createInstance(options: InstanceOptions = {}): NativeInstance {
  return new NativeInstance(options);
}
