import { setMaxListeners } from 'node:events';
import { MeshClientError, ToolError } from './errors.js';
import type { z } from 'zod';
import { ToolCallAnswerSchema } from '../contract/call.js';
import { ServiceDetailSchema, ServicesAnswerSchema, ToolsAnswerSchema } from '../contract/services.js';
import { parseAnswer } from './answer.js';
import { proxyRequest, type ProxyRequest, type ProxyTransport } from './proxy-request.js';
import type { CallToolResult, ServiceDetail, ServiceFilter, ServiceInfo, ServiceStatus, Tool } from './types.js';
import { waitForService, type WaitForOptions } from './wait-for.js';
import { proxyUrlsFrom } from './proxy-url.js';
import { allUnreachable, mayTryNextProxy } from './failover.js';
import { ProxyUnreachable } from './errors.js';
import { readCa } from '../http/tls-trust.js';
import { trustedFetch } from '../http/trusted-fetch.js';
import type { TraceCarrier } from '../tracing/trace-context.js';
import { SpanKind, startHop } from '../tracing/hop-span.js';

/** Options of `new MeshClient()`. */
export interface MeshClientOptions {
  /**
   * Base URL of the mesh-proxy, or the proxies of one mesh in the order to try them (default
   * `MESH_PROXY_URL`, comma-separated, else `http://127.0.0.1:6001`). A request goes to the next
   * proxy when it never reached one (connection refused, no route, certificate refused), and a
   * lookup (GET) also when the connection broke; a tool call that may have run is never sent twice.
   */
  proxyUrl?: string | string[];
  /** The same as `proxyUrl` (its older name). */
  proxy?: string | string[];
  /** CA(s) an https proxy is verified against besides the system store: a PEM or the path of a PEM file, or a list of PEMs used as the whole store (default `MESH_CA`). */
  ca?: string | string[] | undefined;
  /** Name this client calls as (sent as `x-mesh-caller`, shown in the audit trail). */
  caller?: string;
  /** Mesh hops already taken by the request this client acts for (native instances pass theirs on). */
  hops?: number;
  /** Deadline of every call in ms, sent to the proxy as `deadlineMs` (default 60 000). */
  timeoutMs?: number;
  /** Bearer token, when the proxy requires one (default `MESH_TOKEN`). */
  token?: string;
  /** The fetch to use (default the global one, which keeps connections alive). */
  fetch?: typeof fetch;
  /** The W3C trace context calls continue (a native handler's incoming request); without one each call starts a trace. */
  trace?: TraceCarrier | undefined;
}

/** Options of one `call()`. */
export interface CallOptions {
  /** This call's deadline in ms (default the client's `timeoutMs`). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The W3C trace context this call continues (default the client's `trace`). */
  trace?: TraceCarrier | undefined;
}

const DEFAULT_TIMEOUT_MS = 60_000;
// The client waits a little longer than the deadline it gives the proxy, so the proxy's own
// CALL_TIMEOUT answer (naming the service and tool) arrives first.
const GRACE_MS = 2_000;
// Listing services is a registry lookup; it never needs the long call deadline.
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Calls any tool of any service in the mesh through the mesh-proxy's HTTP API.
 * @example
 * const mesh = new MeshClient({ caller: 'my-app' });
 * await mesh.waitFor('fs', { timeout: 10_000 });
 * const result = await mesh.call('fs', 'read_text', { path: 'chapter1.txt' });
 * console.log(text(result));
 * await mesh.close();
 */
export class MeshClient implements AsyncDisposable {
  /** Every proxy this client may use, in order, without trailing slashes. */
  readonly proxies: readonly string[];
  /** Which of `proxies` answered last (requests start there). */
  private current = 0;
  readonly caller: string | undefined;
  readonly hops: number;
  readonly timeoutMs: number;
  private readonly transport: ProxyTransport;
  private readonly closing = new AbortController();
  private readonly trace: TraceCarrier | undefined;

  constructor(options: MeshClientOptions = {}) {
    this.proxies = proxyUrlsFrom(options.proxyUrl ?? options.proxy);
    this.caller = options.caller;
    this.hops = options.hops ?? 0;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.trace = options.trace;
    // Every request in flight listens on this signal; hundreds of concurrent calls are normal.
    setMaxListeners(0, this.closing.signal);
    const ca = Array.isArray(options.ca) ? options.ca : readCa(options.ca ?? (process.env.MESH_CA || undefined), options.ca === undefined ? 'MESH_CA' : 'ca');
    this.transport = { proxy: this.proxy, fetch: trustedFetch(ca, options.fetch ?? globalThis.fetch), token: options.token ?? process.env.MESH_TOKEN };
  }

  /** The proxy's base URL, without a trailing slash: the one that answered last. */
  get proxy(): string {
    return this.proxies[this.current] as string;
  }

  /**
   * Calls `tool` of `service` and returns its result; a result with `isError` throws ToolError.
   * @throws ServiceNotFound, ToolNotFound, ServiceUnavailable, CallTimeout, LoopDetected, ToolError, ProxyUnreachable
   * @example const result = await mesh.call('fs', 'search_text', { query: 'ledger' })
   */
  async call(service: string, tool: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<CallToolResult> {
    // The proxy takes a whole, positive number of ms.
    const deadlineMs = Math.max(1, Math.ceil(options.timeoutMs ?? this.timeoutMs));
    const headers: Record<string, string> = { 'x-mesh-hops': String(this.hops) };
    if (this.caller) headers['x-mesh-caller'] = this.caller;
    // A client span with tracing on; else the caller's trace context passed on as headers.
    const span = startHop('mesh.call', SpanKind.CLIENT, options.trace ?? this.trace, { 'mesh.service': service, 'mesh.tool': tool });
    if (span.carrier?.traceparent) headers.traceparent = span.carrier.traceparent;
    if (span.carrier?.tracestate) headers.tracestate = span.carrier.tracestate;
    const answer = await this.request(
      {
        method: 'POST',
        path: `/v1/services/${encodeURIComponent(service)}/tools/${encodeURIComponent(tool)}/call`,
        body: { arguments: args, deadlineMs },
        headers,
        timeoutMs: deadlineMs + GRACE_MS,
        context: { service, tool },
      },
      options.signal,
    ).then(
      (value) => (span.end(), value),
      (error: unknown) => {
        span.end(error);
        throw error;
      },
    );
    const checked = ToolCallAnswerSchema.safeParse(answer);
    if (!checked.success) {
      throw new MeshClientError('INTERNAL', `${service}.${tool}: the proxy at ${this.proxy} answered without a tool result`, {
        context: { proxy: this.proxy, service, tool },
      });
    }
    // The SDK's type for what the check above read: its content blocks and isError; the rest passes through.
    const result = checked.data as CallToolResult;
    if (result.isError === true) throw new ToolError(result, { context: { proxy: this.proxy, service, tool } });
    return result;
  }

  /**
   * Every registered service, optionally only those with a status or tag.
   * @example const healthy = await mesh.services({ status: 'healthy' })
   */
  async services(filter: ServiceFilter = {}): Promise<ServiceInfo[]> {
    const query = new URLSearchParams();
    if (filter.status) query.set('status', filter.status);
    if (filter.tag) query.set('tag', filter.tag);
    const search = query.size > 0 ? `?${query.toString()}` : '';
    const path = `/v1/services${search}`;
    const body = await this.request({ method: 'GET', path, timeoutMs: LOOKUP_TIMEOUT_MS });
    return parseAnswer(ServicesAnswerSchema, body, `GET ${path}`, { proxy: this.proxy }).services;
  }

  /**
   * One service with its instances and tools; throws ServiceNotFound for an unknown name.
   * @example const { tools, instances } = await mesh.service('fs')
   */
  service(name: string): Promise<ServiceDetail> {
    return this.lookup(ServiceDetailSchema, name, '', LOOKUP_TIMEOUT_MS);
  }

  /**
   * A service's tools with their input schemas.
   * @example const names = (await mesh.tools('fs')).map((tool) => tool.name)
   */
  async tools(name: string): Promise<Tool[]> {
    return (await this.lookup(ToolsAnswerSchema, name, '/tools', LOOKUP_TIMEOUT_MS)).tools;
  }

  /**
   * A service's status (`healthy` if any replica is); throws ServiceNotFound for an unknown name.
   * @example if ((await mesh.status('fs')) !== 'healthy') console.warn('fs is down')
   */
  async status(name: string): Promise<ServiceStatus> {
    return (await this.service(name)).status;
  }

  /**
   * Waits until a service reaches a status (default `healthy`), polling; throws ServiceUnavailable
   * naming the last status seen when `timeout` (default 30 s) passes first.
   * @example await mesh.waitFor('fs', { timeout: 10_000 })
   */
  waitFor(name: string, options: WaitForOptions = {}): Promise<ServiceInfo> {
    const source = {
      proxy: this.proxy,
      look: (service: string, timeoutMs: number, signal: AbortSignal | undefined) => this.lookup(ServiceDetailSchema, service, '', timeoutMs, signal),
    };
    const signal = options.signal ? AbortSignal.any([options.signal, this.closing.signal]) : this.closing.signal;
    return waitForService(source, name, { ...options, signal });
  }

  /**
   * Cancels the calls in flight (they reject with CALL_CANCELLED) and refuses new ones.
   * Connections are pooled by fetch and close on their own when idle.
   * @example await mesh.close()
   */
  async close(): Promise<void> {
    if (!this.closing.signal.aborted) {
      this.closing.abort(new MeshClientError('CALL_CANCELLED', `MeshClient for ${this.proxy} was closed`, { context: { proxy: this.proxy } }));
    }
  }

  /** `await using mesh = new MeshClient()` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // One service's answer (or its tools), parsed with its wire-contract schema.
  private async lookup<S extends z.ZodType>(schema: S, name: string, suffix: string, timeoutMs: number, signal?: AbortSignal): Promise<z.output<S>> {
    const path = `/v1/services/${encodeURIComponent(name)}${suffix}`;
    const body = await this.request({ method: 'GET', path, timeoutMs, context: { service: name } }, signal);
    return parseAnswer(schema, body, `GET ${path}`, { proxy: this.proxy, service: name });
  }

  // Tries the proxies in turn from the one that answered last, as far as failover.ts allows.
  private async request(request: ProxyRequest, signal?: AbortSignal): Promise<unknown> {
    if (this.closing.signal.aborted) throw this.closing.signal.reason;
    const failures: ProxyUnreachable[] = [];
    for (let attempt = 0; attempt < this.proxies.length; attempt++) {
      const index = (this.current + attempt) % this.proxies.length;
      try {
        const answer = await proxyRequest({ ...this.transport, proxy: this.proxies[index] as string }, { ...request, signals: [this.closing.signal, signal] });
        this.current = index;
        return answer;
      } catch (error) {
        if (!(error instanceof ProxyUnreachable) || !mayTryNextProxy(error, request.method)) throw error;
        failures.push(error);
      }
    }
    throw allUnreachable(failures);
  }
}
