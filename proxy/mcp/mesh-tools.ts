import { z } from 'zod';
import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import { MeshError } from '../../src/errors.js';
import { LeaseSchema } from '../../src/contract/lease.js';
import { parseOrThrow } from '../../src/contract/zod-message.js';
import type { MeshCore } from '../core.js';
import { refusePlainRemote } from '../plain-http.js';
import type { Relay } from '../router/relay.js';
import type { TraceCarrier } from '../../src/tracing/trace-context.js';

const ServiceArg = z.string().min(1).describe('Service name, e.g. "fs" (see list_services).');

const inputs = {
  list_services: z
    .object({
      status: z.enum(['all', 'healthy', 'unhealthy', 'starting', 'restarting', 'crashloop']).default('all').describe('Only services in this status.'),
      tag: z.string().optional().describe('Only services with this tag.'),
    })
    .strict(),
  get_service_info: z.object({ service: ServiceArg }).strict(),
  get_service_status: z.object({ service: ServiceArg }).strict(),
  call_service: z
    .object({
      service: ServiceArg,
      tool: z.string().min(1).describe('Tool name as the service itself calls it (see get_service_info), e.g. "read_text".'),
      arguments: z.record(z.string(), z.unknown()).default({}).describe("The tool's arguments, matching its input schema."),
    })
    .strict(),
  register_service: z
    .object({
      name: z.string().describe('Service name: lowercase letters, digits, "-" and "_".'),
      url: z.string().describe("The instance's MCP Streamable HTTP endpoint, e.g. http://127.0.0.1:5003/mcp."),
      tags: z.array(z.string()).default([]).describe('Tags for discovery.'),
      id: z.string().optional().describe('Instance id (default: derived from name and url).'),
    })
    .strict(),
  deregister_service: z.object({ id: z.string().describe('Instance id to remove (see get_service_info).') }).strict(),
  heartbeat: z
    .object({
      id: z.string().describe('Instance id that is still alive.'),
      lease: LeaseSchema.describe('The lease register_service answered with for this instance.'),
    })
    .strict(),
};

const descriptions: Record<keyof typeof inputs, string> = {
  list_services:
    'List the services in the mesh with their status, instance count, tool count, tags and live load (per service and per instance: inFlight, calls1m, calls5m, p50Ms, p95Ms, errorRate, restarts, lastError). Start here to discover what can be called, or to pick the least-loaded instance.',
  get_service_info: 'Describe one service: its instances (url, status, last heartbeat, circuit breaker, live load) and every tool with its description and input schema.',
  get_service_status:
    "Health and load of one service: overall status and load, and each instance's status, circuit breaker (closed, open = ejected after failing calls, half-open = on probation) and load (inFlight, calls1m, calls5m, p50Ms, p95Ms, errorRate over 5 minutes, restarts, lastError).",
  call_service: "Call any tool of any service in the mesh and return that tool's own result. Use get_service_info to see the tools and their arguments.",
  register_service:
    "Register an already running MCP Streamable HTTP server as a mesh service (metadata only: its URL; the proxy never starts anything). The proxy lists its tools. Answers with the instance's lease: keep it, heartbeat needs it.",
  deregister_service: "Remove one instance from the mesh (an operator action: allowed without the instance's lease, logged with the caller's name).",
  heartbeat: 'Tell the mesh an instance registered through register_service is still alive (send every 30 s), with the lease register_service answered with.',
};

/** The seven tools the mesh endpoint offers besides the services' own. */
export const meshTools: Tool[] = (Object.keys(inputs) as (keyof typeof inputs)[]).map((name) => ({
  name,
  description: descriptions[name],
  inputSchema: z.toJSONSchema(inputs[name], { io: 'input' }) as Tool['inputSchema'],
}));

export const meshToolNames = new Set(Object.keys(inputs));

function json(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

/** Validates a mesh tool's arguments; a bad field is a BAD_REQUEST naming it. */
function parse<T extends z.ZodType>(schema: T, args: unknown, tool: string): z.output<T> {
  return parseOrThrow(schema, args ?? {}, `arguments for ${tool}`);
}

/** Runs a mesh tool. Throws MeshError for bad input; the caller turns it into a JSON-RPC error. */
export async function callMeshTool(core: MeshCore, name: string, args: unknown, caller: string, hops: number, relay?: Relay, trace?: TraceCarrier): Promise<CallToolResult> {
  switch (name) {
    case 'list_services': {
      const { status, tag } = parse(inputs.list_services, args, name);
      return json({ services: core.services({ status: status === 'all' ? undefined : status, tag }) });
    }
    case 'get_service_info': {
      const { service } = parse(inputs.get_service_info, args, name);
      return json(core.serviceOrThrow(service));
    }
    case 'get_service_status': {
      const { service } = parse(inputs.get_service_status, args, name);
      const info = core.serviceOrThrow(service);
      const instances = info.instances.map(({ id, status, lastHeartbeat, circuit, load }) => ({ id, status, lastHeartbeat, circuit, load }));
      return json({ name: info.name, status: info.status, ejectedCount: info.ejectedCount, load: info.load, instances });
    }
    case 'call_service': {
      const { service, tool, arguments: toolArgs } = parse(inputs.call_service, args, name);
      return core.router.call(service, tool, toolArgs, relay ? { caller, hops, relay, trace } : { caller, hops, trace });
    }
    case 'register_service': {
      refusePlainRemote('register_service');
      const input = parse(inputs.register_service, args, name);
      return json(await core.registerByUrl(input));
    }
    case 'deregister_service': {
      refusePlainRemote('deregister_service');
      const { id } = parse(inputs.deregister_service, args, name);
      if (!core.registry.deregister(id, { operator: caller })) throw new MeshError('SERVICE_NOT_FOUND', `no instance with id "${id}"`);
      return json({ deregistered: id });
    }
    case 'heartbeat': {
      refusePlainRemote('heartbeat');
      const { id, lease } = parse(inputs.heartbeat, args, name);
      if (!core.registry.heartbeat(id, {}, lease)) throw new MeshError('SERVICE_NOT_FOUND', `no instance with id "${id}"; register it again`);
      return json({ ok: true, id });
    }
    default:
      throw new MeshError('TOOL_NOT_FOUND', `no mesh tool "${name}"`);
  }
}
