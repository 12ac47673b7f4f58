import { z } from 'zod';

// POST /v1/services/:name/tools/:tool/call: the body, the headers that say who calls and how many
// mesh hops the call has taken, and the answer (the tool's MCP result).

/** The call body: the tool's arguments and the caller's deadline. */
export const CallBodySchema = z
  .object({
    arguments: z.record(z.string(), z.unknown()).default({}),
    deadlineMs: z.number().int().positive().max(3_600_000).optional(),
  })
  .strict();
export type CallBody = z.infer<typeof CallBodySchema>;

// Native instances pass their hop count on; a malformed count is refused rather than read as 0,
// which would reset the loop guard.
/** The call's headers, as read: hops taken so far and the caller's name. */
export const CallHeadersSchema = z.object({
  'x-mesh-hops': z
    .string()
    .regex(/^\d{1,4}$/, 'expected a whole number of mesh hops')
    .transform(Number)
    .default(0),
  'x-mesh-caller': z.string().min(1).max(128).default('http-client'),
});

/**
 * The call's answer: an MCP tool result (the SDK's `CallToolResult`), checked only as far as MM reads
 * it: its content blocks and its `isError`; everything else passes through.
 */
export const ToolCallAnswerSchema = z.looseObject({
  content: z.array(z.looseObject({ type: z.string() })),
  isError: z.boolean().optional(),
});
