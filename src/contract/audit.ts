import { z } from 'zod';

// GET /v1/audit[?service=&tool=&caller=&outcome=&errors=1&since=&limit=]: the audit trail, newest first.

/** How a routed call ended, as kept in the audit trail. */
export const AuditOutcomeSchema = z.enum(['ok', 'tool_error', 'error', 'timeout']);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A point in time given as ms since epoch, or as how long ago (`agoMs`), relative to the proxy's clock. */
export type Since = { at: number } | { agoMs: number };

/**
 * `since`: ms since epoch (`1764558000000`) or a duration back from now (`30s`, `10m`, `2h`, `1d`, `500ms`).
 * @example SinceSchema.parse('10m') // { agoMs: 600000 }
 */
export const SinceSchema = z.string().transform((text, ctx): Since => {
  const trimmed = text.trim();
  if (/^\d{10,}$/.test(trimmed)) return { at: Number(trimmed) };
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(trimmed);
  if (match) return { agoMs: Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] };
  ctx.addIssue({ code: 'custom', message: `"${text.slice(0, 40)}" is neither a time in ms since epoch nor a duration like 30s, 10m, 2h, 1d` });
  return z.NEVER;
});

/** GET /v1/audit's query. */
export const AuditQuerySchema = z.object({
  service: z.string().optional(),
  tool: z.string().optional(),
  caller: z.string().optional(),
  outcome: AuditOutcomeSchema.optional(),
  /** `errors=1`: only calls that did not end ok (error, timeout and tool_error). */
  errors: z
    .enum(['1', '0', 'true', 'false'])
    .transform((value) => value === '1' || value === 'true')
    .optional(),
  since: SinceSchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export type AuditQuery = z.output<typeof AuditQuerySchema>;

/** One routed call: who called which tool, how long it took, how it ended, its sizes. */
export const AuditEntrySchema = z.object({
  /** The row's id (live `call` events carry it too: they are sent once their batch is stored). */
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
  /** Bytes of the arguments' JSON (a tool call's `arguments`; the params of other routed requests). */
  requestBytes: z.number().int().optional(),
  /** Bytes of the result's JSON; absent when the call failed. */
  responseBytes: z.number().int().optional(),
  /** Mesh hops the call had made before this one (0: straight from a client; absent in older rows). */
  hops: z.number().int().optional(),
  /** W3C trace id of the call, when it carried or started one. */
  traceId: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** GET /v1/audit's answer. */
export const AuditAnswerSchema = z.object({ entries: z.array(AuditEntrySchema) });
export type AuditAnswer = z.infer<typeof AuditAnswerSchema>;
