import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { MeshError, type MeshErrorCode } from '../../src/errors.js';
import { Upstream } from './upstream.js';

export interface RoutableInstance {
  id: string;
  url: string;
  status: string;
}

/** What the router needs from the registry. */
export interface RouteTable {
  /** Every instance of a service, whatever its status; empty when the service is unknown. */
  instancesOf(name: string): RoutableInstance[];
  toolsOf(name: string): Tool[];
  serviceNames(): string[];
  reportFailure(instanceId: string): void;
  reportSuccess(instanceId: string): void;
}

export interface AuditRecord {
  caller: string;
  service: string;
  instance: string | undefined;
  tool: string;
  durationMs: number;
  outcome: 'ok' | 'tool_error' | 'error' | 'timeout';
  errorCode: string | undefined;
  requestBytes: number;
  responseBytes: number;
}

export interface CallOptions {
  caller?: string;
  /** How many mesh hops this call has already made (loop guard). */
  hops?: number;
  deadlineMs?: number;
}

export interface RouterOptions {
  table: RouteTable;
  deadlineMs: number;
  maxHops?: number;
  audit?: (record: AuditRecord) => void;
}

/**
 * Routes tool calls to a healthy replica of a service over a pooled MCP session per instance,
 * with a deadline, one failover to another replica on a connection failure, and typed errors.
 */
export class Router {
  private readonly upstreams = new Map<string, Upstream>();
  private turn = 0;

  constructor(private readonly options: RouterOptions) {}

  /** Picks the healthy replica with the fewest calls in flight (round-robin among equals). */
  private pick(service: string, exclude?: string): RoutableInstance {
    const all = this.options.table.instancesOf(service);
    if (all.length === 0) {
      const known = this.options.table.serviceNames();
      throw new MeshError('SERVICE_NOT_FOUND', `unknown service "${service}"; known services: ${known.length ? known.join(', ') : '(none registered)'}`, {
        context: { service },
      });
    }
    const healthy = all.filter((i) => i.status === 'healthy' && i.id !== exclude);
    if (healthy.length === 0) {
      const states = all.map((i) => `${i.id} ${i.status}`).join(', ');
      throw new MeshError('SERVICE_UNAVAILABLE', `service "${service}" has no healthy instance (${states})`, { context: { service } });
    }
    this.turn = (this.turn + 1) % 1_000_000;
    let best = healthy[this.turn % healthy.length] as RoutableInstance;
    for (const candidate of healthy) if (this.inflight(candidate) < this.inflight(best)) best = candidate;
    return best;
  }

  private inflight(instance: RoutableInstance): number {
    return this.upstreams.get(instance.id)?.inflight ?? 0;
  }

  private upstream(instance: RoutableInstance): Upstream {
    let upstream = this.upstreams.get(instance.id);
    if (!upstream || upstream.url !== instance.url) {
      upstream?.close().catch(() => undefined);
      upstream = new Upstream(instance.url, 'mesh-proxy');
      this.upstreams.set(instance.id, upstream);
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
  async call(service: string, tool: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<CallToolResult> {
    const started = performance.now();
    const hops = options.hops ?? 0;
    const deadlineMs = options.deadlineMs ?? this.options.deadlineMs;
    let instance: RoutableInstance | undefined;
    let result: CallToolResult | undefined;
    let failure: MeshError | undefined;
    try {
      if (hops >= (this.options.maxHops ?? 8)) {
        throw new MeshError('LOOP_DETECTED', `call to ${service}.${tool} refused: ${hops} mesh hops already (limit ${this.options.maxHops ?? 8}); is there a call loop?`, {
          context: { service, tool, hops },
        });
      }
      this.checkTool(service, tool);
      instance = this.pick(service);
      const meta = { 'mesh/caller': options.caller ?? 'client', 'mesh/hops': hops + 1 };
      try {
        result = await this.upstream(instance).callTool(tool, args, deadlineMs, meta);
      } catch (error) {
        if (!isConnectionFailure(error)) throw error;
        this.options.table.reportFailure(instance.id);
        instance = this.pick(service, instance.id); // one failover to another replica
        result = await this.upstream(instance).callTool(tool, args, deadlineMs, meta);
      }
      this.options.table.reportSuccess(instance.id);
      return result;
    } catch (error) {
      failure = toRouteError(error, service, tool, deadlineMs);
      if (instance && failure.code === 'SERVICE_UNAVAILABLE') this.options.table.reportFailure(instance.id);
      throw failure;
    } finally {
      this.options.audit?.({
        caller: options.caller ?? 'client',
        service,
        instance: instance?.id,
        tool,
        durationMs: performance.now() - started,
        outcome: failure ? (failure.code === 'CALL_TIMEOUT' ? 'timeout' : 'error') : result?.isError ? 'tool_error' : 'ok',
        errorCode: failure?.code,
        requestBytes: 0,
        responseBytes: 0,
      });
    }
  }

  /** Forgets the pooled session of an instance that left. */
  forget(instanceId: string): void {
    this.upstreams.get(instanceId)?.close().catch(() => undefined);
    this.upstreams.delete(instanceId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.close().catch(() => undefined)));
    this.upstreams.clear();
  }
}

/** True when the instance could not be reached at all (worth another replica); not for errors an instance answered with. */
function isConnectionFailure(error: unknown): boolean {
  if (error instanceof McpError) return error.code === ErrorCode.ConnectionClosed && typeof (error.data as { code?: unknown } | undefined)?.code !== 'string';
  return error instanceof TypeError || (error instanceof Error && /fetch failed|ECONNREFUSED|socket/i.test(error.message));
}

/** Maps what an upstream call threw to the mesh's error family, keeping the child's own message. */
function toRouteError(error: unknown, service: string, tool: string, deadlineMs: number): MeshError {
  if (error instanceof MeshError) return error;
  const context = { service, tool };
  if (error instanceof McpError) {
    const data = error.data as { code?: string } | undefined;
    if (error.code === ErrorCode.RequestTimeout) {
      return new MeshError('CALL_TIMEOUT', `${service}.${tool} did not answer within ${deadlineMs} ms`, { cause: error, context });
    }
    const code = (typeof data?.code === 'string' ? data.code : error.code === ErrorCode.ConnectionClosed ? 'SERVICE_UNAVAILABLE' : 'TOOL_ERROR') as MeshErrorCode;
    return new MeshError(code, `${service}.${tool}: ${error.message.replace(/^MCP error -?\d+: /, '')}`, { cause: error, context: { ...context, rpcCode: error.code } });
  }
  return new MeshError('SERVICE_UNAVAILABLE', `${service}.${tool}: ${(error as Error).message}`, { cause: error, context });
}
