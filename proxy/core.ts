import { Client, StreamableHTTPClientTransport, ProtocolError, SdkHttpError, type Tool } from '@modelcontextprotocol/client';
import { toolsHash } from '../src/instance/tools-hash.js';
import { trustedFetch } from '../src/http/trusted-fetch.js';
import { checkClaim } from './claim-check.js';
import { MeshError } from '../src/errors.js';
import { REMOTE_ID_PREFIX } from '../src/contract/remotes.js';
import type { Logger } from '../src/log.js';
import type { Registry, ServiceFilter } from './registry/registry.js';
import type { ServiceDetail } from '../src/contract/services.js';
import type { Tool as ContractTool } from '../src/contract/tool.js';
import type { InstanceSummary, ServiceSummary } from './registry/views.js';
import { OutlierDetector, type CircuitEvent, type CircuitView } from './router/outlier-detector.js';
import type { OutlierPolicyInput } from './router/outlier-policy.js';
import { Router, type AuditRecord, type RouteTable } from './router/router.js';
import { EventHistory } from './stats/event-history.js';
import { LoadStats } from './stats/load-stats.js';
import { ToolNamer } from './mcp/namespacing.js';
import type { Load, SeriesAnswer } from '../src/contract/load.js';

/** An instance registered by URL, as the proxy re-lists it; `headers` (a remote server's, secret) go on every hop to it and are never shown. */
interface ByUrl {
  name: string;
  url: string;
  tags: string[];
  lease: string;
  headers?: Record<string, string> | undefined;
  remote?: boolean | undefined;
}

/** A list an instance announced as changed (its tools, resources or prompts list_changed). */
export type AnnouncedList = 'tools' | 'resources' | 'prompts';

/** The metrics' service label of routed requests that named no registered service. */
const UNKNOWN_SERVICE = '(unknown)';

export interface MeshCoreOptions {
  registry: Registry;
  deadlineMs: number;
  maxHops?: number;
  /** Largest answer read from an instance (`--max-response-bytes`; default 32 MiB). */
  maxResponseBytes?: number | undefined;
  /** Where warnings from off any request's path go (a resource subscription that could not be renewed or moved). */
  log?: Logger;
  /** Sees every routed call after it ends (metrics); a call naming no registered service comes as service `(unknown)`. */
  observe?: (record: AuditRecord) => void;
  /** When failing instances are ejected (defaults: README, "Circuit breaking"). */
  outlier?: OutlierPolicyInput;
  /** The breakers' clock (tests inject one; default `Date.now`). */
  now?: () => number;
  /** Sees every breaker transition (metrics) after it is logged. */
  observeCircuit?: (event: CircuitEvent) => void;
  /** Sees every request sent to a second replica because the first was unreachable (metrics). */
  observeRetry?: (service: string) => void;
  /** The proxy's --token, sent to instances (the claim check's GET /healthz). */
  token?: string | undefined;
  /** CAs https instances are verified against (`--ca` plus the system store); default the system store. */
  ca?: string[] | undefined;
  /** Between service and tool in the endpoint's names (`--separator`; default `__`). */
  separator?: string | undefined;
}

/** An instance as the API and the mesh tools show it: the registry's summary plus its circuit breaker (proxy memory, not stored). */
export interface RoutedInstanceSummary extends InstanceSummary {
  /** Instance failures in a row (the breaker's count). */
  failures: number;
  circuit: CircuitView;
  load: Load;
}

/** A service as the API and the mesh tools show it. */
export interface RoutedServiceSummary extends Omit<ServiceSummary, 'instances'> {
  /** Healthy replicas ejected by their breakers now (open and not kept: out of rotation). */
  ejectedCount: number;
  instances: RoutedInstanceSummary[];
  load: Load;
}

/**
 * What the HTTP API and the MCP endpoint share: the registry, the router over it, and the
 * questions both ask (which tools are routable now, describe a service or fail clearly).
 */
export class MeshCore {
  readonly registry: Registry;
  readonly router: Router;
  /** Live load figures per instance and service (memory only). */
  readonly load: LoadStats;
  /** The registry's last events (GET /v1/events/recent). */
  readonly history: EventHistory;
  /** Names the endpoint's tools and prompts (`service__tool`). */
  readonly namer: ToolNamer;
  private readonly changeListeners = new Set<(announced?: AnnouncedList) => void>();
  /** Instances registered by URL (register_service): nobody else re-sends their tool lists. */
  private readonly byUrl = new Map<string, ByUrl>();

  private readonly token: string | undefined;
  private readonly ca: string[] | undefined;

  constructor(options: MeshCoreOptions) {
    this.registry = options.registry;
    this.token = options.token;
    this.ca = options.ca;
    this.namer = new ToolNamer(options.separator);
    const registry = options.registry;
    const log = options.log;
    const table: RouteTable = {
      instancesOf: (name) => registry.service(name)?.instances ?? [],
      toolsOf: (name) => this.toolsOf(name),
      serviceNames: () => registry.services({}).map((s) => s.name),
    };
    const load = new LoadStats({ now: options.now, isService: (name) => registry.hasService(name), isInstance: (id) => registry.hasInstance(id) });
    this.load = load;
    this.history = new EventHistory(registry.events);
    const changed = (announced?: AnnouncedList) => this.changeListeners.forEach((listener) => listener(announced));
    const outliers = new OutlierDetector({
      policy: options.outlier,
      now: options.now,
      onEvent: (event) => {
        if (log) logCircuit(log, event);
        options.observeCircuit?.(event);
      },
    });
    this.router = new Router({
      table,
      outliers,
      onRetry: options.observeRetry,
      token: options.token,
      ca: options.ca,
      // A remote server another proxy registered (shared PostgreSQL registry) gets no headers from
      // here, and never the mesh token: that is for mesh instances, not for third parties.
      hopHeaders: (id) => this.byUrl.get(id)?.headers ?? (id.startsWith(REMOTE_ID_PREFIX) ? {} : undefined),
      inflight: load,
      deadlineMs: options.deadlineMs,
      maxHops: options.maxHops,
      maxResponseBytes: options.maxResponseBytes,
      warn: log && ((message) => log.warn(message)),
      audit: (record: AuditRecord) => {
        registry.audit(record);
        load.record(record);
        // A name no instance serves (a typo, or hostile input) gets no metrics series of its own.
        options.observe?.(registry.hasService(record.service) ? record : { ...record, service: UNKNOWN_SERVICE });
      },
      // An instance's own list_changed or a renewed session: the router has already dropped its
      // cached lists; the endpoint recomputes what it advertises, and passes an instance's
      // announcement on even when the lists it aggregates look the same (the instance knows better).
      onInstanceChange: (id, change) => {
        if (change === 'tools') {
          // A sidecar re-registers its new tool list itself; an instance registered by URL is re-listed here.
          const known = this.byUrl.get(id);
          if (known) this.registerByUrl({ ...known, id }).catch(() => undefined);
        }
        changed(change === 'session' ? undefined : change);
      },
    });
    registry.events.on('joined', () => changed());
    registry.events.on('left', (event) => {
      this.byUrl.delete(event.instance);
      this.router.forget(event.instance);
      load.forgetInstance(event.instance);
      if (!registry.hasService(event.service)) load.forgetService(event.service);
      changed();
    });
    // A restarted child or a new tool list may come with other resources and prompts.
    registry.events.on('status', (event) => {
      this.router.invalidate(event.instance);
      changed();
    });
    registry.events.on('tools', (event) => {
      this.router.invalidate(event.instance);
      changed();
    });
  }

  /**
   * Called whenever what the MCP endpoint advertises (tools, resources, prompts) may have changed;
   * `announced` names the list an instance itself said changed (its list_changed). Returns the removal.
   */
  onChange(listener: (announced?: AnnouncedList) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  toolsOf(name: string): Tool[] {
    return (this.registry.tools(name) ?? []) as Tool[];
  }

  /** Healthy services and their tools: what the MCP endpoint advertises. */
  routableTools(): { name: string; tools: Tool[] }[] {
    return this.registry.services({ status: 'healthy' }).map((service) => ({ name: service.name, tools: this.toolsOf(service.name) }));
  }

  /**
   * Every service with its replicas' breakers, sorted by name (what `/v1/services` and `list_services` show).
   * @example core.services({ status: 'healthy' })
   */
  services(filter: ServiceFilter = {}): RoutedServiceSummary[] {
    return this.registry.services(filter).map((service) => this.withCircuits(service));
  }

  // The registry knows liveness; the router's breakers know who is ejected; people see both.
  private withCircuits(service: ServiceSummary): RoutedServiceSummary {
    const circuits = this.router.outliers.describe(service.instances);
    let ejectedCount = 0;
    let restarts = 0;
    const instances = service.instances.map((instance) => {
      const circuit = circuits.get(instance.id) as CircuitView;
      if (instance.status === 'healthy' && circuit.state === 'open' && !circuit.kept) ejectedCount++;
      restarts += instance.restarts ?? 0;
      return { ...instance, failures: circuit.consecutiveFailures, circuit, load: this.load.instanceLoad(instance.id, instance.restarts) };
    });
    return { ...service, ejectedCount, instances, load: this.load.serviceLoad(service.name, restarts) };
  }

  /**
   * A service's calls, errors and latency in 10-second buckets over the last `minutes`, oldest first.
   * @throws MeshError SERVICE_NOT_FOUND naming the known services
   */
  seriesOrThrow(name: string, minutes: number): SeriesAnswer {
    this.serviceOrThrow(name);
    return this.load.series(name, minutes);
  }

  /** One service with its breakers and tools, as GET /v1/services/:name answers; SERVICE_NOT_FOUND naming the known ones. */
  serviceOrThrow(name: string): ServiceDetail {
    const service = this.registry.service(name);
    if (!service) {
      const known = this.registry.services({}).map((s) => s.name);
      throw new MeshError('SERVICE_NOT_FOUND', `unknown service "${name}"; known services: ${known.length ? known.join(', ') : '(none registered)'}`, {
        context: { service: name },
      });
    }
    return { ...this.withCircuits(service), tools: (this.registry.tools(name) ?? []) as ContractTool[] };
  }

  /**
   * POST /v1/instances: registers an instance. A live id without its lease changes hands only when
   * the instance's GET /healthz shows the digest of the body's claim; the registry's checks (schema,
   * loopback, owner) run first, so no URL is contacted for a body the registry would refuse.
   * @throws MeshError BAD_REQUEST, CONFLICT naming the problem
   */
  async registerInstance(input: unknown, lease: string | undefined) {
    const registration = this.registry.admit(input, lease);
    if (!this.registry.needsClaim(registration, lease) || registration.claim === undefined) return this.registry.register(input, lease);
    // The state rule needs no contact: checked before the URL is asked.
    this.registry.assertMayTakeOver(registration, lease, true);
    const check = await checkClaim(registration.url, registration.claim, this.token, undefined, this.ca);
    if (!check.confirmed) {
      throw new MeshError(
        'CONFLICT',
        `a live instance of service "${registration.name}" holds id "${registration.id}" or url ${registration.url}; this registration carries no lease and its claim was not confirmed: ${check.reason}`,
        {
          context: { id: registration.id, service: registration.name },
        },
      );
    }
    return this.registry.register(input, lease, { claimProven: true });
  }

  /**
   * Registers a running Streamable HTTP server by URL (register_service): checks the registration
   * first (loopback policy, a url or id of another live service), then lists its tools. What the
   * URL answered is never echoed back: only how the contact failed. Answers with the instance's
   * lease (for the caller only; the heartbeat tool needs it). A re-listing keeps the lease.
   */
  async registerByUrl(input: {
    name: string;
    url: string;
    tags: string[];
    id?: string | undefined;
    lease?: string | undefined;
    /** A remote server's headers: sent instead of the mesh token, on this contact and every hop. */
    headers?: Record<string, string> | undefined;
    /** A remote server of the proxy's own configuration: its URL may be beyond loopback. */
    remote?: boolean | undefined;
  }) {
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new MeshError('BAD_REQUEST', `url "${input.url}" is not a valid URL`);
    }
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const body = (tools: Tool[]) => ({
      id: input.id ?? `${input.name}.${url.hostname}.${port}`,
      name: input.name,
      url: input.url,
      host: url.hostname,
      port: Number(port),
      tags: input.tags,
      tools,
      toolsHash: toolsHash(tools),
      version: '0',
      kind: 'native' as const,
    });
    const anyHost = input.remote === true;
    const admitted = this.registry.admit(body([]), input.lease, { anyHost });
    // register_service has no claim: a live id changes hands only with its lease (checked before any contact).
    this.registry.assertMayTakeOver(admitted, input.lease, false);
    // Either era: a 2026-07-28-only server is listed as well (one server/discover probe first).
    const client = new Client({ name: 'mesh-proxy', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    let tools: Tool[];
    try {
      // The SDK transport follows no redirect to another origin (its default redirectPolicy).
      // The mesh token goes with it, as with every request the proxy sends an instance.
      const headers = input.headers ?? (this.token ? { authorization: `Bearer ${this.token}` } : undefined);
      await client.connect(new StreamableHTTPClientTransport(url, { fetch: trustedFetch(this.ca), ...(headers && { requestInit: { headers } }) }));
      // v1's listTools(): one request, even to a server that declared no tools (v2's listTools()
      // answers [] without asking then, and walks every page).
      tools = (await client.request({ method: 'tools/list', params: {} })).tools;
    } catch (error) {
      throw new MeshError('SERVICE_UNAVAILABLE', `cannot reach an MCP server at ${input.url}: ${contactFailure(error)}`, { cause: error });
    } finally {
      await client.close().catch(() => undefined);
    }
    const { instance, lease } = this.registry.register(body(tools), input.lease, { anyHost });
    const previous = this.byUrl.get(instance.id);
    this.byUrl.set(instance.id, { name: input.name, url: input.url, tags: input.tags, lease, headers: input.headers, remote: input.remote });
    // New headers (a re-applied manifest): the pooled session to it is opened again with them.
    if (previous !== undefined && JSON.stringify(previous.headers) !== JSON.stringify(input.headers)) this.router.forget(instance.id);
    return { id: instance.id, name: input.name, tools: tools.length, lease };
  }
}

// How contacting a URL failed, in words of our own: the remote's body or message is never copied.
function contactFailure(error: unknown): string {
  if (error instanceof SdkHttpError && error.status !== undefined) return `it answered HTTP ${error.status}`;
  if (error instanceof ProtocolError) return `it answered JSON-RPC error ${error.code}`;
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof cause === 'string') return `connection failed (${cause})`;
  if (error instanceof TypeError) return 'connection failed';
  return 'it did not answer as an MCP Streamable HTTP server';
}

// Ejections and kept instances are warnings: a service is running on fewer replicas than it has.
function logCircuit(log: Logger, event: CircuitEvent): void {
  const who = `${event.service}/${event.instance}`;
  if (event.type === 'ejected') {
    log.warn(`${who} ejected for ${Math.round(event.forMs / 1000)} s after ${event.failures} failures in a row (ejection ${event.ejections}): ${event.reason ?? 'no detail'}`);
  } else if (event.type === 'kept') {
    log.warn(`${who} is failing (${event.reason ?? 'no detail'}) but still routed: ejecting it would leave ${event.service} too few replicas`);
  } else {
    log.info(`${who} answered again: its breaker is closed`);
  }
}
