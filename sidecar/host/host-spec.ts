import { readFileSync } from 'node:fs';
import { z } from 'zod';

const count = z.number().int().min(0);
const positiveMs = z.number().positive();

/** One service of a sidecar host: what `mesh-sidecar`'s flags say, as JSON (no callbacks, no signals). */
export const HostedSidecarSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).optional(),
  portRange: z.object({ from: z.number().int(), to: z.number().int() }).default({ from: 5000, to: 5099 }),
  /** The mesh's proxies, in failover order. */
  proxy: z.array(z.string()).optional(),
  token: z.string().optional(),
  heartbeatMs: positiveMs.optional(),
  tags: z.array(z.string()).default([]),
  allowedHosts: z.array(z.string()).default([]),
  deadlineMs: positiveMs.default(60_000),
  maxMessageBytes: count.optional(),
  probeTimeoutMs: count.optional(),
  childEra: z.enum(['auto', 'legacy']).optional(),
  drainTimeoutMs: positiveMs.optional(),
  sessionIdleMs: positiveMs.optional(),
  maxSessions: count.optional(),
  backoff: z.object({ initialMs: positiveMs, maxMs: positiveMs }).optional(),
  restartPolicy: z.enum(['always', 'on-failure', 'never']).optional(),
  maxCrashes: count.optional(),
  crashWindowMs: positiveMs.optional(),
});
export type HostedSidecar = z.infer<typeof HostedSidecarSchema>;

/** A service the host runs: a key unique in the host (`fs`, `fs.1` for a replica), its log file and its sidecar. */
export const HostedServiceSchema = z.strictObject({
  key: z.string().min(1).max(80),
  log: z.string().optional(),
  sidecar: HostedSidecarSchema,
});
export type HostedService = z.infer<typeof HostedServiceSchema>;

/**
 * The file `mesh up` gives the host (mode 0600): the control token (POST /control/restart of every
 * sidecar and the host's own control API), where to write the control URL, and the services.
 */
export const HostSpecSchema = z.strictObject({
  controlToken: z.string().min(16),
  controlFile: z.string().min(1),
  services: z.array(HostedServiceSchema),
});
export type HostSpec = z.infer<typeof HostSpecSchema>;

/** What the host writes to `controlFile` once its control API listens. */
export const HostControlFileSchema = z.object({ url: z.string(), pid: z.number().int() });
export type HostControlFile = z.infer<typeof HostControlFileSchema>;

/** One service as the host's GET /services shows it. */
export const HostedStatusSchema = z.object({
  key: z.string(),
  name: z.string(),
  state: z.string(),
  url: z.string().optional(),
  port: z.number().optional(),
  childPid: z.number().optional(),
  error: z.string().optional(),
});
export type HostedStatus = z.infer<typeof HostedStatusSchema>;

/** Reads and validates the spec file (throws naming the first problem). */
export function readHostSpec(file: string): HostSpec {
  return HostSpecSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}
