import type { CallToolResult, CompleteRequest, CompleteResult, GetPromptResult, ReadResourceResult, Tool } from '@modelcontextprotocol/client';
import { CompleteResultSchema } from '@modelcontextprotocol/core';
import { handleWhen, retry } from 'cockatiel';
import { paramHeadersFor } from '../../src/era/param-headers.js';
import { MeshError } from '../../src/errors.js';
import { ClientUpstreams } from './client-upstreams.js';
import { classifyFailure } from './failure-fault.js';
import { fetchListings, ListingCache, type Listings } from './listings.js';
import { isCancelled, relayRequestOptions, type Relay } from './relay.js';
import { OutlierDetector, type Admission } from './outlier-detector.js';
import { ReplicaPicker, type RoutableInstance, type RouteTable } from './replica-picker.js';
import { neverReached, toRouteError, type RouteLabel } from './route-errors.js';
import { ResourceSubscriptions } from './subscriptions.js';
import { EraVerdicts } from './era-verdicts.js';
import { InputRequired, type InputRetry } from './modern-hop.js';
import { Upstream, type UpstreamChange, type UpstreamRequestOptions } from './upstream.js';
import type { WireSizes } from './json-post.js';
import { withTraceMeta, type TraceCarrier } from '../../src/tracing/trace-context.js';
import { SpanKind, startHop, tracingOn } from '../../src/tracing/hop-span.js';

export type { RoutableInstance, RouteTable } from './replica-picker.js';
export type { AuditRecord } from './audit-record.js';
import type { AuditRecord } from './audit-record.js';

export interface CallOptions {
  caller?: string;
  /** How many mesh hops this call has already made (loop guard). */
  hops?: number;
  deadlineMs?: number;
  /**
   * What flows between the client and the instance during the request: progress, log lines and
   * server→client requests (the request then goes through an SDK client session), and the client's
   * cancellation (any path). Absent, or with only a signal, the request is a plain one.
   */
  relay?: Relay;
  /** An MRTR retry: sent to the instance that asked for input, with the client's answers (tools/call, prompts/get, resources/read). */
  retry?: InputRetry;
  /** The caller's W3C trace context (its `_meta` or headers); a new trace is started without one. */
  trace?: TraceCarrier | undefined;
}

export interface RouterOptions {
  table: RouteTable;
  deadlineMs: number;
  /** Deadline of each list request sent to build an instance's listings (default 10 s). */
  listDeadlineMs?: number;
  maxHops?: number;
  audit?: (record: AuditRecord) => void;
  /** An instance said one of its lists changed (list_changed), or its session was renewed. */
  onInstanceChange?: (instanceId: string, change: UpstreamChange) => void;
  /** Something went wrong off any request's path (a resource subscription could not be renewed or moved). */
  warn?: (message: string) => void;
  /** The instances' circuit breakers (default: Envoy-like defaults on the system clock). */
  outliers?: OutlierDetector;
  /** A request that never reached one replica is sent to another. */
  onRetry?: (service: string) => void;
  /** Largest answer read from an instance (`--max-response-bytes`; default 32 MiB). */
  maxResponseBytes?: number | undefined;
  /** CAs https instances are verified against (`--ca` plus the system store). */
  ca?: string[] | undefined;
  /** The proxy's mesh token, sent to instances on every request (they check it when they have one). */
  token?: string | undefined;
  /** Headers of a remote server (manifest `headers:`), sent on every request to that instance instead of the mesh token. */
  hopHeaders?: ((instanceId: string) => Record<string, string> | undefined) | undefined;
  /** Told when a request is sent to an instance and when it ends (the load figures' calls in flight). */
  inflight?: { begin(service: string, instance: string): void; end(service: string, instance: string): void };
}

// A request that never reached its instance (refused connection) goes once to another replica;
// nothing else is retried: a reset or a timeout after sending may have run the tool.
const retryUnsent = retry(handleWhen(neverReached), { maxAttempts: 1 });

interface Route<T> {
  service: string;
  /** What the audit trail calls the request. */
  audited: string;
  label: RouteLabel;
  /** What the audit measures as the request's size (a tool call's arguments). */
  params: unknown;
  send: (upstream: Upstream, deadlineMs: number, meta: Record<string, unknown>, request?: UpstreamRequestOptions) => Promise<T>;
  check?: () => void;
  isToolError?: (result: T) => boolean;
}

/**
 * Routes requests (tool calls, resource reads, prompt gets) to a healthy replica of a service over
 * a pooled MCP session per instance, with a deadline, one retry on another replica for a request
 * that never reached its instance, circuit breakers that eject failing instances for a while
 * (OutlierDetector), and typed errors. Also keeps each instance's resource and prompt lists.
 */
export class Router {
  private readonly upstreams = new Map<string, Upstream>();
  /** What each instance speaks (probed once, then handed to every connect as the SDK's `prior`). */
  private readonly eras = new EraVerdicts();
  /** Each instance's circuit breaker. */
  readonly outliers: OutlierDetector;
  private readonly listings = new ListingCache();
  private readonly replicas: ReplicaPicker;
  /** The upstream sessions of client sessions that need their own (see Relay). */
  readonly relays: ClientUpstreams;
  /** Resource subscriptions of the endpoint's client sessions, held on the pooled sessions. */
  readonly subscriptions: ResourceSubscriptions;

  constructor(private readonly options: RouterOptions) {
    this.outliers = options.outliers ?? new OutlierDetector();
    this.replicas = new ReplicaPicker(options.table, this.outliers, (id) => this.upstreams.get(id)?.inflight ?? 0);
    this.relays = new ClientUpstreams({ maxResponseBytes: options.maxResponseBytes, token: options.token, ca: options.ca, hopHeaders: options.hopHeaders, eras: this.eras });
    this.subscriptions = new ResourceSubscriptions({
      place: (service) => {
        const instance = this.replicas.first(service);
        return { instanceId: instance.id, upstream: this.upstream(instance) };
      },
      upstreamOf: (instanceId) => this.upstreams.get(instanceId),
      deadlineMs: Math.min(options.deadlineMs, 10_000),
      onError: options.warn,
    });
  }

  private upstream(instance: RoutableInstance): Upstream {
    let upstream = this.upstreams.get(instance.id);
    if (!upstream || upstream.url !== instance.url) {
      upstream?.close().catch(() => undefined);
      const replaced = upstream !== undefined;
      // Another url is another process: what the old one did says nothing about it.
      if (replaced) this.outliers.forget(instance.id);
      const created: Upstream = new Upstream(
        instance.url,
        'mesh-proxy',
        (change) => {
          if (this.upstreams.get(instance.id) !== created) return;
          if (change !== 'tools') this.listings.invalidate(instance.id);
          if (change === 'session') this.subscriptions.renewed(instance.id);
          this.options.onInstanceChange?.(instance.id, change);
        },
        {
          maxResponseBytes: this.options.maxResponseBytes,
          token: this.options.token,
          ca: this.options.ca,
          headers: this.options.hopHeaders?.(instance.id),
          eras: this.eras,
          configure: (client) =>
            client.setNotificationHandler('notifications/resources/updated', (notification) => {
              if (this.upstreams.get(instance.id) === created) this.subscriptions.updated(instance.id, notification.params.uri);
            }),
        },
      );
      upstream = created;
      this.upstreams.set(instance.id, upstream);
      this.listings.invalidate(instance.id);
      if (replaced) this.subscriptions.renewed(instance.id);
      else this.subscriptions.retry();
    }
    return upstream;
  }

  /** Checks the tool exists before routing, so a typo gets a list of the real names. */
  private checkTool(service: string, tool: string): void {
    const tools = this.options.table.toolsOf(service);
    if (tools.length > 0 && !tools.some((t) => t.name === tool)) {
      throw new MeshError('TOOL_NOT_FOUND', `service "${service}" has no tool "${tool}"; its tools: ${tools.map((t) => t.name).join(', ')}`, {
        context: { service, tool },
      });
    }
  }

  /** Calls `tool` on `service`; resolves with the tool's own result (isError results included). */
  call(service: string, tool: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<CallToolResult> {
    return this.route(
      {
        service,
        audited: tool,
        label: { text: `${service}.${tool}`, context: { service, tool } },
        params: args,
        check: () => this.checkTool(service, tool),
        send: (upstream, deadlineMs, meta, request) => upstream.callTool(tool, args, deadlineMs, meta, withParamHeaders(request, this.options.table.toolsOf(service), tool, args)),
        isToolError: (result) => result.isError === true,
      },
      options,
    );
  }

  /** Reads a resource of `service` by the uri the service itself gave it. */
  readResource(service: string, uri: string, options: CallOptions = {}): Promise<ReadResourceResult> {
    return this.route(
      {
        service,
        audited: `resources/read ${uri.slice(0, 200)}`,
        label: { text: `${service} resource "${uri}"`, context: { service, uri } },
        params: { uri },
        send: (upstream, deadlineMs, meta, request) => upstream.readResource(uri, deadlineMs, meta, request),
      },
      options,
    );
  }

  /** Gets a prompt of `service` by the name the service itself gave it. */
  getPrompt(service: string, name: string, args: Record<string, string> | undefined, options: CallOptions = {}): Promise<GetPromptResult> {
    return this.route(
      {
        service,
        audited: `prompts/get ${name}`,
        label: { text: `${service} prompt "${name}"`, context: { service, prompt: name } },
        params: args ?? {},
        send: (upstream, deadlineMs, meta, request) => upstream.getPrompt(name, args, deadlineMs, meta, request),
      },
      options,
    );
  }

  /** Asks `service` for completions; `params.ref` names the prompt or resource as the service itself does. */
  complete(service: string, params: CompleteRequest['params'], options: CallOptions = {}): Promise<CompleteResult> {
    const ref = params.ref.type === 'ref/prompt' ? `prompt "${params.ref.name}"` : `resource "${params.ref.uri}"`;
    return this.route(
      {
        service,
        audited: `completion/complete ${ref.slice(0, 200)}`,
        label: { text: `${service} completion of ${ref}`, context: { service, ref: params.ref } },
        params,
        send: (upstream, deadlineMs, meta, request) => upstream.request('completion/complete', params, CompleteResultSchema, deadlineMs, meta, request) as Promise<CompleteResult>,
      },
      options,
    );
  }

  /**
   * A service's resources, resource templates and prompts, from a healthy replica (one whose lists
   * are already cached when there is one). Replicas of a service are expected to offer the same.
   * @throws MeshError SERVICE_NOT_FOUND, SERVICE_UNAVAILABLE, or what listing the instance threw
   */
  async listingsOf(service: string): Promise<Listings> {
    const routable = this.replicas.routable(service);
    const cached = routable.find((i) => this.listings.has(i.id, listingKey(i)));
    const instance = cached ?? this.replicas.first(service);
    const deadlineMs = this.options.listDeadlineMs ?? Math.min(this.options.deadlineMs, 10_000);
    try {
      return await this.listings.get(instance.id, listingKey(instance), () => fetchListings(this.upstream(instance), deadlineMs));
    } catch (error) {
      throw toRouteError(error, { text: `${service} (listing resources and prompts)`, context: { service } }, deadlineMs);
    }
  }

  /** Forgets an instance's cached lists (its tools hash or status changed). */
  invalidate(instanceId: string): void {
    this.listings.invalidate(instanceId);
  }

  // The one path every routed request takes: loop guard, check, pick, breakers, retry of an unsent request, audit.
  private async route<T>(route: Route<T>, options: CallOptions): Promise<T> {
    const started = performance.now();
    const hops = options.hops ?? 0;
    const deadlineMs = options.deadlineMs ?? this.options.deadlineMs;
    const maxHops = this.options.maxHops ?? 8;
    let instance: RoutableInstance | undefined;
    let result: T | undefined;
    let failure: MeshError | undefined;
    // The answer's bytes on the hop, when the request went the lean way; otherwise the audit measures the result.
    const sizes: WireSizes = {};
    // The proxy route span; with tracing off, the caller's trace context (or a new one) passed on.
    const span = startHop('mesh.route', SpanKind.SERVER, options.trace, { 'mesh.service': route.service, 'mesh.request': route.audited, 'mesh.caller': options.caller ?? 'client' }, true);
    try {
      if (hops >= maxHops) {
        throw new MeshError('LOOP_DETECTED', `${route.label.text} refused: ${hops} mesh hops already (limit ${maxHops}); is there a call loop?`, {
          context: { ...route.label.context, hops },
        });
      }
      route.check?.();
      // The deadline travels too, so a native instance's own mesh calls end when this one must.
      // The trace context the instance continues: the route span's (tracing on), else the caller's or a new one.
      const meta: Record<string, unknown> = { 'mesh/caller': options.caller ?? 'client', 'mesh/hops': hops + 1, 'mesh/deadlineMs': deadlineMs };
      if (span.carrier?.traceparent !== undefined) meta.traceparent = span.carrier.traceparent;
      if (span.carrier?.tracestate !== undefined) meta.tracestate = span.carrier.tracestate;
      const relay = options.relay;
      const retry = options.retry;
      const relayed = relay && relayRequestOptions(relay);
      const onLog = relay?.onLog;
      if (relayed && onLog && relay.logLevel) Object.assign(relayed, { logLevel: relay.logLevel, onLog: (params: Parameters<typeof onLog>[1]) => onLog(route.service, params) });
      const request = retry ? { ...relayed, sizes, retry: { inputResponses: retry.inputResponses, requestState: retry.requestState } } : { ...relayed, sizes };
      const upstreamOf = (target: RoutableInstance) => (relay?.session ? this.relays.get(relay.session, target, route.service) : this.upstream(target));
      const tried = new Set<string>();
      let previous: unknown;
      result = await retryUnsent.execute(async ({ attempt }) => {
        const target = retry ? this.asked(route.service, retry.instanceId) : attempt === 0 ? this.replicas.first(route.service) : this.replicas.pick(route.service, tried);
        // With no other replica, the caller hears why the first one failed.
        if (!target) throw previous;
        if (attempt > 0) this.options.onRetry?.(route.service);
        tried.add(target.id);
        instance = target;
        const admission = this.outliers.admit(route.service, target.id);
        const inflight = this.options.inflight;
        inflight?.begin(route.service, target.id);
        // One instance hop span per attempt, the parent of what the instance does.
        const hop = tracingOn() ? startHop('mesh.hop', SpanKind.CLIENT, span.carrier, { 'mesh.instance': target.id, 'url.full': target.url }) : undefined;
        try {
          const value = await route.send(upstreamOf(target), deadlineMs, hop ? withTraceMeta(meta, hop.carrier) : meta, request);
          this.outliers.record(admission, 'success');
          hop?.end();
          return value;
        } catch (error) {
          hop?.end(error instanceof InputRequired ? undefined : error);
          // Asking the client for input is an answer, not a failure; the retry must come back to this instance.
          if (error instanceof InputRequired) {
            this.outliers.record(admission, 'success');
            error.instanceId = target.id;
            throw error;
          }
          previous = error;
          this.judge(admission, this.failureOf(error, route, options, deadlineMs), deadlineMs, hops);
          throw error;
        } finally {
          inflight?.end(route.service, target.id);
        }
      });
      return result;
    } catch (error) {
      if (error instanceof InputRequired) throw error;
      failure = this.failureOf(error, route, options, deadlineMs);
      throw failure;
    } finally {
      this.options.audit?.({
        caller: options.caller ?? 'client',
        service: route.service,
        instance: instance?.id,
        tool: route.audited,
        durationMs: performance.now() - started,
        outcome: failure ? (failure.code === 'CALL_TIMEOUT' ? 'timeout' : 'error') : result !== undefined && route.isToolError?.(result) ? 'tool_error' : 'ok',
        errorCode: failure?.code,
        errorMessage: failure?.message,
        fault: failure && classifyFailure(failure, { deadlineMs, proxyDeadlineMs: this.options.deadlineMs, hops }),
        hops,
        responseBytes: sizes.responseBytes,
        request: route.params,
        response: sizes.responseBytes === undefined ? result : undefined,
        traceId: span.traceId,
      });
      span.end(failure);
    }
  }

  // The instance an MRTR retry goes back to: the one that asked, while it is still routable.
  private asked(service: string, instanceId: string): RoutableInstance {
    const instance = this.replicas.routable(service).find((candidate) => candidate.id === instanceId);
    if (instance) return instance;
    throw new MeshError('SERVICE_UNAVAILABLE', `the instance of service "${service}" that asked for input (${instanceId}) is no longer routable; call the tool again`, {
      context: { service, instance: instanceId },
    });
  }

  // A call the client cancelled says so (and says nothing about the instance); others keep the instance's message.
  private failureOf<T>(error: unknown, route: Route<T>, options: CallOptions, deadlineMs: number): MeshError {
    return isCancelled(options.relay)
      ? new MeshError('CALL_CANCELLED', `${route.label.text} was cancelled by the client`, { cause: error, context: route.label.context })
      : toRouteError(error, route.label, deadlineMs);
  }

  // Tells the instance's breaker what a failed request says about the instance.
  private judge(admission: Admission, failure: MeshError, deadlineMs: number, hops: number): void {
    const fault = classifyFailure(failure, { deadlineMs, proxyDeadlineMs: this.options.deadlineMs, hops });
    this.outliers.record(admission, fault === 'instance' ? 'failure' : fault === 'answered' ? 'success' : 'ignore', failure.message);
  }

  /** Forgets the pooled session (closed once its calls in flight finish), era verdict and cached lists of an instance that left. */
  forget(instanceId: string): void {
    this.outliers.forget(instanceId);
    const upstream = this.upstreams.get(instanceId);
    if (upstream) this.eras.forget(upstream.url);
    upstream?.retire();
    this.upstreams.delete(instanceId);
    this.listings.invalidate(instanceId);
    this.relays.forget(instanceId);
    this.subscriptions.lost(instanceId);
  }

  async close(): Promise<void> {
    this.subscriptions.clear();
    await Promise.all([this.relays.close(), ...[...this.upstreams.values()].map((u) => u.close().catch(() => undefined))]);
    this.upstreams.clear();
    this.listings.clear();
  }
}

// A re-registration at another url or with another tool list may well list other resources too.
function listingKey(instance: RoutableInstance): string {
  return `${instance.url} ${instance.toolsHash ?? ''}`;
}

// A tool that marks arguments with x-mcp-header wants them in Mcp-Param-* headers on a 2026-07-28 hop too.
function withParamHeaders(request: UpstreamRequestOptions | undefined, tools: readonly Tool[], name: string, args: Record<string, unknown>): UpstreamRequestOptions | undefined {
  const tool = tools.find((candidate) => candidate.name === name);
  const headers = tool ? paramHeadersFor(tool, args) : {};
  return Object.keys(headers).length === 0 ? request : { ...request, paramHeaders: headers };
}
