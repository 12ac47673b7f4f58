import { z } from 'zod';

/** What the child process is doing, as its sidecar reports it. */
export const ChildStateSchema = z.enum(['starting', 'ready', 'restarting', 'crashloop']);
export type ChildState = z.infer<typeof ChildStateSchema>;

/** An instance's health as the registry sees it; only `healthy` instances are routed to. */
export const InstanceStatusSchema = z.enum(['starting', 'healthy', 'unhealthy', 'restarting', 'crashloop']);
export type InstanceStatus = z.infer<typeof InstanceStatusSchema>;

/** Who registered: a sidecar wrapping a stdio child, or a native TypeScript instance. */
export const InstanceKindSchema = z.enum(['sidecar', 'native']);
export type InstanceKind = z.infer<typeof InstanceKindSchema>;
