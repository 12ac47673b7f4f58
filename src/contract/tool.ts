import { z } from 'zod';
import { jsonBytes, KiB } from './json-bytes.js';

/** A JSON Schema of `type: "object"`, as MCP requires for tool input and output schemas. */
export const ObjectJsonSchemaSchema = z
  .looseObject({
    type: z.literal('object'),
    properties: z.record(z.string(), z.unknown()).optional(),
    required: z.array(z.string()).optional(),
  })
  .refine((schema) => jsonBytes(schema) <= 64 * KiB, { error: 'larger than 64 KiB once serialized' });
export type ObjectJsonSchema = z.infer<typeof ObjectJsonSchemaSchema>;

/** MCP tool annotations (hints only; never trusted for security decisions). */
export const ToolAnnotationsSchema = z.looseObject({
  title: z.string().max(256).optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});

/**
 * An MCP tool as listed by `tools/list`, registered and answered by the proxy. Loose on purpose:
 * newer MCP revisions add fields (`icons`, `execution`) that must pass through; the proxy never acts on any of them.
 */
export const ToolSchema = z.looseObject({
  name: z.string().min(1).max(128),
  title: z.string().max(256).optional(),
  description: z
    .string()
    .refine((text) => Buffer.byteLength(text, 'utf8') <= 8 * KiB, { error: 'longer than 8 KiB' })
    .optional(),
  inputSchema: ObjectJsonSchemaSchema,
  outputSchema: ObjectJsonSchemaSchema.optional(),
  annotations: ToolAnnotationsSchema.optional(),
  _meta: z.record(z.string(), z.unknown()).optional(),
});
export type Tool = z.infer<typeof ToolSchema>;
