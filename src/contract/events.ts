import { z } from 'zod';
import { InstanceStatusSchema } from './states.js';

// GET /v1/events: Server-Sent Events named `hello`, then `joined`, `left`, `status` and `tools`,
// each with one of these JSON payloads as its data (the registry's events, sent as they are).

const EventBaseSchema = z.object({
  service: z.string(),
  instance: z.string(),
  /** The instance's status after the change (its last status for `left`). */
  status: InstanceStatusSchema,
  /** The service's status after the change; absent when its last instance left. */
  serviceStatus: InstanceStatusSchema.optional(),
  /** ms since epoch, the proxy's clock. */
  at: z.number(),
});

/** A new instance registered (or an instance re-registered under another name). */
export const JoinedEventSchema = EventBaseSchema.extend({ type: z.literal('joined'), url: z.string() });
export type JoinedEvent = z.infer<typeof JoinedEventSchema>;

/** Why an instance left the registry. */
export const LeftReasonSchema = z.enum(['deregistered', 'expired', 'replaced', 'renamed']);
export type LeftReason = z.infer<typeof LeftReasonSchema>;

/** An instance was removed. */
export const LeftEventSchema = EventBaseSchema.extend({
  type: z.literal('left'),
  reason: LeftReasonSchema,
  /** The operator (MCP client) that removed it with deregister_service, when one did. */
  by: z.string().optional(),
});
export type LeftEvent = z.infer<typeof LeftEventSchema>;

/** An instance's status changed. */
export const StatusEventSchema = EventBaseSchema.extend({
  type: z.literal('status'),
  previous: InstanceStatusSchema,
  /** What caused the change: heartbeat, heartbeat-timeout, child-state, register… */
  reason: z.string(),
});
export type StatusEvent = z.infer<typeof StatusEventSchema>;

/** An instance's tool list changed (new tools hash on re-registration). */
export const ToolsEventSchema = EventBaseSchema.extend({
  type: z.literal('tools'),
  toolsHash: z.string(),
  previousHash: z.string(),
  toolCount: z.number().int().min(0),
});
export type ToolsEvent = z.infer<typeof ToolsEventSchema>;

/** Any registry event, told apart by `type` (the SSE event's name). */
export const RegistryEventSchema = z.discriminatedUnion('type', [JoinedEventSchema, LeftEventSchema, StatusEventSchema, ToolsEventSchema]);
export type RegistryEvent = z.infer<typeof RegistryEventSchema>;

/** The first event of the stream: how many services are registered. */
export const HelloEventSchema = z.object({ services: z.number().int().min(0) });
export type HelloEvent = z.infer<typeof HelloEventSchema>;

/** GET /v1/events/recent's query: one service's events only, and how many (newest first; default 100). */
export const RecentEventsQuerySchema = z.object({
  service: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export type RecentEventsQuery = z.infer<typeof RecentEventsQuerySchema>;

/** GET /v1/events/recent's answer: the registry's last events (the proxy keeps 1,000 in memory), newest first. */
export const RecentEventsAnswerSchema = z.object({ events: z.array(RegistryEventSchema) });
export type RecentEventsAnswer = z.infer<typeof RecentEventsAnswerSchema>;

/** GET /v1/events' query: `calls=1` adds an event named `call` per routed call (its AuditEntry as data). */
export const EventsQuerySchema = z.object({
  calls: z.enum(['0', '1', 'true', 'false']).optional(),
});
