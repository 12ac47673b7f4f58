import { z } from 'zod';
import { LoadSchema } from './load.js';
import { InstanceIdSchema, ServiceNameSchema, TagSchema } from './names.js';
import { PromptsSummarySchema, ResourcesSummarySchema } from './offerings.js';
import { ChildStateSchema, InstanceKindSchema, InstanceStatusSchema } from './states.js';
import { ToolSchema } from './tool.js';

// The registry's answers: GET /v1/services[?status=&tag=], GET /v1/services/:name and its /tools.
// Plain objects: a reader keeps the fields it knows (a tool keeps all of its own: ToolSchema is loose).

const count = z.number().int().min(0);
/** ms since epoch, by the proxy's clock. */
const time = z.number();

/** One instance without its tool list (as listed under a service). */
export const InstanceSummarySchema = z.object({
  id: InstanceIdSchema,
  name: ServiceNameSchema,
  url: z.string(),
  host: z.string(),
  port: z.number().int(),
  pid: z.number().int().optional(),
  kind: InstanceKindSchema,
  version: z.string(),
  tags: z.array(TagSchema),
  toolsHash: z.string(),
  toolCount: count,
  /** What the child is doing, as the sidecar last said. */
  state: ChildStateSchema,
  status: InstanceStatusSchema,
  /** Reset to load time after a proxy restart. */
  lastHeartbeat: time,
  registeredAt: time,
  updatedAt: time,
  /** Calls in flight and calls served, as the last heartbeat said. */
  inflight: count.optional(),
  calls: count.optional(),
  /** Child restarts, as the sidecar's last heartbeat said. */
  restarts: count.optional(),
});
export type InstanceSummary = z.infer<typeof InstanceSummarySchema>;

/** One instance with everything it registered (the `instance` of POST /v1/instances' answer). */
export const InstanceViewSchema = InstanceSummarySchema.extend({
  tools: z.array(ToolSchema),
  resources: ResourcesSummarySchema.optional(),
  prompts: PromptsSummarySchema.optional(),
});
export type InstanceView = z.infer<typeof InstanceViewSchema>;

/** An instance's circuit breaker: `open` = ejected after failing calls, `half-open` = its next call is a probe. */
export const CircuitSchema = z.object({
  state: z.enum(['closed', 'open', 'half-open']),
  consecutiveFailures: count,
  ejections: count,
  /** Set while open or half-open. */
  ejectedUntil: time.optional(),
  /** Failing, yet still routed: ejecting it would leave its service too few replicas. */
  kept: z.boolean(),
  lastFailure: z.string().optional(),
});
export type Circuit = z.infer<typeof CircuitSchema>;

/** One registered process serving a service (a replica), as the proxy lists it: the registry's summary and its breaker. */
export const ListedInstanceSchema = InstanceSummarySchema.extend({
  /** Instance failures in a row (its circuit breaker's count). */
  failures: count,
  /** The proxy's circuit breaker for this instance (absent from older proxies). */
  circuit: CircuitSchema.optional(),
  /** Live load: in flight, recent calls, latency, errors, restarts (absent from older proxies). */
  load: LoadSchema.optional(),
});
export type ListedInstance = z.infer<typeof ListedInstanceSchema>;

/** A service as the registry sums it up: every replica sharing one name. */
export const ServiceSummarySchema = z.object({
  name: ServiceNameSchema,
  /** The best replica's status: healthy if any replica is. */
  status: InstanceStatusSchema,
  instanceCount: count,
  healthyCount: count,
  /** Tools of the representative replica (a healthy one if any). */
  toolCount: count,
  /** Union of the replicas' tags, sorted. */
  tags: z.array(TagSchema),
  instances: z.array(InstanceSummarySchema),
  /** Routed calls to this service since its first replica joined (a service that left and came back starts again). */
  calls: count,
});
export type ServiceSummary = z.infer<typeof ServiceSummarySchema>;

/** A service as the proxy lists it: the registry's summary, its replicas' breakers and how many are ejected. */
export const ServiceInfoSchema = ServiceSummarySchema.extend({
  /** Healthy replicas out of rotation now, ejected by their circuit breakers (absent from older proxies). */
  ejectedCount: count.optional(),
  instances: z.array(ListedInstanceSchema),
  /** Absent from older proxies. */
  calls: count.optional(),
  /** Live load of all its replicas together (absent from older proxies). */
  load: LoadSchema.optional(),
});
export type ServiceInfo = z.infer<typeof ServiceInfoSchema>;

/** GET /v1/services/:name: a service with its tools and their input schemas. */
export const ServiceDetailSchema = ServiceInfoSchema.extend({ tools: z.array(ToolSchema) });
export type ServiceDetail = z.infer<typeof ServiceDetailSchema>;

/** GET /v1/services' answer. */
export const ServicesAnswerSchema = z.object({ services: z.array(ServiceInfoSchema) });
export type ServicesAnswer = z.infer<typeof ServicesAnswerSchema>;

/** GET /v1/services/:name/tools' answer. */
export const ToolsAnswerSchema = z.object({ tools: z.array(ToolSchema) });
export type ToolsAnswer = z.infer<typeof ToolsAnswerSchema>;

/** GET /v1/services' query: a status (or `all`) and a tag. */
export const ServicesQuerySchema = z.object({
  status: z.enum(['all', ...InstanceStatusSchema.options]).optional(),
  tag: z.string().optional(),
});
export type ServicesQuery = z.infer<typeof ServicesQuerySchema>;
