import { z } from 'zod';
import { ServiceNameSchema } from './names.js';
import { ChildStateSchema, InstanceStatusSchema } from './states.js';

/**
 * PUT /v1/instances/:id/heartbeat's body; every field optional, nothing else accepted. The
 * instance's lease is not in the body: it travels in the `x-mesh-lease` header (LEASE_HEADER).
 */
export const HeartbeatSchema = z.strictObject({
  /** The service the beating instance belongs to; a beat naming another service is refused (409). */
  name: ServiceNameSchema.optional(),
  state: ChildStateSchema.optional(),
  toolsHash: z.string().min(1).max(128).optional(),
  inflight: z.number().int().min(0).optional(),
  calls: z.number().int().min(0).optional(),
  /** How many times the sidecar restarted its child (sent once there was one). */
  restarts: z.number().int().min(0).optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
export type HeartbeatInput = z.input<typeof HeartbeatSchema>;

/** A heartbeat's answer: the instance's status after the beat (404 INSTANCE_NOT_FOUND: register again). */
export const HeartbeatAnswerSchema = z.object({ ok: z.literal(true), status: InstanceStatusSchema });
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswerSchema>;
