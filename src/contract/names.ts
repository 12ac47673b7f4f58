import { z } from 'zod';

// The names the registration API is keyed by. Service names also become MCP tool-name prefixes
// (`fs__read_text`), so they are kept short and plain.

/** A service name: `fs`, `memory`, `story-engine`. Several instances of one name are replicas. */
export const ServiceNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
  error: 'must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit',
});
export type ServiceName = z.infer<typeof ServiceNameSchema>;

/** An instance id, chosen by the sidecar; stable across its re-registrations. */
export const InstanceIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, {
  error: 'must be 1-128 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter or digit',
});
export type InstanceId = z.infer<typeof InstanceIdSchema>;

/** One tag on an instance (`python`, `team:story`, `v2`). */
export const TagSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1-64 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-"' });
