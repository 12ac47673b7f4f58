import { z } from 'zod';

// GET /v1/audit[?service=&limit=]: the audit trail, newest first.

/** How a routed call ended, as kept in the audit trail. */
export const AuditOutcomeSchema = z.enum(['ok', 'tool_error', 'error', 'timeout']);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

/** GET /v1/audit's query. */
export const AuditQuerySchema = z.object({
  service: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/** One routed call: who called which tool, how long it took, how it ended, its sizes. */
export const AuditEntrySchema = z.object({
  id: z.number().int(),
  /** When the call started (ms since epoch, the proxy's clock). */
  at: z.number(),
  caller: z.string().optional(),
  service: z.string(),
  instance: z.string().optional(),
  tool: z.string(),
  durationMs: z.number(),
  outcome: AuditOutcomeSchema,
  /** The MeshErrorCode of a failed call. */
  errorCode: z.string().optional(),
  requestBytes: z.number().int().optional(),
  responseBytes: z.number().int().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** GET /v1/audit's answer. */
export const AuditAnswerSchema = z.object({ entries: z.array(AuditEntrySchema) });
export type AuditAnswer = z.infer<typeof AuditAnswerSchema>;
